"""Shared building blocks of the full-reference metrics in :mod:`lpfiqa.fr`.

Everything here mirrors a MATLAB primitive used by the authors' reference code, because the
published constants (SSIM's C1/C2, GMSD's T, MDSI's C1..C3, VIF's sigma_nsq) were tuned against
exactly that preprocessing:

* :func:`rgb_to_luma` is MATLAB ``rgb2gray`` (ITU-R BT.601 weights 0.2989/0.5870/0.1140), scaled
  to 0-255 because the constants of every metric here assume 8-bit intensities. Unlike
  ``rgb2gray`` on ``uint8`` input, the result is not rounded to integers.
* :func:`filter_valid` is ``filter2(win, img, 'valid')`` for a separable symmetric window,
  optionally followed by ``(1:2:end, 1:2:end)`` subsampling.
* :func:`average_downsample` is ``conv2(img, fspecial('average', f), 'same')`` followed by
  ``img(1:f:end, 1:f:end)`` (zero padding, as ``conv2`` does).
* :func:`prewitt_magnitude` is ``sqrt(conv2(img, dx, 'same').^2 + conv2(img, dx', 'same').^2)`` with
  ``dx = [1 0 -1; 1 0 -1; 1 0 -1] / 3`` (zero padding).

Computation is done in float64: the metrics subtract large second moments (``E[x^2] - E[x]^2`` on
0-255 data) and VIF compares variances against a 1e-10 threshold, both of which float32 would turn
into noise. Separable filtering is done as block products with small banded matrices, which on CPU
is several times faster than ``conv2d`` with 1-D kernels.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = [
    "COMPUTE_DTYPE",
    "LUMA_WEIGHTS",
    "average_downsample",
    "check_pair",
    "filter_valid",
    "gaussian_window_1d",
    "prewitt_magnitude",
    "rgb_to_luma",
]

#: dtype used internally by every metric (see module docstring for why not float32).
COMPUTE_DTYPE = torch.float64

#: MATLAB ``rgb2gray`` weights (BT.601 luma), used by the reference code of all four metrics.
LUMA_WEIGHTS: tuple[float, float, float] = (0.2989, 0.5870, 0.1140)

# Outputs per banded-matrix block in filter_valid: large enough for an efficient GEMM, small
# enough that the zeros of the band (about k / (_CHUNK * stride + k) of it is useful) cost little.
_CHUNK = 64


def check_pair(x: Tensor, y: Tensor, name: str, min_side: int = 1) -> None:
    """Validate a (reference, distorted) pair of batched RGB images.

    Args:
        x: Reference images, shape (B, 3, H, W), floating point, RGB in [0, 1].
        y: Distorted images, same shape as ``x``.
        name: Metric name, used in error messages.
        min_side: Smallest allowed ``min(H, W)``.

    Raises:
        ValueError: If shapes, channel count, dtype or size are not acceptable.

    Example:
        >>> import torch
        >>> check_pair(torch.zeros(2, 3, 8, 8), torch.zeros(2, 3, 8, 8), "demo")
    """
    if not isinstance(x, Tensor) or not isinstance(y, Tensor):
        raise ValueError(f"{name}: expected torch tensors, got {type(x).__name__} and {type(y).__name__}")
    if x.shape != y.shape:
        raise ValueError(
            f"{name}: reference and distorted shapes differ: {tuple(x.shape)} vs {tuple(y.shape)}"
        )
    if x.dim() != 4 or x.shape[1] != 3:
        raise ValueError(f"{name}: expected images of shape (B, 3, H, W), got {tuple(x.shape)}")
    if not (x.is_floating_point() and y.is_floating_point()):
        raise ValueError(f"{name}: expected floating-point tensors in [0, 1], got {x.dtype} and {y.dtype}")
    if x.shape[0] == 0:
        raise ValueError(f"{name}: empty batch")
    if min(x.shape[-2:]) < min_side:
        raise ValueError(
            f"{name}: images of {x.shape[-2]}x{x.shape[-1]} px are too small; "
            f"the shorter side must be at least {min_side} px"
        )


def rgb_to_luma(x: Tensor) -> Tensor:
    """RGB in [0, 1] to 0-255 luma (MATLAB ``rgb2gray`` weights, not rounded), in float64.

    Args:
        x: Images of shape (B, 3, H, W), RGB in [0, 1].

    Returns:
        Tensor of shape (B, 1, H, W), dtype float64, range [0, 255].

    Example:
        >>> import torch
        >>> y = rgb_to_luma(torch.ones(1, 3, 2, 2))  # 0.2989 + 0.5870 + 0.1140 = 0.9999
        >>> tuple(y.shape), round(float(y.max()), 4)
        ((1, 1, 2, 2), 254.9745)
    """
    w = torch.tensor(LUMA_WEIGHTS, dtype=COMPUTE_DTYPE, device=x.device).view(1, 3, 1, 1)
    return (x.to(COMPUTE_DTYPE) * w).sum(dim=1, keepdim=True) * 255.0


def gaussian_window_1d(size: int, sigma: float, dtype: torch.dtype = COMPUTE_DTYPE) -> Tensor:
    """1-D factor of MATLAB ``fspecial('gaussian', size, sigma)``, normalised to sum 1.

    The 2-D window is the outer product of this vector with itself (the normalisation of the
    outer product equals the product of the 1-D normalisations, so the factorisation is exact).

    Args:
        size: Number of taps (odd in all uses here).
        sigma: Standard deviation in pixels.
        dtype: Output dtype.

    Returns:
        Tensor of shape (size,).

    Example:
        >>> g = gaussian_window_1d(11, 1.5)
        >>> round(float(g.sum()), 12), g.shape[0]
        (1.0, 11)
    """
    r = (size - 1) / 2.0
    t = torch.arange(size, dtype=dtype) - r
    g = torch.exp(-(t * t) / (2.0 * sigma * sigma))
    return g / g.sum()


def _band_matrix(n: int, g: Tensor, stride: int) -> Tensor:
    """(n, m) matrix M such that ``v @ M`` is the 'valid' correlation of v with g, subsampled."""
    k = g.numel()
    starts = torch.arange(0, n - k + 1, stride, device=g.device)
    m = starts.numel()
    band = torch.zeros(n, m, dtype=g.dtype, device=g.device)
    rows = starts.view(1, m) + torch.arange(k, device=g.device).view(k, 1)
    cols = torch.arange(m, device=g.device).view(1, m).expand(k, m)
    band[rows, cols] = g.view(k, 1).expand(k, m)
    return band


def _filter_last(x: Tensor, g: Tensor, stride: int) -> Tensor:
    """'Valid' correlation of the last dimension with g, keeping every stride-th output.

    The last dimension is cut into overlapping windows that each produce ``_CHUNK`` outputs, and
    all windows are multiplied by the same small banded (Toeplitz) matrix. This keeps the cost
    per output at about ``_CHUNK * stride + k`` multiply-adds while running as one large GEMM,
    which on CPU is several times faster than ``conv2d`` with 1-D kernels.
    """
    n, k = x.shape[-1], g.numel()
    m = (n - k) // stride + 1  # number of valid outputs kept
    c = min(m, _CHUNK)
    n_chunks = -(-m // c)
    win, step = (c - 1) * stride + k, c * stride
    need = (n_chunks - 1) * step + win
    if need > n:  # zeros only reach outputs beyond m, which are dropped below
        x = F.pad(x, (0, need - n))
    blocks = x.unfold(-1, win, step)  # (..., n_chunks, win), overlapping view
    # One tall 2-D GEMM; a broadcast batched matmul would run thousands of tiny products.
    out = blocks.reshape(-1, win) @ _band_matrix(win, g, stride)  # (rows * n_chunks, c)
    return out.reshape(*x.shape[:-1], n_chunks * c)[..., :m]


def filter_valid(x: Tensor, g: Tensor, stride: int = 1) -> Tensor:
    """Separable 'valid' filtering with window ``outer(g, g)``, then keep every ``stride``-th sample.

    Equivalent to MATLAB ``filter2(g' * g, img, 'valid')`` followed by ``(1:stride:end, 1:stride:end)``.

    Args:
        x: Tensor of shape (..., H, W); H and W must be at least ``len(g)``.
        g: 1-D symmetric window (e.g. from :func:`gaussian_window_1d`).
        stride: Subsampling step applied to the valid output.

    Returns:
        Tensor of shape (..., ceil((H - k + 1) / stride), ceil((W - k + 1) / stride)).

    Example:
        >>> import torch
        >>> x = torch.arange(25.0, dtype=torch.float64).view(1, 1, 5, 5)
        >>> filter_valid(x, torch.full((3,), 1 / 3, dtype=torch.float64)).squeeze().round().tolist()
        [[6.0, 7.0, 8.0], [11.0, 12.0, 13.0], [16.0, 17.0, 18.0]]
        >>> filter_valid(x, torch.full((3,), 1 / 3, dtype=torch.float64), stride=2).squeeze().round().tolist()
        [[6.0, 8.0], [16.0, 18.0]]
    """
    g = g.to(dtype=x.dtype, device=x.device)
    k = g.numel()
    h, w = x.shape[-2:]
    if h < k or w < k:
        raise ValueError(f"filter_valid: {h}x{w} input is smaller than the {k}-tap window")
    rows = _filter_last(x, g, stride)
    return _filter_last(rows.transpose(-1, -2), g, stride).transpose(-1, -2)


def average_downsample(x: Tensor, f: int) -> Tensor:
    """MATLAB ``conv2(img, fspecial('average', f), 'same')`` then ``img(1:f:end, 1:f:end)``.

    ``conv2`` pads with zeros and centres an f-tap kernel so that output sample i averages input
    samples ``i - (f-1)//2 .. i - (f-1)//2 + f - 1``; with sampling at ``1:f:end`` this is an f x f
    block average whose grid is shifted up/left by ``(f-1)//2`` and zero padded where it overhangs.

    Args:
        x: Tensor of shape (B, C, H, W).
        f: Block size; 1 returns ``x`` unchanged.

    Returns:
        Tensor of shape (B, C, ceil(H / f), ceil(W / f)).

    Example:
        >>> import torch
        >>> x = torch.ones(1, 1, 3, 3, dtype=torch.float64)
        >>> average_downsample(x, 2).squeeze().tolist()  # odd size: last block half zero padding
        [[1.0, 0.5], [0.5, 0.25]]
    """
    if f <= 1:
        return x
    h, w = x.shape[-2:]
    before = (f - 1) // 2
    pads = []
    for n in (w, h):  # F.pad order: last dim first
        total = max(n + before, math.ceil(n / f) * f)
        pads += [before, total - n - before]
    x = F.pad(x, pads)  # zeros, as conv2
    out = F.avg_pool2d(x, kernel_size=f, stride=f)
    return out[..., : math.ceil(h / f), : math.ceil(w / f)]


def prewitt_magnitude(x: Tensor) -> Tensor:
    """Gradient magnitude with the /3-normalised Prewitt pair, zero padded ('same' size).

    This is the gradient operator of GMSD and MDSI reference code: ``dx = [1 0 -1; 1 0 -1; 1 0 -1]/3``.
    (``conv2`` flips the kernel; the flip only changes the sign of each derivative, not the magnitude.)

    Args:
        x: Tensor of shape (B, 1, H, W).

    Returns:
        Tensor of the same shape.

    Example:
        >>> import torch
        >>> ramp = torch.arange(5, dtype=torch.float64).repeat(5, 1).view(1, 1, 5, 5)
        >>> round(float(prewitt_magnitude(ramp)[0, 0, 2, 2]), 6)  # interior of a unit ramp
        2.0
    """
    dx = torch.tensor([[1.0, 0.0, -1.0]] * 3, dtype=x.dtype, device=x.device) / 3.0
    kernels = torch.stack([dx, dx.t()]).unsqueeze(1)  # (2, 1, 3, 3)
    grads = F.conv2d(x, kernels, padding=1)
    return torch.sqrt(grads[:, :1] ** 2 + grads[:, 1:] ** 2)
