"""Shared fixtures: graded data made in the test from the photos shipped in tests/fixtures, a tmp cache.

Nothing here reads ``../shared``: a user's clone and CI run the same tests on the same pixels.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageFilter

FIXTURES = Path(__file__).resolve().parent / "fixtures"
PHOTOS = FIXTURES / "photos"  # 8 small natural photos, sources and licences in fixtures/SOURCES.md


@pytest.fixture(autouse=True)
def _isolated(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test gets its own feature cache and a fixed torch seed."""
    monkeypatch.setenv("LPFIQA_CACHE", str(tmp_path_factory.mktemp("cache")))
    torch.manual_seed(0)


def photos(n: int, size: tuple[int, int] = (128, 96)) -> list[Image.Image]:
    """``n`` (<= 8) natural photos from tests/fixtures/photos, resized to ``size``."""
    files = sorted(PHOTOS.glob("*.png"))
    if len(files) < n:
        raise FileNotFoundError(f"tests need {n} photos in {PHOTOS}, found {len(files)}: restore tests/fixtures")
    return [Image.open(f).convert("RGB").resize(size, Image.LANCZOS) for f in files[:n]]


def distort(img: Image.Image, kind: str, level: int, seed: int) -> Image.Image:
    """Simple graded distortions (level 0 = pristine)."""
    if level == 0:
        return img
    if kind == "blur":
        return img.filter(ImageFilter.GaussianBlur(radius=0.8 * level))
    if kind == "noise":
        rng = np.random.default_rng(seed)
        a = np.asarray(img, dtype=np.float64) + rng.normal(0, 12 * level, size=(img.height, img.width, 3))
        return Image.fromarray(np.uint8(np.clip(a, 0, 255)))
    if kind == "jpeg":
        buf = io.BytesIO()
        img.save(buf, format="JPEG", quality=[60, 20, 8, 3][level - 1])
        return Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
    raise ValueError(kind)


def make_graded_set(folder: Path, n_photos: int = 8, levels: int = 3, size: tuple[int, int] = (128, 96)) -> Path:
    """Images of ``n_photos`` photos x 3 kinds x ``levels`` + the pristine, and a manifest CSV.

    Score = 100 - 25 * level; group = photo. Returns the manifest path.
    """
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for p, img in enumerate(photos(n_photos, size)):
        for kind in ("blur", "noise", "jpeg"):
            for level in range(0 if kind == "blur" else 1, levels + 1):
                name = f"p{p}_{kind}_{level}.png"
                distort(img, kind, level, seed=p * 10 + level).save(folder / name)
                rows.append({"path": name, "score": 100 - 25 * level, "group": f"photo{p}",
                             "dist_type": kind if level else "", "dist_level": level})
    manifest = folder / "manifest.csv"
    with open(manifest, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return manifest


@pytest.fixture(scope="session")
def graded_set(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_graded_set(tmp_path_factory.mktemp("graded"))
