"""Helpers to build tiny copies of official IQA releases inside a test's tmp_path."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

_FORMATS = {".bmp": "BMP", ".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG"}


def image(path: Path, seed: int = 0) -> Path:
    """Write an 8x8 RGB image; the format follows the (case-insensitive) extension."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    arr = rng.integers(0, 256, size=(8, 8, 3), dtype=np.uint8)
    Image.fromarray(arr).save(path, format=_FORMATS[path.suffix.lower()])
    return path


def cell(names: Sequence[str], column: bool = False) -> np.ndarray:
    """A MATLAB cell array of strings as scipy.io.savemat writes it (1xN, or Nx1)."""
    arr = np.empty((len(names), 1) if column else (1, len(names)), dtype=object)
    for i, n in enumerate(names):
        arr.flat[i] = n
    return arr


def xlsx(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    """Write a workbook; rows may start with ``None`` cells (header not at A1)."""
    import openpyxl

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for r in rows:
            ws.append(r)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path
