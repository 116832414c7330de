"""Build a bundled default model (``lpf-synth-v4``; earlier ones too) from clean photos, end to end.

1. synthesise the weakly-labelled set (``lpfiqa synth``): 25 KADID types; held-out photos get
   every level, training photos a random subset of levels per type plus random chains, and
   ``--views`` scenes each (the whole photo + zoomed crops);
2. train LPF on it (``lpfiqa train``; validation photos carved from the training photos choose
   the epoch; the held-out photos are never used for any choice);
3. score the held-out photos and compute the issue's figures (level ordering, agreement with
   the weak labels, clean vs damaged);
4. copy the weights + config + figures into ``src/lpfiqa/weights/<name>/``.

The bundled default, ``lpf-synth-v4``, from the registry-package corpus (``tools/build_corpus.py``),
holding out one whole source (tiktok) plus a random fifth of the other photos; the detached
diagnosis head is refit alone on the frozen latents and the output scale is fitted on validation
photos (the recipe: ``bench/recipe_study.py``, docs/STUDIES.md)::

    python tools/train_default_model.py --corpus data/corpus --work data/v4 --name lpf-synth-v4 --size 320x224 \
        --levels-per-type 2 --types-per-photo 8 --test-types-per-photo 6 --chains 2 --views 1 --epochs 10 \
        --lambda-order 1.0 --groups-per-batch 4 --diagnosis --calibrate-scale

``lpf-synth-v3`` (from ../shared/pristine, labels from the four structural metrics only)::

    python tools/train_default_model.py --pristine ../shared/pristine --work data/default --name lpf-synth-v3 \
        --label-metrics ms_ssim,gmsd,vif,mdsi

``lpf-synth-v2`` was built with ``--name lpf-synth-v2 --category`` (the same recipe with the
category task). ``lpf-synth-v1`` was built with ``--name lpf-synth-v1 --views 1 --stages conv3_3,conv4_3,conv5_3
--token-transform none --epochs 16 --category --run run`` (views 1: its set had no zoomed crops).

Re-running resumes: the corpus and synthesis skip finished photos, features come from the
cache, training continues from its checkpoint. ``--steps`` runs a part (e.g. ``synth,features``
while the training code is still being changed). Each step's time is kept in ``WORK/timings.json``
(the time of the run that did the work, not of a resumed no-op).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from lpfiqa.datasets.manifest import read_manifest  # noqa: E402
from lpfiqa.features import FeatureCache, TokenEncoder  # noqa: E402
from lpfiqa.models import LPFConfig  # noqa: E402
from lpfiqa.models.io import load_heads  # noqa: E402
from lpfiqa.synth.build import SynthConfig, build_synthetic_set  # noqa: E402
from lpfiqa.synth.evaluate import level_ordering_report  # noqa: E402
from lpfiqa.training import TrainConfig, predict_unit, train_run  # noqa: E402
from lpfiqa.utils import atomic_write_text  # noqa: E402

WEIGHTS = ROOT / "src" / "lpfiqa" / "weights"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pristine", type=Path, default=ROOT.parent / "shared" / "pristine")
    p.add_argument("--work", type=Path, default=ROOT / "data" / "default")
    p.add_argument("--size", default="384x288", help="working size WxH of the synthetic set")
    p.add_argument("--levels-per-type", type=int, default=3)
    p.add_argument("--chains", type=int, default=10)
    p.add_argument("--views", type=int, default=2, help="scenes per training photo (whole photo + zoomed crops)")
    p.add_argument("--encoder", default="vgg16", help="registered encoder: vgg16 (LPF) or mobilenet_v2 (LPF-Lite)")
    p.add_argument("--stages", default="", help="encoder stages pooled into tokens (default: the encoder's)")
    p.add_argument("--token-transform", default="log1p", choices=["none", "log1p"])
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--category", action=argparse.BooleanOptionalAction, default=LPFConfig.use_category,
                   help="the sample-level category task (off in v3; v1 and v2 had it)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--name", default="lpf-synth-v4", help="model name = folder under src/lpfiqa/weights/")
    p.add_argument("--run", default=None, help="run folder name under --work (default: the model name)")
    p.add_argument("--no-install", action="store_true", help="do not copy into the package")
    p.add_argument("--corpus", type=Path, default=None,
                   help="corpus folder (tools/build_corpus.py; built here if missing): train on it, not --pristine")
    p.add_argument("--holdout-source", default="tiktok", help="corpus source held out whole (with --corpus)")
    p.add_argument("--holdout-fraction", type=float, default=0.2, help="share of the other photos held out")
    p.add_argument("--types-per-photo", type=int, default=0, help="training photos: random types each (0: all 25)")
    p.add_argument("--test-types-per-photo", type=int, default=0, help="held-out photos: random types each, all levels")
    p.add_argument("--label-metrics", default="ms_ssim,gmsd,vif,mdsi,delta_e", help="FR metrics of the weak labels")
    p.add_argument("--steps", default="synth,features,train,eval,install", help="which steps to run")
    p.add_argument("--lambda-order", type=float, default=0.0, help="known-level-order loss weight (0: off, as v3)")
    p.add_argument("--groups-per-batch", type=int, default=0, help="photos per batch (0: random batches, as v3)")
    p.add_argument("--diagnosis", action=argparse.BooleanOptionalAction, default=False,
                   help="train the diagnosis head (distortion families)")
    p.add_argument("--diagnosis-parallel", action="store_true",
                   help="the diagnosis loss also trains the FEN (default: detached, only its head)")
    p.add_argument("--refit-diagnosis-epochs", type=int, default=40,
                   help="detached head: train it alone this many more epochs on the frozen latents (0: no)")
    p.add_argument("--calibrate-scale", action=argparse.BooleanOptionalAction, default=False,
                   help="map the output so that validation photos' clean versions score 90 and level 5 scores 15")
    args = p.parse_args()
    w, h = (int(v) for v in args.size.split("x"))
    steps = set(args.steps.split(","))
    timings = Timings(args.work / "timings.json")

    pristine, test_photos = args.pristine, ()
    if args.corpus is not None:
        with timings.step("corpus"):
            pristine, test_photos = corpus_split(args.corpus, args.holdout_source, args.holdout_fraction, args.seed)
    scfg = SynthConfig(size=(w, h), levels_per_type=args.levels_per_type, chains=args.chains,
                       test_fraction=0.2, seed=args.seed, views=args.views, test_photos=test_photos,
                       types_per_photo=args.types_per_photo, test_types_per_photo=args.test_types_per_photo,
                       label_metrics=tuple(args.label_metrics.split(",")))
    with timings.step("synthesis") as step:
        synth = build_synthetic_set(pristine, args.work / "synth", scfg)
        step.worked = synth.skipped_photos < sum(synth.photos.values())
    t_synth = timings.seconds("synthesis")
    print(f"synthesis: {synth.images} images ({synth.photos}) in {t_synth:.0f}s", flush=True)

    manifest_path = args.work / "synth" / "manifest.csv"
    mcfg = LPFConfig(encoder=args.encoder, stages=tuple(s for s in args.stages.split(",") if s),
                     token_transform=args.token_transform,
                     use_category=args.category, use_diagnosis=args.diagnosis,
                     diagnosis_detach=not args.diagnosis_parallel,
                     score_name="weak label (0-100, full-reference consensus)", extra={"name": args.name})
    if "features" in steps:  # the encoder pass, apart from training so it can run (and resume) on its own
        with timings.step("features") as step:
            step.worked = precompute_features(manifest_path, mcfg)
    if "train" not in steps:
        return
    tcfg = TrainConfig(epochs=args.epochs, batch_size=32, seed=args.seed, val_fraction=0.15,
                       lambda_order=args.lambda_order, groups_per_batch=args.groups_per_batch)
    run_dir = args.work / (args.run or args.name)
    resume = (run_dir / "checkpoint.safetensors").exists()
    done_epochs = len((run_dir / "metrics.csv").read_text().splitlines()) - 1 if resume else 0
    with timings.step("training") as step:
        report = train_run(manifest_path, run_dir, mcfg, tcfg, resume=resume)
        step.worked = done_epochs < tcfg.epochs  # a finished run, resumed, trains nothing
    print(f"features {report.seconds_features:.0f}s, training {report.seconds_train:.0f}s, "
          f"best epoch {report.best_epoch}, val {report.val}", flush=True)
    if args.diagnosis and not args.diagnosis_parallel and args.refit_diagnosis_epochs:
        with timings.step("diagnosis head"):
            refit_diagnosis(manifest_path, run_dir, args.refit_diagnosis_epochs, args.seed)
    if args.calibrate_scale:
        with timings.step("scale calibration"):
            calibrate_scale(manifest_path, run_dir)
    if "eval" not in steps:
        return

    with timings.step("evaluation"):
        evaluation = evaluate_heldout(manifest_path, run_dir, corpus_sources(args.corpus) if args.corpus else None)
    evaluation.update({"synth_config": scfg.__dict__ | {"size": list(scfg.size)}, "train_config": tcfg.to_dict(),
                       "counts": report.counts, "photos_train": synth.photos.get("train"),
                       "synth_photos_resumed": synth.skipped_photos, "best_epoch": report.best_epoch, "val": report.val,
                       "seconds": {k: v["seconds"] for k, v in timings.data.items()},
                       "val_diagnosis": report.diagnosis.get("val")})
    if args.corpus:
        evaluation["corpus"] = corpus_summary(args.corpus, set(test_photos), args.holdout_source)
    atomic_write_text(run_dir / "evaluation.json", json.dumps(evaluation, indent=2, default=float))
    print(json.dumps({k: v for k, v in evaluation.items() if k != "level_srcc_per_type"}, indent=1, default=float))
    if not args.no_install:
        target = WEIGHTS / args.name
        target.mkdir(parents=True, exist_ok=True)
        for name in ("model.safetensors", "config.json", "evaluation.json", "metrics.csv", "curves.png"):
            if (run_dir / name).exists():
                shutil.copy2(run_dir / name, target / name)
        shutil.copy2(args.work / "synth" / "calibration.json", target / "label_calibration.json")
        print(f"installed into {target}; now run tools/model_card.py --name {args.name}")


class Timings:
    """Seconds per build step in a JSON file; a step that found its work done keeps its earlier time."""

    class _Step:
        worked = True

    def __init__(self, path: Path) -> None:
        self.path = path
        self.data = json.loads(path.read_text()) if path.exists() else {}

    def seconds(self, name: str) -> float:
        return float(self.data.get(name, {}).get("seconds", 0.0))

    @contextlib.contextmanager
    def step(self, name: str):
        step, t0 = self._Step(), time.perf_counter()
        yield step
        took = time.perf_counter() - t0
        if step.worked or name not in self.data:
            self.data[name] = {"seconds": round(took, 1), "date": time.strftime("%Y-%m-%d %H:%M:%S")}
        else:
            self.data[name]["resumed_in_s"] = round(took, 1)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.path, json.dumps(self.data, indent=1))


def corpus_split(corpus: Path, holdout_source: str, fraction: float, seed: int) -> tuple[Path, tuple[str, ...]]:
    """The corpus's photo folder and the held-out photo stems: one whole source + a random share of the rest.

    Builds the corpus first when its manifest is missing (tools/build_corpus.py does the same).
    """
    import csv

    manifest = corpus / "manifest.csv"
    if not manifest.exists():
        from lpfiqa.corpus.build import build

        build(corpus, sheets=True)
    with open(manifest, newline="") as f:
        rows = list(csv.DictReader(f))
    stems = {r["source"]: [] for r in rows}
    for r in rows:
        stems[r["source"]].append(Path(r["path"]).stem)
    if holdout_source not in stems:
        raise SystemExit(f"--holdout-source {holdout_source!r}: not a corpus source; choose from {sorted(stems)}")
    others = sorted(s for src, group in stems.items() if src != holdout_source for s in group)
    rng = np.random.default_rng(seed)
    chosen = rng.permutation(others)[: int(round(fraction * len(others)))].tolist()
    test = sorted(stems[holdout_source] + chosen)
    print(f"held out: all {len(stems[holdout_source])} photos of {holdout_source} + {len(chosen)} of "
          f"{len(others)} others; training on {len(others) - len(chosen)}", flush=True)
    return corpus / "photos", tuple(test)


def _run_parts(manifest_path: Path, run_dir: Path, heads) -> dict:
    """The run's train/val parts as FeatureSets with family targets (from its splits.csv and the cache)."""
    import csv

    from lpfiqa.training import family_targets
    from lpfiqa.training.fit import FeatureSet

    with open(run_dir / "splits.csv", newline="") as f:
        split_of = {r["path"]: r["split"] for r in csv.DictReader(f)}
    rows = read_manifest(manifest_path).rows
    cache = FeatureCache(TokenEncoder.from_config(heads.cfg))
    parts = {}
    for name in ("train", "val"):
        part = [r for r in rows if split_of.get(str(r.path)) == name]
        fs = FeatureSet.from_rows(part, [cache.get(r.path).half() for r in part], np.zeros(len(part)))
        if heads.cfg.use_diagnosis:
            fs.families = family_targets(fs.dist_types, [r.dist_level for r in part],
                                         [r.extra.get("chain", "") for r in part], heads.cfg.diagnosis_families)
        parts[name] = fs
    return parts


def refit_diagnosis(manifest_path: Path, run_dir: Path, epochs: int, seed: int) -> None:
    """Train the detached diagnosis head alone to convergence (scores unchanged); save the heads."""
    from lpfiqa.models.io import save_heads
    from lpfiqa.training.diagnosis_head import refit_diagnosis_head

    heads = load_heads(run_dir)
    parts = _run_parts(manifest_path, run_dir, heads)
    history = refit_diagnosis_head(heads, parts["train"], parts["val"], epochs=epochs, seed=seed)
    best = max(h["val_diag_top1"] for h in history)
    print(f"diagnosis head refit: validation top-1 {history[0]['val_diag_top1']:.3f} after 1 epoch, "
          f"best {best:.3f} of {epochs}", flush=True)
    save_heads(heads, run_dir)
    atomic_write_text(run_dir / "diagnosis_refit.json", json.dumps(history, indent=1))


def calibrate_scale(manifest_path: Path, run_dir: Path) -> None:
    """Fix the output map on validation photos: their clean median -> 90, their level-5 median -> 15.

    A linear map, clipped to 0-100: ranks, level ordering and PLCC do not change; the scale does.
    """
    from lpfiqa.models.io import save_heads

    heads = load_heads(run_dir)
    heads.cfg.output_anchors = ()
    val = _run_parts(manifest_path, run_dir, heads)["val"]
    raw = heads.cfg.from_unit(predict_unit(heads, val.grids))
    clean, worst = np.median(raw[val.dist_levels == 0]), np.median(raw[val.dist_levels == 5])
    heads.cfg.output_anchors = ((float(worst), 15.0), (float(clean), 90.0))
    heads.cfg.extra = {**heads.cfg.extra, "output_map": "validation photos: clean median -> 90, level-5 median -> 15"}
    print(f"scale: validation clean median {clean:.1f} -> 90, level-5 median {worst:.1f} -> 15", flush=True)
    save_heads(heads, run_dir)


def corpus_sources(corpus: Path) -> dict[str, str]:
    """Photo stem -> corpus source."""
    import csv

    with open(corpus / "manifest.csv", newline="") as f:
        return {Path(r["path"]).stem: r["source"] for r in csv.DictReader(f)}


def corpus_summary(corpus: Path, test: set[str], holdout_source: str) -> dict:
    """Photos per source in training and held out, for the model card."""
    counts: dict[str, dict[str, int]] = {}
    for stem, src in corpus_sources(corpus).items():
        c = counts.setdefault(src, {"train": 0, "test": 0})
        c["test" if stem in test else "train"] += 1
    return {"holdout_source": holdout_source, "photos": counts}


def precompute_features(manifest_path: Path, cfg: LPFConfig) -> bool:
    """Encode every image of the manifest into the feature cache; whether any was computed."""
    from tqdm.auto import tqdm

    from lpfiqa.errors import ImageReadError

    cache = FeatureCache(TokenEncoder.from_config(cfg))
    failed = 0
    for row in tqdm(read_manifest(manifest_path).rows, desc="encoder features", unit="img"):
        try:
            cache.get(row.path)  # a hit only reads the file; the grid is not kept
        except ImageReadError as exc:
            failed += 1
            tqdm.write(f"skipped: {exc}")
    print(f"features: {cache.misses} computed, {cache.hits} from cache, {failed} unreadable", flush=True)
    return cache.misses > 0


def evaluate_heldout(manifest_path: Path, run_dir: Path, sources: dict[str, str] | None = None) -> dict:
    """The issue's figures on the held-out photos, from the cached full-image token grids.

    The cache holds exactly the grid that scoring computes for these images (their sizes are
    multiples of the 32-px cell), stored in fp16; `bench/synthetic_eval.py` re-scores from
    the image files through the public API as a cross-check. With ``sources`` (photo stem ->
    corpus source) the level ordering is also reported per source; a model with a diagnosis
    head also gets its top-1 family accuracy on the same images.
    """
    from lpfiqa.training import diagnosis_accuracy, family_targets, predict_diagnosis

    manifest = read_manifest(manifest_path)
    heads = load_heads(run_dir)
    cache = FeatureCache(TokenEncoder.from_config(heads.cfg))
    test = [i for i, r in enumerate(manifest.rows) if r.split == "test"]
    grids = [cache.get(manifest.rows[i].path) for i in test]
    unit = predict_unit(heads, grids)
    scores = np.full(len(manifest.rows), np.nan)
    scores[test] = heads.cfg.from_unit(unit)
    out = level_ordering_report(manifest, scores, split="test")
    out["score_meaning"] = score_meaning([manifest.rows[i] for i in test], scores[test])
    if sources:
        by_source: dict[str, list[int]] = {}
        for i in test:
            by_source.setdefault(sources.get(manifest.rows[i].group, "?"), []).append(i)
        out["per_source"] = {}
        for src, idx in sorted(by_source.items()):
            keep = np.full(len(manifest.rows), np.nan)
            keep[idx] = scores[idx]
            r = level_ordering_report(manifest, keep, split="test")
            out["per_source"][src] = {k: r.get(k) for k in ("photos", "level_srcc_mean", "label_srcc", "label_plcc",
                                                            "clean_beats_level3plus", "clean_median")}
    if heads.diagnosis is not None:
        rows = [manifest.rows[i] for i in test]
        families = heads.cfg.diagnosis_families
        targets = family_targets([r.dist_type for r in rows], [r.dist_level for r in rows],
                                 [r.extra.get("chain", "") for r in rows], families)
        out["diagnosis"] = diagnosis_accuracy(predict_diagnosis(heads, grids), targets,
                                              [r.dist_level for r in rows], families)
    return out


def score_meaning(rows: list, scores: np.ndarray) -> dict:
    """What a score means on held-out photos: the median score per level, and the levels near 30/60/90.

    For each anchor score s, the images scoring within s +- 5 and the share of each distortion
    level among them (single distortions and clean photos; chains left out).
    """
    levels = np.array([r.dist_level or 0 for r in rows])
    single = np.array([(r.dist_level or 0) == 0 or (r.dist_type and r.dist_type != "chain") for r in rows])
    per_level = {int(lv): float(np.median(scores[single & (levels == lv)]))
                 for lv in sorted(set(levels[single].tolist()))}
    anchors = {}
    for s in (30, 60, 90):
        near = single & (np.abs(scores - s) <= 5)
        n = int(near.sum())
        anchors[str(s)] = {"n": n, "level_share": {int(lv): round(float(np.mean(levels[near] == lv)), 3)
                                                    for lv in range(6)} if n else {}}
    return {"median_score_per_level": per_level, "near_anchor": anchors}


if __name__ == "__main__":
    main()
