"""Score a synthetic set's held-out photos through the public API and print the issue's figures.

The default model's figures (model card) are computed from cached token grids by
`tools/train_default_model.py`; this script re-scores the image files end to end with
`lpfiqa.create_model(...).score_files` as an independent check, and works for any model and
any manifest written by `lpfiqa synth` (e.g. made from photos you hold out yourself).

``--from-cache`` scores the same images from their cached token grids instead (what
`tools/train_default_model.py` does; the grid is exactly what scoring computes for images whose
sides are multiples of the 32-px cell, stored in fp16): seconds instead of ~9 minutes, and the
figures agreed with the end-to-end run to 4 decimals when both were run (session 3, v3).

It also evaluates scores made elsewhere (``--scores CSV`` with ``path,score``, e.g. an
out-of-the-box peer from bench/peer_brisque.py) with exactly the same figures.

Usage:
    python bench/synthetic_eval.py --manifest data/default/synth/manifest.csv [--model lpf-synth-v3]
        [--split test] [--out bench/results/synthetic_eval.json]
    python bench/synthetic_eval.py --manifest ... --from-cache     # as in `make bench`
    python bench/synthetic_eval.py --manifest ... --scores peer.csv [--lower-is-better] --out peer.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from _common import header  # noqa: E402

from lpfiqa import create_model  # noqa: E402
from lpfiqa.datasets.manifest import read_manifest  # noqa: E402
from lpfiqa.features import FeatureCache  # noqa: E402
from lpfiqa.synth.evaluate import level_ordering_report  # noqa: E402
from lpfiqa.training import predict_unit  # noqa: E402
from lpfiqa.utils import atomic_write_text  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--manifest", type=Path, required=True)
    p.add_argument("--model", default="lpf-synth-v3")
    p.add_argument("--scores", type=Path, default=None, help="CSV path,score made elsewhere: evaluate it instead")
    p.add_argument("--lower-is-better", action="store_true", help="the --scores CSV falls with quality")
    p.add_argument("--from-cache", action="store_true",
                   help="score the cached token grids (extracted once if missing) instead of the image files")
    p.add_argument("--split", default="test", help="rows of this split ('' for all)")
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "synthetic_eval.json")
    args = p.parse_args()
    manifest = read_manifest(args.manifest)
    idx = [i for i, r in enumerate(manifest.rows) if not args.split or r.split == args.split]
    scores = np.full(len(manifest.rows), np.nan)
    t0 = time.perf_counter()
    if args.scores is not None:
        failed = _read_scores(args.scores, args.manifest, manifest, idx, scores, -1.0 if args.lower_is_better else 1.0)
        name = f"{args.scores.name}{' (negated: lower is better)' if args.lower_is_better else ''}"
    elif args.from_cache:
        model = create_model(args.model)
        cache = FeatureCache(model.encoder)
        grids, ok, failed = [], [], []
        for i in tqdm(idx, desc="cached grids", unit="img", file=sys.stderr):
            try:  # an unreadable image is recorded and left out, as score_files does
                grids.append(cache.get(manifest.rows[i].path))
                ok.append(i)
            except Exception as e:  # noqa: BLE001
                failed.append(f"{manifest.rows[i].path}: {e}")
        scores[ok] = model.cfg.from_unit(predict_unit(model.heads, grids))
        name = f"{args.model} (cached token grids)"
    else:
        model = create_model(args.model)
        bar = tqdm(total=len(idx), desc="scoring", unit="img", file=sys.stderr)
        records = model.score_files([manifest.rows[i].path for i in idx], on_record=lambda _: bar.update(1))
        bar.close()
        failed = [r for r in records if not r.ok]
        for i, rec in zip(idx, records, strict=True):
            scores[i] = rec.score if rec.ok else np.nan
        name = args.model
    report = level_ordering_report(manifest, scores, split=args.split or None)
    report = {**header("bench/synthetic_eval.py", args), **report}
    report.update({"model": name, "from_cache": args.from_cache, "manifest": str(args.manifest), "images": len(idx),
                   "failed": len(failed), "seconds": time.perf_counter() - t0})
    atomic_write_text(args.out, json.dumps(report, indent=2, default=str))
    print(f"{len(idx)} images of {report['photos']} photos ({len(failed)} failed) in {report['seconds']:.0f}s")
    for k, f in report["floors"].items():
        print(f"  {k:28s} {f['value']:.4f}  (floor {f['floor']}: {'pass' if f['pass'] else 'MISS'})")
    for t, v in report["level_srcc_per_type"].items():
        print(f"    {t:28s} {v:.3f}")
    print(f"wrote {args.out}")


def _read_scores(path: Path, manifest_path: Path, manifest, idx: list[int], scores: np.ndarray,
                 sign: float) -> list[str]:
    """Fill ``scores`` from a path,score CSV; return the manifest images it has no score for.

    A CSV path is absolute or relative to the manifest's folder (as `lpfiqa synth` and
    bench/peer_brisque.py write them); a CSV of bare file names matches by name, but only names
    that occur once among the rows evaluated (an ambiguous name stays unmatched).
    """
    import csv
    from collections import Counter

    base = Path(manifest_path).resolve().parent
    with open(path, newline="") as f:
        by_path, by_name = {}, {}
        for line, r in enumerate(csv.DictReader(f), 2):
            try:
                value = float(r["score"]) if r.get("score") else np.nan
                given = Path(r["path"])
            except (KeyError, TypeError, ValueError):
                raise SystemExit(f"{path}, line {line}: need columns path,score with a number; got {r}") from None
            by_path[str((given if given.is_absolute() else base / given).resolve())] = value
            by_name[given.name] = value
    names = Counter(Path(manifest.rows[i].path).name for i in idx)
    missing = []
    for i in idx:
        row = Path(manifest.rows[i].path)
        v = by_path.get(str(row.resolve()), by_name.get(row.name, np.nan) if names[row.name] == 1 else np.nan)
        scores[i] = sign * v
        if np.isnan(v):
            missing.append(str(row))
    return missing


if __name__ == "__main__":
    main()
