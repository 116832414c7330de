"""BRISQUE features (Blind/Referenceless Image Spatial QUality Evaluator).

A. Mittal, A. K. Moorthy, A. C. Bovik, "No-Reference Image Quality Assessment in the Spatial
Domain", IEEE Trans. Image Processing 21(12):4695-4708, 2012.

The 36 features follow LIVE's reference ``brisque_feature.m`` exactly; per scale (18 each):

====  ===============================================================
0-1   GGD fit of the MSCN coefficients: shape, variance E[x^2]
2-5   AGGD fit of horizontal products (shift [0 1]): shape, mean, left variance, right variance
6-9   vertical products (shift [1 0]), same four
10-13 main-diagonal products (shift [1 1]), same four
14-17 anti-diagonal products (shift [-1 1]), same four
====  ===============================================================

Scale 2 is the luminance downsampled with MATLAB ``imresize(I, 0.5)`` (bicubic, antialiased),
re-implemented in :func:`lpfiqa.baselines._nss.imresize_matlab`. The MSCN filter uses zero
padding (``filter2(..., 'same')``) and the pairwise products wrap around (``circshift``), as
the reference. The LIVE SVR model shipped with the reference is not used: the project trains
its own regressor (:mod:`lpfiqa.baselines.regressors`) on the same splits as the deep model.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import gamma as _gamma

from lpfiqa.baselines._nss import aggd_fit, ggd_fit, imresize_matlab, mscn, to_luminance

__all__ = ["BRISQUE_FEATURE_NAMES", "brisque_features", "brisque_features_batch"]

# circshift offsets (rows, cols) of the reference, in its order H, V, D1, D2.
_SHIFTS = ((0, 1), (1, 0), (1, 1), (-1, 1))


def _names() -> tuple[str, ...]:
    out = []
    for s in (1, 2):
        out += [f"s{s}_mscn_shape", f"s{s}_mscn_var"]
        for o in ("h", "v", "d1", "d2"):
            out += [f"s{s}_{o}_shape", f"s{s}_{o}_mean", f"s{s}_{o}_lvar", f"s{s}_{o}_rvar"]
    return tuple(out)


#: Names of the 36 features, in output order.
BRISQUE_FEATURE_NAMES: tuple[str, ...] = _names()


def _scale_features(gray: np.ndarray) -> list[float]:
    """The 18 features of one scale (one pass of the reference's scale loop)."""
    coeffs, _ = mscn(gray, padding="zero")
    shape, var = ggd_fit(coeffs.ravel())
    feats = [float(shape), float(var)]
    for shift in _SHIFTS:
        pair = coeffs * np.roll(coeffs, shift, axis=(0, 1))
        a, left, right = (float(v) for v in aggd_fit(pair.ravel()))
        const = np.sqrt(_gamma(1.0 / a)) / np.sqrt(_gamma(3.0 / a))
        mean = (right - left) * (_gamma(2.0 / a) / _gamma(1.0 / a)) * const  # Eq. 8 of the paper
        feats += [a, float(mean), left**2, right**2]
    return feats


def brisque_features(image: Any) -> np.ndarray:
    """Compute the 36 BRISQUE features of one image.

    Args:
        image: A path, PIL image, or array: (H, W) luminance or (H, W, 3) RGB, uint8 or float
            in [0, 255]. RGB is converted as MATLAB ``rgb2gray`` (BT.601 weights), see
            :func:`lpfiqa.baselines._nss.to_luminance`. At least 14x14 pixels.

    Returns:
        A (36,) float64 vector in the order of :data:`BRISQUE_FEATURE_NAMES`. Only an
        all-zero image gives NaN (nothing to fit); a constant non-zero one does not, since
        zero padding makes its border an edge, exactly as in the reference.

    Raises:
        ValueError: The image is smaller than 14x14 (the 7x7 window at the second scale).

    Example:
        >>> rng = np.random.default_rng(0)
        >>> f = brisque_features(rng.integers(0, 256, (64, 48, 3), dtype=np.uint8))
        >>> f.shape, bool(np.isfinite(f).all())
        ((36,), True)
        >>> BRISQUE_FEATURE_NAMES[0], BRISQUE_FEATURE_NAMES[18]
        ('s1_mscn_shape', 's2_mscn_shape')
    """
    gray = to_luminance(image)
    if min(gray.shape) < 14:
        raise ValueError(f"BRISQUE needs an image of at least 14x14 pixels, got {gray.shape}")
    feats = _scale_features(gray) + _scale_features(imresize_matlab(gray, 0.5))
    return np.asarray(feats, dtype=np.float64)


def brisque_features_batch(images: Any) -> np.ndarray:
    """Stack :func:`brisque_features` over an iterable of images into an (N, 36) array.

    Example:
        >>> rng = np.random.default_rng(1)
        >>> brisque_features_batch([rng.normal(128, 20, (32, 32)) for _ in range(3)]).shape
        (3, 36)
    """
    rows = [brisque_features(im) for im in images]
    return np.stack(rows) if rows else np.zeros((0, 36))
