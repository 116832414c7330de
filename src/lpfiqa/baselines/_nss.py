"""Natural-scene-statistics helpers shared by BRISQUE and NIQE.

Everything here follows the LIVE reference MATLAB code of

* A. Mittal, A. K. Moorthy, A. C. Bovik, "No-Reference Image Quality Assessment in the
  Spatial Domain", IEEE Trans. Image Processing 21(12), 2012 (``brisque_feature.m``,
  ``estimateggdparam.m``, ``estimateaggdparam.m``), and
* A. Mittal, R. Soundararajan, A. C. Bovik, "Making a 'Completely Blind' Image Quality
  Analyzer", IEEE Signal Processing Letters 20(3), 2013 (``computefeature.m``).

Besides the MSCN transform and the moment-matching GGD / AGGD fits, it holds the two MATLAB
built-ins the reference code leans on, re-implemented in numpy: ``rgb2gray`` and
``imresize(..., 0.5)`` (bicubic with antialiasing).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from PIL import Image
from scipy import sparse
from scipy.ndimage import correlate1d
from scipy.special import gamma as _gamma

from lpfiqa.errors import ImageReadError

__all__ = ["aggd_fit", "ggd_fit", "gaussian_window", "imresize_matlab", "mscn", "to_luminance"]

# MATLAB's rgb2gray weights: the first row of inv(YIQ matrix), i.e. the BT.601 luma weights
# 0.299/0.587/0.114 to 4 decimals. The reference code ran on rgb2gray output, so we use them.
_RGB2GRAY = np.array([0.298936021293775, 0.587043074451121, 0.114020904255103])

# Both reference estimators search the shape on the grid 0.2:0.001:10 (9801 values); keeping
# the grid (instead of a root finder) reproduces their features to the last digit.
_GAM = np.linspace(0.2, 10.0, 9801)
_R_GGD = _gamma(1.0 / _GAM) * _gamma(3.0 / _GAM) / _gamma(2.0 / _GAM) ** 2
_R_AGGD = _gamma(2.0 / _GAM) ** 2 / (_gamma(1.0 / _GAM) * _gamma(3.0 / _GAM))


def to_luminance(image: Any) -> np.ndarray:
    """Return the image as a 2-D float64 luminance array in [0, 255], as MATLAB ``rgb2gray``.

    Args:
        image: A path, a PIL image, or an array (H, W), (H, W, 1), (H, W, 3) or (H, W, 4).
            ``uint8`` arrays are in [0, 255]; float arrays are taken to be in [0, 255] already
            (scale [0, 1] images by 255 first). An alpha channel is dropped.

    Returns:
        The (H, W) float64 luminance. For uint8 RGB input it is rounded to integers, because
        ``rgb2gray`` returns uint8 for uint8 input and the reference code used that.

    Raises:
        ImageReadError: The path cannot be read or decoded.
        ValueError: The array does not have an image shape.

    Example:
        >>> rgb = np.zeros((2, 2, 3), dtype=np.uint8); rgb[..., 1] = 255
        >>> to_luminance(rgb)
        array([[150., 150.],
               [150., 150.]])
    """
    if isinstance(image, (str, os.PathLike)):
        try:
            with Image.open(image) as im:
                image = np.asarray(im if im.mode in ("L", "F") else im.convert("RGB"))
        except (OSError, ValueError) as exc:
            raise ImageReadError(f"cannot read image {os.fspath(image)!r}: {exc}") from exc
    elif isinstance(image, Image.Image):
        image = np.asarray(image if image.mode in ("L", "F") else image.convert("RGB"))
    arr = np.asarray(image)
    if arr.ndim == 3 and arr.shape[2] in (1, 3, 4):
        if arr.shape[2] == 1:
            arr = arr[..., 0]
        else:
            rgb = arr[..., :3].astype(np.float64)
            gray = rgb[..., 0] * _RGB2GRAY[0] + rgb[..., 1] * _RGB2GRAY[1] + rgb[..., 2] * _RGB2GRAY[2]
            arr = np.round(gray) if arr.dtype == np.uint8 else gray
    if arr.ndim != 2:
        raise ValueError(f"expected an image of shape (H, W) or (H, W, 3), got {arr.shape}")
    return arr.astype(np.float64)


def gaussian_window(size: int = 7, sigma: float = 7.0 / 6.0) -> np.ndarray:
    """Return the 1-D factor of MATLAB ``fspecial('gaussian', size, sigma)``, summing to 1.

    Example:
        >>> w = gaussian_window()
        >>> w.shape, round(float(w.sum()), 12)
        ((7,), 1.0)
    """
    x = np.arange(size, dtype=np.float64) - (size - 1) / 2.0
    w = np.exp(-(x**2) / (2.0 * sigma**2))
    return w / w.sum()  # outer(w, w) equals the normalised 2-D fspecial window


def mscn(
    gray: np.ndarray, *, padding: str = "zero", c: float = 1.0, window: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Mean-subtracted contrast-normalised coefficients and the local deviation map.

    ``(I - mu) / (sigma + c)`` with ``mu``, ``sigma`` the 7x7 Gaussian-weighted local mean and
    standard deviation (Eq. 1-3 of the BRISQUE paper).

    Args:
        gray: (H, W) float luminance in [0, 255].
        padding: ``"zero"`` as BRISQUE's ``filter2(..., 'same')``, ``"replicate"`` as NIQE's
            ``imfilter(..., 'replicate')``.
        c: The stabilising constant (1 for 8-bit images in both papers).
        window: The separable 1-D window; defaults to :func:`gaussian_window`.

    Returns:
        ``(mscn, sigma)``, both (H, W) float64.

    Example:
        >>> m, s = mscn(np.full((8, 8), 100.0), padding="replicate")
        >>> m.shape, bool(abs(m).max() < 1e-9)  # a flat image has no structure
        ((8, 8), True)
        >>> m, s = mscn(np.full((8, 8), 100.0), padding="zero")
        >>> round(float(m[0, 0]), 3), round(float(m[4, 4]), 3)  # zero padding: the border is an edge
        (1.082, 0.0)
    """
    modes = {"zero": "constant", "replicate": "nearest"}
    if padding not in modes:
        raise ValueError(f"padding must be 'zero' or 'replicate', got {padding!r}")
    w = gaussian_window() if window is None else window
    img = np.asarray(gray, dtype=np.float64)

    def blur(a: np.ndarray) -> np.ndarray:
        # Separable filtering equals the 2-D correlation exactly for these two paddings.
        a = correlate1d(a, w, axis=0, mode=modes[padding], cval=0.0)
        return correlate1d(a, w, axis=1, mode=modes[padding], cval=0.0)

    mu = blur(img)
    sigma = np.sqrt(np.abs(blur(img * img) - mu * mu))  # abs as the reference: rounding noise
    return (img - mu) / (sigma + c), sigma


def _cubic(x: np.ndarray) -> np.ndarray:
    """Keys' cubic kernel with a = -0.5, as MATLAB ``imresize``'s ``cubic``."""
    ax = np.abs(x)
    ax2, ax3 = ax**2, ax**3
    return (1.5 * ax3 - 2.5 * ax2 + 1.0) * (ax <= 1) + (-0.5 * ax3 + 2.5 * ax2 - 4.0 * ax + 2.0) * (
        (ax > 1) & (ax <= 2)
    )


def _resize_matrix(in_len: int, scale: float) -> sparse.csr_matrix:
    """Sparse (out_len, in_len) matrix of MATLAB's ``contributions`` for bicubic + antialiasing."""
    out_len = int(np.ceil(in_len * scale))
    kernel_width = 4.0 / scale if scale < 1 else 4.0  # antialiasing widens the kernel on shrink
    x = np.arange(1, out_len + 1, dtype=np.float64)
    u = x / scale + 0.5 * (1.0 - 1.0 / scale)  # 1-based input coordinate of each output pixel
    left = np.floor(u - kernel_width / 2.0)
    idx = left[:, None] + np.arange(int(np.ceil(kernel_width)) + 2)[None, :]
    k = scale * _cubic(scale * (u[:, None] - idx)) if scale < 1 else _cubic(u[:, None] - idx)
    k /= k.sum(axis=1, keepdims=True)
    # MATLAB mirrors out-of-range indices: aux = [1:L, L:-1:1] (edge sample repeated).
    aux = np.concatenate([np.arange(in_len), np.arange(in_len)[::-1]])
    cols = aux[np.mod(idx.astype(np.int64) - 1, 2 * in_len)]
    rows = np.repeat(np.arange(out_len), idx.shape[1])
    # ~10 taps per row: sparse, and duplicate (mirrored) indices are summed on construction.
    return sparse.csr_matrix((k.ravel(), (rows, cols.ravel())), shape=(out_len, in_len))


def imresize_matlab(gray: np.ndarray, scale: float = 0.5) -> np.ndarray:
    """MATLAB ``imresize(gray, scale)`` for a float 2-D array: bicubic, antialiased, no clipping.

    The output size is ``ceil(scale * size)``; rows are resized first, as MATLAB does for
    equal scales.

    Example:
        >>> imresize_matlab(np.full((7, 10), 3.0)).round(12)
        array([[3., 3., 3., 3., 3.],
               [3., 3., 3., 3., 3.],
               [3., 3., 3., 3., 3.],
               [3., 3., 3., 3., 3.]])
    """
    img = np.asarray(gray, dtype=np.float64)
    rows = _resize_matrix(img.shape[0], scale) @ img
    return np.asarray((_resize_matrix(img.shape[1], scale) @ rows.T).T)


def _nearest(table: np.ndarray, x: np.ndarray, reverse: bool = False) -> np.ndarray:
    """Index of the entry of an increasing ``table`` nearest to each ``x``, first on ties.

    Equals the reference's ``argmin(abs(x - table))`` on its strictly monotone ratio tables
    (GGD ratio decreasing: pass it reversed with ``reverse=True``), in O(log n) per value.
    NaN maps to 0 (the caller masks it).
    """
    x = np.nan_to_num(np.asarray(x, dtype=np.float64), nan=0.0)
    hi = np.clip(np.searchsorted(table, x), 1, len(table) - 1)
    lo = hi - 1
    d_lo, d_hi = np.abs(x - table[lo]), np.abs(x - table[hi])
    if reverse:  # first in the original (decreasing) order is the higher index here
        idx = np.where(d_hi <= d_lo, hi, lo)
        return len(table) - 1 - idx
    return np.where(d_lo <= d_hi, lo, hi)


def ggd_fit(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Moment-matching fit of a zero-mean generalised Gaussian (``estimateggdparam.m``).

    Picks the shape on the reference grid whose ratio Gamma(1/a)Gamma(3/a)/Gamma(2/a)^2 is
    nearest to E[x^2]/E[|x|]^2.

    Args:
        x: Samples along the last axis; leading axes are independent fits.

    Returns:
        ``(shape, sigma_sq)`` with ``sigma_sq = E[x^2]``; NaN shape for all-zero samples.

    Example:
        >>> from scipy.stats import gennorm
        >>> x = gennorm.rvs(1.0, size=200_000, random_state=0)
        >>> a, s2 = ggd_fit(x)
        >>> round(float(a), 1), round(float(s2), 1)
        (1.0, 2.0)
    """
    x = np.asarray(x, dtype=np.float64)
    sigma_sq = np.mean(x * x, axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = sigma_sq / np.mean(np.abs(x), axis=-1) ** 2
    shape = _GAM[_nearest(_R_GGD[::-1], rho, reverse=True)]
    return np.where(np.isfinite(rho), shape, np.nan), sigma_sq


def aggd_fit(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Moment-matching fit of an asymmetric generalised Gaussian (``estimateaggdparam.m``).

    Args:
        x: Samples along the last axis; leading axes are independent fits.

    Returns:
        ``(shape, left_std, right_std)``: the grid shape and the root mean squares of the
        negative and of the positive samples (zeros count in neither). One deviation from the
        reference, which returns NaN when a side is empty (e.g. all products of a nearly flat
        patch >= 0): that side's std is 0, the limit as its mass vanishes, so that the
        features stay usable. All-zero samples still give NaN.

    Example:
        >>> from scipy.stats import gennorm
        >>> x = gennorm.rvs(0.8, size=200_000, random_state=1)
        >>> a, l, r = aggd_fit(x)
        >>> round(float(a), 1), round(float(r / l), 1)
        (0.8, 1.0)
    """
    x = np.asarray(x, dtype=np.float64)
    sq = x * x
    neg, pos = x < 0, x > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        left = np.sqrt(np.sum(sq * neg, axis=-1) / np.maximum(np.sum(neg, axis=-1), 1))
        right = np.sqrt(np.sum(sq * pos, axis=-1) / np.maximum(np.sum(pos, axis=-1), 1))
        g = left / right
        r_hat = np.mean(np.abs(x), axis=-1) ** 2 / np.mean(sq, axis=-1)
        r_norm = r_hat * (g**3 + 1.0) * (g + 1.0) / (g**2 + 1.0) ** 2
        # The correction factor is symmetric in g <-> 1/g and tends to 1 as g -> inf.
        r_norm = np.where(np.isinf(g), r_hat, r_norm)
    shape = _GAM[_nearest(_R_AGGD, r_norm)]
    return np.where(np.isfinite(r_norm), shape, np.nan), left, right
