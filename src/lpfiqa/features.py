"""The on-disk cache of token grids, for training and the protocols.

LPF never trains its encoder, so the token grid of an image is a pure function of the image
bytes and the encoder settings. Training computes it once per image and every later epoch,
run, ablation and split reads it back from the cache. The encoder side itself (any registered
encoder -> token grid, exact tiling) is :class:`lpfiqa.backbones.tokens.TokenEncoder`, re-exported here.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from .backbones.tokens import TokenEncoder, center_crop_to_cell
from .imageio import ImageInput, load_image
from .utils import atomic_write, cache_dir, file_digest

__all__ = ["FeatureCache", "TokenEncoder", "center_crop_to_cell", "resize_max_side"]


def resize_max_side(img: torch.Tensor, max_side: int | None) -> torch.Tensor:
    """Downscale (3, H, W) so that its long side is at most ``max_side`` (antialiased bicubic)."""
    if not max_side or max(img.shape[-2:]) <= max_side:
        return img
    h, w = img.shape[-2:]
    s = max_side / max(h, w)
    size = (max(1, round(h * s)), max(1, round(w * s)))
    out = torch.nn.functional.interpolate(img[None], size=size, mode="bicubic", antialias=True, align_corners=False)
    return out[0].clamp(0, 1)


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
        digest = file_digest(path) if path.exists() else ""
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
