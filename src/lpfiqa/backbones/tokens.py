"""Image -> token grid with any registered encoder: LPF's ``forward_features``, exact tiling for huge images.

LPF never trains its encoder, so the token grid of an image is a pure function of the image and
the encoder settings (:attr:`TokenEncoder.key`, which the feature cache uses).

Tiling is exact: each tile is run with a halo of context wider than the deepest stage's
receptive-field radius (:attr:`EncoderSpec.halo <lpfiqa.backbones.base.EncoderSpec>`) and aligned
to the token grid, and only its interior tokens are kept, so the tiled grid equals the
whole-image grid up to float rounding.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from torch.nn import functional as F

from ..utils import file_digest, pin_mmap_threshold
from .base import encoder_spec, load_encoder
from .encoder import FrozenEncoder

if TYPE_CHECKING:
    from ..models.config import LPFConfig

__all__ = ["TokenEncoder", "center_crop_to_cell", "pool_tokens"]


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


def pool_tokens(feats: dict[str, torch.Tensor], stages: tuple[str, ...], cell: int,
                encoder: str = "vgg16") -> torch.Tensor:
    """Average-pool each stage onto the common ``cell``-pixel grid and concatenate channels.

    Args:
        feats: stage name -> (B, C, H/stride, W/stride) maps.
        stages: which stages, in order.
        cell: grid cell in input pixels (a multiple of every stage's stride).
        encoder: whose stage table gives the strides.

    Returns:
        (B, sum C, H/cell, W/cell) token grid.

    Example:
        >>> f = {"conv3_3": torch.ones(1, 256, 16, 16), "conv5_3": torch.ones(1, 512, 4, 4)}
        >>> pool_tokens(f, ("conv3_3", "conv5_3"), 32).shape
        torch.Size([1, 768, 2, 2])
    """
    spec = encoder_spec(encoder)
    maps = []
    for s in stages:
        k = cell // spec.stages[s][1]
        maps.append(F.avg_pool2d(feats[s], k) if k > 1 else feats[s])
    hs, ws = min(m.shape[-2] for m in maps), min(m.shape[-1] for m in maps)
    return torch.cat([m[..., :hs, :ws] for m in maps], dim=1)


@dataclass
class TokenEncoder:
    """A frozen encoder -> token grid, with memory bounded by tiling.

    Args:
        stages: encoder stages pooled into tokens.
        cell: grid cell in pixels.
        weights: ``None`` for the bundled ImageNet weights, or a path (see the encoder's loader).
        tile: images with more than ``tile * tile`` pixels are processed in tiles of this side.
        encoder: the network, built from ``backbone`` and ``weights`` when omitted.
        backbone: the registered encoder's name (:data:`lpfiqa.backbones.ENCODERS`).

    Example:
        >>> enc = TokenEncoder(("conv3_3", "conv4_3", "conv5_3"), 32)
        >>> enc.grid(torch.rand(3, 64, 96)).shape
        torch.Size([1, 1280, 2, 3])
        >>> TokenEncoder(("block6", "block13"), 32, backbone="mobilenet_v2").grid(torch.rand(3, 64, 96)).shape
        torch.Size([1, 128, 2, 3])
    """

    stages: tuple[str, ...]
    cell: int
    weights: str | None = None
    tile: int = 1024
    encoder: FrozenEncoder | None = None
    backbone: str = "vgg16"

    def __post_init__(self) -> None:
        pin_mmap_threshold()  # else RSS grows with every image encoded while grids are kept
        self.stages = tuple(self.stages)
        spec = encoder_spec(self.backbone)
        spec.check(self.stages, self.cell)
        if self.encoder is None:
            self.encoder = load_encoder(self.backbone, self.weights, out_stages=self.stages)
        self.tile = max(self.cell, self.tile - self.tile % self.cell)
        self.halo = -(-spec.halo // self.cell) * self.cell  # a multiple of cell: tiles stay on the grid

    @classmethod
    def from_config(cls, cfg: LPFConfig, tile: int = 1024, encoder: FrozenEncoder | None = None) -> TokenEncoder:
        """The token encoder a model config describes (encoder, stages, cell, weights)."""
        weights = None if cfg.encoder_weights in ("", "bundled") else cfg.encoder_weights
        return cls(tuple(cfg.stages), cfg.cell, weights=weights, tile=tile, encoder=encoder, backbone=cfg.encoder)

    @property
    def key(self) -> str:
        """Identifies what the tokens depend on (for the cache): encoder, weights, stages, cell.

        VGG16's key leaves the encoder's name out, as it was before there were several encoders, so
        caches written then stay valid.
        """
        src = "bundled" if self.weights is None else f"{Path(self.weights).name}:{file_digest(Path(self.weights))}"
        parts: list = [src, list(self.stages), self.cell]
        if self.backbone != "vgg16":
            parts.insert(0, self.backbone)
        return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:16]

    def pool(self, feats: dict[str, torch.Tensor]) -> torch.Tensor:
        """Stage maps -> (B, C, h, w) token grid."""
        return pool_tokens(feats, self.stages, self.cell, self.backbone)

    @torch.inference_mode()
    def grid(self, img: torch.Tensor) -> torch.Tensor:
        """(3, H, W) or (B, 3, H, W) RGB in [0, 1] -> (B, C, H/cell, W/cell) after a central crop.

        The crop is a view (no copy) and a no-op for an image already cropped to the cell.
        """
        x = center_crop_to_cell(img if img.ndim == 4 else img[None], self.cell)
        h, w = x.shape[-2:]
        if h * w <= self.tile * self.tile:
            return self.pool(self.encoder(x))
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
        t0, l0 = max(0, top - self.halo), max(0, left - self.halo)  # multiples of cell: grid stays aligned
        t1, l1 = min(h, bottom + self.halo), min(w, right + self.halo)
        g = self.pool(self.encoder(x[..., t0:t1, l0:l1]))
        c = self.cell
        return g[..., (top - t0) // c:(bottom - t0) // c, (left - l0) // c:(right - l0) // c]
