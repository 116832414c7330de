"""Downscale a lossy source photo until its compression artefacts vanish.

The target size follows three rules, in this order of priority:

1. never upscale (scale <= 1);
2. the long side is at most 1024 px (like ``../shared/pristine``);
3. otherwise use the source's factor (:attr:`Source.scale`, chosen per codec and
   quality: see :mod:`lpfiqa.corpus.sources`), but keep the short side >= 256 px so
   that small sources stay usable (they then keep some of their artefacts; the
   manifest records ``scale`` and the source size, so a test set can filter them).

Resampling is Lanczos with ``reducing_gap=3`` (a box pre-reduction for large factors,
then an antialiased Lanczos pass).

Example:
    >>> target_size((3840, 2160), 0.75)
    ((1024, 576), 0.2667)
    >>> target_size((720, 360), 0.5)
    ((512, 256), 0.7111)
    >>> target_size((320, 240), 0.5)
    ((320, 240), 1.0)
"""

from __future__ import annotations

from PIL import Image

__all__ = ["LONG_MAX", "SHORT_MIN", "downscale", "target_size"]

LONG_MAX = 1024
SHORT_MIN = 256


def target_size(size: tuple[int, int], factor: float) -> tuple[tuple[int, int], float]:
    """Output ``(width, height)`` and the scale used, rounded to 4 decimals."""
    w, h = size
    s = max(factor, SHORT_MIN / min(w, h))  # the short-side floor wins over the factor ...
    s = min(s, LONG_MAX / max(w, h), 1.0)  # ... but not over the long-side cap, and never upscale
    return (max(1, round(w * s)), max(1, round(h * s))), round(s, 4)


def downscale(im: Image.Image, factor: float) -> tuple[Image.Image, float]:
    """``im`` as 8-bit RGB at :func:`target_size`, and the scale used."""
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        bg = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        im = Image.alpha_composite(bg, rgba)
    im = im.convert("RGB")
    size, s = target_size(im.size, factor)
    if size != im.size:
        im = im.resize(size, Image.LANCZOS, reducing_gap=3.0)
    return im, s
