"""Shared numeric helpers for the distortion families: float conversion, colour spaces, convolution.

Everything works on float32 images in [0, 1] (channels last) because that is the range the
KADID-10k MATLAB code (``imdist_generator``) uses, so the published parameters carry over as is.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "KADID_AREA",
    "fft_convolve",
    "lab_to_rgb",
    "rgb_to_lab",
    "rgb_to_ycbcr",
    "size_scale",
    "to_float",
    "to_uint8",
    "ycbcr_to_rgb",
]

#: KADID-10k images are 512x384; size-dependent parameters (patch sizes) are defined at that area.
KADID_AREA = 512 * 384

# sRGB decoding as a lookup table: the input is always uint8, so 256 entries cover it exactly
# and avoid a per-pixel power.
_SRGB_TO_LINEAR = np.where(
    np.arange(256) / 255.0 <= 0.04045,
    np.arange(256) / 255.0 / 12.92,
    ((np.arange(256) / 255.0 + 0.055) / 1.055) ** 2.4,
).astype(np.float32)

# sRGB (D65) <-> XYZ, IEC 61966-2-1; rows already divided by the D65 white so XYZ/Xn etc.
_RGB2XYZ = np.array(
    [[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750], [0.0193339, 0.1191920, 0.9503041]],
    dtype=np.float64,
)
_WHITE = np.array([0.95047, 1.0, 1.08883])
_RGB2XYZN = (_RGB2XYZ / _WHITE[:, None]).astype(np.float32)
_XYZN2RGB = np.linalg.inv(_RGB2XYZ / _WHITE[:, None]).astype(np.float32)

_EPS = np.float32(216 / 24389)
_KAPPA = np.float32(24389 / 27)


def to_float(image: np.ndarray) -> np.ndarray:
    """uint8 (H, W, 3) -> float32 in [0, 1]."""
    return image.astype(np.float32) * np.float32(1 / 255)


def to_uint8(image: np.ndarray) -> np.ndarray:
    """float in [0, 1] -> uint8, rounding (as MATLAB's im2uint8) rather than truncating."""
    return np.clip(np.rint(image * 255.0), 0, 255).astype(np.uint8)


def size_scale(image: np.ndarray) -> float:
    """Linear size of ``image`` relative to a 512x384 KADID image (1.0 at that size)."""
    return float(np.sqrt(image.shape[0] * image.shape[1] / KADID_AREA))


def rgb_to_lab(image: np.ndarray) -> np.ndarray:
    """uint8 sRGB (H, W, 3) -> float32 CIE L*a*b* (D65), L in [0, 100]."""
    lin = _SRGB_TO_LINEAR[image]
    xyz = lin @ _RGB2XYZN.T
    f = np.where(xyz > _EPS, np.cbrt(xyz), (_KAPPA * xyz + 16) / 116)
    lab = np.empty_like(f)
    lab[..., 0] = 116 * f[..., 1] - 16
    lab[..., 1] = 500 * (f[..., 0] - f[..., 1])
    lab[..., 2] = 200 * (f[..., 1] - f[..., 2])
    return lab


def lab_to_rgb(lab: np.ndarray) -> np.ndarray:
    """float CIE L*a*b* -> float32 sRGB in [0, 1] (out-of-gamut colours clipped per channel)."""
    lab = lab.astype(np.float32, copy=False)
    fy = (lab[..., 0] + 16) / 116
    f = np.stack([fy + lab[..., 1] / 500, fy, fy - lab[..., 2] / 200], axis=-1)
    f3 = f * f * f
    xyz = np.where(f3 > _EPS, f3, (116 * f - 16) / _KAPPA)
    lin = np.clip(xyz @ _XYZN2RGB.T, 0.0, 1.0)
    return np.where(lin <= 0.0031308, 12.92 * lin, 1.055 * np.power(lin, 1 / 2.4) - 0.055).astype(np.float32)


# ITU-R BT.601 full-range YCbCr (the JPEG convention), on [0, 1] floats.
_RGB2YCC = np.array(
    [[0.299, 0.587, 0.114], [-0.168736, -0.331264, 0.5], [0.5, -0.418688, -0.081312]], np.float32
)
_YCC2RGB = np.linalg.inv(_RGB2YCC).astype(np.float32)


def rgb_to_ycbcr(image: np.ndarray) -> np.ndarray:
    """float RGB in [0, 1] -> float32 YCbCr with Y in [0, 1] and Cb, Cr centred on 0."""
    return image @ _RGB2YCC.T


def ycbcr_to_rgb(ycc: np.ndarray) -> np.ndarray:
    """Inverse of :func:`rgb_to_ycbcr` (no clipping)."""
    return ycc @ _YCC2RGB.T


def fft_convolve(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Convolve each channel of float ``image`` (H, W, C) with a 2-D ``kernel``, replicate borders.

    FFT rather than ``scipy.ndimage.convolve`` because the disk and line kernels reach 21x21
    taps, where direct convolution takes about a second on a 512x384 image.
    """
    kh, kw = kernel.shape
    ph, pw = kh // 2, kw // 2
    padded = np.pad(image, ((ph, kh - 1 - ph), (pw, kw - 1 - pw), (0, 0)), mode="edge")
    shape = padded.shape[:2]
    spec = np.fft.rfft2(padded, s=shape, axes=(0, 1))
    kspec = np.fft.rfft2(kernel.astype(np.float64), s=shape)
    full = np.fft.irfft2(spec * kspec[..., None], s=shape, axes=(0, 1))
    # Circular convolution of the padded image; the valid part starts at the kernel's far corner.
    h, w = image.shape[:2]
    return full[kh - 1 : kh - 1 + h, kw - 1 : kw - 1 + w].astype(np.float32)
