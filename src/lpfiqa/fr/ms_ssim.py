"""Multi-scale structural similarity (MS-SSIM).

Reference:
    Z. Wang, E. P. Simoncelli, A. C. Bovik, "Multi-scale structural similarity for image quality
    assessment", Proc. 37th Asilomar Conf. on Signals, Systems and Computers, 2003,
    doi:10.1109/ACSSC.2003.1292216; SSIM itself: Z. Wang, A. C. Bovik, H. R. Sheikh,
    E. P. Simoncelli, IEEE TIP 13(4):600-612, 2004.

Follows the authors' MATLAB ``msssim.m`` / ``ssim_index_new.m``: grey-level (luma) image on the
0-255 scale, 11x11 Gaussian window with sigma 1.5 applied with 'valid' borders, K1 = 0.01,
K2 = 0.03, L = 255, 5 scales with exponents (0.0448, 0.2856, 0.3001, 0.2363, 0.1333), 2x2 average
+ decimation by 2 between scales with symmetric (replicate) padding at the bottom/right edge of
odd-sized images. MS-SSIM = prod_{j<M} mean(cs_j)^w_j * mean(ssim_M)^w_M.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from lpfiqa.fr._common import check_pair, filter_valid, gaussian_window_1d, rgb_to_luma

__all__ = ["MS_SSIM_WEIGHTS", "ms_ssim", "ms_ssim_levels"]

#: Per-scale exponents from Wang et al. 2003 (finest scale first).
MS_SSIM_WEIGHTS: tuple[float, ...] = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)

_WIN_SIZE = 11
_WIN_SIGMA = 1.5
_K1, _K2, _L = 0.01, 0.03, 255.0


def ms_ssim_levels(height: int, width: int) -> int:
    """Number of scales MS-SSIM uses for an image of the given size.

    The reference code refuses images whose shorter side divided by ``2**(levels-1)`` is below
    the 11-px window (so 5 scales need at least 176 px). Instead of refusing, lpfiqa uses the
    largest number of scales (at most 5) that satisfies that rule, i.e.
    ``levels = min(5, 1 + floor(log2(min(H, W) / 11)))``, and keeps the exponents of those finest
    scales renormalised to sum to 1. Images under 11 px are rejected.

    Args:
        height: Image height in pixels.
        width: Image width in pixels.

    Returns:
        Number of scales, 1 to 5.

    Raises:
        ValueError: If the shorter side is below 11 px.

    Example:
        >>> ms_ssim_levels(176, 200), ms_ssim_levels(175, 200), ms_ssim_levels(22, 22)
        (5, 4, 2)
    """
    side = min(height, width)
    if side < _WIN_SIZE:
        raise ValueError(f"ms_ssim: the shorter side must be at least {_WIN_SIZE} px, got {side}")
    return min(len(MS_SSIM_WEIGHTS), 1 + int(math.floor(math.log2(side / _WIN_SIZE))))


def _ssim_cs_means(x: Tensor, y: Tensor, g: Tensor) -> tuple[Tensor, Tensor]:
    """Mean SSIM and mean contrast-structure term over the 'valid' window positions, per image."""
    c1 = (_K1 * _L) ** 2
    c2 = (_K2 * _L) ** 2
    # One banded product for all five local moments instead of five separate filterings.
    moments = filter_valid(torch.cat([x, y, x * x, y * y, x * y], dim=1), g)
    mu_x, mu_y, exx, eyy, exy = moments.unbind(dim=1)
    mu_xx, mu_yy, mu_xy = mu_x * mu_x, mu_y * mu_y, mu_x * mu_y
    var_x, var_y, cov = exx - mu_xx, eyy - mu_yy, exy - mu_xy
    cs_map = (2.0 * cov + c2) / (var_x + var_y + c2)
    ssim_map = (2.0 * mu_xy + c1) / (mu_xx + mu_yy + c1) * cs_map
    return ssim_map.mean(dim=(-2, -1)), cs_map.mean(dim=(-2, -1))


def _halve(x: Tensor) -> Tensor:
    """``imfilter(x, ones(2)/4, 'symmetric', 'same')`` then ``x(1:2:end, 1:2:end)``."""
    h, w = x.shape[-2:]
    # The 2x2 'same' correlation looks one pixel down/right; 'symmetric' mirrors the edge pixel.
    x = F.pad(x, (0, w % 2, 0, h % 2), mode="replicate")
    return F.avg_pool2d(x, kernel_size=2, stride=2)


@torch.no_grad()
def ms_ssim(x: Tensor, y: Tensor) -> Tensor:
    """Multi-scale SSIM between reference ``x`` and distorted ``y`` (Wang et al., 2003).

    Computed on BT.601 luma (0-255) as in the authors' MATLAB code; see the module docstring
    for every constant. Images with a shorter side below 176 px use fewer scales
    (:func:`ms_ssim_levels`). Negative per-scale means (anti-correlated structure, only for
    extreme distortions) are clamped to 0 before the fractional powers, which are otherwise
    undefined (the MATLAB code would return a complex number).

    Direction: higher = better. Range: [0, 1]; 1 iff the luma images are identical (up to
    constant-region subtleties). Symmetric in ``x`` and ``y``.

    Args:
        x: Reference images, (B, 3, H, W) RGB in [0, 1], H and W at least 11.
        y: Distorted images, same shape.

    Returns:
        Tensor of shape (B,), in the dtype of ``x``.

    Example:
        >>> import torch
        >>> g = torch.Generator().manual_seed(0)
        >>> x = torch.rand(2, 3, 64, 64, generator=g)
        >>> ms_ssim(x, x).round(decimals=6).tolist()
        [1.0, 1.0]
        >>> bool(ms_ssim(x, (x + 0.1 * torch.rand(2, 3, 64, 64, generator=g)).clamp(0, 1))[0] < 1)
        True
    """
    check_pair(x, y, "ms_ssim", min_side=_WIN_SIZE)
    levels = ms_ssim_levels(x.shape[-2], x.shape[-1])
    weights = torch.tensor(MS_SSIM_WEIGHTS[:levels], dtype=torch.float64)
    weights = weights / weights.sum()

    g = gaussian_window_1d(_WIN_SIZE, _WIN_SIGMA)
    a, b = rgb_to_luma(x), rgb_to_luma(y)
    terms = []
    for level in range(levels):
        if level > 0:
            a, b = _halve(a), _halve(b)
        ssim_mean, cs_mean = _ssim_cs_means(a, b, g)
        terms.append(ssim_mean if level == levels - 1 else cs_mean)
    stacked = torch.stack(terms, dim=0).clamp_min(0.0)  # (levels, B)
    score = torch.prod(stacked ** weights.to(stacked.device).view(-1, 1), dim=0)
    return score.to(x.dtype)
