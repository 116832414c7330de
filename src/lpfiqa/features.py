"""Frozen-encoder token grids: exact tiling for huge images, and an on-disk cache for training.

LPF never trains its encoder, so the VGG16 token grid of an image is a pure function of the
image bytes and the encoder settings. Training computes it once per image and every later
epoch, run, ablation and split reads it back from the cache.

Tiling is exact: each tile is run with a halo of context wider than conv5_3's receptive-field
radius (98 px) and aligned to the token grid, and only its interior tokens are kept, so the
tiled grid equals the whole-image grid up to float rounding.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import torch

from .backbones.vgg16 import VGG16Features, load_vgg16
from .imageio import ImageInput, load_image
from .models.lpf import pool_tokens
from .utils import atomic_write, cache_dir, pin_mmap_threshold

__all__ = ["FeatureCache", "TokenEncoder", "center_crop_to_cell", "resize_max_side"]

HALO = 128  # px of context around each tile; > conv5_3's receptive-field radius (98 px)


def center_crop_to_cell(img: torch.Tensor, cell: int) -> torch.Tensor:
    """Crop (..., H, W) centrally to multiples of ``cell`` (drops < cell px per side pair).

    Example:
        >>> center_crop_to_cell(torch.zeros(3, 70, 100), 32).shape
        torch.Size([3, 64, 96])
    """
    h, w = img.shape[-2:]
    hh, ww = h - h % cell, w - w % cell
    top, left = (h - hh) // 2, (w - ww) // 2
    return img[..., top:top + hh, left:left + ww]


def resize_max_side(img: torch.Tensor, max_side: int | None) -> torch.Tensor:
    """Downscale (3, H, W) so that its long side is at most ``max_side`` (antialiased bicubic)."""
    if not max_side or max(img.shape[-2:]) <= max_side:
        return img
    h, w = img.shape[-2:]
    s = max_side / max(h, w)
    size = (max(1, round(h * s)), max(1, round(w * s)))
    out = torch.nn.functional.interpolate(img[None], size=size, mode="bicubic", antialias=True, align_corners=False)
    return out[0].clamp(0, 1)


@dataclass
class TokenEncoder:
    """VGG16 -> token grid, with memory bounded by tiling.

    Args:
        stages: VGG16 stages pooled into tokens.
        cell: grid cell in pixels.
        weights: ``None`` for the bundled ImageNet weights, or a path (see :func:`load_vgg16`).
        tile: images with more than ``tile * tile`` pixels are processed in tiles of this side.

    Example:
        >>> enc = TokenEncoder(("conv3_3", "conv4_3", "conv5_3"), 32)
        >>> enc.grid(torch.rand(3, 64, 96)).shape
        torch.Size([1, 1280, 2, 3])
    """

    stages: tuple[str, ...]
    cell: int
    weights: str | None = None
    tile: int = 1024
    encoder: VGG16Features | None = None

    def __post_init__(self) -> None:
        pin_mmap_threshold()  # else RSS grows with every image encoded while grids are kept
        if self.encoder is None:
            self.encoder = load_vgg16(self.weights, out_stages=tuple(self.stages))
        self.tile = max(self.cell, self.tile - self.tile % self.cell)

    @property
    def key(self) -> str:
        """Identifies what the tokens depend on (for the cache): weights, stages, cell."""
        src = "bundled" if self.weights is None else f"{Path(self.weights).name}:{_file_digest(Path(self.weights))}"
        return hashlib.sha256(json.dumps([src, list(self.stages), self.cell]).encode()).hexdigest()[:16]

    @torch.inference_mode()
    def grid(self, img: torch.Tensor) -> torch.Tensor:
        """(3, H, W) or (B, 3, H, W) RGB in [0, 1] -> (B, C, H/cell, W/cell) after a central crop."""
        x = center_crop_to_cell(img if img.ndim == 4 else img[None], self.cell)
        h, w = x.shape[-2:]
        if h * w <= self.tile * self.tile:
            return pool_tokens(self.encoder(x), self.stages, self.cell)
        rows = []
        for top in range(0, h, self.tile):
            cols = []
            for left in range(0, w, self.tile):
                cols.append(self._tile(x, top, left))
            rows.append(torch.cat(cols, dim=3))
        return torch.cat(rows, dim=2)

    def _tile(self, x: torch.Tensor, top: int, left: int) -> torch.Tensor:
        h, w = x.shape[-2:]
        bottom, right = min(top + self.tile, h), min(left + self.tile, w)
        t0, l0 = max(0, top - HALO), max(0, left - HALO)  # multiples of cell: grid stays aligned
        t1, l1 = min(h, bottom + HALO), min(w, right + HALO)
        g = pool_tokens(self.encoder(x[..., t0:t1, l0:l1]), self.stages, self.cell)
        c = self.cell
        return g[..., (top - t0) // c:(bottom - t0) // c, (left - l0) // c:(right - l0) // c]


def _file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class FeatureCache:
    """Token grids on disk, keyed by image content and encoder settings.

    Layout: ``ROOT/features/<encoder key>[-r<max_side>]/<sha[:2]>/<sha>.safetensors``, one fp16
    (C, h, w) grid per image. The key includes the file's SHA-256, so an edited image is
    recomputed and a renamed one is not.

    Args:
        encoder: the token encoder.
        root: cache folder (default :func:`lpfiqa.utils.cache_dir`).
        max_side: images are downscaled to this long side before encoding (``None``: as they are).
    """

    def __init__(self, encoder: TokenEncoder, root: Path | None = None, max_side: int | None = None) -> None:
        self.encoder = encoder
        self.max_side = max_side
        suffix = f"-r{max_side}" if max_side else ""
        self.folder = Path(root or cache_dir()) / "features" / f"{encoder.key}{suffix}"
        self.hits = self.misses = 0

    def path_for(self, digest: str) -> Path:
        return self.folder / digest[:2] / f"{digest}.safetensors"

    def get(self, src: str | os.PathLike) -> torch.Tensor:
        """The (C, h, w) float32 token grid of an image file, computed once."""
        from safetensors.torch import load_file, save_file

        path = Path(src)
        digest = _file_digest(path) if path.exists() else ""
        cached = self.path_for(digest) if digest else None
        if cached is not None and cached.exists():
            try:
                self.hits += 1
                return load_file(str(cached))["tokens"].float()
            except Exception:  # a damaged cache entry is recomputed, never trusted
                self.hits -= 1
        self.misses += 1
        grid = self.compute(path)
        if cached is not None:
            half = grid.clamp(-65000, 65000).half().contiguous()
            atomic_write(cached, lambda t: save_file({"tokens": half}, str(t)))
        return grid

    def compute(self, src: ImageInput) -> torch.Tensor:
        img = resize_max_side(load_image(src), self.max_side)
        return self.encoder.grid(img)[0]
