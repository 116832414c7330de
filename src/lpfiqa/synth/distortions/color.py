"""Colour family, KADID-10k types 4-8 (Lin, Hosu, Saupe, "KADID-10k", QoMEX 2019).

Lab conversions use sRGB / D65 (``_util.rgb_to_lab``), like MATLAB's ``rgb2lab`` in the
KADID-10k generator.
"""

from __future__ import annotations

import numpy as np
from PIL import Image
from scipy import ndimage

from ._registry import check_args, register
from ._util import lab_to_rgb, rgb_to_lab, to_float, to_uint8

__all__ = [
    "CHROMA_GAINS",
    "DIFFUSION_AMOUNTS",
    "PALETTE_SIZES",
    "SATURATION_FACTORS",
    "SHIFT_AMOUNTS",
    "color_diffusion",
    "color_quantization",
    "color_saturation_1",
    "color_saturation_2",
    "color_shift",
]

#: KADID ``imcolordiffuse`` amounts; the a/b blur sigma is 1.5 * amount + 2 px (3.5 .. 20).
DIFFUSION_AMOUNTS = (1, 3, 6, 8, 12)
#: KADID ``imcolorshift`` amounts: green-channel displacement in px.
SHIFT_AMOUNTS = (1, 3, 6, 8, 12)
#: Palette sizes of ``imcolorquantize`` (KADID: 64, 48, 32, 16, 8 colours).
PALETTE_SIZES = (64, 48, 32, 16, 8)
#: Chroma multipliers for desaturation. KADID scales HSV saturation by 0.4, 0.2, 0.1, 0, -0.4;
#: level 1 at 0.4 is already a strong change and -0.4 flips hues, so the range is re-spaced
#: from "slightly faded" to grey.
SATURATION_FACTORS = (0.8, 0.6, 0.4, 0.2, 0.0)
#: Lab chroma gains. KADID uses 1, 2, 3, 6, 9; gain 1 is the identity and from 3 on already
#: saturated photos clip to pure primaries (and the clipped error can even fall again), so the
#: range is compressed to 1.2 .. 3.
CHROMA_GAINS = (1.2, 1.5, 1.9, 2.4, 3.0)
_PALETTE_PIXELS = 96 * 72


@register("color_diffusion", 4, "color")
def color_diffusion(image: np.ndarray, level: int, rng: np.random.Generator | None = None) -> np.ndarray:
    """Colour bleeding: Gaussian blur of the Lab a*/b* channels, L* kept.

    Args:
        image: uint8 RGB (H, W, 3).
        level: 1..5; sigma = 1.5 * :data:`DIFFUSION_AMOUNTS` + 2 px.
        rng: unused (deterministic).

    Returns:
        uint8 image of the same shape.

    Example:
        >>> import numpy as np
        >>> img = np.zeros((8, 8, 3), np.uint8); img[:, :4, 0] = 255
        >>> out = color_diffusion(img, 3)
        >>> int(out[0, 5, 0]) > 0  # red bleeds into the black half's chroma
        True
    """
    image, level, rng = check_args(image, level, rng)
    sigma = 1.5 * DIFFUSION_AMOUNTS[level - 1] + 2
    lab = rgb_to_lab(image)
    lab[..., 1:] = ndimage.gaussian_filter(
        lab[..., 1:], sigma=(sigma, sigma, 0), mode="nearest", truncate=3.0
    )
    return to_uint8(lab_to_rgb(lab))


def _gradient_weight(gray: np.ndarray) -> np.ndarray:
    """KADID's edge weight for the colour shift: smoothed gradient magnitude mapped to [0, 1].

    Flat areas get weight 0 (their colour stays), strong edges weight 1, so the misregistration
    shows where a real chromatic aberration would.
    """

    def minmax(e: np.ndarray) -> np.ndarray:
        lo, hi = float(e.min()), float(e.max())
        return (e - lo) / (hi - lo) if hi > lo else np.zeros_like(e)

    gy, gx = np.gradient(gray)
    e = minmax(ndimage.gaussian_filter(np.hypot(gx, gy), 4.0, mode="nearest", truncate=3.0))
    e = minmax(np.clip(e, 0.1, 1.0))
    lo, hi = np.percentile(e, [1, 99])
    return minmax(np.clip(e, lo, hi))


@register("color_shift", 5, "color")
def color_shift(image: np.ndarray, level: int, rng: np.random.Generator | None = None) -> np.ndarray:
    """Misregistered green channel, blended in where the image has edges (KADID ``imcolorshift``).

    The green channel is displaced by :data:`SHIFT_AMOUNTS` px in a direction drawn from
    ``rng`` (the same direction at every level for a given seed) and mixed with the original
    green by the gradient weight, taken as the maximum over the displacement path.

    Args:
        image: uint8 RGB (H, W, 3).
        level: 1..5.
        rng: draws the shift direction.

    Returns:
        uint8 image of the same shape.

    Example:
        >>> import numpy as np
        >>> img = np.zeros((16, 16, 3), np.uint8); img[:, 8:] = 200
        >>> out = color_shift(img, 5, np.random.default_rng(0))
        >>> bool((out[..., 1] != img[..., 1]).any()), bool((out[..., 0] == img[..., 0]).all())
        (True, True)
    """
    image, level, rng = check_args(image, level, rng)
    x = to_float(image)
    angle = rng.uniform(0.0, 2 * np.pi)
    amount = SHIFT_AMOUNTS[level - 1]
    dy, dx = int(round(amount * np.sin(angle))), int(round(amount * np.cos(angle)))
    g = x[..., 1]
    edge = _gradient_weight(x @ np.array([0.2989, 0.5870, 0.1140], np.float32))
    # KADID weights by the edge map at the pixel only, so once the shift is wider than the
    # edge band the damage stops growing (and can shrink). Taking the largest edge weight on
    # the path from the source sample to the pixel widens the band with the shift instead.
    n = max(abs(dy), abs(dx))
    weight = edge
    for k in range(1, n + 1):
        weight = np.maximum(weight, _shift(edge, round(k * dy / n), round(k * dx / n)))
    x[..., 1] = _shift(g, dy, dx) * weight + g * (1 - weight)
    return to_uint8(x)


def _shift(a: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """``out[y, x] = a[y - dy, x - dx]`` with symmetric padding (KADID: padarray + circshift)."""
    pad = max(abs(dy), abs(dx))
    if pad == 0:
        return a
    padded = np.pad(a, pad, mode="symmetric")
    h, w = a.shape
    return padded[pad - dy : pad - dy + h, pad - dx : pad - dx + w]


@register("color_quantization", 6, "color")
def color_quantization(image: np.ndarray, level: int, rng: np.random.Generator | None = None) -> np.ndarray:
    """Adaptive-palette quantisation (median cut, no dithering) to :data:`PALETTE_SIZES` colours.

    Args:
        image: uint8 RGB (H, W, 3).
        level: 1..5.
        rng: unused (deterministic).

    Returns:
        uint8 image of the same shape.

    Example:
        >>> import numpy as np
        >>> img = np.random.default_rng(0).integers(0, 256, (16, 16, 3), dtype=np.uint8)
        >>> len(np.unique(color_quantization(img, 5).reshape(-1, 3), axis=0)) <= 8
        True
    """
    image, level, rng = check_args(image, level, rng)
    pil = Image.fromarray(image, "RGB")
    # Median cut costs ~0.3 s on 512x384 (superlinear in pixels), so the palette is built on a copy of
    # at most _PALETTE_PIXELS pixels (area-averaged) and the full image is then mapped onto it.
    h, w = image.shape[:2]
    f = min(1.0, float(np.sqrt(_PALETTE_PIXELS / (h * w))))
    small = (
        pil if f >= 1.0 else pil.resize((max(1, round(w * f)), max(1, round(h * f))), Image.Resampling.BOX)
    )
    q = small.quantize(
        colors=PALETTE_SIZES[level - 1], method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE
    )
    palette = np.asarray(q.getpalette("RGB"), np.float32).reshape(-1, 3)[np.unique(np.asarray(q))]
    return _nearest_colours(image, palette)


def _nearest_colours(image: np.ndarray, palette: np.ndarray, chunk: int = 1 << 16) -> np.ndarray:
    """Replace every pixel by its nearest palette colour (exact, squared RGB distance).

    Pillow's ``quantize(palette=...)`` uses an approximate search that can be off by a lot
    (on a near-white photo it made 64 colours worse than 8), so the lookup is done here.
    """
    pixels = image.reshape(-1, 3).astype(np.float32)
    norms = (palette * palette).sum(axis=1)
    weights = -2 * palette.T
    idx = np.empty(len(pixels), np.intp)
    for start in range(0, len(pixels), chunk):  # bounded memory: chunk x len(palette) floats
        d = pixels[start : start + chunk] @ weights  # |c|^2 - 2 p.c: |p|^2 is the same for all c
        d += norms
        idx[start : start + chunk] = d.argmin(axis=1)
    return palette.astype(np.uint8)[idx].reshape(image.shape)


@register("color_saturation_1", 7, "color")
def color_saturation_1(image: np.ndarray, level: int, rng: np.random.Generator | None = None) -> np.ndarray:
    """Desaturation toward grey: Lab a*/b* multiplied by :data:`SATURATION_FACTORS`, L* kept.

    KADID scales HSV saturation; with V = max(R, G, B) held, that also lifts the darker
    channels, so faded colours come out brighter. Scaling Lab chroma keeps lightness and
    ends, at level 5, on the image's own grey-scale version.

    Args:
        image: uint8 RGB (H, W, 3).
        level: 1..5 (level 5 is grey).
        rng: unused (deterministic).

    Returns:
        uint8 image of the same shape.

    Example:
        >>> import numpy as np
        >>> img = np.full((4, 4, 3), (200, 100, 50), np.uint8)
        >>> r, g, b = color_saturation_1(img, 5)[0, 0].tolist()
        >>> r == g == b
        True
    """
    image, level, rng = check_args(image, level, rng)
    lab = rgb_to_lab(image)
    lab[..., 1:] *= SATURATION_FACTORS[level - 1]
    return to_uint8(lab_to_rgb(lab))


@register("color_saturation_2", 8, "color")
def color_saturation_2(image: np.ndarray, level: int, rng: np.random.Generator | None = None) -> np.ndarray:
    """Over-saturation: Lab a*/b* multiplied by :data:`CHROMA_GAINS` (gamut-clipped in sRGB).

    Args:
        image: uint8 RGB (H, W, 3).
        level: 1..5.
        rng: unused (deterministic).

    Returns:
        uint8 image of the same shape.

    Example:
        >>> import numpy as np
        >>> img = np.full((4, 4, 3), (150, 120, 110), np.uint8)
        >>> out = color_saturation_2(img, 3)[0, 0].astype(int)
        >>> int(out[0] - out[2]) > 40  # the warm tint is amplified
        True
    """
    image, level, rng = check_args(image, level, rng)
    lab = rgb_to_lab(image)
    lab[..., 1:] *= CHROMA_GAINS[level - 1]
    return to_uint8(lab_to_rgb(lab))
