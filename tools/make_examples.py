"""Write examples/: one clean photo and graded distorted versions of it, for `make demo`.

Usage: python tools/make_examples.py [--photo ../shared/pristine/skimage_coffee.png]
The photo is one of the default model's held-out test photos (see weights/lpf-synth-v3; v1 and v2 held out the same photos).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from lpfiqa.synth import distort  # noqa: E402
from lpfiqa.synth.build import fit_size  # noqa: E402

CHOICES = [("jpeg", 2), ("gaussian_blur", 3), ("white_noise", 3), ("jpeg", 5), ("motion_blur", 5),
           ("contrast_change", 4)]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--photo", type=Path, default=ROOT.parent / "shared" / "pristine" / "skimage_coffee.png")
    p.add_argument("--out", type=Path, default=ROOT / "examples")
    p.add_argument("--size", default="512x384")
    args = p.parse_args()
    w, h = (int(v) for v in args.size.split("x"))
    ref = fit_size(Image.open(args.photo), (w, h))
    args.out.mkdir(parents=True, exist_ok=True)
    stem = args.photo.stem.removeprefix("skimage_")
    Image.fromarray(ref).save(args.out / f"{stem}_clean.png")
    for i, (t, lv) in enumerate(CHOICES):
        img = distort(ref, t, lv, np.random.default_rng(i))
        Image.fromarray(img).save(args.out / f"{stem}_{t}_level{lv}.png")
    print(f"wrote {len(CHOICES) + 1} images to {args.out}")


if __name__ == "__main__":
    main()
