"""Spatial family, KADID-10k types 19-23 (Lin, Hosu, Saupe, "KADID-10k", QoMEX 2019).

Patch sizes are KADID's at 512x384 and scale with the image's linear size, so the fraction of
the picture affected does not depend on resolution. Random patches are drawn for the strongest
level and the first ``n`` are used, so a seed gives nested patch sets across levels.
"""

from __future__ import annotations

import numpy as np
from PIL import Image
from scipy import ndimage

from ._registry import check_args, register
from ._util import size_scale, to_float, to_uint8

__all__ = [
    "BLOCK_COUNTS",
    "JITTER_SIGMAS",
    "PATCH_COUNTS",
    "PIXELATE_AMOUNTS",
    "QUANT_LEVELS",
    "color_block",
    "jitter",
    "non_eccentricity_patch",
    "pixelate",
    "quantization",
]

#: Per-warp displacement sigma (px), KADID's ``imjitter`` values; KADID warps 5 times.
JITTER_SIGMAS = (0.05, 0.1, 0.2, 0.5, 1.0)
#: Number of 16x16 patches copied from a nearby position (KADID ``imnoneccentricity``).
PATCH_COUNTS = (20, 40, 60, 80, 100)
#: KADID ``impixelate`` amounts; the image is reduced to 0.95 - amount ** 0.6 of its size.
PIXELATE_AMOUNTS = (0.01, 0.05, 0.1, 0.2, 0.5)
#: Grey levels per channel (KADID ``imnoisequantize``: multi-level thresholds).
QUANT_LEVELS = (20, 16, 13, 10, 7)
#: Number of 32x32 solid-colour blocks (KADID ``imcolorblock``).
BLOCK_COUNTS = (2, 4, 6, 8, 10)


@register("jitter", 19, "spatial")
def jitter(image: np.ndarray, level: int, rng: np.random.Generator | None = None) -> np.ndarray:
    """Random per-pixel displacement (bilinear resampling), sigma :data:`JITTER_SIGMAS` px.

    KADID warps five times with independent shifts; their sum is one warp with sqrt(5) times
    the sigma, which is what is done here (one resampling instead of five).

    Args:
        image: uint8 RGB (H, W, 3).
        level: 1..5.
        rng: draws the displacement field (the same field, scaled, at every level).

    Returns:
        uint8 image of the same shape.

    Example:
        >>> import numpy as np
        >>> img = np.random.default_rng(0).integers(0, 256, (8, 8, 3), dtype=np.uint8)
        >>> bool((jitter(img, 5, np.random.default_rng(0)) != img).any())
        True
    """
    image, level, rng = check_args(image, level, rng)
    h, w = image.shape[:2]
    shifts = rng.standard_normal((2, h, w), dtype=np.float32) * np.float32(
        JITTER_SIGMAS[level - 1] * np.sqrt(5)
    )
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    x = to_float(image)
    coords = (yy + shifts[0], xx + shifts[1])
    out = np.stack(
        [ndimage.map_coordinates(x[..., c], coords, order=1, mode="reflect") for c in range(3)], axis=-1
    )
    return to_uint8(out)


def _grid_slots(h: int, w: int, patch: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` non-overlapping top-left corners for ``patch``-sized squares, in random order.

    Squares sit at a random offset inside distinct cells of a grid, so later (stronger-level)
    patches never cover earlier ones; that keeps the damage strictly growing with the level.
    """
    cell = 2 * patch
    if (h // cell) * (w // cell) < n:  # small image: fall back to a tight tiling
        cell = patch
    ny, nx = max(h // cell, 1), max(w // cell, 1)
    order = rng.permutation(ny * nx)[:n]
    jit = rng.integers(0, cell - patch + 1, size=(len(order), 2))
    corners = np.stack([order // nx * cell, order % nx * cell], axis=1) + jit
    return np.minimum(corners, [max(h - patch, 0), max(w - patch, 0)])


@register("non_eccentricity_patch", 20, "spatial")
def non_eccentricity_patch(
    image: np.ndarray, level: int, rng: np.random.Generator | None = None
) -> np.ndarray:
    """Patches replaced by copies of a nearby region: :data:`PATCH_COUNTS` patches of 16 px.

    Each patch is filled from the original image displaced by up to 8 px (KADID: radius 16,
    offset (rand - 0.5) * radius), both scaled with image size.

    Args:
        image: uint8 RGB (H, W, 3).
        level: 1..5.
        rng: draws patch positions and offsets.

    Returns:
        uint8 image of the same shape.

    Example:
        >>> import numpy as np
        >>> img = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
        >>> bool((non_eccentricity_patch(img, 1, np.random.default_rng(0)) != img).any())
        True
    """
    image, level, rng = check_args(image, level, rng)
    h, w = image.shape[:2]
    s = size_scale(image)
    patch = min(max(2, round(16 * s)), h, w)
    reach = max(1, round(8 * s))
    corners = _grid_slots(h, w, patch, PATCH_COUNTS[-1], rng)
    offsets = rng.integers(-reach, reach + 1, size=(len(corners), 2))
    offsets[(offsets == 0).all(axis=1), 1] = reach  # a zero offset would copy a patch onto itself
    n = max(1, len(corners) * PATCH_COUNTS[level - 1] // PATCH_COUNTS[-1])
    out = image.copy()
    for (y, x), (dy, dx) in zip(corners[:n], offsets[:n], strict=True):
        # Mirror the offset where the source would leave the image.
        sy = y + dy if 0 <= y + dy <= h - patch else y - dy
        sx = x + dx if 0 <= x + dx <= w - patch else x - dx
        sy, sx = min(max(sy, 0), h - patch), min(max(sx, 0), w - patch)
        out[y : y + patch, x : x + patch] = image[sy : sy + patch, sx : sx + patch]
    return out


@register("pixelate", 21, "spatial")
def pixelate(image: np.ndarray, level: int, rng: np.random.Generator | None = None) -> np.ndarray:
    """Area down-sampling to ``0.95 - amount ** 0.6`` of the size, then nearest up-sampling.

    Args:
        image: uint8 RGB (H, W, 3).
        level: 1..5; amount :data:`PIXELATE_AMOUNTS` (scale 0.89 .. 0.29).
        rng: unused (deterministic).

    Returns:
        uint8 image of the same shape.

    Example:
        >>> import numpy as np
        >>> img = np.random.default_rng(0).integers(0, 256, (16, 16, 3), dtype=np.uint8)
        >>> out = pixelate(img, 5)
        >>> out.shape, bool((out[:, 0] == out[:, 1]).all())
        ((16, 16, 3), True)
    """
    image, level, rng = check_args(image, level, rng)
    h, w = image.shape[:2]
    z = 0.95 - PIXELATE_AMOUNTS[level - 1] ** 0.6
    small = Image.fromarray(image, "RGB").resize(
        (max(1, round(w * z)), max(1, round(h * z))), Image.Resampling.BOX
    )
    return np.asarray(small.resize((w, h), Image.Resampling.NEAREST), dtype=np.uint8).copy()


def _lloyd_levels(channel: np.ndarray, n: int, iters: int = 25) -> np.ndarray:
    """256-entry lookup table quantising ``channel`` to ``n`` levels with minimum squared error.

    Lloyd-Max on the histogram; minimising within-class variance is what multi-level Otsu
    (MATLAB ``multithresh``, used by KADID) does. Starts from equal-population thresholds.
    """
    hist = np.bincount(channel.ravel(), minlength=256).astype(np.float64)
    values = np.arange(256, dtype=np.float64)
    cdf = np.cumsum(hist) / hist.sum()
    thresholds = np.searchsorted(cdf, np.arange(1, n) / n, side="right").astype(np.float64) + 0.5
    reps = np.zeros(n)
    for _ in range(iters):
        cls = np.searchsorted(thresholds, values)
        weight = np.bincount(cls, weights=hist, minlength=n)
        total = np.bincount(cls, weights=hist * values, minlength=n)
        # Empty classes keep the centre of their interval so thresholds stay ordered.
        edges = np.concatenate([[0.0], thresholds, [255.0]])
        reps = np.where(weight > 0, total / np.maximum(weight, 1e-12), (edges[:-1] + edges[1:]) / 2)
        new = (reps[:-1] + reps[1:]) / 2
        if np.allclose(new, thresholds):
            break
        thresholds = np.maximum.accumulate(new)
    return np.clip(np.rint(reps[np.searchsorted(thresholds, values)]), 0, 255).astype(np.uint8)


@register("quantization", 22, "spatial")
def quantization(image: np.ndarray, level: int, rng: np.random.Generator | None = None) -> np.ndarray:
    """Per-channel quantisation to :data:`QUANT_LEVELS` grey levels with optimal thresholds.

    Args:
        image: uint8 RGB (H, W, 3).
        level: 1..5.
        rng: unused (deterministic).

    Returns:
        uint8 image of the same shape.

    Example:
        >>> import numpy as np
        >>> img = np.tile(np.arange(256, dtype=np.uint8), (4, 1))[..., None].repeat(3, axis=2)
        >>> len(np.unique(quantization(img, 5)[..., 0]))
        7
    """
    image, level, rng = check_args(image, level, rng)
    n = QUANT_LEVELS[level - 1]
    out = np.empty_like(image)
    for c in range(3):
        out[..., c] = _lloyd_levels(image[..., c], n)[image[..., c]]
    return out


@register("color_block", 23, "spatial")
def color_block(image: np.ndarray, level: int, rng: np.random.Generator | None = None) -> np.ndarray:
    """:data:`BLOCK_COUNTS` solid blocks of random colour (32 px at 512x384) pasted at random.

    Blocks do not overlap (KADID's may), so each added block adds damage.

    Args:
        image: uint8 RGB (H, W, 3).
        level: 1..5.
        rng: draws positions and colours.

    Returns:
        uint8 image of the same shape.

    Example:
        >>> import numpy as np
        >>> img = np.zeros((64, 64, 3), np.uint8)
        >>> bool((color_block(img, 1, np.random.default_rng(0)) != 0).any())
        True
    """
    image, level, rng = check_args(image, level, rng)
    h, w = image.shape[:2]
    patch = min(max(2, round(32 * size_scale(image))), h, w)
    corners = _grid_slots(h, w, patch, BLOCK_COUNTS[-1], rng)
    colours = rng.integers(0, 256, size=(len(corners), 3), dtype=np.uint8)
    n = max(1, len(corners) * BLOCK_COUNTS[level - 1] // BLOCK_COUNTS[-1])
    out = image.copy()
    for (y, x), colour in zip(corners[:n], colours[:n], strict=True):
        out[y : y + patch, x : x + patch] = colour
    return out
