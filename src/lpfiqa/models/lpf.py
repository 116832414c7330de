"""Lightweight Parallel Framework (LPF) for blind image quality assessment.

Huang & Fang, "Lightweight Parallel Framework for Blind Image Quality Assessment",
arXiv 2402.12043, 2024. The paper gives no layer sizes; ours are in :class:`LPFConfig`.

Pipeline (shapes for a batch of B images cropped to multiples of ``cell`` pixels)::

    image (B,3,H,W) -> frozen encoder: VGG16 conv3_3, conv4_3 (default) or MobileNetV2 blocks (LPF-Lite)
      -> average-pooled onto one grid of cell x cell pixels -> tokens (B, N, C), N = H/cell * W/cell
      -> log(1 + x), standardised per channel (fixed affine, fitted on the training tokens)
      -> FEN (per token MLP)            -> latents z (B, N, D); global latent g = mean_N z  (B, D)
      -> [train] category head(g)       -> K coarse quality classes
      -> [train] comparison head(g_i, g_j) -> score gap of every pair in the batch (antisymmetric)
      -> [optional] diagnosis head(g)    -> one sigmoid probability per distortion family (test time too)
      -> DaQRN: weight stream w(z) > 0, score stream s(z)  -> score = sum(w * s) / sum(w)

Because the DaQRN score is a ratio of two sums over tokens, any partition of the tokens
(tiles of a huge image) can be scored piecewise and combined exactly.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from ..backbones.encoder import FrozenEncoder
from ..backbones.tokens import TokenEncoder, pool_tokens
from ..errors import ConfigError
from .config import LPFConfig

__all__ = ["DaQRN", "DiagnosisHead", "FEN", "LPF", "LPFHeads", "ComparisonHead", "pool_tokens"]

_EPS = 1e-6


class FEN(nn.Module):
    """Feature Embedding Network: Linear -> LayerNorm -> ReLU -> Dropout -> Linear -> LayerNorm, per token."""

    def __init__(self, in_dim: int, hidden_dim: int, latent_dim: int, dropout: float) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(in_dim, hidden_dim), nn.LayerNorm(hidden_dim), nn.ReLU(inplace=True),
            nn.Dropout(dropout), nn.Linear(hidden_dim, latent_dim), nn.LayerNorm(latent_dim))

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.net(tokens)  # (B, N, C) -> (B, N, D)


class ComparisonHead(nn.Module):
    """Predicts the normalised score gap s_i - s_j of two images from their global latents.

    Antisymmetric by construction: ``h(a, b) = m([a, b]) - m([b, a])``, so ``h(a, b) = -h(b, a)``
    and ``h(a, a) = 0`` exactly, whatever the weights.
    """

    def __init__(self, latent_dim: int, hidden: int) -> None:
        super().__init__()
        self.m = nn.Sequential(nn.Linear(2 * latent_dim, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, 1))

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return (self.m(torch.cat([a, b], -1)) - self.m(torch.cat([b, a], -1))).squeeze(-1)


class DiagnosisHead(nn.Module):
    """"What is wrong": one logit per distortion family from the global latent (multi-label).

    Sigmoid, not softmax: a chain of distortions has several families at once, and a clean image
    none, so every probability can be low ("nothing wrong").

    Example:
        >>> head = DiagnosisHead(16, 8, 3)
        >>> tuple(head(torch.randn(2, 16)).shape)
        (2, 3)
    """

    def __init__(self, latent_dim: int, hidden: int, n_families: int) -> None:
        super().__init__()
        self.m = nn.Sequential(nn.Linear(latent_dim, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, n_families))

    def forward(self, g: torch.Tensor) -> torch.Tensor:
        return self.m(g)  # (B, D) -> (B, F) logits


class DaQRN(nn.Module):
    """Distortion-aware Quality Regression Network: weight stream x score stream, per token.

    ``w`` is positive (softplus): how much a region's distortion weighs on the judgement;
    ``s`` is that region's quality. With the weight stream off, w = 1 (plain mean); with the
    score stream off, s is one linear layer of the latent (equivalently, a linear score of the
    weight-pooled latent).
    """

    def __init__(self, latent_dim: int, hidden: int, use_weight: bool = True, use_score: bool = True) -> None:
        super().__init__()
        self.weight = nn.Sequential(nn.Linear(latent_dim, hidden), nn.ReLU(inplace=True),
                                    nn.Linear(hidden, 1)) if use_weight else None
        self.score = (nn.Sequential(nn.Linear(latent_dim, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, 1))
                      if use_score else nn.Linear(latent_dim, 1))

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, N, D) -> per-token weights and scores, each (B, N)."""
        s = self.score(z).squeeze(-1)
        w = F.softplus(self.weight(z).squeeze(-1)) + _EPS if self.weight is not None else torch.ones_like(s)
        return w, s


class LPFHeads(nn.Module):
    """Everything LPF trains: token normalisation, FEN, auxiliary heads and DaQRN.

    Args:
        cfg: the model config.

    Example:
        >>> heads = LPFHeads(LPFConfig(latent_dim=32, hidden_dim=64, use_category=True))  # every head
        >>> out = heads(torch.randn(2, 6, 768))
        >>> out["score"].shape, out["w"].shape, out["logits"].shape
        (torch.Size([2]), torch.Size([2, 6]), torch.Size([2, 4]))
        >>> diag = LPFHeads(LPFConfig(latent_dim=32, hidden_dim=64, use_diagnosis=True,
        ...                           diagnosis_families=("blur", "noise")))
        >>> diag(torch.randn(2, 6, 768))["diagnosis"].shape  # probabilities, one per family
        torch.Size([2, 2])
    """

    def __init__(self, cfg: LPFConfig) -> None:
        super().__init__()
        self.cfg = cfg
        c = cfg.token_dim
        # Per-channel standardisation of the tokens, fitted on training features: VGG stages
        # differ in scale by orders of magnitude, and a fixed affine map keeps tiling exact.
        self.register_buffer("token_mean", torch.zeros(c))
        self.register_buffer("token_std", torch.ones(c))
        self.fen = FEN(c, cfg.hidden_dim, cfg.latent_dim, cfg.dropout)
        self.category = nn.Linear(cfg.latent_dim, cfg.num_classes) if cfg.use_category else None
        self.compare = ComparisonHead(cfg.latent_dim, cfg.compare_hidden) if cfg.use_comparison else None
        self.daqrn = DaQRN(cfg.latent_dim, cfg.head_hidden, cfg.use_weight_stream, cfg.use_score_stream)
        # Built last, so that every other module's initial weights are the same with or without it.
        self.diagnosis: DiagnosisHead | None = None
        if cfg.use_diagnosis:
            if not cfg.diagnosis_families:
                raise ConfigError("use_diagnosis needs `diagnosis_families` (what each output means); "
                                  "train_run fills them in from the manifest's dist_type column")
            self.diagnosis = DiagnosisHead(cfg.latent_dim, cfg.head_hidden, len(cfg.diagnosis_families))

    def transform(self, tokens: torch.Tensor) -> torch.Tensor:
        """The fixed per-token transform applied before standardisation (per token: tiling stays exact)."""
        if self.cfg.token_transform == "log1p":
            return torch.log1p(tokens.clamp_min(0))  # ReLU maps are >= 0; clamp guards fp16 rounding
        return tokens

    def forward(self, tokens: torch.Tensor, mask: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """Tokens (B, N, C) [+ mask (B, N), True = real token] -> score (B,), w, s (B, N), g (B, D).

        With the category head: ``logits`` (B, K); with the diagnosis head: ``diag_logits`` and
        their sigmoid ``diagnosis`` (B, F). The score never depends on either head.
        """
        z = self.fen((self.transform(tokens) - self.token_mean) / self.token_std)  # (B, N, D)
        w, s = self.daqrn(z)
        if mask is not None:
            w = w * mask
        out = {"w": w, "s": s, "sum_ws": (w * s).sum(1), "sum_w": w.sum(1)}
        out["score"] = out["sum_ws"] / out["sum_w"]
        m = mask.unsqueeze(-1).to(z.dtype) if mask is not None else None
        out["g"] = (z * m).sum(1) / m.sum(1) if m is not None else z.mean(1)  # (B, D)
        if self.category is not None:
            out["logits"] = self.category(out["g"])
        if self.diagnosis is not None:
            g = out["g"].detach() if self.cfg.diagnosis_detach else out["g"]
            out["diag_logits"] = self.diagnosis(g)
            out["diagnosis"] = torch.sigmoid(out["diag_logits"])
        return out


class LPF(nn.Module):
    """The one model object: frozen encoder + token pooling (``forward_features``) and the heads (``forward_head``).

    timm's split: :meth:`forward_features` turns images into token grids (any size: central crop to
    the cell, exact tiles for huge images), :meth:`forward_head` turns grids into the score, the
    DaQRN maps and the diagnosis. Training and the feature cache use the first half alone (grids
    are cached), scoring uses both (:class:`lpfiqa.inference.QualityModel` wraps this object for
    paths, PIL images and arrays).

    Args:
        cfg: the model config (its ``encoder``, ``stages``, ``cell`` choose the encoder side).
        encoder: the frozen network, built from ``cfg`` when omitted.
        heads: trained heads, fresh ones when omitted.
        tile: images with more than ``tile * tile`` pixels are encoded in exact tiles.

    Example:
        >>> cfg = LPFConfig(latent_dim=32, hidden_dim=64)
        >>> model = LPF(cfg).eval()
        >>> model(torch.rand(2, 3, 64, 96)).shape
        torch.Size([2])
        >>> grid = model.forward_features(torch.rand(1, 3, 70, 100))  # cropped to 64 x 96
        >>> tuple(grid.shape), tuple(model.forward_head(grid)["w"].shape)
        ((1, 768, 2, 3), (1, 6))
    """

    def __init__(self, cfg: LPFConfig, encoder: FrozenEncoder | None = None, heads: LPFHeads | None = None,
                 tile: int = 1024) -> None:
        super().__init__()
        self.cfg = cfg
        self.tokens = TokenEncoder.from_config(cfg, tile=tile, encoder=encoder)
        self.encoder = self.tokens.encoder  # registered here too: parameters, .to(), FLOP counts see it
        self.heads = heads if heads is not None else LPFHeads(cfg)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """RGB [0, 1] (3, H, W) or (B, 3, H, W), any size -> token grid (B, C, H // cell, W // cell)."""
        return self.tokens.grid(x)

    def forward_head(self, grid: torch.Tensor, mask: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """Token grid (B, C, h, w) -> the heads' outputs (``score`` (B,), ``w``, ``s`` (B, h*w), ...)."""
        return self.heads(grid.flatten(2).transpose(1, 2), mask)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """RGB [0, 1] (B, 3, H, W) -> unit-scale score (B,)."""
        return self.forward_head(self.forward_features(x))["score"]
