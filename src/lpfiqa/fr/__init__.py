"""Full-reference image-quality metrics, batched and vectorised in torch.

Every metric takes a reference batch ``x`` and a distorted batch ``y`` of shape (B, 3, H, W),
RGB in [0, 1], and returns a (B,) tensor. Gradients are not tracked. Each metric reproduces the
authors' reference MATLAB implementation (preprocessing and constants included):

========  =========================  =========  ==========  ===========================
name      paper                      direction  perfect     typical range on IQA data
========  =========================  =========  ==========  ===========================
ms_ssim   Wang et al., Asilomar 2003  higher     1           0.3 - 1
gmsd      Xue et al., IEEE TIP 2014   lower      0           0 - 0.35
vif       Sheikh & Bovik, TIP 2006    higher     1           0 - 1 (> 1: contrast gain)
mdsi      Nafchi et al., Access 2016  lower      0           0.1 - 0.5
delta_e   CIEDE2000 (Sharma 2005)    lower      0           0 - 30 (mean per pixel)
========  =========================  =========  ==========  ===========================

Example:
    >>> import torch
    >>> from lpfiqa.fr import gmsd, mdsi, ms_ssim, vif
    >>> x = torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    >>> [round(float(m(x, x)), 6) for m in (ms_ssim, gmsd, vif, mdsi)]
    [1.0, 0.0, 1.0, 0.0]
"""

from __future__ import annotations

from lpfiqa.fr.delta_e import delta_e
from lpfiqa.fr.gmsd import gmsd
from lpfiqa.fr.mdsi import mdsi
from lpfiqa.fr.ms_ssim import MS_SSIM_WEIGHTS, ms_ssim, ms_ssim_levels
from lpfiqa.fr.vif import VIF_MIN_SIDE, vif

__all__ = [
    "MS_SSIM_WEIGHTS",
    "VIF_MIN_SIDE",
    "delta_e",
    "gmsd",
    "mdsi",
    "ms_ssim",
    "ms_ssim_levels",
    "vif",
]
