"""The diagnosis head ("what is wrong"): targets from the manifest, head, loss, training, figures."""

from __future__ import annotations

import csv
import json
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import make_graded_set

from lpfiqa.errors import ConfigError
from lpfiqa.inference import QualityModel
from lpfiqa.models import LPFConfig, LPFHeads
from lpfiqa.models.io import load_heads
from lpfiqa.training import TrainConfig, diagnosis_accuracy, family_targets, predict_diagnosis, train_run
from lpfiqa.training.diagnosis import families_in, family_of
from lpfiqa.training.fit import FeatureSet, fit
from lpfiqa.training.losses import lpf_loss

FAMS = ("blur", "noise")
TINY = dict(latent_dim=8, hidden_dim=16, head_hidden=8, compare_hidden=8)
DIAG = LPFConfig(**TINY, use_diagnosis=True, diagnosis_families=FAMS)


# ------------------------------------------------------------------------------ targets
def test_family_of_follows_the_synth_registry() -> None:
    from lpfiqa.synth import get_distortion, list_distortions

    assert all(family_of(t) == get_distortion(t).family for t in list_distortions())
    assert family_of("blur") == "blur"            # a family name stands for itself (hand-made manifests)
    assert family_of("fastfading") is None        # LIVE's own name: unknown, not guessed


def test_multi_hot_targets_for_single_chain_clean_and_unknown_rows() -> None:
    fams = ("blur", "compression", "noise", "brightness")
    rows = [("gaussian_blur", 2, ""),                         # one type: one family
            ("chain", 4, "jpeg:4+white_noise:1+darken:2"),    # a chain: every family of its steps
            ("chain", 3, "motion_blur:3+lens_blur:1"),        # two types of one family: one column
            ("", 0, ""),                                      # the clean reference: nothing wrong
            ("", None, ""),                                   # authentic, human-rated: unknown
            ("fastfading", 3, ""),                            # a type of another dataset: unknown
            ("chain", 2, "jpeg:2+nonsense:1")]                # a chain with an unknown step: unknown
    t = family_targets(*zip(*rows, strict=True), fams)
    np.testing.assert_array_equal(t[:4], [[1, 0, 0, 0], [0, 1, 1, 1], [1, 0, 0, 0], [0, 0, 0, 0]])
    assert np.isnan(t[4:]).all() and t.dtype == np.float32
    assert families_in(*zip(*rows, strict=True)) == ("blur", "compression", "noise", "brightness")


def test_manifest_rows_give_targets_and_unknown_rows_are_masked_out_of_the_loss() -> None:
    torch.manual_seed(0)
    heads = LPFHeads(DIAG).eval()
    tokens, y = torch.randn(4, 3, 768), torch.rand(4)
    fam = torch.tensor([[1.0, 0.0], [float("nan")] * 2, [0.0, 1.0], [0.0, 0.0]])
    _, parts = lpf_loss(heads, tokens, None, y, None, families=fam)
    logits = heads(tokens)["diag_logits"][[0, 2, 3]]
    expected = torch.nn.functional.binary_cross_entropy_with_logits(logits, fam[[0, 2, 3]])
    torch.testing.assert_close(parts["diag"], expected)
    _, parts = lpf_loss(heads, tokens, None, y, None, families=torch.full((4, 2), float("nan")))
    assert "diag" not in parts  # a batch of unknown rows adds nothing


# ------------------------------------------------------------------------------ head and config
def test_head_outputs_probabilities_and_leaves_the_score_alone() -> None:
    torch.manual_seed(3)
    plain = LPFHeads(LPFConfig(**TINY)).eval()
    torch.manual_seed(3)
    diag = LPFHeads(DIAG).eval()
    tokens = torch.randn(3, 5, 768)
    out = diag(tokens)
    assert out["diagnosis"].shape == out["diag_logits"].shape == (3, 2)
    assert ((out["diagnosis"] >= 0) & (out["diagnosis"] <= 1)).all()
    torch.testing.assert_close(out["score"], plain(tokens)["score"], rtol=0, atol=0)  # same init, same score
    assert "diagnosis" not in plain(tokens) and plain.diagnosis is None
    pred = QualityModel(diag).predict(torch.rand(3, 64, 96))
    assert list(pred.diagnosis) == list(FAMS) and all(0 <= p <= 1 for p in pred.diagnosis.values())
    assert QualityModel(plain).predict(torch.rand(3, 64, 96)).diagnosis is None


def test_configs_without_the_new_fields_load_unchanged() -> None:
    old = {k: v for k, v in DIAG.to_dict().items()
           if k not in ("use_diagnosis", "diagnosis_families", "lambda_diag", "diagnosis_detach")}
    cfg = LPFConfig.from_dict(old)
    assert not cfg.use_diagnosis and cfg.diagnosis_families == () and LPFHeads(cfg).diagnosis is None
    assert LPFConfig.from_dict(DIAG.to_dict()) == DIAG  # the families survive the JSON round trip
    for name in ("lpf-synth-v1", "lpf-synth-v2", "lpf-synth-v3"):  # the bundled models' files (before the head)
        folder = resources.files("lpfiqa") / "weights" / name
        assert "use_diagnosis" not in json.loads((folder / "config.json").read_text())
        heads = load_heads(Path(str(folder)))
        assert heads.diagnosis is None and not heads.cfg.use_diagnosis
    with pytest.raises(ConfigError, match="diagnosis_families"):
        LPFHeads(LPFConfig(**TINY, use_diagnosis=True))
    with pytest.raises(ConfigError, match="unique"):
        LPFConfig(diagnosis_families=("blur", "blur"))
    with pytest.raises(ConfigError, match="lambda_diag"):
        LPFConfig(lambda_diag=-1)


@pytest.mark.parametrize("detach", [True, False])
def test_detach_decides_whether_the_diagnosis_loss_trains_the_fen(detach: bool) -> None:
    cfg = LPFConfig(**{**DIAG.to_dict(), "diagnosis_detach": detach, "use_comparison": False})
    heads = LPFHeads(cfg)
    out = heads(torch.randn(4, 3, 768))
    torch.nn.functional.binary_cross_entropy_with_logits(out["diag_logits"], torch.ones(4, 2)).backward()
    fen_grad = sum(float(p.grad.abs().sum()) for p in heads.fen.parameters() if p.grad is not None)
    assert (fen_grad == 0) == detach
    assert all(p.grad is not None for p in heads.diagnosis.parameters())


# ------------------------------------------------------------------------------ training
def _two_family_set(n_per: int = 24, seed: int = 0) -> FeatureSet:
    """Random token grids in which "blur" images carry a raised block of channels and "noise"
    images another (clean ones neither): a strong, known signal the head must find."""
    rng = np.random.default_rng(seed)
    grids, fam, levels, types = [], [], [], []
    for k in range(3 * n_per):
        kind = k % 3  # 0 clean, 1 blur, 2 noise
        g = rng.normal(0, 1, (768, 2, 2))
        if kind:
            g[(kind - 1) * 100:kind * 100] += 3.0
        grids.append(torch.as_tensor(g, dtype=torch.float32).half())
        fam.append([kind == 1, kind == 2])
        levels.append(0 if kind == 0 else 3)
        types.append(["", "gaussian_blur", "white_noise"][kind])
    y = np.where(np.array(levels) == 0, 1.0, 0.4)
    return FeatureSet(grids, y, [], [f"p{k // 6}" for k in range(len(grids))], types, np.array(levels), [],
                      np.array(fam, dtype=np.float32))


@pytest.mark.parametrize("detach", [True, False])
def test_fit_learns_to_tell_two_families_apart(detach: bool) -> None:
    """Proves the targets reach the head and the loss trains it, detached or in parallel: on held-out
    grids the trained head names the right family of every distorted image (chance: 1/2) and gives
    clean images no family. (No validation set: the score is learnt at once here, and choosing the
    epoch by validation SRCC would keep an epoch before the head had learnt anything.)"""
    data = _two_family_set()
    train, held_out = data.subset(range(48)), data.subset(range(48, 72))
    cfg = LPFConfig(**{**DIAG.to_dict(), "diagnosis_detach": detach})
    res = fit(cfg, TrainConfig(epochs=10, batch_size=8, window=0, lr=1e-2), train)
    probs = predict_diagnosis(res.heads, held_out.grids)
    acc = diagnosis_accuracy(probs, held_out.families, held_out.dist_levels.tolist(), FAMS)
    assert acc["n"] == 16 and acc["top1"] >= 0.9, acc
    assert (probs[held_out.dist_levels == 0] < 0.5).mean() >= 0.9  # "nothing wrong" for clean images
    assert res.history[-1]["loss_diag"] < 0.8 * res.history[0]["loss_diag"]


def test_detached_diagnosis_trains_the_score_path_exactly_as_without_it() -> None:
    """With diagnosis_detach the score path gets the same gradients, init and randomness: the
    score weights after a fit are identical to a fit without the head (the diagnosis ships for free)."""
    data = _two_family_set(8)
    tcfg = TrainConfig(epochs=2, batch_size=8)
    plain = fit(LPFConfig(**TINY), tcfg, data).heads.state_dict()
    diag = fit(DIAG, tcfg, data).heads.state_dict()
    assert set(plain) < set(diag) and all(k.startswith("diagnosis.") for k in set(diag) - set(plain))
    for k, v in plain.items():
        assert torch.equal(v, diag[k]), k


def test_fit_refuses_diagnosis_without_targets() -> None:
    data = _two_family_set(4)
    data.families = None
    with pytest.raises(ConfigError, match="FeatureSet.families"):
        fit(DIAG, TrainConfig(epochs=1, batch_size=4), data)


# ------------------------------------------------------------------------------ a run on real pixels
@pytest.fixture(scope="module")
def diag_run(tmp_path_factory):
    """train_run on the graded photos (blur, noise, jpeg; 128x96), diagnosis and order term on."""
    data = make_graded_set(tmp_path_factory.mktemp("graded_diag"))
    run = tmp_path_factory.mktemp("diag_run")
    cfg = LPFConfig(use_diagnosis=True)
    tcfg = TrainConfig(epochs=8, batch_size=8, test_fraction=0.25, val_fraction=0.17, groups_per_batch=2,
                       lambda_order=1.0, window=0)
    report = train_run(data, run, cfg, tcfg, cache_root=tmp_path_factory.mktemp("cache"), show_progress=False)
    return run, report


def test_train_run_fills_families_logs_losses_and_reports_accuracy(diag_run) -> None:
    """The manifest's dist_type becomes the families (registry order) in config.json; metrics.csv has
    loss_diag, loss_order and the validation accuracy; on the 2 held-out photos the head names the family
    of a blur/noise/jpeg image at level 3 far better than chance (1/3)."""
    run, report = diag_run
    cfg = json.loads((run / "config.json").read_text())
    assert cfg["use_diagnosis"] and cfg["diagnosis_families"] == ["blur", "compression", "noise"]
    with open(run / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    assert all(float(r["loss_diag"]) > 0 and float(r["loss_order"]) >= 0 for r in rows)
    assert "val_diag_top1" in rows[-1]
    test = report.diagnosis["test"]
    assert test["n"] == 6 and set(test["per_family"]) == {"blur", "compression", "noise"}
    assert test["top1"] >= 4 / 6, test  # 6/6 when this was written, detached or not
    assert json.loads((run / "summary.json").read_text())["diagnosis"]["test"]["n"] == 6


@pytest.mark.filterwarnings("ignore:logistic5 fit not used")  # 4 photos, 1 epoch: the figures are not the point
def test_train_run_turns_diagnosis_off_without_families(tmp_path, capsys) -> None:
    data = make_graded_set(tmp_path / "set", n_photos=4, levels=1, size=(64, 64))
    text = data.read_text().splitlines()
    header = text[0].split(",")
    k = header.index("dist_type")
    rows = [line.split(",") for line in text[1:]]
    for r in rows:
        r[k] = ""  # no dist_type anywhere: a human-rated set
    data.write_text("\n".join([text[0], *(",".join(r) for r in rows)]) + "\n")
    cfg = LPFConfig(use_diagnosis=True)
    train_run(data, tmp_path / "run", cfg, TrainConfig(epochs=1, batch_size=4, test_fraction=0.25,
              val_fraction=0.34), show_progress=False)
    assert "diagnosis: off" in capsys.readouterr().err
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert not saved["use_diagnosis"] and saved["diagnosis_families"] == []
