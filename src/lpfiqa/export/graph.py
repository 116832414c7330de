"""The whole inference graph as one ``nn.Module``: image -> score, maps [, diagnosis], in the model's own scale.

What :class:`~lpfiqa.inference.QualityModel` computes for an image that is not tiled, as a pure
tensor function (no Python-side decoding, cropping or tiling), so that it can be exported to
ONNX or TorchScript.
"""

from __future__ import annotations

import torch
from torch import nn

from ..inference import QualityModel

__all__ = ["InferenceGraph", "output_names"]


def output_names(model: QualityModel) -> list[str]:
    """The graph's outputs, in order: ``score``, ``weight_map``, ``score_map`` [, ``diagnosis``]."""
    return ["score", "weight_map", "score_map"] + (["diagnosis"] if model.diagnosis_families else [])


class InferenceGraph(nn.Module):
    """Encoder + FEN + DaQRN [+ diagnosis]: (1, 3, H, W) RGB in [0, 1], H and W multiples of ``cell``.

    Returns ``score`` (1,), ``weight_map`` and ``score_map`` (1, H/cell, W/cell) and, for a model
    with a diagnosis head, ``diagnosis`` (1, F) probabilities.

    Example:
        >>> from lpfiqa.models import LPFConfig, LPFHeads
        >>> qm = QualityModel(LPFHeads(LPFConfig(latent_dim=16, hidden_dim=32)))
        >>> img = torch.rand(1, 3, 64, 96)
        >>> with torch.no_grad():
        ...     score, wmap, smap = InferenceGraph(qm)(img)
        >>> tuple(wmap.shape), round(abs(float(score[0]) - qm.score(img[0])), 4)
        ((1, 2, 3), 0.0)
    """

    def __init__(self, model: QualityModel) -> None:
        super().__init__()
        cfg = model.cfg
        self.encoder = model.encoder.encoder
        self.pool = model.encoder.pool  # stage maps -> token grid, with this encoder's strides
        self.heads = model.heads
        self.stages, self.cell = tuple(cfg.stages), int(cfg.cell)
        self.lo, self.span = float(cfg.score_min), float(cfg.score_max - cfg.score_min)
        self.higher = bool(cfg.higher_is_better)
        self.diagnosis = bool(model.diagnosis_families)
        self.cfg = cfg  # its output map (LPFConfig.calibrate) is part of the graph: a clamp of a linear map

    def _scale(self, unit: torch.Tensor) -> torch.Tensor:
        return self.cfg.calibrate(self.lo + (unit if self.higher else 1 - unit) * self.span)

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, ...]:
        grid = self.pool(self.encoder(image))  # (B, C, h, w)
        b, c, h, w = grid.shape
        out = self.heads(grid.flatten(2).transpose(1, 2))
        weight_map = (out["w"] / out["sum_w"].unsqueeze(1)).reshape(b, h, w)
        score_map = self._scale(out["s"]).reshape(b, h, w)
        result = (self._scale(out["score"]), weight_map, score_map)
        return result + (out["diagnosis"],) if self.diagnosis else result
