"""Contact sheets: a grid of thumbnails with small index labels, for reviewing a source by eye.

Example:
    >>> from PIL import Image
    >>> ims = [Image.new("RGB", (64, 48), c) for c in ("red", "green", "blue")]
    >>> contact_sheet(ims, ["a", "b", "c"], cols=2, cell=32).size
    (64, 88)
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from PIL import Image, ImageDraw

__all__ = ["contact_sheet", "save_sheet"]

LABEL_H = 12


def contact_sheet(
    images: Sequence[Image.Image], labels: Sequence[str], *, cols: int = 8, cell: int = 160
) -> Image.Image:
    """Thumbnails (fit in ``cell`` x ``cell``) in ``cols`` columns, each with its label below."""
    rows = max(1, -(-len(images) // cols))
    sheet = Image.new("RGB", (cols * cell, rows * (cell + LABEL_H)), (40, 40, 40))
    draw = ImageDraw.Draw(sheet)
    for i, (im, label) in enumerate(zip(images, labels, strict=True)):
        t = im.convert("RGB")
        t.thumbnail((cell - 2, cell - 2), Image.LANCZOS)
        x, y = (i % cols) * cell, (i // cols) * (cell + LABEL_H)
        sheet.paste(t, (x + (cell - t.width) // 2, y + (cell - t.height) // 2))
        draw.text((x + 2, y + cell), label[: cell // 6], fill=(255, 255, 0))
    return sheet


def save_sheet(path: Path, images: Sequence[Image.Image], labels: Sequence[str], **kw: int) -> Path:
    """Write :func:`contact_sheet` as a PNG (atomically)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.png")
    contact_sheet(images, labels, **kw).save(tmp)
    os.replace(tmp, path)
    return path
