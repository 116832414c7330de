"""How the default model's held-out figures grow with the number of training photos.

The synthetic set has 28 training photos. Is that what limits the default model? This script
trains the default LPF recipe (same config, views, epochs and validation rule as
``tools/train_default_model.py``) on random subsets of n training photos, n in {7, 14, 21, 28},
and scores the same held-out photos each time with the issue's figures (agreement with the
weak labels, level ordering, clean vs damaged). Subsets are drawn by photo, with all of a
photo's images and views; validation photos (15%) are carved from each subset, so the held-out
photos never choose anything. Reads the cached token grids (run the default-model build first).

The slope per doubling of the photos is a least-squares line of each figure against log2(n),
and the "photos needed" column extends that line to the issue's floor. That is an
extrapolation from four points, not a measurement: read it as an order of magnitude.

Usage:
    python -m bench.content_curve [--manifest data/default/synth/manifest.csv] [--repeats 3]
    python -m bench.content_curve --quick        # 2 subsets per size, 4 epochs
    # the corpus model (lpf-synth-v4): its set, its recipe, 35 to all 478 training photos
    python -m bench.content_curve --manifest data/v4/synth/manifest.csv --recipe v4 \
        --sizes 35,70,140,280,478 --repeats 2 --out content_curve_corpus.json
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from lpfiqa.datasets.manifest import Manifest
from lpfiqa.models import LPFConfig
from lpfiqa.protocol.data import feature_cache, load_set
from lpfiqa.synth.evaluate import FLOORS, level_ordering_report
from lpfiqa.training import TrainConfig, predict_unit
from lpfiqa.training.fit import fit
from lpfiqa.training.splits import split_by_group

from ._common import MANIFEST, ROOT, V4_MANIFEST, Benchmark, header, info_line, log, parser, write_json

FIGURES = {"label_srcc": "SRCC with labels", "label_plcc": "PLCC with labels",
           "level_srcc_mean": "level ordering", "clean_beats_level3plus": "clean beats L>=3"}


# The training recipes the curve can measure: (LPFConfig overrides, TrainConfig overrides).
RECIPES = {"v3": ({}, {}), "v4": ({}, {"lambda_order": 1.0, "groups_per_batch": 4})}


def run_subset(data, groups: np.ndarray, train_idx: np.ndarray, test_idx: np.ndarray, tcfg: TrainConfig,
               seed: int, mcfg: LPFConfig | None = None) -> dict:
    """Train the default recipe on ``train_idx`` (validation photos carved from it), score ``test_idx``."""
    part = split_by_group(list(groups[train_idx]), 0.0, tcfg.val_fraction, seed)
    y = data.features.y
    lo, hi = float(y[train_idx].min()), float(y[train_idx].max())
    sub = data.features.subset(train_idx)
    sub.y = (sub.y - lo) / (hi - lo)  # the training part's range only, as the protocol does
    tr, va = sub.subset(np.flatnonzero(part == "train")), sub.subset(np.flatnonzero(part == "val"))
    t0 = time.perf_counter()
    result = fit(mcfg or LPFConfig(), TrainConfig(**{**tcfg.to_dict(), "seed": seed}), tr, va)
    unit = predict_unit(result.heads, [data.features.grids[i] for i in test_idx])
    scores = np.full(len(data.rows), np.nan)
    scores[test_idx] = unit
    report = level_ordering_report(Manifest(data.rows), scores, split="test")
    return {**{k: report[k] for k in FIGURES}, "best_epoch": result.best_epoch,
            "seconds": time.perf_counter() - t0, "train_images": len(tr), "val_images": len(va)}


def slope_table(rows: list[dict]) -> dict:
    """Per figure: least-squares slope against log2(photos), and the photos at which the line meets the floor."""
    n = np.log2([r["photos"] for r in rows])
    out = {}
    for key in FIGURES:
        v = np.array([r[key] for r in rows], dtype=float)
        slope, icpt = np.polyfit(n, v, 1)
        floor = FLOORS[key]
        need = float(2 ** ((floor - icpt) / slope)) if slope > 1e-6 else float("inf")
        out[key] = {"slope_per_doubling": float(slope), "floor": floor, "photos_to_floor_extrapolated": need}
    return out


def main(argv: list[str] | None = None) -> None:
    p = parser("content_curve", __doc__)
    p.add_argument("--manifest", type=Path, default=ROOT / MANIFEST)
    p.add_argument("--sizes", default="7,14,21,28", help="numbers of training photos")
    p.add_argument("--repeats", type=int, default=3, help="random photo subsets per size (1 for the full set)")
    p.add_argument("--epochs", type=int, default=10, help="as the default model (validation picks the epoch)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quick", action="store_true", help="2 subsets per size, 4 epochs")
    p.add_argument("--recipe", choices=sorted(RECIPES), default="v3", help="training recipe (see RECIPES)")
    p.add_argument("--out", default="content_curve.json")
    args = p.parse_args(argv)
    mover, tover = RECIPES[args.recipe]
    mcfg = LPFConfig(**mover)
    repeats, epochs = (2, 4) if args.quick else (args.repeats, args.epochs)
    t0 = time.perf_counter()
    data = load_set(args.manifest, feature_cache(LPFConfig()))
    split = np.array([r.split for r in data.rows])
    groups = np.array([r.group for r in data.rows])
    photos = sorted(set(groups[split == "train"]))
    test_idx = np.flatnonzero(split == "test")
    tcfg = TrainConfig(epochs=epochs, batch_size=32, val_fraction=0.15, **tover)
    rng = np.random.default_rng(args.seed)
    runs = []
    sizes = [int(s) for s in args.sizes.split(",")]
    for n in sizes:
        if not 2 <= n <= len(photos):
            sys.exit(f"--sizes: {n} photos is outside 2..{len(photos)} (the manifest's training photos)")
        for r in range(1 if n == len(photos) else repeats):
            chosen = rng.permutation(photos)[:n]
            idx = np.flatnonzero(np.isin(groups, chosen) & (split == "train"))
            res = run_subset(data, groups, idx, test_idx, tcfg, seed=args.seed + r, mcfg=mcfg)
            runs.append({"photos": n, "repeat": r, **res})
            log(f"{n} photos, subset {r}: " + ", ".join(f"{FIGURES[k]} {res[k]:.3f}" for k in FIGURES)
                + f" (best epoch {res['best_epoch']}, {res['seconds']:.0f}s)")
    medians = [{"photos": n, **{k: float(np.median([x[k] for x in runs if x["photos"] == n])) for k in FIGURES}}
               for n in sizes]
    out = {**header("bench.content_curve", args), "lpf_config": mcfg.to_dict(), "recipe": args.recipe,
           "train_config": tcfg.to_dict(), "epochs": epochs,
           "repeats": repeats,
           "test_photos": len(set(groups[test_idx])), "test_images": int(len(test_idx)),
           "runs": runs, "medians": medians, "trend": slope_table(medians),
           "seconds": time.perf_counter() - t0}
    write_json(args.out, out)
    print("| training photos | " + " | ".join(FIGURES.values()) + " |")
    print("|---" * (len(FIGURES) + 1) + "|")
    for m in medians:
        print(f"| {m['photos']} | " + " | ".join(f"{m[k]:.3f}" for k in FIGURES) + " |")
    for k, t in out["trend"].items():
        print(f"{FIGURES[k]}: {t['slope_per_doubling']:+.3f} per doubling of the photos; the line meets the floor "
              f"{t['floor']} at ~{t['photos_to_floor_extrapolated']:.0f} photos (extrapolated)")
    print(f"wrote bench/results/{args.out} in {out['seconds']:.0f}s")



def render(d: dict) -> str:
    rows = "\n".join(f"| {m['photos']} | " + " | ".join(f"{m[k]:.3f}" for k in FIGURES) + " |" for m in d["medians"])
    trend = "\n".join(f"| {FIGURES[k]} | {t['slope_per_doubling']:+.3f} | {t['floor']} | "
                       f"{t['photos_to_floor_extrapolated']:,.0f} |" for k, t in d["trend"].items())
    return f"""{info_line(d)}

The {d.get('recipe', 'v3')} recipe ({d['epochs']} epochs, validation photos carved from each subset) trained on random subsets of
the training photos, scored on the same {d['test_images']} images of {d['test_photos']} held-out photos; median of
{d['repeats']} subsets per size (one for the full set).

| training photos | {' | '.join(FIGURES.values())} |
| --- | --- | --- | --- | --- |
{rows}

| figure | change per doubling of the photos | floor | photos where the line meets the floor (extrapolated) |
| --- | --- | --- | --- |
{trend}

The last column extends a straight line in log2(photos) through {len(d['medians'])} points: an order of magnitude, not a
measurement.
"""


BENCHMARK = Benchmark("content_curve", "content_curve", "Held-out figures against the number of training photos",
                      render, ("content_curve.json",), study=True, needs=(MANIFEST,))
_CORPUS = ("--manifest", V4_MANIFEST, "--recipe", "v4", "--sizes", "35,70,140,280,478", "--repeats", "2",
           "--out", "content_curve_corpus.json")
CORPUS = Benchmark("content_curve_corpus", "content_curve",
                   "Corpus model: held-out figures against the number of training photos", render,
                   ("content_curve_corpus.json",), full=_CORPUS, quick=_CORPUS, study=True, needs=(V4_MANIFEST,))


if __name__ == "__main__":
    main()
