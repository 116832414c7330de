"""Compression family, KADID-10k types 9-10 (Lin, Hosu, Saupe, "KADID-10k", QoMEX 2019).

Both codecs come from Pillow: libjpeg for JPEG and OpenJPEG for JPEG 2000.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, features

from lpfiqa.errors import ConfigError

from ._registry import check_args, register

__all__ = ["JPEG2000_RATIOS", "JPEG_QUALITIES", "jpeg", "jpeg2000", "jpeg2000_available"]

#: Compression ratios (raw 24-bit size / code-stream size), KADID's ``imcompressjp2k`` values.
JPEG2000_RATIOS = (16, 32, 45, 120, 400)
#: IJG quality factors, KADID's ``imcompressjpeg`` values (same 0-100 scale as MATLAB's imwrite).
JPEG_QUALITIES = (43, 36, 24, 7, 4)


def jpeg2000_available() -> bool:
    """Whether this Pillow build can encode JPEG 2000 (needs OpenJPEG).

    Example:
        >>> isinstance(jpeg2000_available(), bool)
        True
    """
    return bool(features.check("jpg_2000"))


def _roundtrip(image: np.ndarray, fmt: str, **options: object) -> np.ndarray:
    buf = io.BytesIO()
    Image.fromarray(image, "RGB").save(buf, format=fmt, **options)
    buf.seek(0)
    with Image.open(buf) as decoded:
        return np.asarray(decoded.convert("RGB"), dtype=np.uint8).copy()


@register("jpeg2000", 9, "compression")
def jpeg2000(image: np.ndarray, level: int, rng: np.random.Generator | None = None) -> np.ndarray:
    """JPEG 2000 round trip (9/7 irreversible wavelet) at compression ratio :data:`JPEG2000_RATIOS`.

    Args:
        image: uint8 RGB (H, W, 3).
        level: 1..5.
        rng: unused (deterministic).

    Returns:
        Decoded uint8 image of the same shape.

    Raises:
        ConfigError: Pillow was built without OpenJPEG.

    Example:
        >>> import numpy as np
        >>> img = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
        >>> jpeg2000(img, 5).shape if jpeg2000_available() else (32, 32, 3)
        (32, 32, 3)
    """
    image, level, rng = check_args(image, level, rng)
    if not jpeg2000_available():
        raise ConfigError(
            "the jpeg2000 distortion needs Pillow with OpenJPEG support "
            "(PIL.features.check('jpg_2000') is False); install a Pillow build with JPEG 2000 "
            "or leave 'jpeg2000' out of the distortion types"
        )
    ratio = JPEG2000_RATIOS[level - 1]
    return _roundtrip(image, "JPEG2000", quality_mode="rates", quality_layers=[ratio], irreversible=True)


@register("jpeg", 10, "compression")
def jpeg(image: np.ndarray, level: int, rng: np.random.Generator | None = None) -> np.ndarray:
    """Baseline JPEG round trip at quality :data:`JPEG_QUALITIES` (4:2:0 chroma, libjpeg defaults).

    Args:
        image: uint8 RGB (H, W, 3).
        level: 1..5.
        rng: unused (deterministic).

    Returns:
        Decoded uint8 image of the same shape.

    Example:
        >>> import numpy as np
        >>> img = np.random.default_rng(0).integers(0, 256, (16, 16, 3), dtype=np.uint8)
        >>> out = jpeg(img, 5)
        >>> out.shape, bool((out != img).any())
        ((16, 16, 3), True)
    """
    image, level, rng = check_args(image, level, rng)
    return _roundtrip(image, "JPEG", quality=JPEG_QUALITIES[level - 1])
