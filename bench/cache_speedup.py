"""First (encoder) vs cached training run on the same manifest: the feature cache's speed-up.

Runs `lpfiqa.training.train_run` twice with a fresh, private feature cache: the first run
computes every VGG16 token grid, the second reads them back. Each run is a forked process of
its own, so each has its own peak RSS (the parent's imported libraries included). Reports the
feature time of each run, its training time and its peak RSS.

Usage:
    python bench/cache_speedup.py --manifest data/default/synth/manifest.csv --limit 200 --epochs 5
"""

from __future__ import annotations

import argparse
import csv
import json
import multiprocessing
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from _common import header, subset_rows  # noqa: E402

from lpfiqa.models import LPFConfig  # noqa: E402
from lpfiqa.training import TrainConfig, train_run  # noqa: E402
from lpfiqa.utils import atomic_write_text  # noqa: E402

PHOTOS = 6  # whole photos in the subset: enough for a train / val / test split by photo


def _subset(manifest: Path, limit: int, folder: Path) -> Path:
    """About ``limit`` whole-photo images (view 0) of the first 6 photos, paths made absolute."""
    with open(manifest) as f:
        rows = [r for r in csv.DictReader(f) if int(r.get("view") or 0) == 0]
    if limit:
        groups = list(dict.fromkeys(r["group"] for r in rows))[:PHOTOS]
        rows = subset_rows([r for r in rows if r["group"] in groups], max(2, -(-limit // PHOTOS)))
    for r in rows:
        r["path"] = str((manifest.parent / r["path"]).resolve())
    rows = [{**r, "split": ""} for r in rows]  # random split by group
    out = folder / "subset.csv"
    with open(out, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return out


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


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--manifest", type=Path, required=True)
    p.add_argument("--limit", type=int, default=200, help=f"about this many images of {PHOTOS} photos (0: all)")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "cache_speedup.json")
    args = p.parse_args()
    parent_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        manifest = _subset(args.manifest, args.limit, tmp)
        runs = []
        for name in ("first", "cached"):  # one after the other: the second reads what the first cached
            with multiprocessing.get_context("fork").Pool(1) as pool:
                runs.append(pool.apply(_run, ((manifest, tmp, name, args.epochs),)))
    result = {**header("bench/cache_speedup.py", args), "runs": runs,
              "speedup_features": runs[0]["features_s"] / max(runs[1]["features_s"], 1e-9),
              "speedup_total": runs[0]["total_s"] / max(runs[1]["total_s"], 1e-9),
              "peak_rss_mb": max(r["peak_rss_mb"] for r in runs), "parent_rss_mb": parent_mb,
              "manifest": str(args.manifest), "epochs": args.epochs}
    atomic_write_text(args.out, json.dumps(result, indent=2, default=str))
    for r in runs:
        print(f"{r['run']:>6}: {r['images']} images, features {r['features_s']:.1f}s "
              f"({r['computed']} computed, {r['from_cache']} cached), training {r['training_s']:.1f}s, "
              f"peak RSS {r['peak_rss_mb']:.0f} MB")
    print(f"feature speed-up {result['speedup_features']:.0f}x, whole run {result['speedup_total']:.1f}x -> {args.out}")


if __name__ == "__main__":
    main()
