"""First (encoder) vs cached training run on the same manifest: the feature cache's speed-up.

Runs `lpfiqa.training.train_run` twice with a fresh, private feature cache: the first run
computes every VGG16 token grid, the second reads them back. Each run is a forked process of
its own, so each has its own peak RSS (the parent's imported libraries included). Reports the
feature time of each run, its training time and its peak RSS.

Usage:
    python -m bench.cache_speedup --manifest data/default/synth/manifest.csv --limit 200 --epochs 5
"""

from __future__ import annotations

import multiprocessing
import resource
import tempfile
import time
from pathlib import Path

from lpfiqa.models import LPFConfig
from lpfiqa.training import TrainConfig, train_run

from ._common import (
    MANIFEST,
    RESULTS,
    Benchmark,
    header,
    info_line,
    parser,
    read_csv,
    subset_rows,
    write_csv,
    write_json,
)

PHOTOS = 6  # whole photos in the subset: enough for a train / val / test split by photo


def _subset(manifest: Path, limit: int, folder: Path) -> Path:
    """About ``limit`` whole-photo images (view 0) of the first 6 photos, paths made absolute."""
    rows = [r for r in read_csv(manifest) if int(r.get("view") or 0) == 0]
    if limit:
        groups = list(dict.fromkeys(r["group"] for r in rows))[:PHOTOS]
        rows = subset_rows([r for r in rows if r["group"] in groups], max(2, -(-limit // PHOTOS)))
    for r in rows:
        r["path"] = str((manifest.parent / r["path"]).resolve())
    rows = [{**r, "split": ""} for r in rows]  # random split by group
    return write_csv(folder / "subset.csv", rows)


def _run(job: tuple[Path, Path, str, int]) -> dict:
    """One training run (in its own forked process): its figures and its peak RSS."""
    manifest, tmp, name, epochs = job
    tcfg = TrainConfig(epochs=epochs, test_fraction=0.2, val_fraction=0.15)
    t0 = time.perf_counter()
    rep = train_run(manifest, tmp / name, LPFConfig(), tcfg, cache_root=tmp / "cache")
    return {"run": name, "images": sum(rep.counts.values()), "features_s": rep.seconds_features,
            "training_s": rep.seconds_train, "total_s": time.perf_counter() - t0, "computed": rep.cache_misses,
            "from_cache": rep.cache_hits, "test_srcc": rep.test.get("srcc"),
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main(argv: list[str] | None = None) -> None:
    p = parser("cache_speedup", __doc__)
    p.add_argument("--manifest", type=Path, required=True)
    p.add_argument("--limit", type=int, default=200, help=f"about this many images of {PHOTOS} photos (0: all)")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--out", type=Path, default=RESULTS / "cache_speedup.json")
    args = p.parse_args(argv)
    parent_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        manifest = _subset(args.manifest, args.limit, tmp)
        runs = []
        for name in ("first", "cached"):  # one after the other: the second reads what the first cached
            with multiprocessing.get_context("fork").Pool(1) as pool:
                runs.append(pool.apply(_run, ((manifest, tmp, name, args.epochs),)))
    result = {**header("bench.cache_speedup", args), "runs": runs,
              "speedup_features": runs[0]["features_s"] / max(runs[1]["features_s"], 1e-9),
              "speedup_total": runs[0]["total_s"] / max(runs[1]["total_s"], 1e-9),
              "peak_rss_mb": max(r["peak_rss_mb"] for r in runs), "parent_rss_mb": parent_mb,
              "manifest": str(args.manifest), "epochs": args.epochs}
    write_json(args.out, result)
    for r in runs:
        print(f"{r['run']:>6}: {r['images']} images, features {r['features_s']:.1f}s "
              f"({r['computed']} computed, {r['from_cache']} cached), training {r['training_s']:.1f}s, "
              f"peak RSS {r['peak_rss_mb']:.0f} MB")
    print(f"feature speed-up {result['speedup_features']:.0f}x, whole run {result['speedup_total']:.1f}x -> {args.out}")



def render(d: dict) -> str:
    rss = lambda r: f"{r['peak_rss_mb']:.0f}" if "peak_rss_mb" in r else "-"  # noqa: E731
    rows = "\n".join(f"| {r['run']} | {r['images']} | {r['features_s']:.1f} | {r['training_s']:.1f} | "
                     f"{r['computed']} / {r['from_cache']} | {rss(r)} |" for r in d["runs"])
    parent = (f" Each run in a forked process of its own; its peak RSS includes the parent's "
              f"{d['parent_rss_mb']:.0f} MB of imported libraries." if "parent_rss_mb" in d else "")
    return f"""{info_line(d)}

`lpfiqa.training.train_run` on the same images twice with a fresh feature cache, {d['epochs']} epochs per run.{parent}

| run | images | encoder features (s) | training (s) | computed / cached | peak RSS (MB) |
| --- | --- | --- | --- | --- | --- |
{rows}

Feature step {d['speedup_features']:.0f}x faster from the cache; whole run {d['speedup_total']:.1f}x.
"""


BENCHMARK = Benchmark("cache_speedup", "cache_speedup", "Training cost: first run vs cached run", render,
                      ("cache_speedup.json",), full=("--manifest", MANIFEST, "--limit", "200"),
                      quick=("--manifest", MANIFEST, "--limit", "100"), needs=(MANIFEST,))


if __name__ == "__main__":
    main()
