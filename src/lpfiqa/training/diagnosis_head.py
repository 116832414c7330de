"""Train the detached diagnosis head to convergence on the frozen latents of a trained model.

Why: with ``diagnosis_detach`` the family loss never reaches the FEN, so the head is a small
classifier on fixed features. Inside :func:`lpfiqa.training.fit.fit` it gets the score's
epochs and the score's epoch choice (by validation SRCC), which stop it while it is still
learning (lpf-synth-v4's head rose from 0.38 to 0.72 top-1 over 8 epochs and was still
climbing). Here only the head trains, on latents computed once, with its own epoch choice
(validation top-1 family): the score path and every score stay exactly as they were.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from torch.nn import functional as F

from ..errors import ConfigError
from ..models.lpf import LPFHeads
from .diagnosis import diagnosis_accuracy
from .fit import FeatureSet

__all__ = ["pooled_latents", "refit_diagnosis_head"]


@torch.no_grad()
def pooled_latents(heads: LPFHeads, grids: list[torch.Tensor], batch_size: int = 128) -> torch.Tensor:
    """The global latent g (N, D) of each whole token grid (C, h, w); grids of one shape go in batches.

    Example:
        >>> from lpfiqa.models import LPFConfig
        >>> heads = LPFHeads(LPFConfig(latent_dim=8, hidden_dim=16)).eval()
        >>> tuple(pooled_latents(heads, [torch.rand(768, 2, 3), torch.rand(768, 1, 2)]).shape)
        (2, 8)
    """
    heads.eval()
    out = [None] * len(grids)
    by_shape: dict[tuple[int, ...], list[int]] = {}
    for i, g in enumerate(grids):
        by_shape.setdefault(tuple(g.shape), []).append(i)
    for idx in by_shape.values():
        for k in range(0, len(idx), batch_size):
            part = idx[k:k + batch_size]
            tokens = torch.stack([grids[i].float().flatten(1).T for i in part])  # (B, N, C)
            for i, g in zip(part, heads(tokens)["g"], strict=True):
                out[i] = g
    return torch.stack(out)


def refit_diagnosis_head(heads: LPFHeads, train: FeatureSet, val: FeatureSet, epochs: int = 40, lr: float = 1e-3,
                         batch_size: int = 256, seed: int = 0) -> list[dict[str, float]]:
    """Train ``heads.diagnosis`` alone on the frozen latents; keep the epoch with the best validation top-1.

    Args:
        heads: trained heads with a detached diagnosis head (changed in place: the head only).
        train, val: feature sets with ``families`` targets and ``dist_levels`` (see ``train_run``).
        epochs, lr, batch_size, seed: the head's own optimisation.

    Returns:
        One row per epoch: ``loss_diag`` and ``val_diag_top1``.

    Raises:
        ConfigError: the heads have no detached diagnosis head, or a set lacks family targets.
    """
    if heads.diagnosis is None or not heads.cfg.diagnosis_detach:
        raise ConfigError("refit_diagnosis_head needs a detached diagnosis head (use_diagnosis, diagnosis_detach)")
    if train.families is None or val.families is None or val.dist_levels is None:
        raise ConfigError("refit_diagnosis_head needs FeatureSet.families (and dist_levels for validation)")
    g_train, g_val = pooled_latents(heads, train.grids), pooled_latents(heads, val.grids)
    y = torch.as_tensor(train.families, dtype=torch.float32)
    known = ~torch.isnan(y).any(1)
    g_train, y = g_train[known], y[known]
    families, levels = heads.cfg.diagnosis_families, val.dist_levels.tolist()
    opt = torch.optim.Adam(heads.diagnosis.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(seed)

    def top1() -> float:
        with torch.no_grad():
            probs = torch.sigmoid(heads.diagnosis(g_val)).numpy()
        acc = diagnosis_accuracy(probs, val.families, levels, families)["top1"]
        return float("nan") if acc is None else float(acc)

    best, best_acc, history = copy.deepcopy(heads.diagnosis.state_dict()), top1(), []
    for _ in range(epochs):
        heads.diagnosis.train()
        losses = []
        for idx in torch.randperm(len(y), generator=gen).split(batch_size):
            loss = F.binary_cross_entropy_with_logits(heads.diagnosis(g_train[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(float(loss))
        heads.diagnosis.eval()
        acc = top1()
        history.append({"loss_diag": float(np.mean(losses)), "val_diag_top1": acc})
        if acc > best_acc:
            best, best_acc = copy.deepcopy(heads.diagnosis.state_dict()), acc
    heads.diagnosis.load_state_dict(best)
    heads.eval()
    return history
