"""Visual information fidelity, pixel-domain multi-scale version (VIFp).

Reference:
    H. R. Sheikh, A. C. Bovik, "Image information and visual quality", IEEE TIP 15(2):430-444,
    2006, doi:10.1109/TIP.2005.859378. The pixel-domain approximation is the authors'
    ``vifp_mscale.m`` released with the paper (LIVE, UT Austin).

Follows ``vifp_mscale.m``: grey-level images on the 0-255 scale, 4 scales; at scale s
(s = 1..4) a Gaussian window of N = 2^(5-s) + 1 taps and sigma N/5 ('valid' borders) gives the
local statistics, and before scales 2..4 both images are filtered with that window and decimated
by 2. Per window the distortion channel is ``d = g r + v`` with gain ``g = sigma_rd / sigma_r^2``
and additive noise variance ``sigma_v^2 = sigma_d^2 - g sigma_rd``; the HVS noise variance is
sigma_nsq = 2. VIF = sum log10(1 + g^2 sigma_r^2 / (sigma_v^2 + sigma_nsq)) /
sum log10(1 + sigma_r^2 / sigma_nsq), summed over windows and scales, with the same guards as the
MATLAB code (1e-10 thresholds, negative gains set to 0).
"""

from __future__ import annotations

import torch
from torch import Tensor

from lpfiqa.fr._common import check_pair, filter_valid, gaussian_window_1d, rgb_to_luma

__all__ = ["VIF_MIN_SIDE", "vif"]

_SIGMA_NSQ = 2.0
_EPS = 1e-10
#: Smallest image side for which all four scales keep at least one valid window.
VIF_MIN_SIDE = 41


@torch.no_grad()
def vif(x: Tensor, y: Tensor) -> Tensor:
    """Pixel-domain visual information fidelity of distorted ``y`` w.r.t. reference ``x``.

    Direction: higher = better. Range: [0, inf); 1 for identical images, 0 when all
    information is lost; above 1 for contrast enhancement. Not symmetric: argument order matters.
    If the reference has no texture at all (constant image) the ratio is 0/0 and is reported as
    1.0 (both sums are guarded with the same 1e-10 as the reference code's divisions).

    Args:
        x: Reference images, (B, 3, H, W) RGB in [0, 1], H and W at least 41.
        y: Distorted images, same shape.

    Returns:
        Tensor of shape (B,), in the dtype of ``x``.

    Example:
        >>> import torch
        >>> g = torch.Generator().manual_seed(0)
        >>> x = torch.rand(2, 3, 48, 48, generator=g)
        >>> vif(x, x).round(decimals=6).tolist()
        [1.0, 1.0]
        >>> bool(vif(x, 0.5 * x + 0.25)[0] < 0.9)
        True
    """
    check_pair(x, y, "vif", min_side=VIF_MIN_SIDE)
    ref, dist = rgb_to_luma(x), rgb_to_luma(y)
    num = torch.zeros(x.shape[0], dtype=ref.dtype, device=ref.device)
    den = torch.zeros_like(num)
    for scale in range(1, 5):
        n = 2 ** (5 - scale) + 1
        g = gaussian_window_1d(n, n / 5.0)
        if scale > 1:
            both = filter_valid(torch.cat([ref, dist], dim=1), g, stride=2)
            ref, dist = both[:, :1], both[:, 1:]
        moments = filter_valid(torch.cat([ref, dist, ref * ref, dist * dist, ref * dist], dim=1), g)
        mu1, mu2, e11, e22, e12 = moments.unbind(dim=1)
        sigma1_sq = (e11 - mu1 * mu1).clamp_min(0.0)
        sigma2_sq = (e22 - mu2 * mu2).clamp_min(0.0)
        sigma12 = e12 - mu1 * mu2

        # Same order of guards as vifp_mscale.m; each line is one of its masked assignments.
        gain = sigma12 / (sigma1_sq + _EPS)
        sv_sq = sigma2_sq - gain * sigma12
        flat_ref = sigma1_sq < _EPS
        gain = torch.where(flat_ref, 0.0, gain)
        sv_sq = torch.where(flat_ref, sigma2_sq, sv_sq)
        sigma1_sq = torch.where(flat_ref, 0.0, sigma1_sq)
        flat_dist = sigma2_sq < _EPS
        gain = torch.where(flat_dist, 0.0, gain)
        sv_sq = torch.where(flat_dist, 0.0, sv_sq)
        negative = gain < 0
        sv_sq = torch.where(negative, sigma2_sq, sv_sq)
        gain = gain.clamp_min(0.0)
        sv_sq = sv_sq.clamp_min(_EPS)

        num += torch.log10(1.0 + gain * gain * sigma1_sq / (sv_sq + _SIGMA_NSQ)).sum(dim=(-2, -1))
        den += torch.log10(1.0 + sigma1_sq / _SIGMA_NSQ).sum(dim=(-2, -1))
    score = (num + _EPS) / (den + _EPS)
    return score.to(x.dtype)
