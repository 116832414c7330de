"""Out-of-the-box peer: the PyPI ``image-quality`` package's BRISQUE (SVR trained on LIVE), as is.

Why: it is what a user reaches for with ``pip install image-quality``; it is not retrained
here. It runs in the benchmark-only environment (``.venv-peers``, see bench/README.md), not
in lpfiqa's, and writes one score per image; ``bench/synthetic_eval.py --scores`` then computes
the same figures as for our models on the same images.

Its 1.2.7 release was written for scikit-image < 0.19: it calls ``rescale(..., multichannel=...)``
(since replaced by ``channel_axis``) and ``rgb2gray`` on an already grey image (a no-op then, an
error now), and it reads ``svmutil.PRECOMPUTED``, which today's libsvm-official wheels no
longer export (it is 4 in libsvm's svm.h). The shim below restores exactly those old names and behaviours.
Its scores are 0-100, **lower is better**.

Usage::

    .venv-peers/bin/pip install image-quality libsvm-official
    .venv-peers/bin/python bench/peer_brisque.py --manifest data/default/synth/manifest.csv --split test
    .venv/bin/python bench/synthetic_eval.py --manifest data/default/synth/manifest.csv \\
        --scores bench/results/peer_brisque_scores.csv --lower-is-better --out bench/results/peer_brisque.json
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


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


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--manifest", type=Path, required=True)
    p.add_argument("--split", default="test", help="rows of this split ('' for all)")
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "peer_brisque_scores.csv")
    p.add_argument("--fresh", action="store_true", help="re-score every image (default: keep the scores in --out)")
    args = p.parse_args()
    try:
        _shim_skimage()
        from imquality import brisque
        from PIL import Image
    except ImportError as exc:
        sys.exit(f"peer_brisque: {exc}; install it: .venv-peers/bin/pip install image-quality libsvm-official")
    with open(args.manifest, newline="") as f:
        rows = [r for r in csv.DictReader(f) if not args.split or r.get("split") == args.split]
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
            _write(args.out, out)
            print(f"[{time.strftime('%H:%M:%S')}] {k}/{len(rows)} images, {time.perf_counter() - t0:.0f}s",
                  file=sys.stderr, flush=True)
    _write(args.out, out)
    print(f"{len(rows)} images ({reused} kept from {args.out.name}, {failed} failed) in "
          f"{time.perf_counter() - t0:.0f}s -> {args.out}")


def _previous(path: Path) -> dict[str, str]:
    """path -> score of the images a previous run scored (empty if there is no readable file)."""
    try:
        with open(path, newline="") as f:
            return {r["path"]: r["score"] for r in csv.DictReader(f) if r.get("score")}
    except (OSError, KeyError, csv.Error):
        return {}


def _write(path: Path, rows: list[dict]) -> None:
    """The CSV, atomically (temp file + rename): lpfiqa is not installed in this environment."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=["path", "score", "error"])
    w.writeheader()
    w.writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        f.write(buf.getvalue())
    os.replace(tmp, path)


if __name__ == "__main__":
    main()
