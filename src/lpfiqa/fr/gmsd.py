"""Gradient magnitude similarity deviation (GMSD).

Reference:
    W. Xue, L. Zhang, X. Mou, A. C. Bovik, "Gradient Magnitude Similarity Deviation: A Highly
    Efficient Perceptual Image Quality Index", IEEE TIP 23(2):684-695, 2014,
    doi:10.1109/TIP.2013.2293423 (arXiv:1308.3052).

Follows the authors' MATLAB ``GMSD.m``: grey-level image on the 0-255 scale, 2x2 average filter
(``conv2 'same'``, zero padding) and decimation by 2, Prewitt gradients ``[1 0 -1]/3`` with zero
padding, gradient magnitude similarity ``GMS = (2 m_r m_d + T) / (m_r^2 + m_d^2 + T)`` with
T = 170 (equivalently 170/255^2 = 0.0026 on the 0-1 scale), pooled by its standard deviation.
The standard deviation uses the 1/N normalisation of the paper's Eq. (8); the MATLAB code's
``std2`` uses 1/(N-1), a relative difference of about 1/(2N) (< 1e-5 for 384x512 images).
"""

from __future__ import annotations

import torch
from torch import Tensor

from lpfiqa.fr._common import average_downsample, check_pair, prewitt_magnitude, rgb_to_luma

__all__ = ["gmsd"]

_T = 170.0  # for 0-255 intensities (paper, Sec. III)


@torch.no_grad()
def gmsd(x: Tensor, y: Tensor) -> Tensor:
    """Gradient magnitude similarity deviation between reference ``x`` and distorted ``y``.

    Direction: lower = better. Range: [0, 1) in theory, in practice about 0-0.35; exactly 0 for
    identical images (and for any pair whose gradient-similarity map is constant). Symmetric.

    Args:
        x: Reference images, (B, 3, H, W) RGB in [0, 1], H and W at least 2.
        y: Distorted images, same shape.

    Returns:
        Tensor of shape (B,), in the dtype of ``x``.

    Example:
        >>> import torch
        >>> g = torch.Generator().manual_seed(0)
        >>> x = torch.rand(2, 3, 32, 32, generator=g)
        >>> gmsd(x, x).abs().round(decimals=6).tolist()
        [0.0, 0.0]
        >>> bool(gmsd(x, x.flip(-1))[0] > 0.1)
        True
    """
    check_pair(x, y, "gmsd", min_side=2)
    a = average_downsample(rgb_to_luma(x), 2)
    b = average_downsample(rgb_to_luma(y), 2)
    ga, gb = prewitt_magnitude(a), prewitt_magnitude(b)
    gms = (2.0 * ga * gb + _T) / (ga * ga + gb * gb + _T)
    gms = gms.flatten(1)
    score = (gms - gms.mean(dim=1, keepdim=True)).pow(2).mean(dim=1).sqrt()
    return score.to(x.dtype)
