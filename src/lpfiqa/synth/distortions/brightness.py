"""Brightness family, KADID-10k types 16-18 (Lin, Hosu, Saupe, "KADID-10k", QoMEX 2019)."""

from __future__ import annotations

import numpy as np

from ._registry import check_args, register
from ._util import lab_to_rgb, rgb_to_lab, to_float, to_uint8

__all__ = ["BRIGHTEN_AMOUNTS", "DARKEN_AMOUNTS", "MEAN_SHIFTS", "brighten", "darken", "mean_shift"]

#: KADID ``imbrighten`` amounts; the tone curve passes through (0.5, 0.5 + amount / 2).
BRIGHTEN_AMOUNTS = (0.1, 0.2, 0.4, 0.7, 1.1)
#: KADID ``imdarken`` amounts; the tone curve passes through (0.5, 0.5 - amount / 2).
DARKEN_AMOUNTS = (0.05, 0.1, 0.2, 0.4, 0.8)
#: Magnitude of the constant added to all samples (of 1.0). KADID uses +-0.15, +-0.08 and 0,
#: which is not monotone in the level; here the sign is drawn once and the size grows.
MEAN_SHIFTS = (0.04, 0.07, 0.10, 0.15, 0.20)


def _tone_curve(x: np.ndarray, mid: float) -> np.ndarray:
    """Quadratic through (0, 0), (0.5, mid), (1, 1), clipped to [0, 1].

    This is the interpolating 2nd-order spline KADID fits with three knots. For mid > 1 the
    parabola overshoots 1 near the top; the clip makes that a flat (burnt-out) highlight.
    """
    a = 2.0 - 4.0 * mid
    b = 4.0 * mid - 1.0
    return np.clip((np.float32(a) * x + np.float32(b)) * x, 0.0, 1.0)


def _tone_map(image: np.ndarray, mid: float) -> np.ndarray:
    """KADID's mix: 2/3 of the curve applied to RGB, 1/3 of it applied to Lab L* (chroma kept)."""
    lab = rgb_to_lab(image)
    lab[..., 0] = _tone_curve(lab[..., 0] / 100, mid) * 100
    return (2 * _tone_curve(to_float(image), mid) + lab_to_rgb(lab)) / 3


@register("brighten", 16, "brightness")
def brighten(image: np.ndarray, level: int, rng: np.random.Generator | None = None) -> np.ndarray:
    """Non-linear brightening (concave tone curve), amounts :data:`BRIGHTEN_AMOUNTS`.

    Args:
        image: uint8 RGB (H, W, 3).
        level: 1..5.
        rng: unused (deterministic).

    Returns:
        uint8 image of the same shape; black and white stay fixed.

    Example:
        >>> import numpy as np
        >>> img = np.full((2, 2, 3), 128, np.uint8)
        >>> int(brighten(img, 1)[0, 0, 0]) > 128
        True
    """
    image, level, rng = check_args(image, level, rng)
    return to_uint8(_tone_map(image, 0.5 + BRIGHTEN_AMOUNTS[level - 1] / 2))


@register("darken", 17, "brightness")
def darken(image: np.ndarray, level: int, rng: np.random.Generator | None = None) -> np.ndarray:
    """Non-linear darkening (convex tone curve), amounts :data:`DARKEN_AMOUNTS`.

    Args:
        image: uint8 RGB (H, W, 3).
        level: 1..5 (level 5 crushes the darker third to black).
        rng: unused (deterministic).

    Returns:
        uint8 image of the same shape.

    Example:
        >>> import numpy as np
        >>> img = np.full((2, 2, 3), 128, np.uint8)
        >>> int(darken(img, 1)[0, 0, 0]) < 128
        True
    """
    image, level, rng = check_args(image, level, rng)
    return to_uint8(_tone_map(image, 0.5 - DARKEN_AMOUNTS[level - 1] / 2))


@register("mean_shift", 18, "brightness")
def mean_shift(image: np.ndarray, level: int, rng: np.random.Generator | None = None) -> np.ndarray:
    """Add a constant of size :data:`MEAN_SHIFTS` to every sample, sign (lighter/darker) from ``rng``.

    Args:
        image: uint8 RGB (H, W, 3).
        level: 1..5.
        rng: draws the sign (the same at every level for a given seed).

    Returns:
        uint8 image of the same shape (clipped at 0 and 255).

    Example:
        >>> import numpy as np
        >>> img = np.full((2, 2, 3), 128, np.uint8)
        >>> abs(int(mean_shift(img, 5, np.random.default_rng(0))[0, 0, 0]) - 128)
        51
    """
    image, level, rng = check_args(image, level, rng)
    sign = 1.0 if rng.random() < 0.5 else -1.0
    return to_uint8(to_float(image) + np.float32(sign * MEAN_SHIFTS[level - 1]))
