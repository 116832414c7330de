"""Sharpness and contrast family, KADID-10k types 24-25 (Lin, Hosu, Saupe, "KADID-10k", QoMEX 2019)."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from ._registry import check_args, register
from ._util import lab_to_rgb, rgb_to_lab, to_float, to_uint8

__all__ = ["CONTRAST_FACTORS", "SHARPEN_AMOUNTS", "SHARPEN_RADIUS", "contrast_change", "high_sharpen"]

#: Unsharp-mask amounts, KADID's ``imsharpenHi`` values.
SHARPEN_AMOUNTS = (1.0, 2.0, 3.0, 6.0, 12.0)
#: Unsharp-mask Gaussian sigma (px), MATLAB ``imsharpen``'s default radius.
SHARPEN_RADIUS = 1.0
#: Factor applied to deviations from the mean. KADID's ``imcontrastc`` mixes contrast increase
#: (levels 1-2), identity (3) and decrease (4-5); here contrast only decreases, so severity is
#: monotone, down to about KADID's strongest reduction.
CONTRAST_FACTORS = (0.82, 0.68, 0.55, 0.42, 0.3)


@register("high_sharpen", 24, "sharpness_contrast")
def high_sharpen(image: np.ndarray, level: int, rng: np.random.Generator | None = None) -> np.ndarray:
    """Over-sharpening: unsharp mask on Lab L* with amount :data:`SHARPEN_AMOUNTS` (halos, ringing).

    Args:
        image: uint8 RGB (H, W, 3).
        level: 1..5.
        rng: unused (deterministic).

    Returns:
        uint8 image of the same shape.

    Example:
        >>> import numpy as np
        >>> img = np.full((8, 8, 3), 100, np.uint8); img[:, 4:] = 150
        >>> out = high_sharpen(img, 3)
        >>> int(out[0, 3, 0]) < 100 < 150 < int(out[0, 4, 0])  # overshoot on both sides of the edge
        True
    """
    image, level, rng = check_args(image, level, rng)
    lab = rgb_to_lab(image)
    lum = lab[..., 0]
    blurred = ndimage.gaussian_filter(lum, SHARPEN_RADIUS, mode="nearest", truncate=3.0)
    lab[..., 0] = np.clip(lum + np.float32(SHARPEN_AMOUNTS[level - 1]) * (lum - blurred), 0, 100)
    return to_uint8(lab_to_rgb(lab))


@register("contrast_change", 25, "sharpness_contrast")
def contrast_change(image: np.ndarray, level: int, rng: np.random.Generator | None = None) -> np.ndarray:
    """Contrast reduction toward the image mean: ``m + f * (x - m)`` with f in :data:`CONTRAST_FACTORS`.

    One scalar mean over all samples (not per channel), so colours also lose saturation, as
    with a veiling glare.

    Args:
        image: uint8 RGB (H, W, 3).
        level: 1..5.
        rng: unused (deterministic).

    Returns:
        uint8 image of the same shape.

    Example:
        >>> import numpy as np
        >>> img = np.zeros((2, 2, 3), np.uint8); img[0] = 200
        >>> out = contrast_change(img, 5)
        >>> int(out.max()) - int(out.min())
        60
    """
    image, level, rng = check_args(image, level, rng)
    x = to_float(image)
    m = np.float32(x.mean())
    return to_uint8(m + np.float32(CONTRAST_FACTORS[level - 1]) * (x - m))
