"""Noise family, KADID-10k types 11-15 (Lin, Hosu, Saupe, "KADID-10k", QoMEX 2019).

Every function draws its random field once, with the same shape whatever the level, and
scales it by the level's parameter: one seed gives the same noise pattern at all five levels,
so severity grows strictly with the level instead of fluctuating with the draw.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from ._registry import check_args, register
from ._util import rgb_to_ycbcr, to_float, to_uint8, ycbcr_to_rgb

__all__ = [
    "CHROMA_NOISE_SIGMAS",
    "DENOISE_SIGMAS",
    "IMPULSE_PROBS",
    "SPECKLE_VARIANCES",
    "WHITE_NOISE_VARIANCES",
    "WIENER_WINDOW",
    "denoise",
    "impulse_noise",
    "multiplicative_noise",
    "white_noise",
    "white_noise_color_component",
]

#: Gaussian noise variance on [0, 1] intensities, KADID's ``imnoisegauss`` values (sigma 8..25 of 255).
WHITE_NOISE_VARIANCES = (0.001, 0.002, 0.003, 0.005, 0.01)
#: Noise sigma (of 255) added to one chroma channel. KADID's variances (0.0001 .. 0.003, i.e.
#: sigma 2.6 .. 14) are spread over all of YCbCr there; in a single chroma channel they are
#: hardly visible, so the range is raised.
CHROMA_NOISE_SIGMAS = (6.0, 10.0, 15.0, 22.0, 32.0)
#: Salt-and-pepper density per sample, KADID's ``imnoiseimpulse`` values.
IMPULSE_PROBS = (0.001, 0.005, 0.01, 0.02, 0.03)
#: Speckle variance (uniform noise, as MATLAB ``imnoise(..., 'speckle')``), KADID's values.
SPECKLE_VARIANCES = (0.001, 0.005, 0.01, 0.02, 0.05)
#: Noise sigma (of 255) that the denoise type adds before filtering it out again.
DENOISE_SIGMAS = (8.0, 14.0, 22.0, 32.0, 45.0)
#: Wiener window (px). Fixed: growing it with the noise made flat areas come out *smoother* at
#: some levels than at the one below, breaking monotonicity.
WIENER_WINDOW = 5


@register("white_noise", 11, "noise")
def white_noise(image: np.ndarray, level: int, rng: np.random.Generator | None = None) -> np.ndarray:
    """Additive white Gaussian noise, independent per RGB sample, variance :data:`WHITE_NOISE_VARIANCES`.

    Args:
        image: uint8 RGB (H, W, 3).
        level: 1..5.
        rng: draws the noise.

    Returns:
        uint8 image of the same shape.

    Example:
        >>> import numpy as np
        >>> img = np.full((32, 32, 3), 128, np.uint8)
        >>> 20 < float(white_noise(img, 5, np.random.default_rng(0)).std()) < 30
        True
    """
    image, level, rng = check_args(image, level, rng)
    noise = rng.standard_normal(image.shape, dtype=np.float32)
    return to_uint8(to_float(image) + np.float32(np.sqrt(WHITE_NOISE_VARIANCES[level - 1])) * noise)


@register("white_noise_color_component", 12, "noise")
def white_noise_color_component(
    image: np.ndarray, level: int, rng: np.random.Generator | None = None
) -> np.ndarray:
    """White Gaussian noise in one chroma component (Cb or Cr, drawn from ``rng``) of YCbCr.

    Luma is left clean: noise in Y alone would just be :func:`white_noise` on grey levels.

    Args:
        image: uint8 RGB (H, W, 3).
        level: 1..5; sigma :data:`CHROMA_NOISE_SIGMAS` (of 255).
        rng: draws the component and the noise.

    Returns:
        uint8 image of the same shape.

    Example:
        >>> import numpy as np
        >>> img = np.full((16, 16, 3), 128, np.uint8)
        >>> out = white_noise_color_component(img, 5, np.random.default_rng(0)).astype(float)
        >>> bool(out.std() > 5)
        True
    """
    image, level, rng = check_args(image, level, rng)
    component = int(rng.integers(1, 3))  # 1 = Cb, 2 = Cr
    noise = rng.standard_normal(image.shape[:2], dtype=np.float32)
    ycc = rgb_to_ycbcr(to_float(image))
    ycc[..., component] += np.float32(CHROMA_NOISE_SIGMAS[level - 1] / 255) * noise
    return to_uint8(ycbcr_to_rgb(ycc))


@register("impulse_noise", 13, "noise")
def impulse_noise(image: np.ndarray, level: int, rng: np.random.Generator | None = None) -> np.ndarray:
    """Salt-and-pepper noise: a fraction :data:`IMPULSE_PROBS` of samples set to 0 or 255.

    Per sample (not per pixel), like MATLAB ``imnoise(rgb, 'salt & pepper', d)``, so impulses
    are coloured.

    Args:
        image: uint8 RGB (H, W, 3).
        level: 1..5.
        rng: draws the impulse positions.

    Returns:
        uint8 image of the same shape.

    Example:
        >>> import numpy as np
        >>> img = np.full((100, 100, 3), 128, np.uint8)
        >>> out = impulse_noise(img, 5, np.random.default_rng(0))
        >>> 0.02 < float((out != 128).mean()) < 0.04
        True
    """
    image, level, rng = check_args(image, level, rng)
    u = rng.random(image.shape, dtype=np.float32)
    d = np.float32(IMPULSE_PROBS[level - 1])
    out = image.copy()
    out[u < d / 2] = 0
    out[u > 1 - d / 2] = 255
    return out


@register("multiplicative_noise", 14, "noise")
def multiplicative_noise(image: np.ndarray, level: int, rng: np.random.Generator | None = None) -> np.ndarray:
    """Speckle ``J = I + n * I`` with uniform zero-mean n of variance :data:`SPECKLE_VARIANCES`.

    Args:
        image: uint8 RGB (H, W, 3).
        level: 1..5.
        rng: draws the noise.

    Returns:
        uint8 image of the same shape (black stays black).

    Example:
        >>> import numpy as np
        >>> img = np.zeros((8, 8, 3), np.uint8); img[:, 4:] = 200
        >>> out = multiplicative_noise(img, 5, np.random.default_rng(0))
        >>> int(out[:, :4].max()), bool((out[:, 4:] != 200).any())
        (0, True)
    """
    image, level, rng = check_args(image, level, rng)
    u = rng.random(image.shape, dtype=np.float32) - np.float32(0.5)
    x = to_float(image)
    # Uniform on [-a/2, a/2] has variance a^2/12, so a = sqrt(12 v).
    amp = np.float32(np.sqrt(12 * SPECKLE_VARIANCES[level - 1]))
    return to_uint8(x + amp * u * x)


def _wiener(x: np.ndarray, size: int, noise_var: float) -> np.ndarray:
    """Adaptive Wiener filter per channel (MATLAB ``wiener2``): smooths flat areas, keeps edges."""
    k = (size, size, 1)
    mean = ndimage.uniform_filter(x, k, mode="reflect")
    var = np.maximum(ndimage.uniform_filter(x * x, k, mode="reflect") - mean * mean, 0)
    gain = np.maximum(var - noise_var, 0) / np.maximum(var, noise_var)
    return mean + gain * (x - mean)


@register("denoise", 15, "noise")
def denoise(image: np.ndarray, level: int, rng: np.random.Generator | None = None) -> np.ndarray:
    """Denoising artefacts: white Gaussian noise, then an adaptive Wiener filter and a light blur.

    The noise sigma grows with the level (:data:`DENOISE_SIGMAS`); the filter leaves
    over-smoothed texture, blotchy low-frequency residue and noisy edges, as with KADID's
    ``imdenoise``.

    Args:
        image: uint8 RGB (H, W, 3).
        level: 1..5.
        rng: draws the noise.

    Returns:
        uint8 image of the same shape.

    Example:
        >>> import numpy as np
        >>> img = np.full((16, 16, 3), 100, np.uint8)
        >>> out = denoise(img, 1, np.random.default_rng(0)).astype(float)
        >>> bool(0 < out.std() < 8)  # the added noise is mostly filtered out again
        True
    """
    image, level, rng = check_args(image, level, rng)
    sigma = DENOISE_SIGMAS[level - 1]
    noise = rng.standard_normal(image.shape, dtype=np.float32)
    noisy = to_float(image) + np.float32(sigma / 255) * noise
    out = _wiener(noisy, WIENER_WINDOW, (sigma / 255) ** 2)
    # A final small blur removes the Wiener filter's single-pixel speckle on flat areas.
    out = ndimage.gaussian_filter(out, sigma=(0.7, 0.7, 0), mode="nearest", truncate=3.0)
    return to_uint8(out)
