"""Quality-map overlays: DaQRN's weight or score map painted over the image it came from (PNG).

The maps have one value per ``cell`` x ``cell`` region of the centre-cropped image (see
:class:`~lpfiqa.inference.Prediction`); an overlay shows that crop, downscaled to at most
``max_side`` pixels, with the map upsampled smoothly on top:

- ``weight``: where the model looks (dark: ignored, yellow: decides the score), scaled to the map's maximum.
- ``score``: what it penalises, on the model's own scale (red: low quality, green: high quality,
  flipped for a lower-is-better model).

Only numpy and Pillow: the service, ``lpfiqa score --save-maps`` and notebooks share it.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

__all__ = ["MAP_KINDS", "overlay_image", "overlay_png"]

MAP_KINDS = ("weight", "score")

# Colour ramps: (position in [0, 1], RGB).
_HEAT = ((0.0, (0, 0, 0)), (0.35, (120, 0, 140)), (0.65, (240, 60, 30)), (1.0, (255, 235, 60)))
_QUALITY = ((0.0, (215, 25, 28)), (0.5, (250, 220, 90)), (1.0, (26, 150, 65)))


def _ramp(values: np.ndarray, stops: tuple) -> np.ndarray:
    pos = np.array([p for p, _ in stops])
    rgb = np.array([c for _, c in stops], dtype=np.float64)
    v = np.clip(values, 0.0, 1.0)
    return np.stack([np.interp(v, pos, rgb[:, k]) for k in range(3)], axis=-1)


def _normalised(kind: str, values: np.ndarray, score_range: tuple[float, float], higher_is_better: bool) -> np.ndarray:
    if kind == "weight":
        peak = float(values.max())
        return values / peak if peak > 0 else np.zeros_like(values)
    lo, hi = score_range
    unit = (values - lo) / (hi - lo) if hi > lo else np.full_like(values, 0.5)
    return unit if higher_is_better else 1.0 - unit


def overlay_image(image: np.ndarray | Image.Image, values: np.ndarray, kind: str = "weight",
                  score_range: tuple[float, float] = (0.0, 100.0), higher_is_better: bool = True,
                  alpha: float = 0.55, max_side: int = 768, cell: int | None = None) -> Image.Image:
    """Paint a quality map over its image.

    Args:
        image: the image the map was computed on: RGB (H, W, 3) float in [0, 1] or uint8, or a PIL
            image. It is centre-cropped to the map's grid (the model's crop) before painting.
        values: (h, w) map: ``Prediction.weight_map`` or ``Prediction.score_map``.
        kind: ``"weight"`` (where the model looks) or ``"score"`` (what it penalises).
        score_range: the model's scale (``cfg.output_range``), for ``kind="score"``.
        higher_is_better: the model's direction, for ``kind="score"``.
        alpha: opacity of the map (0: the image alone, 1: the map alone).
        max_side: the overlay's longest side at most (the image is downscaled, never upscaled).
        cell: pixels per map value (the model's ``cfg.cell``); by default the largest that fits.

    Returns:
        An RGB PIL image.

    Raises:
        ValueError: an unknown ``kind``, a map that is not 2-D, or an image smaller than the grid.

    Example:
        >>> img = np.zeros((64, 96, 3), np.float32)
        >>> overlay_image(img, np.ones((2, 3)), "weight").size
        (96, 64)
    """
    if kind not in MAP_KINDS:
        raise ValueError(f"map kind {kind!r}: use one of {', '.join(MAP_KINDS)}")
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 2 or min(values.shape) < 1:
        raise ValueError(f"map of shape {values.shape}: expected a 2-D (h, w) map")
    if isinstance(image, Image.Image):
        rgb = np.asarray(image.convert("RGB"), dtype=np.uint8)
    else:
        arr = np.asarray(image)
        rgb = arr if arr.dtype == np.uint8 else np.uint8(np.clip(arr, 0, 1) * 255 + 0.5)
    h, w = values.shape
    cell = cell or min(rgb.shape[0] // h, rgb.shape[1] // w)
    if cell < 1 or h * cell > rgb.shape[0] or w * cell > rgb.shape[1]:
        raise ValueError(f"image {rgb.shape[1]}x{rgb.shape[0]} is smaller than the {w}x{h} map")
    top, left = (rgb.shape[0] - h * cell) // 2, (rgb.shape[1] - w * cell) // 2
    base = Image.fromarray(np.ascontiguousarray(rgb[top:top + h * cell, left:left + w * cell, :3]))
    scale = min(1.0, max_side / max(base.size))
    size = (max(1, round(base.width * scale)), max(1, round(base.height * scale)))
    base = base.resize(size, Image.BILINEAR) if size != base.size else base
    unit = _normalised(kind, values, score_range, higher_is_better)
    colours = _ramp(unit, _HEAT if kind == "weight" else _QUALITY)
    heat = Image.fromarray(np.uint8(np.clip(colours, 0, 255) + 0.5)).resize(size, Image.BILINEAR)
    return Image.blend(base, heat, float(np.clip(alpha, 0.0, 1.0)))


def overlay_png(image: np.ndarray | Image.Image, values: np.ndarray, kind: str = "weight", **kwargs: object) -> bytes:
    """:func:`overlay_image` encoded as PNG bytes.

    Example:
        >>> overlay_png(np.zeros((32, 32, 3), np.float32), np.ones((1, 1)))[:4]
        b'\\x89PNG'
    """
    buf = io.BytesIO()
    overlay_image(image, values, kind, **kwargs).save(buf, format="PNG", optimize=False)
    return buf.getvalue()
