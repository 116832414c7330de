"""Contact sheet of the KADID-10k distortion types (Lin, Hosu, Saupe, "KADID-10k", QoMEX 2019).

One row per type: the reference, then levels 1..5, each cell labelled underneath.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from lpfiqa.errors import ConfigError

from .chain import available_types
from .distortions import get_distortion
from .distortions._registry import N_LEVELS, check_image

__all__ = ["LABEL_HEIGHT", "contact_sheet"]

#: Height (px) of the label strip under each cell.
LABEL_HEIGHT = 14
_BACKGROUND = (255, 255, 255)
_TEXT = (0, 0, 0)


def contact_sheet(
    image: np.ndarray,
    out_path: str | os.PathLike[str],
    cell_width: int = 160,
    types: Sequence[str] | None = None,
) -> Path:
    """Write a PNG grid: one row per distortion type, columns reference + levels 1..5.

    Distortions are applied to ``image`` at its own size (pass a 512x384 picture to see
    KADID's scale) with ``np.random.default_rng(0)`` for every cell, then each cell is
    downscaled to ``cell_width`` px wide. The sheet is
    ``6 * cell_width`` by ``rows * (cell_height + LABEL_HEIGHT)`` px, where
    ``cell_height = round(cell_width * H / W)``. The file is written to a temporary name and
    renamed, so a reader never sees a partial PNG.

    Args:
        image: uint8 RGB (H, W, 3).
        out_path: destination PNG; parent folders are created.
        cell_width: width of each cell in px (>= 16).
        types: distortion names for the rows; None for all available types (KADID order).

    Returns:
        The path written.

    Raises:
        ConfigError: bad image, cell width or type name.

    Example:
        >>> import numpy as np, tempfile, os
        >>> from PIL import Image
        >>> img = np.random.default_rng(0).integers(0, 256, (24, 32, 3), dtype=np.uint8)
        >>> with tempfile.TemporaryDirectory() as d:
        ...     p = contact_sheet(img, os.path.join(d, "s.png"), cell_width=32, types=["jpeg", "darken"])
        ...     Image.open(p).size
        (192, 76)
    """
    image = check_image(image)
    if isinstance(cell_width, bool) or not isinstance(cell_width, int) or cell_width < 16:
        raise ConfigError(f"cell_width must be an integer >= 16 px, got {cell_width!r}")
    names = available_types(types)
    h, w = image.shape[:2]
    cell_h = max(1, round(cell_width * h / w))
    row_h = cell_h + LABEL_HEIGHT
    sheet = Image.new("RGB", ((N_LEVELS + 1) * cell_width, len(names) * row_h), _BACKGROUND)
    draw = ImageDraw.Draw(sheet)

    def paste(arr: np.ndarray, row: int, col: int, label: str) -> None:
        cell = Image.fromarray(arr, "RGB").resize((cell_width, cell_h), Image.Resampling.LANCZOS)
        sheet.paste(cell, (col * cell_width, row * row_h))
        draw.text((col * cell_width + 2, row * row_h + cell_h + 1), label, fill=_TEXT)

    for row, name in enumerate(names):
        d = get_distortion(name)
        paste(image, row, 0, f"{d.kadid_id:02d} {name}")
        for level in range(1, N_LEVELS + 1):
            paste(d.fn(image, level, np.random.default_rng(0)), row, level, f"level {level}")

    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            sheet.save(fh, format="PNG")
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out
