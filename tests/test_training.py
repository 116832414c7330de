"""Training end to end on graded distortions made in the test; resume; splits; feature cache; loss terms."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import torch
from conftest import make_graded_set

from lpfiqa import create_model
from lpfiqa.datasets.manifest import read_manifest
from lpfiqa.errors import ConfigError
from lpfiqa.features import FeatureCache, TokenEncoder
from lpfiqa.inference import QualityModel
from lpfiqa.metrics import srcc
from lpfiqa.models import LPFConfig, LPFHeads
from lpfiqa.training import TrainConfig, split_by_group, train_run
from lpfiqa.training.fit import FeatureSet, fit

FAST = TrainConfig(epochs=40, batch_size=8, test_fraction=0.25, val_fraction=0.17, seed=0)
# What training adds, measured on the 2 held-out photos (see the test below). Random heads on the
# frozen VGG16 already rank blur/noise/JPEG levels a little (|SRCC| up to 0.52 over 8 seeds and 3
# splits when this was set), so the control is the best of several untrained heads, not zero.
SRCC_FLOOR = 0.70  # trained reached 0.70-0.92 over split seeds 0-2; no untrained head reached 0.52
MARGIN = 0.15  # trained minus the best untrained |SRCC|: 0.18-0.46 over split seeds 0-2
UNTRAINED_SEEDS = range(8)


@pytest.fixture(scope="module")
def graded_set_256(tmp_path_factory):
    """The graded set at 256x192 (8x6 tokens): 128x96 leaves 4x3 tokens, too few to learn from reliably."""
    return make_graded_set(tmp_path_factory.mktemp("graded256"), size=(256, 192))


@pytest.fixture(scope="module")
def trained(graded_set_256, tmp_path_factory):
    run = tmp_path_factory.mktemp("run")
    cache = tmp_path_factory.mktemp("featcache")
    report = train_run(graded_set_256, run, LPFConfig(), FAST, cache_root=cache, show_progress=False)
    return run, report, cache


def _test_rows(run):
    with open(run / "splits.csv") as f:
        return [r for r in csv.DictReader(f) if r["split"] == "test"]


def test_run_folder_contents(trained) -> None:
    run, report, _ = trained
    for name in ("model.safetensors", "config.json", "train_config.json", "metrics.csv", "splits.csv",
                 "summary.json", "checkpoint.safetensors"):
        assert (run / name).exists(), name
    cfg = json.loads((run / "config.json").read_text())
    assert (cfg["score_min"], cfg["score_max"], cfg["higher_is_better"]) == (25.0, 100.0, True)
    with open(run / "metrics.csv") as f:
        assert len(list(csv.DictReader(f))) == FAST.epochs
    assert report.counts == {"train": 50, "val": 10, "test": 20}


def test_split_is_by_photo(trained) -> None:
    run, _, _ = trained
    with open(run / "splits.csv") as f:
        rows = list(csv.DictReader(f))
    by_group: dict[str, set[str]] = {}
    for r in rows:
        by_group.setdefault(r["group"], set()).add(r["split"])
    assert all(len(s) == 1 for s in by_group.values())


def test_trained_model_ranks_unseen_photos_levels(trained) -> None:
    """Training, not the frozen encoder, is what ranks the levels of photos the model never saw.

    Same encoder, same held-out images: the trained heads must reach a floor that none of
    8 randomly initialised heads reaches, and beat the best of them (either sign) by a margin.
    """
    run, report, _ = trained
    paths = [r["path"] for r in _test_rows(run)]
    truth = np.array([float(p.split("_")[-1].split(".")[0]) for p in paths])  # the level: higher is worse
    trained_model = create_model(run)
    s_trained = srcc(np.array(trained_model.score(paths)), -truth)
    s_untrained = []
    for seed in UNTRAINED_SEEDS:
        torch.manual_seed(seed)
        untrained = QualityModel(LPFHeads(LPFConfig()).eval(), encoder=trained_model.encoder)
        s_untrained.append(srcc(np.array(untrained.score(paths)), -truth))
    best_untrained = max(abs(s) for s in s_untrained)
    assert s_trained >= SRCC_FLOOR, (s_trained, report.test)
    assert best_untrained < SRCC_FLOOR, s_untrained  # the floor is one that only training reaches
    assert s_trained - best_untrained >= MARGIN, (s_trained, s_untrained)
    assert abs(report.test["srcc"] - s_trained) < 0.05  # the run's own test figure is the same measurement


def test_cached_features_are_reused(trained, graded_set_256, tmp_path) -> None:
    _, first, cache = trained
    assert first.cache_misses == 80 and first.cache_hits == 0
    again = train_run(graded_set_256, tmp_path / "again", LPFConfig(), TrainConfig(epochs=1, batch_size=8,
                      test_fraction=0.34, val_fraction=0.25), cache_root=cache, show_progress=False)
    assert again.cache_hits == 80 and again.cache_misses == 0
    assert again.seconds_features < first.seconds_features


def test_deterministic_and_resumable(graded_set, tmp_path, monkeypatch) -> None:
    import lpfiqa.training.run as run_module

    cache = tmp_path / "cache"
    cfg = TrainConfig(epochs=4, batch_size=8, test_fraction=0.25, val_fraction=0.17, seed=3)
    full = train_run(graded_set, tmp_path / "full", LPFConfig(), cfg, cache_root=cache, show_progress=False)

    real_save = run_module.save_checkpoint

    def killed_after_epoch_2(state, folder):  # the process dies right after epoch 2's checkpoint
        real_save(state, folder)
        if state.epoch == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(run_module, "save_checkpoint", killed_after_epoch_2)
    with pytest.raises(KeyboardInterrupt):
        train_run(graded_set, tmp_path / "part", LPFConfig(), cfg, cache_root=cache, show_progress=False)
    monkeypatch.setattr(run_module, "save_checkpoint", real_save)
    with pytest.raises(ConfigError, match="--resume"):
        train_run(graded_set, tmp_path / "part", LPFConfig(), cfg, cache_root=cache, show_progress=False)
    resumed = train_run(graded_set, tmp_path / "part", LPFConfig(), cfg, resume=True, cache_root=cache,
                        show_progress=False)
    a = create_model(tmp_path / "full").heads.state_dict()
    b = create_model(tmp_path / "part").heads.state_dict()
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=1e-5, atol=1e-6)
    assert full.val["srcc"] == pytest.approx(resumed.val["srcc"], abs=1e-6)


@pytest.mark.filterwarnings("ignore:logistic5 fit not used")  # 4 photos, 1 epoch: the figures are not the point
def test_train_run_leaves_the_callers_config_alone(tmp_path) -> None:
    """Issue 13: the score range, families and provenance filled in are the run's (report.config), not the caller's."""
    data = make_graded_set(tmp_path / "set", n_photos=4, levels=1, size=(64, 64))
    cfg = LPFConfig(stages=("conv3_3",), latent_dim=8, hidden_dim=16, use_diagnosis=True)
    before = cfg.to_dict()
    report = train_run(data, tmp_path / "run", cfg, TrainConfig(epochs=1, batch_size=4, test_fraction=0.25,
                       val_fraction=0.34), cache_root=tmp_path / "cache", show_progress=False)
    assert cfg.to_dict() == before and cfg.extra == {}
    used = report.config
    assert used is not cfg and (used.score_min, used.score_max) == (75.0, 100.0)
    assert used.diagnosis_families == ("blur", "compression", "noise") and used.extra["images"] == 16
    assert used.to_dict() == json.loads((tmp_path / "run" / "config.json").read_text())
    assert "config" not in json.loads((tmp_path / "run" / "summary.json").read_text())


def test_fit_never_sees_test_data() -> None:
    rng = np.random.default_rng(0)
    grids = [torch.randn(768, 2, 2).half() for _ in range(12)]
    data = FeatureSet(grids, rng.random(12))
    res = fit(LPFConfig(latent_dim=8, hidden_dim=16), TrainConfig(epochs=2, batch_size=4), data.subset(range(8)),
              data.subset(range(8, 12)))
    assert len(res.history) == 2 and "val_srcc" in res.history[0]


def test_split_by_group_properties() -> None:
    groups = [f"g{i // 5}" for i in range(50)]
    a = split_by_group(groups, 0.2, 0.2, seed=1)
    assert (a == split_by_group(groups, 0.2, 0.2, seed=1)).all()
    assert not (a == split_by_group(groups, 0.2, 0.2, seed=2)).all()
    assert {s: int((a == s).sum()) for s in ("train", "val", "test")} == {"train": 30, "val": 10, "test": 10}
    official = ["train"] * 40 + ["test"] * 10
    b = split_by_group(groups, 0.2, 0.2, seed=1, official=official)
    assert (b[40:] == "test").all() and (b[:40] == "val").sum() > 0  # val carved from official train
    with pytest.raises(ConfigError, match="at least 3"):
        split_by_group(["a", "a", "b"], 0.2, 0.2, seed=0)


def test_feature_cache_keys_on_content(tmp_path) -> None:
    from PIL import Image

    enc = TokenEncoder(("conv5_3",), 32)
    cache = FeatureCache(enc, tmp_path)
    img = Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8))
    img.save(tmp_path / "a.png")
    img.save(tmp_path / "b.png")  # same bytes, other name: one computation
    g1, g2 = cache.get(tmp_path / "a.png"), cache.get(tmp_path / "b.png")
    assert (cache.misses, cache.hits) == (1, 1) and torch.equal(g1.half(), g2.half())
    Image.fromarray(np.zeros((64, 64, 3), np.uint8)).save(tmp_path / "a.png")  # edited: recomputed
    cache.get(tmp_path / "a.png")
    assert cache.misses == 2


def test_manifest_is_read_with_groups(graded_set) -> None:
    m = read_manifest(graded_set)
    assert len(m.rows) == 80 and len({r.group for r in m.rows}) == 8


def test_two_stage_schedule_freezes_fen_in_stage_two() -> None:
    rng = np.random.default_rng(0)
    grids = [torch.randn(768, 2, 2).half() for _ in range(16)]
    data = FeatureSet(grids, rng.random(16))
    cfg = LPFConfig(latent_dim=8, hidden_dim=16)
    tcfg = TrainConfig(epochs=4, batch_size=8, schedule="two_stage")
    snapshots = []

    def grab(state) -> None:
        snapshots.append({k: v.clone() for k, v in state.heads.items()})

    res = fit(cfg, tcfg, data.subset(range(12)), data.subset(range(12, 16)), on_epoch=grab)
    fen = [k for k in snapshots[0] if k.startswith("fen.")]
    daqrn = [k for k in snapshots[0] if k.startswith("daqrn.")]
    assert any(not torch.equal(snapshots[0][k], snapshots[1][k]) for k in fen)       # stage 1 trains the FEN
    assert all(torch.equal(snapshots[0][k], snapshots[1][k]) for k in daqrn)          # ... and not DaQRN
    assert all(torch.equal(snapshots[2][k], snapshots[3][k]) for k in fen)            # stage 2 freezes it
    assert any(not torch.equal(snapshots[2][k], snapshots[3][k]) for k in daqrn)
    assert res.best_epoch > 2  # the epoch is chosen among stage-2 epochs only
    with pytest.raises(ConfigError, match="schedule"):
        TrainConfig(schedule="sequential")


def test_grouped_batches_cover_every_image_once_and_keep_groups_together() -> None:
    from lpfiqa.training.fit import batch_order

    groups = [f"p{i % 5}" for i in range(53)]  # uneven group sizes
    batches = batch_order(groups, 8, 2, torch.Generator().manual_seed(3))
    flat = sorted(int(i) for b in batches for i in b)
    assert flat == list(range(53))
    assert all(len({groups[int(i)] for i in b}) <= 2 for b in batches)
    assert all(len(b) <= 8 for b in batches)
    again = batch_order(groups, 8, 2, torch.Generator().manual_seed(3))
    assert all(torch.equal(a, b) for a, b in zip(batches, again, strict=True))
    with pytest.raises(ConfigError, match="groups_per_batch"):
        TrainConfig(batch_size=8, groups_per_batch=9)


def test_fit_with_grouped_batches_trains() -> None:
    rng = np.random.default_rng(0)
    grids = [torch.randn(768, 2, 2).half() for _ in range(16)]
    data = FeatureSet(grids, rng.random(16), [], [f"p{i // 4}" for i in range(16)])
    res = fit(LPFConfig(latent_dim=8, hidden_dim=16), TrainConfig(epochs=2, batch_size=8, groups_per_batch=2),
              data.subset(range(12)), data.subset(range(12, 16)))
    assert len(res.history) == 2 and np.isfinite(res.history[-1]["loss_total"])


def test_within_photo_ranking_term_uses_only_same_group_pairs() -> None:
    from lpfiqa.training.losses import lpf_loss

    torch.manual_seed(0)
    heads = LPFHeads(LPFConfig(latent_dim=8, hidden_dim=16, use_category=False, use_comparison=False)).eval()
    tokens, y = torch.randn(4, 3, 768), torch.tensor([0.9, 0.1, 0.5, 0.3])
    groups = torch.tensor([0, 0, 1, 2])  # one same-photo pair: (0, 1)
    score = heads(tokens)["score"]
    _, parts = lpf_loss(heads, tokens, None, y, None, groups=groups, lambda_rank=2.0)
    expected = ((score[0] - score[1]) - (y[0] - y[1])).abs()
    assert torch.allclose(parts["rank"], expected)
    assert torch.allclose(parts["total"], parts["reg"] + 2.0 * expected)
    _, parts = lpf_loss(heads, tokens, None, y, None, groups=torch.arange(4), lambda_rank=2.0)
    assert "rank" not in parts and torch.allclose(parts["total"], parts["reg"])  # no pair shares a photo
    with pytest.raises(ConfigError, match="lambda_rank"):
        TrainConfig(lambda_rank=-1.0)


def test_fit_with_ranking_term_logs_it() -> None:
    rng = np.random.default_rng(0)
    grids = [torch.randn(768, 2, 2).half() for _ in range(16)]
    data = FeatureSet(grids, rng.random(16), [], [f"p{i // 4}" for i in range(16)])
    res = fit(LPFConfig(latent_dim=8, hidden_dim=16),
              TrainConfig(epochs=1, batch_size=8, groups_per_batch=2, lambda_rank=1.0), data, None)
    assert res.history[-1]["loss_rank"] > 0


def test_order_term_uses_only_known_order_pairs() -> None:
    from lpfiqa.training.losses import ORDER_TEMPERATURE as T
    from lpfiqa.training.losses import lpf_loss, order_pairs

    torch.manual_seed(0)
    heads = LPFHeads(LPFConfig(latent_dim=8, hidden_dim=16, use_comparison=False)).eval()
    tokens, y = torch.randn(6, 3, 768), torch.rand(6)
    scene = torch.tensor([0, 0, 0, 0, 0, 1])
    dist_type = torch.tensor([-1, 4, 4, 9, -1, 4])   # clean, type 4 at 1 and 3, type 9, a chain, other scene
    level = torch.tensor([0, 1, 3, 2, 4, 2])
    better, worse = order_pairs(scene, dist_type, level)
    # clean > each distorted version of its scene (chain included); type 4 level 1 > level 3. Not: type 4 vs
    # type 9 or vs the chain (unknown order), or anything across scenes (other content).
    assert sorted(zip(better.tolist(), worse.tolist(), strict=True)) == [(0, 1), (0, 2), (0, 3), (0, 4), (1, 2)]
    score = heads(tokens)["score"]
    _, parts = lpf_loss(heads, tokens, None, y, None, order=(scene, dist_type, level), lambda_order=2.0)
    d = (score[[0, 0, 0, 0, 1]] - score[[1, 2, 3, 4, 2]]) / T  # better minus worse, in the known direction
    expected = T * torch.nn.functional.softplus(-d).mean()
    torch.testing.assert_close(parts["order"], expected)
    torch.testing.assert_close(parts["total"], parts["reg"] + 2.0 * expected)
    _, parts = lpf_loss(heads, tokens, None, y, None, order=(torch.arange(6), dist_type, level), lambda_order=2.0)
    assert "order" not in parts  # every image its own scene: no known order
    with pytest.raises(ConfigError, match="lambda_order"):
        TrainConfig(lambda_order=-1.0)


def test_fit_with_order_term_logs_it_and_needs_levels() -> None:
    rng = np.random.default_rng(0)
    levels = np.array([0, 1, 2, 3] * 4)  # per photo: the clean image and one type at 3 levels
    data = FeatureSet([torch.randn(768, 2, 2).half() for _ in range(16)], 1 - levels / 4 + 0.1 * rng.random(16),
                      [], [f"p{i // 4}" for i in range(16)], ["" if lv == 0 else "jpeg" for lv in levels], levels)
    tcfg = TrainConfig(epochs=1, batch_size=8, groups_per_batch=2, lambda_order=1.0)
    res = fit(LPFConfig(latent_dim=8, hidden_dim=16), tcfg, data)
    assert res.history[-1]["loss_order"] > 0
    data.dist_levels = None
    with pytest.raises(ConfigError, match="lambda_order needs"):
        fit(LPFConfig(latent_dim=8, hidden_dim=16), tcfg, data)


def test_scenes_keep_views_apart_for_the_order_term(tmp_path) -> None:
    """A zoomed view (lpfiqa synth --views) is other pixels: its distortions are not ordered against view 0's."""
    from lpfiqa.datasets.manifest import ManifestRow
    rows = [ManifestRow(tmp_path / f"{i}.png", 1.0, True, "p0", t, lv, extra={"view": v} if v else {})
            for i, (t, lv, v) in enumerate([("", 0, "0"), ("jpeg", 2, "0"), ("jpeg", 3, "1"), ("", 0, "")])]
    data = FeatureSet.from_rows(rows, [torch.zeros(768, 1, 1)] * 4, np.ones(4))
    assert data.scenes == ["p0", "p0", "p0@v1", "p0"]  # view 0 is the photo itself
    assert data.dist_levels.tolist() == [0, 2, 3, 0]
    assert data.groups == ["p0"] * 4 and data.dist_types == ["", "jpeg", "jpeg", ""]


def test_encoder_memory_does_not_grow_with_kept_grids(tmp_path) -> None:
    """Regression: glibc's sliding mmap threshold made RSS grow ~19 MB per encoded image."""
    import sys

    from PIL import Image

    if not sys.platform.startswith("linux"):
        pytest.skip("RSS is read from /proc (Linux)")
    cache = FeatureCache(TokenEncoder(("conv1_2", "conv2_2"), 32), tmp_path)
    rng = np.random.default_rng(0)

    def rss_mb() -> float:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * 4096 / 2**20

    kept = []
    for i in range(24):
        Image.fromarray(rng.integers(0, 255, (384, 512, 3), dtype=np.uint8)).save(tmp_path / f"{i}.png")
        kept.append(cache.get(tmp_path / f"{i}.png").half())
        if i == 3:
            start = rss_mb()
    assert rss_mb() - start < 100  # 20 more images: ~380 MB without the fix
