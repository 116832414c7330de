"""Reading images of every kind a user will throw at a quality model, into RGB in [0, 1].

EXIF orientation is applied (a phone photo is scored the way it is seen); grayscale, palette,
CMYK, 16-bit and float images are converted; transparency is composited onto white (what a
viewer shows). Every failure is an :class:`~lpfiqa.errors.ImageReadError` whose one-line
message names the file and what to do.
"""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import ImageReadError, ImageTooLargeError, UnsupportedImageError

__all__ = ["IMAGE_EXTENSIONS", "ImageInput", "MAX_PIXELS", "image_name", "load_image", "to_rgb_array"]

ImageInput = str | os.PathLike | bytes | Image.Image | np.ndarray | torch.Tensor
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".gif", ".ppm", ".pgm", ".jp2")
MAX_PIXELS = 200_000_000  # beyond this we refuse (decompression bombs); raise with `max_pixels`
MIN_SIDE = 32


def image_name(src: ImageInput) -> str:
    """A short name for messages and result rows."""
    if isinstance(src, (str, os.PathLike)):
        return str(src)
    return f"<{type(src).__name__}>"


def _open(src: str | os.PathLike | bytes, max_pixels: int) -> Image.Image:
    name = image_name(src) if not isinstance(src, bytes) else "<bytes>"
    if not isinstance(src, bytes):
        path = Path(src)
        if not path.exists():
            raise ImageReadError(f"{name}: no such file; check the path")
        if path.is_dir():
            raise ImageReadError(f"{name}: is a folder; pass image files (or use --recursive)")
        if not os.access(path, os.R_OK):
            raise ImageReadError(f"{name}: permission denied; make the file readable")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            old, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
            try:
                img = Image.open(io.BytesIO(src) if isinstance(src, bytes) else src)
            finally:
                Image.MAX_IMAGE_PIXELS = old
            if img.width * img.height > max_pixels:
                raise ImageTooLargeError(f"{name}: {img.width}x{img.height} is over the {max_pixels:,}-pixel limit; "
                                     "downscale it or raise max_pixels (--max-pixels)")
            img.load()  # decode now, so truncation shows up here and not later
    except ImageReadError:
        raise
    except Image.DecompressionBombError as exc:  # Pillow's own guard (e.g. a PNG text chunk bomb)
        raise ImageTooLargeError(f"{name}: decompression bomb refused ({exc}); downscale it "
                                 "or raise max_pixels") from None
    except UnidentifiedImageError:
        raise UnsupportedImageError(f"{name}: not an image format Pillow can read; convert it to PNG or JPEG") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageReadError(f"{name}: corrupt or truncated image ({exc}); re-export or re-download it") from None
    return img


def _pil_to_array(img: Image.Image, name: str) -> np.ndarray:
    """Any PIL mode -> float32 (H, W, 3) in [0, 1]."""
    img = ImageOps.exif_transpose(img) or img
    mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        a = np.asarray(img, dtype=np.float64)
        peak = 65535.0 if mode.startswith("I;16") or a.max() > 255 else 255.0
        a = np.clip(a / peak, 0, 1)
        return np.repeat(a[..., None], 3, axis=2).astype(np.float32)
    if mode == "F":
        a = np.asarray(img, dtype=np.float64)
        a = np.clip(a if a.max() <= 1.0 else a / 255.0, 0, 1)
        return np.repeat(a[..., None], 3, axis=2).astype(np.float32)
    if mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")
    if mode in ("RGBA", "LA", "PA", "RGBa", "La") or img.mode == "RGBA":
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, rgba)
    try:
        rgb = img.convert("RGB")
    except (ValueError, OSError) as exc:
        raise ImageReadError(f"{name}: cannot convert mode {mode} to RGB ({exc}); save it as 8-bit RGB") from None
    return np.asarray(rgb, dtype=np.float32) / 255.0


def to_rgb_array(src: ImageInput, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Read an image into float32 (H, W, 3) RGB in [0, 1].

    Args:
        src: a path, encoded bytes, a PIL image, an (H, W[, 3|4]) uint8/float array, or a
            (3, H, W) / (1, 3, H, W) tensor in [0, 1] (uint8 tensors are divided by 255).
        max_pixels: refuse larger images (a decompression bomb guard).

    Raises:
        ImageReadError: missing, unreadable, corrupt, truncated, too large or too small.

    Example:
        >>> from PIL import Image
        >>> to_rgb_array(Image.new("L", (40, 36), 128)).shape
        (36, 40, 3)
    """
    name = image_name(src)
    if isinstance(src, (str, os.PathLike, bytes)):
        arr = _pil_to_array(_open(src, max_pixels), name)
    elif isinstance(src, Image.Image):
        arr = _pil_to_array(src, name)
    elif isinstance(src, torch.Tensor):
        t = src.detach().cpu()
        t = t[0] if t.ndim == 4 and t.shape[0] == 1 else t
        if t.ndim != 3 or t.shape[0] not in (1, 3):
            raise ImageReadError(f"{name}: tensor shape {tuple(src.shape)}; expected (3, H, W) or (1, 3, H, W)")
        t = t.float() / 255.0 if t.dtype == torch.uint8 else t.float()
        arr = t.expand(3, -1, -1).permute(1, 2, 0).numpy()
    elif isinstance(src, np.ndarray):
        a = src
        if a.ndim == 2:
            a = a[..., None]
        if a.ndim != 3 or a.shape[2] not in (1, 3, 4):
            raise ImageReadError(f"{name}: array shape {src.shape}; expected (H, W), (H, W, 3) or (H, W, 4)")
        a = a[..., :3] if a.shape[2] == 4 else a
        a = a.astype(np.float32) / (255.0 if a.dtype == np.uint8 else 65535.0 if a.dtype == np.uint16 else 1.0)
        arr = np.broadcast_to(a, a.shape[:2] + (3,))
    else:
        raise UnsupportedImageError(f"{name}: unsupported input type; pass a path, bytes, PIL image, array or tensor")
    if not np.isfinite(arr).all():
        raise ImageReadError(f"{name}: contains NaN or infinite values")
    h, w = arr.shape[:2]
    if min(h, w) < MIN_SIDE:
        raise ImageReadError(f"{name}: {w}x{h} is too small; need at least {MIN_SIDE}x{MIN_SIDE} pixels")
    return np.ascontiguousarray(np.clip(arr, 0.0, 1.0), dtype=np.float32)


def load_image(src: ImageInput, max_pixels: int = MAX_PIXELS) -> torch.Tensor:
    """Read an image into a float32 tensor (3, H, W), RGB in [0, 1] (see :func:`to_rgb_array`).

    Example:
        >>> load_image(np.zeros((40, 50, 3), np.uint8)).shape
        torch.Size([3, 40, 50])
    """
    return torch.from_numpy(to_rgb_array(src, max_pixels)).permute(2, 0, 1).contiguous()
