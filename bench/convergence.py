"""Convergence: LPF's one-stage parallel training against a two-stage variant of the same heads.

Two-stage = first the FEN with the auxiliary tasks only, then DaQRN on the frozen FEN (same
total epochs). For several seeds (each its own split by photo), the validation SRCC after every
epoch and the wall time are recorded; the report gives the median curves, the epochs and
seconds each schedule needs to reach 95% of its final validation SRCC, and a PNG of both.

The 2 x seeds fits run in forked one-thread processes (``--workers``, default one per core), the
two schedules of a seed side by side, so both see the same contention and their seconds compare.

Usage:
    python -m bench.convergence [--manifest M] [--seeds 3] [--epochs 10] [--per-photo 48] [--quick]
"""

from __future__ import annotations

import os
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from lpfiqa.models import LPFConfig
from lpfiqa.parallel import fork_map
from lpfiqa.plots import pyplot, save_figure
from lpfiqa.protocol.data import feature_cache, load_set
from lpfiqa.protocol.within import make_splits
from lpfiqa.training import FeatureSet, TrainConfig, fit

from ._common import (
    MANIFEST,
    RESULTS,
    Benchmark,
    add_subset_args,
    header,
    info_line,
    parser,
    subset_manifest,
    write_json,
)

SCHEDULES = ("parallel", "two_stage")


def to_95(curve: list[float], seconds: list[float]) -> tuple[int | None, float | None]:
    """First epoch (1-based) and time at which the curve reaches 95% of its final value."""
    final = curve[-1]
    for i, v in enumerate(curve):
        if final > 0 and v >= 0.95 * final:
            return i + 1, seconds[i]
    return None, None


def _fit_one(feats: FeatureSet, tr: np.ndarray, va: np.ndarray, k: int, schedule: str, epochs: int) -> dict:
    """One seed's fit with one schedule: its validation SRCC and seconds per epoch."""
    t0 = time.perf_counter()
    res = fit(LPFConfig(), TrainConfig(epochs=epochs, seed=k, schedule=schedule), feats.subset(tr), feats.subset(va))
    curve = [h["val_srcc"] for h in res.history]
    secs = [h["seconds"] for h in res.history]
    e95, s95 = to_95(curve, secs)
    return {"seed": k, "val_srcc": curve, "seconds": secs, "epochs_to_95": e95, "seconds_to_95": s95,
            "final": curve[-1], "best": max(curve), "wall": time.perf_counter() - t0}


def main(argv: list[str] | None = None) -> None:
    p = parser("convergence", __doc__)
    add_subset_args(p)
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--epochs", type=int, default=10, help="the default model trains 10 and peaks by 2-4")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="fits at once (forked 1-thread processes)")
    p.add_argument("--quick", action="store_true", help="2 seeds, 6 epochs")
    p.add_argument("--out", type=Path, default=RESULTS)
    args = p.parse_args(argv)
    seeds, epochs = (2, 6) if args.quick else (args.seeds, args.epochs)
    data = load_set(subset_manifest(args.manifest, args.max_view, per_photo=args.per_photo), feature_cache())
    splits = make_splits(data.groups, seeds, seed=0)
    feats, parts = [], []
    for part in splits:
        y = data.features.y
        tr, va = np.flatnonzero(part == "train"), np.flatnonzero(part == "val")
        lo, hi = y[tr].min(), y[tr].max()  # the training part's range, as the protocol maps targets
        feats.append(replace(data.features, y=(y - lo) / (hi - lo)))
        parts.append((tr, va))
    tasks = [(k, s) for k in range(seeds) for s in SCHEDULES]
    runs: dict[str, list[dict]] = {s: [] for s in SCHEDULES}
    t0 = time.perf_counter()
    if args.workers <= 1:
        torch.set_num_threads(1)  # as in the workers: seconds stay comparable between the two modes

    def run(task: tuple[int, str]) -> tuple[int, str, dict]:  # inherited by the forked workers, not pickled
        k, schedule = task
        return k, schedule, _fit_one(feats[k], *parts[k], k, schedule, epochs)

    done = list(fork_map(run, tasks, min(args.workers, len(tasks)), ordered=True))
    for k, schedule, r in done:
        runs[schedule].append(r)
        print(f"split {k} {schedule:9s}: final val SRCC {r['final']:.4f}, 95% at epoch {r['epochs_to_95']} "
              f"({r['seconds_to_95'] or 0:.0f}s)")
    summary = {s: {"final_median": float(np.median([r["final"] for r in runs[s]])),
                   "epochs_to_95_median": float(np.median([r["epochs_to_95"] or epochs for r in runs[s]])),
                   "seconds_to_95_median": float(np.median([r["seconds_to_95"] or r["wall"] for r in runs[s]])),
                   "median_curve": np.median([r["val_srcc"] for r in runs[s]], axis=0).tolist()}
               for s in SCHEDULES}
    out = {**header("bench.convergence", args), "epochs": epochs, "seeds": seeds, "images": len(data.rows),
           "per_photo": args.per_photo, "workers": args.workers, "summary": summary, "runs": runs,
           "seconds": time.perf_counter() - t0}
    write_json(args.out / "convergence.json", out)
    _plot(runs, args.out / "convergence.png")
    for s in SCHEDULES:
        m = summary[s]
        print(f"{s:9s}: final {m['final_median']:.4f}, 95% of final after {m['epochs_to_95_median']:.0f} epochs "
              f"/ {m['seconds_to_95_median']:.0f}s (medians over {seeds} seeds)")


def _plot(runs: dict[str, list[dict]], path: Path) -> None:
    plt = pyplot()
    if plt is None:
        return
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for s, color in zip(SCHEDULES, ("C0", "C3"), strict=True):
        for r in runs[s]:
            axes[0].plot(range(1, len(r["val_srcc"]) + 1), r["val_srcc"], color=color, alpha=0.35)
            axes[1].plot(r["seconds"], r["val_srcc"], color=color, alpha=0.35)
        med = np.median([r["val_srcc"] for r in runs[s]], axis=0)
        axes[0].plot(range(1, len(med) + 1), med, color=color, lw=2, label=s)
    axes[0].set(xlabel="epoch", ylabel="validation SRCC", title="per epoch (thin: seeds, thick: median)")
    axes[1].set(xlabel="seconds", ylabel="validation SRCC", title="per second")
    axes[0].legend()
    save_figure(fig, path)
    plt.close(fig)


def _data(d: dict) -> str:
    if "images" not in d:
        return ""
    out = f", on {d['images']} images"
    if d.get("per_photo"):
        out += f" (at most {d['per_photo']} per photo, as in the accuracy table)"
    if d.get("workers", 1) > 1:
        out += f"; {d['workers']} fits at a time in one-thread processes, so seconds are per process"
    return out


def render(d: dict) -> str:
    rows = "\n".join(f"| {k} | {v['final_median']:.4f} | {v['epochs_to_95_median']:.0f} | {v['seconds_to_95_median']:.0f} |"
                     for k, v in d["summary"].items())
    return f"""{info_line(d)}

Same heads, same total epochs ({d['epochs']}); two-stage = the FEN with the auxiliary tasks for the
first half, then DaQRN on the frozen FEN. Medians over {d['seeds']} seeds (each its own split by photo){_data(d)}.

| schedule | final val SRCC | epochs to 95% of final | seconds to 95% of final |
| --- | --- | --- | --- |
{rows}

![convergence](../bench/results/convergence.png)
"""


BENCHMARK = Benchmark("convergence", "convergence", "Convergence: one-stage parallel (LPF) vs two-stage training", render,
                      ("convergence.json", "convergence.png"), full=("--manifest", MANIFEST),
                      quick=("--manifest", MANIFEST, "--quick"), needs=(MANIFEST,))


if __name__ == "__main__":
    main()
