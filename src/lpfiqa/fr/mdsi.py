"""Mean deviation similarity index (MDSI).

Reference:
    H. Ziaei Nafchi, A. Shahkolaei, R. Hedjam, M. Cheriet, "Mean Deviation Similarity Index:
    Efficient and Reliable Full-Reference Image Quality Evaluator", IEEE Access 4:5579-5590, 2016,
    doi:10.1109/ACCESS.2016.2604042 (arXiv:1608.07433). Authors' MATLAB code: MathWorks File
    Exchange #59809 (``MDSI.m``).

Follows ``MDSI.m`` with its defaults: RGB on the 0-255 scale; f = max(1, round(min(H, W) / 256))
average filter + decimation by f; luma L = 0.2989 R + 0.5870 G + 0.1140 B; fused image
F = (L_r + L_d) / 2; opponent chromaticity H = 0.30 R + 0.04 G - 0.35 B, M = 0.34 R - 0.60 G + 0.17 B;
Prewitt gradient magnitudes (``[1 0 -1]/3``); gradient similarity
GS = GS(r, d; C1) + GS(d, F; C2) - GS(r, F; C2) with C1 = 140, C2 = 55; chromaticity similarity
CS = (2 (H_r H_d + M_r M_d) + C3) / (H_r^2 + H_d^2 + M_r^2 + M_d^2 + C3) with C3 = 550;
combination 'sum': GCS = 0.6 GS + 0.4 CS; deviation pooling with q = 1/4, rho = 1, o = 1/4:
MDSI = ( mean_i | GCS_i^(1/4) - mean_j GCS_j^(1/4) | )^(1/4). GS may be negative, so the 1/4
power is the principal complex root and | . | the complex modulus, exactly as MATLAB evaluates
``mad((GCS(:).^0.5).^0.5)^0.25``.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from lpfiqa.fr._common import COMPUTE_DTYPE, average_downsample, check_pair, prewitt_magnitude

__all__ = ["mdsi"]

_C1, _C2, _C3 = 140.0, 55.0, 550.0
_ALPHA = 0.6  # 'sum' combination weight of GS
_Q = 0.25  # power applied to GCS before the deviation
_O = 0.25  # power applied to the mean absolute deviation


def _similarity(a: Tensor, b: Tensor, c: float) -> Tensor:
    return (2.0 * a * b + c) / (a * a + b * b + c)


@torch.no_grad()
def mdsi(x: Tensor, y: Tensor) -> Tensor:
    """Mean deviation similarity index of distorted ``y`` w.r.t. reference ``x``.

    Despite the name MDSI is a distortion measure. Direction: lower = better. Range: [0, 1]
    in practice (about 0.1-0.5 on IQA databases); exactly 0 for identical images. Not symmetric
    (the fused-image terms enter with opposite signs).

    Args:
        x: Reference images, (B, 3, H, W) RGB in [0, 1], H and W at least 2.
        y: Distorted images, same shape.

    Returns:
        Tensor of shape (B,), in the dtype of ``x``.

    Example:
        >>> import torch
        >>> g = torch.Generator().manual_seed(0)
        >>> x = torch.rand(2, 3, 32, 32, generator=g)
        >>> mdsi(x, x).abs().round(decimals=6).tolist()
        [0.0, 0.0]
        >>> bool(mdsi(x, x.flip(-1))[0] > 0.2)
        True
    """
    check_pair(x, y, "mdsi", min_side=2)
    # MATLAB's round is half-away-from-zero (Python's is half-to-even): 384 px -> f = 2.
    f = max(1, int(math.floor(min(x.shape[-2:]) / 256 + 0.5)))
    ref = average_downsample(x.to(COMPUTE_DTYPE) * 255.0, f)
    dist = average_downsample(y.to(COMPUTE_DTYPE) * 255.0, f)

    def channels(img: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        r, g, b = img[:, 0:1], img[:, 1:2], img[:, 2:3]
        luma = 0.2989 * r + 0.5870 * g + 0.1140 * b
        return luma, 0.30 * r + 0.04 * g - 0.35 * b, 0.34 * r - 0.60 * g + 0.17 * b

    l1, h1, m1 = channels(ref)
    l2, h2, m2 = channels(dist)
    grads = prewitt_magnitude(torch.cat([l1, l2, 0.5 * (l1 + l2)], dim=0))
    g_r, g_d, g_f = grads.split(x.shape[0], dim=0)

    gs = _similarity(g_r, g_d, _C1) + _similarity(g_d, g_f, _C2) - _similarity(g_r, g_f, _C2)
    cs = (2.0 * (h1 * h2 + m1 * m2) + _C3) / (h1 * h1 + h2 * h2 + m1 * m1 + m2 * m2 + _C3)
    gcs = (_ALPHA * gs + (1.0 - _ALPHA) * cs).flatten(1)

    # Principal root of a real number: modulus^q at angle 0 (gcs >= 0) or q*pi (gcs < 0).
    modulus = gcs.abs().pow(_Q)
    angle = torch.where(gcs < 0, _Q * math.pi, 0.0)
    re, im = modulus * torch.cos(angle), modulus * torch.sin(angle)
    dev = torch.hypot(re - re.mean(dim=1, keepdim=True), im - im.mean(dim=1, keepdim=True))
    score = dev.mean(dim=1).pow(_O)
    return score.to(x.dtype)
