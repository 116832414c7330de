"""Blur family, KADID-10k types 1-3 (Lin, Hosu, Saupe, "KADID-10k", QoMEX 2019).

Parameters are in pixels, as in KADID-10k (defined on 512x384 images).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from ._registry import check_args, register
from ._util import fft_convolve, to_float, to_uint8

__all__ = ["GAUSSIAN_SIGMAS", "LENS_RADII", "MOTION_LENGTHS", "gaussian_blur", "lens_blur", "motion_blur"]

#: Gaussian sigma (px). KADID uses 0.1, 0.5, 1, 2, 5; sigma 0.1 is an identity filter on 8-bit
#: data, so level 1 starts at 0.5 and 3 is inserted to keep five distinct levels.
GAUSSIAN_SIGMAS = (0.5, 1.0, 2.0, 3.0, 5.0)
#: Disk radius (px), as KADID's ``fspecial('disk', r)``.
LENS_RADII = (1.0, 2.0, 4.0, 6.0, 8.0)
#: Line length (px) = 2 * KADID's motion radius (1, 2, 4, 6, 10) + 1.
MOTION_LENGTHS = (3.0, 5.0, 9.0, 13.0, 21.0)


def disk_kernel(radius: float, supersample: int = 8) -> np.ndarray:
    """Anti-aliased disk (pillbox) of ``radius`` px: each tap is the covered fraction of its pixel."""
    half = int(np.ceil(radius - 0.5))
    sub = (np.arange(supersample) + 0.5) / supersample - 0.5
    # Coordinates of every sub-sample of every tap, to get area coverage like fspecial('disk').
    c = (np.arange(-half, half + 1)[:, None] + sub[None, :]).ravel()
    inside = (c[:, None] ** 2 + c[None, :] ** 2) <= radius**2
    n = 2 * half + 1
    k = inside.reshape(n, supersample, n, supersample).mean(axis=(1, 3))
    return k / k.sum()


def line_kernel(length: float, angle_deg: float) -> np.ndarray:
    """Anti-aliased line of ``length`` px at ``angle_deg``, like ``fspecial('motion', len, theta)``."""
    half = (length - 1) / 2
    size = 2 * int(np.ceil(half)) + 3  # +1 px margin each side for the bilinear splat
    k = np.zeros((size, size))
    t = np.linspace(-half, half, int(np.ceil(length)) * 16 + 1)
    theta = np.deg2rad(angle_deg)
    c0 = size // 2
    x = c0 + t * np.cos(theta)
    y = c0 - t * np.sin(theta)
    x0, y0 = np.floor(x).astype(int), np.floor(y).astype(int)
    fx, fy = x - x0, y - y0
    # Bilinear splat of dense samples along the segment gives a smooth, sub-pixel line.
    for dy, dx, w in (
        (0, 0, (1 - fy) * (1 - fx)),
        (0, 1, (1 - fy) * fx),
        (1, 0, fy * (1 - fx)),
        (1, 1, fy * fx),
    ):
        np.add.at(k, (y0 + dy, x0 + dx), w)
    return k / k.sum()


@register("gaussian_blur", 1, "blur")
def gaussian_blur(image: np.ndarray, level: int, rng: np.random.Generator | None = None) -> np.ndarray:
    """Gaussian low-pass filter with sigma :data:`GAUSSIAN_SIGMAS` (replicated borders).

    Args:
        image: uint8 RGB (H, W, 3).
        level: 1..5.
        rng: unused (deterministic); accepted for the common signature.

    Returns:
        Blurred uint8 image of the same shape.

    Example:
        >>> import numpy as np
        >>> img = np.zeros((9, 9, 3), np.uint8); img[4, 4] = 255
        >>> int(gaussian_blur(img, 5)[4, 4, 0]) < 255
        True
    """
    image, level, rng = check_args(image, level, rng)
    sigma = GAUSSIAN_SIGMAS[level - 1]
    out = ndimage.gaussian_filter(to_float(image), sigma=(sigma, sigma, 0), mode="nearest", truncate=3.0)
    return to_uint8(out)


@register("lens_blur", 2, "blur")
def lens_blur(image: np.ndarray, level: int, rng: np.random.Generator | None = None) -> np.ndarray:
    """Out-of-focus blur: convolution with a disk of radius :data:`LENS_RADII`.

    Args:
        image: uint8 RGB (H, W, 3).
        level: 1..5.
        rng: unused (deterministic).

    Returns:
        Blurred uint8 image of the same shape.

    Example:
        >>> import numpy as np
        >>> img = np.zeros((9, 9, 3), np.uint8); img[4, 4] = 255
        >>> int(lens_blur(img, 1)[4, 3, 0]) > 0
        True
    """
    image, level, rng = check_args(image, level, rng)
    return to_uint8(fft_convolve(to_float(image), disk_kernel(LENS_RADII[level - 1])))


@register("motion_blur", 3, "blur")
def motion_blur(image: np.ndarray, level: int, rng: np.random.Generator | None = None) -> np.ndarray:
    """Linear camera motion: a line kernel of :data:`MOTION_LENGTHS` px at an angle drawn from ``rng``.

    The angle is drawn the same way at every level, so one seed gives the same direction at all
    five levels and only the length grows.

    Args:
        image: uint8 RGB (H, W, 3).
        level: 1..5.
        rng: draws the angle, uniform in [0, 180) degrees.

    Returns:
        Blurred uint8 image of the same shape.

    Example:
        >>> import numpy as np
        >>> img = np.zeros((15, 15, 3), np.uint8); img[7, 7] = 255
        >>> out = motion_blur(img, 2, np.random.default_rng(0))
        >>> int((out[..., 0] > 0).sum()) > 1
        True
    """
    image, level, rng = check_args(image, level, rng)
    angle = float(rng.uniform(0.0, 180.0))
    return to_uint8(fft_convolve(to_float(image), line_kernel(MOTION_LENGTHS[level - 1], angle)))
