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
    python -m bench.synthetic_eval --manifest data/default/synth/manifest.csv [--model lpf-synth-v3]
        [--split test] [--out bench/results/synthetic_eval.json]
    python -m bench.synthetic_eval --manifest ... --from-cache     # as in `make bench`
    python -m bench.synthetic_eval --manifest ... --scores peer.csv [--lower-is-better] --out peer.json
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from lpfiqa import create_model
from lpfiqa.datasets.manifest import read_manifest
from lpfiqa.features import FeatureCache
from lpfiqa.synth.evaluate import level_ordering_report
from lpfiqa.training import predict_unit

from ._common import (
    MANIFEST,
    PEERS_PYTHON,
    RESULTS,
    V4_MANIFEST,
    Benchmark,
    header,
    info_line,
    load,
    parser,
    read_csv,
    write_json,
)


def main(argv: list[str] | None = None) -> None:
    p = parser("synthetic_eval", __doc__)
    p.add_argument("--manifest", type=Path, required=True)
    p.add_argument("--model", default="lpf-synth-v3")
    p.add_argument("--scores", type=Path, default=None, help="CSV path,score made elsewhere: evaluate it instead")
    p.add_argument("--lower-is-better", action="store_true", help="the --scores CSV falls with quality")
    p.add_argument("--from-cache", action="store_true",
                   help="score the cached token grids (extracted once if missing) instead of the image files")
    p.add_argument("--split", default="test", help="rows of this split ('' for all)")
    p.add_argument("--out", type=Path, default=RESULTS / "synthetic_eval.json")
    args = p.parse_args(argv)
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
    report = {**header("bench.synthetic_eval", args), **report}
    report.update({"model": name, "from_cache": args.from_cache, "manifest": str(args.manifest), "images": len(idx),
                   "failed": len(failed), "seconds": time.perf_counter() - t0})
    write_json(args.out.resolve(), report)
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
    base = Path(manifest_path).resolve().parent
    by_path, by_name = {}, {}
    for line, r in enumerate(read_csv(path), 2):
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



def same_images(d: dict, other: dict | None) -> bool:
    """Whether ``other`` (e.g. the peer's figures) was computed on the images of ``d``: a column of its table."""
    if not other or other.get("images") != d.get("images"):
        return False
    theirs, ours = str(other.get("args", {}).get("manifest", "")), str(d.get("args", {}).get("manifest"))
    return not Path(theirs).name or theirs == ours


def render(d: dict) -> str:
    """The floors table of one model, with the out-of-the-box peer beside it where it scored the same images."""
    peer = load("peer_brisque")
    peer = peer if same_images(d, peer) else None

    def cell(src: dict, k: str) -> str:
        v = src["floors"].get(k, {}).get("value")
        return "n/a" if v is None else f"{v:.4f}"

    floors = "\n".join(f"| {k} | {cell(d, k)} | {v['floor']} | {'yes' if v['pass'] else '**no**'} |"
                       + (f" {cell(peer, k)} |" if peer else "") for k, v in d["floors"].items())
    head = "| figure | value | floor | pass |" + (" PyPI `image-quality` BRISQUE |" if peer else "")
    rule = "| --- | --- | --- | --- |" + (" --- |" if peer else "")
    note = (f"\nThe last column is the out-of-the-box peer a user would `pip install` (`image-quality` 1.2.7, "
            f"BRISQUE trained on LIVE, run as is by `bench/peer_brisque.py` in `.venv-peers`; lower BRISQUE is "
            f"better, so it is negated) on the same {peer['images']} images ({peer['failed']} failed).\n"
            if peer else "")
    how = ("from their cached token grids (`--from-cache`: the grid that scoring computes for these images, whose "
           "sides are multiples of the 32-px cell, stored in fp16; `bench/synthetic_eval.py` without the flag "
           "re-scores the files through `lpfiqa.create_model().score_files`, ~9 min, and gave the same figures to "
           "4 decimals when both were run)" if d.get("from_cache") else
           f"through `lpfiqa.create_model('{d['model']}').score_files`, from the image files")
    return f"""{info_line(d) if "info" in d else ""}

`bench/synthetic_eval.py` scored {d['images']} images of {d['photos']} held-out photos {how}
in {d['seconds']:.0f} s ({d['failed']} failed). Model: {d['model']}.

{head}
{rule}
{floors}
{note}"""


_V4 = ("--manifest", V4_MANIFEST, "--from-cache", "--model", "lpf-synth-v4")
DEFAULT_MODEL = Benchmark("synthetic_eval", "synthetic_eval", "Default model on held-out photos", render,
                          ("synthetic_eval.json",), full=_V4, quick=_V4, needs=(V4_MANIFEST,))
_V3 = ("--manifest", MANIFEST, "--from-cache", "--model", "lpf-synth-v3", "--out", "bench/results/synthetic_eval_v3.json")
PREVIOUS_MODEL = Benchmark("synthetic_eval_v3", "synthetic_eval",
                           "The previous default (lpf-synth-v3) on its held-out photos", render,
                           ("synthetic_eval_v3.json",), full=_V3, quick=_V3, needs=(MANIFEST,))
# The out-of-the-box peer's scores (bench/peer_brisque.py, in the peers' venv) with the same figures: the
# last column of the tables above, not a section of its own.
PEER_BRISQUE = Benchmark("peer_brisque", "synthetic_eval", "PyPI image-quality BRISQUE on the held-out photos", None,
                         ("peer_brisque.json",),
                         full=("--manifest", MANIFEST, "--scores", "bench/results/peer_brisque_scores.csv",
                               "--lower-is-better", "--out", "bench/results/peer_brisque.json"),
                         quick=None, needs=(MANIFEST, PEERS_PYTHON))

if __name__ == "__main__":
    main()
