"""First (encoder) vs cached training run on the same manifest: the feature cache's speed-up.

Runs `lpfiqa.training.train_run` twice with a fresh, private feature cache: the first run
computes every VGG16 token grid, the second reads them back. Reports the feature time of each,
the training time, and the peak RSS of the process.

Usage:
    python bench/cache_speedup.py --manifest data/default/synth/manifest.csv --limit 300 --epochs 5
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from _common import header  # noqa: E402

from lpfiqa.models import LPFConfig  # noqa: E402
from lpfiqa.training import TrainConfig, train_run  # noqa: E402
from lpfiqa.utils import atomic_write_text  # noqa: E402


def _subset(manifest: Path, limit: int, folder: Path) -> Path:
    """The first rows of whole groups (at least ``limit`` rows, 4 groups), paths made absolute."""
    with open(manifest) as f:
        rows = list(csv.DictReader(f))
    for r in rows:
        r["path"] = str((manifest.parent / r["path"]).resolve())
    if limit:  # whole photos until ``limit`` images, and at least 4 photos (train / val / test by photo)
        keep, groups = [], []
        for r in rows:
            if r["group"] not in groups and len(keep) >= limit and len(groups) >= 4:
                break
            groups += [] if r["group"] in groups else [r["group"]]
            keep.append(r)
        rows = keep
    rows = [{**r, "split": ""} for r in rows]  # random split by group
    out = folder / "subset.csv"
    with open(out, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--manifest", type=Path, required=True)
    p.add_argument("--limit", type=int, default=300, help="about this many images, whole photos (0: all)")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "cache_speedup.json")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        manifest = _subset(args.manifest, args.limit, tmp)
        tcfg = TrainConfig(epochs=args.epochs, test_fraction=0.2, val_fraction=0.15)
        runs = []
        for name in ("first", "cached"):
            t0 = time.perf_counter()
            rep = train_run(manifest, tmp / name, LPFConfig(), tcfg, cache_root=tmp / "cache")
            runs.append({"run": name, "images": sum(rep.counts.values()), "features_s": rep.seconds_features,
                         "training_s": rep.seconds_train, "total_s": time.perf_counter() - t0,
                         "computed": rep.cache_misses, "from_cache": rep.cache_hits, "test_srcc": rep.test.get("srcc")})
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result = {**header("bench/cache_speedup.py", args), "runs": runs,
              "speedup_features": runs[0]["features_s"] / max(runs[1]["features_s"], 1e-9),
              "speedup_total": runs[0]["total_s"] / max(runs[1]["total_s"], 1e-9), "peak_rss_mb": peak_mb,
              "manifest": str(args.manifest), "epochs": args.epochs}
    atomic_write_text(args.out, json.dumps(result, indent=2, default=str))
    for r in runs:
        print(f"{r['run']:>6}: {r['images']} images, features {r['features_s']:.1f}s "
              f"({r['computed']} computed, {r['from_cache']} cached), training {r['training_s']:.1f}s")
    print(f"feature speed-up {result['speedup_features']:.0f}x, whole run {result['speedup_total']:.1f}x, "
          f"peak RSS {peak_mb:.0f} MB -> {args.out}")


if __name__ == "__main__":
    main()
