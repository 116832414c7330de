"""Shared fixtures: graded synthetic data made in the test, a tmp cache, the shared photos."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageFilter

SHARED = Path(__file__).resolve().parents[2] / "shared"
PRISTINE = SHARED / "pristine"


@pytest.fixture(autouse=True)
def _isolated(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test gets its own feature cache and a fixed torch seed."""
    monkeypatch.setenv("LPFIQA_CACHE", str(tmp_path_factory.mktemp("cache")))
    torch.manual_seed(0)


def photos(n: int, size: tuple[int, int] = (128, 96)) -> list[Image.Image]:
    """``n`` natural photos from ../shared/pristine (resized), or procedural textures without it."""
    files = sorted(PRISTINE.glob("*.png")) if PRISTINE.is_dir() else []
    if len(files) >= n:
        step = len(files) // n
        return [Image.open(f).convert("RGB").resize(size, Image.LANCZOS) for f in files[::step][:n]]
    rng = np.random.default_rng(0)
    out = []
    for _ in range(n):  # smooth random fields with edges: enough structure for blur/noise/JPEG to act on
        base = rng.normal(size=(size[1] // 8, size[0] // 8, 3))
        img = Image.fromarray(np.uint8(np.clip(128 + 60 * base, 0, 255))).resize(size, Image.BICUBIC)
        arr = np.asarray(img, dtype=np.float64)
        yy, xx = np.mgrid[: size[1], : size[0]]
        arr += 40 * np.sign(np.sin(xx / (3 + rng.integers(5))) * np.cos(yy / (4 + rng.integers(5))))[..., None]
        out.append(Image.fromarray(np.uint8(np.clip(arr, 0, 255))))
    return out


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
