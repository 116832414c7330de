"""Out-of-the-box peer: the PyPI ``image-quality`` package's BRISQUE (SVR trained on LIVE), as is.

Why: it is what a user reaches for with ``pip install image-quality``; it is not retrained
here. It runs in the benchmark-only environment (``.venv-peers``, see bench/README.md), not
in lpfiqa's, and writes one score per image; ``python -m bench.synthetic_eval --scores`` then computes
the same figures as for our models on the same images.

Its 1.2.7 release was written for scikit-image < 0.19: it calls ``rescale(..., multichannel=...)``
(since replaced by ``channel_axis``) and ``rgb2gray`` on an already grey image (a no-op then, an
error now), and it reads ``svmutil.PRECOMPUTED``, which today's libsvm-official wheels no
longer export (it is 4 in libsvm's svm.h). The shim below restores exactly those old names and behaviours.
Its scores are 0-100, **lower is better**.

Usage::

    .venv-peers/bin/pip install image-quality libsvm-official
    .venv-peers/bin/python -m bench.peer_brisque --manifest data/default/synth/manifest.csv --split test
    .venv/bin/python -m bench.synthetic_eval --manifest data/default/synth/manifest.csv \\
        --scores bench/results/peer_brisque_scores.csv --lower-is-better --out bench/results/peer_brisque.json
"""

from __future__ import annotations

import csv
import sys
import time
from pathlib import Path

from ._common import MANIFEST, PEERS_PYTHON, RESULTS, Benchmark, parser, read_csv, write_csv


def _shim_skimage() -> None:
    import skimage.color
    import skimage.transform

    rgb2gray = skimage.color.rgb2gray

    def grey(image, *args, **kwargs):
        return image if getattr(image, "ndim", 3) == 2 else rgb2gray(image, *args, **kwargs)

    skimage.color.rgb2gray = grey

    rescale = skimage.transform.rescale

    def compat(image, scale, *args, multichannel=None, **kwargs):
        if multichannel is not None and "channel_axis" not in kwargs:
            kwargs["channel_axis"] = -1 if multichannel else None
        return rescale(image, scale, *args, **kwargs)

    skimage.transform.rescale = compat
    from libsvm import svmutil

    if not hasattr(svmutil, "PRECOMPUTED"):
        svmutil.PRECOMPUTED = 4  # kernel_type enum in libsvm's svm.h: LINEAR, POLY, RBF, SIGMOID, PRECOMPUTED


def main(argv: list[str] | None = None) -> None:
    p = parser("peer_brisque", __doc__)
    p.add_argument("--manifest", type=Path, required=True)
    p.add_argument("--split", default="test", help="rows of this split ('' for all)")
    p.add_argument("--out", type=Path, default=RESULTS / "peer_brisque_scores.csv")
    p.add_argument("--fresh", action="store_true", help="re-score every image (default: keep the scores in --out)")
    args = p.parse_args(argv)
    try:
        _shim_skimage()
        from imquality import brisque
        from PIL import Image
    except ImportError as exc:
        sys.exit(f"peer_brisque: {exc}; install it: .venv-peers/bin/pip install image-quality libsvm-official")
    rows = [r for r in read_csv(args.manifest) if not args.split or r.get("split") == args.split]
    base = args.manifest.parent
    # The peer is slow (~1 s per image) and its scores never change with our code: keep what a
    # previous run wrote (failures are retried), save every 50 images, so a killed run loses little.
    done = {} if args.fresh else _previous(args.out)
    out, failed, reused, t0 = [], 0, 0, time.perf_counter()
    for k, r in enumerate(rows, 1):
        path = Path(r["path"]) if Path(r["path"]).is_absolute() else base / r["path"]
        if done.get(r["path"]):
            out.append({"path": r["path"], "score": done[r["path"]], "error": ""})
            reused += 1
            continue
        try:
            with Image.open(path) as im:
                s = float(brisque.score(im.convert("RGB")))
            out.append({"path": r["path"], "score": f"{s:.4f}", "error": ""})
        except Exception as exc:  # one bad image is recorded, the batch goes on
            failed += 1
            out.append({"path": r["path"], "score": "", "error": f"{type(exc).__name__}: {exc}"})
        if (len(out) - reused) % 50 == 0:
            write_csv(args.out.resolve(), out, FIELDS)
            print(f"[{time.strftime('%H:%M:%S')}] {k}/{len(rows)} images, {time.perf_counter() - t0:.0f}s",
                  file=sys.stderr, flush=True)
    write_csv(args.out.resolve(), out, FIELDS)
    print(f"{len(rows)} images ({reused} kept from {args.out.name}, {failed} failed) in "
          f"{time.perf_counter() - t0:.0f}s -> {args.out}")


def _previous(path: Path) -> dict[str, str]:
    """path -> score of the images a previous run scored (empty if there is no readable file)."""
    try:
        return {r["path"]: r["score"] for r in read_csv(path) if r.get("score")}
    except (OSError, KeyError, csv.Error):
        return {}


FIELDS = ["path", "score", "error"]
# Runs in the peers' venv (its python) and only in full runs: ~1 s per image the first time.
BENCHMARK = Benchmark("peer_brisque_scores", "peer_brisque", "PyPI image-quality BRISQUE scores", None,
                      ("peer_brisque_scores.csv",), full=("--manifest", MANIFEST, "--out", "bench/results/peer_brisque_scores.csv"),
                      quick=None, needs=(MANIFEST, PEERS_PYTHON), python=PEERS_PYTHON)


if __name__ == "__main__":
    main()
