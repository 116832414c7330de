"""The training loop over cached token grids: all three LPF tasks in one stage, in parallel.

This is the in-memory core that ``lpfiqa train``, the protocol's n splits and the
benchmarks' ablations share; it touches no files (checkpointing is a callback).
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ..metrics import plcc, srcc
from ..models.config import LPFConfig
from ..models.lpf import LPFHeads
from .config import TrainConfig
from .losses import bin_labels, lpf_loss, quantile_bins

__all__ = ["FeatureSet", "FitResult", "FitState", "fit", "predict_unit", "random_windows"]


@dataclass
class FeatureSet:
    """Token grids (C, h, w) and unit-scale targets (higher = better) of a set of images."""

    grids: list[torch.Tensor]
    y: np.ndarray
    names: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)  # content group (source photo) of each image, if known

    def __len__(self) -> int:
        return len(self.grids)

    def subset(self, idx: np.ndarray | list[int]) -> FeatureSet:
        idx = list(np.asarray(idx, dtype=int))
        names = [self.names[i] for i in idx] if self.names else []
        groups = [self.groups[i] for i in idx] if self.groups else []
        return FeatureSet([self.grids[i] for i in idx], self.y[idx], names, groups)


@dataclass
class FitState:
    """Everything needed to resume: weights, optimiser, best-so-far and history."""

    epoch: int                       # epochs completed
    heads: dict[str, torch.Tensor]
    optimizer: dict[str, Any]
    best: dict[str, torch.Tensor]
    best_epoch: int
    best_srcc: float
    history: list[dict[str, float]]


@dataclass
class FitResult:
    heads: LPFHeads                  # with the weights of the best validation epoch
    history: list[dict[str, float]]
    best_epoch: int
    seconds: float


def batch_order(groups: list[str], batch_size: int, groups_per_batch: int,
                gen: torch.Generator) -> list[torch.Tensor]:
    """Batches of image indices, each drawn from about ``groups_per_batch`` groups; every image once.

    Each group's images are shuffled and cut into chunks of ``batch_size // groups_per_batch``;
    the chunks are shuffled and dealt ``groups_per_batch`` to a batch. Pairs inside a chunk share
    content, so their score gap is the effect of the distortion alone.

    Example:
        >>> g = ["a"] * 4 + ["b"] * 4
        >>> batches = batch_order(g, 4, 2, torch.Generator().manual_seed(0))
        >>> sorted(int(i) for b in batches for i in b) == list(range(8))
        True
    """
    by_group: dict[str, list[int]] = {}
    for i, name in enumerate(groups):
        by_group.setdefault(name, []).append(i)
    chunk = max(1, batch_size // groups_per_batch)
    chunks = []
    for members in by_group.values():
        perm = torch.randperm(len(members), generator=gen)
        shuffled = [members[int(k)] for k in perm]
        chunks += [shuffled[k:k + chunk] for k in range(0, len(shuffled), chunk)]
    chunks = [chunks[int(k)] for k in torch.randperm(len(chunks), generator=gen)]
    return [torch.as_tensor([i for c in chunks[k:k + groups_per_batch] for i in c])
            for k in range(0, len(chunks), groups_per_batch)]


def random_windows(grids: list[torch.Tensor], window: int,
                   gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Random window x window crops of token grids -> padded (B, N, C) float tokens and (B, N) mask.

    What every learned head here trains on (LPF and the benchmark's token heads alike); a grid
    smaller than the window is taken whole and padded, ``window=0`` takes every grid whole.

    Example:
        >>> grids = [torch.ones(8, 4, 6), torch.ones(8, 2, 2)]
        >>> tokens, mask = random_windows(grids, 3, torch.Generator().manual_seed(0))
        >>> tuple(tokens.shape), mask.sum(1).tolist()
        ((2, 9, 8), [9, 4])
    """
    crops = []
    for g in grids:
        _, h, w = g.shape
        wh, ww = (min(window, h), min(window, w)) if window else (h, w)
        t = int(torch.randint(0, h - wh + 1, (1,), generator=gen))
        le = int(torch.randint(0, w - ww + 1, (1,), generator=gen))
        crops.append(g[:, t:t + wh, le:le + ww].flatten(1).T)  # (n, C)
    n = max(c.shape[0] for c in crops)
    tokens = torch.zeros(len(crops), n, crops[0].shape[1])
    mask = torch.zeros(len(crops), n, dtype=torch.bool)
    for i, c in enumerate(crops):
        tokens[i, :len(c)] = c.float()
        mask[i, :len(c)] = True
    return tokens, mask


@torch.inference_mode()
def predict_unit(heads: LPFHeads, grids: list[torch.Tensor], batch_size: int = 64,
                 max_tokens: int = 16384) -> np.ndarray:
    """Unit-scale predictions on whole token grids (what test time sees).

    Grids of one shape go through the heads together, up to ``batch_size`` at a time and at most
    ``max_tokens`` tokens per call, so large grids still run one by one and memory stays bounded
    (a synthetic or resized set is one shape throughout; one call per image spent more time in
    Python than in the matmuls); every token is scored independently, so batching changes no
    prediction.

    Example:
        >>> from lpfiqa.models import LPFConfig
        >>> heads = LPFHeads(LPFConfig(latent_dim=16, hidden_dim=32))
        >>> grids = [torch.rand(768, 2, 3), torch.rand(768, 2, 3), torch.rand(768, 1, 4)]
        >>> one = [float(predict_unit(heads, [g])[0]) for g in grids]
        >>> bool(np.allclose(predict_unit(heads, grids, batch_size=2), one, atol=1e-6))
        True
        >>> bool(np.allclose(predict_unit(heads, grids, max_tokens=4), one, atol=1e-6))  # one grid per call
        True
    """
    heads.eval()
    out = np.empty(len(grids))
    by_shape: dict[tuple[int, ...], list[int]] = {}
    for i, g in enumerate(grids):
        by_shape.setdefault(tuple(g.shape), []).append(i)
    for (c, h, w), members in by_shape.items():
        step = max(1, min(batch_size, max_tokens // max(1, h * w)))
        for k in range(0, len(members), step):
            idx = members[k:k + step]
            tokens = torch.stack([grids[i].reshape(c, -1).T for i in idx]).float()  # (B, N, C)
            out[idx] = heads(tokens)["score"].double().numpy()
    return out


def _fit_token_stats(heads: LPFHeads, grids: list[torch.Tensor]) -> None:
    """Per-channel mean/std over every training token (a fixed affine map, fitted once)."""
    total = torch.zeros(heads.cfg.token_dim, dtype=torch.float64)
    sq = torch.zeros_like(total)
    n = 0
    for g in grids:
        t = heads.transform(g.reshape(g.shape[0], -1).float()).double()
        total += t.sum(1)
        sq += (t * t).sum(1)
        n += t.shape[1]
    mean = total / n
    std = (sq / n - mean * mean).clamp_min(0).sqrt()
    heads.token_mean.copy_(mean.float())
    heads.token_std.copy_(std.float().clamp_min(1e-3 * float(std.mean()) + 1e-6))


def _lr(tcfg: TrainConfig, epoch: int, step: int, steps: int) -> float:
    """Linear warm-up over the first epoch, then cosine decay to 1% (stateless, so resumes are exact)."""
    t = (epoch + step / steps) / tcfg.epochs
    warm = min(1.0, (epoch * steps + step + 1) / steps)
    return tcfg.lr * warm * (0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * t)))


def _stage(tcfg: TrainConfig, epoch: int) -> str:
    """Which losses train in this epoch: LPF trains all three at once."""
    if tcfg.schedule == "parallel":
        return "all"
    return "aux" if epoch < round(tcfg.epochs * tcfg.stage1_fraction) else "reg"


def fit(cfg: LPFConfig, tcfg: TrainConfig, train: FeatureSet, val: FeatureSet | None = None,
        resume: FitState | None = None, on_epoch: Callable[[FitState], None] | None = None,
        progress: Callable[[dict[str, float]], None] | None = None) -> FitResult:
    """Train LPF heads on cached token grids; choose the epoch on ``val`` (never on a test set).

    Args:
        cfg: model config (its auxiliary-task and stream switches drive the ablations).
        tcfg: training settings.
        train: training features and unit targets.
        val: validation features; without it the last epoch is kept.
        resume: state saved by an interrupted run.
        on_epoch: called with the state after each epoch (checkpointing).
        progress: called with each epoch's history row (progress display).
    """
    torch.manual_seed(tcfg.seed)
    heads = LPFHeads(cfg)
    _fit_token_stats(heads, train.grids)
    labels_all = bin_labels(train.y, quantile_bins(train.y, cfg.num_classes)) if cfg.use_category else None
    opt = torch.optim.AdamW(heads.parameters(), lr=tcfg.lr, weight_decay=tcfg.weight_decay)
    gen = torch.Generator().manual_seed(tcfg.seed)
    y_all = torch.as_tensor(train.y, dtype=torch.float32)
    gid_all = None
    if tcfg.lambda_rank > 0 and len(train.groups) == len(train):
        index: dict[str, int] = {}
        gid_all = torch.as_tensor([index.setdefault(g, len(index)) for g in train.groups])
    history: list[dict[str, float]] = []
    best, best_epoch, best_srcc, start = copy.deepcopy(heads.state_dict()), 0, -math.inf, 0
    if resume is not None:
        heads.load_state_dict(resume.heads)
        opt.load_state_dict(resume.optimizer)
        best, best_epoch, best_srcc = resume.best, resume.best_epoch, resume.best_srcc
        history, start = list(resume.history), resume.epoch
    grouped = tcfg.groups_per_batch > 0 and len(train.groups) == len(train)
    steps = max(1, math.ceil(len(train) / tcfg.batch_size))
    if grouped:  # chunking by group leaves some batches short: count them once, for the lr schedule
        steps = len(batch_order(train.groups, tcfg.batch_size, tcfg.groups_per_batch, torch.Generator()))
    t0 = time.perf_counter() - (history[-1]["seconds"] if history else 0.0)
    for epoch in range(start, tcfg.epochs):
        # All randomness of an epoch (order, windows, dropout) derives from (seed, epoch), so a
        # resumed run repeats exactly what the uninterrupted run would have done.
        torch.manual_seed(tcfg.seed * 100_003 + epoch)
        gen.manual_seed(tcfg.seed * 100_003 + epoch)
        stage = _stage(tcfg, epoch)
        heads.train()
        heads.fen.requires_grad_(stage != "reg")  # two-stage: the FEN is frozen while DaQRN learns
        if grouped:
            batches = batch_order(train.groups, tcfg.batch_size, tcfg.groups_per_batch, gen)
        else:
            order = torch.randperm(len(train), generator=gen)
            batches = [order[k:k + tcfg.batch_size] for k in range(0, len(train), tcfg.batch_size)]
        sums: dict[str, float] = {}
        for step, idx in enumerate(batches):
            if len(idx) < 2:  # a lone leftover image has no pair to compare
                continue
            tokens, mask = random_windows([train.grids[i] for i in idx], tcfg.window, gen)
            for group in opt.param_groups:
                group["lr"] = _lr(tcfg, epoch, step, steps)
            labels = labels_all[idx] if labels_all is not None else None
            gids = gid_all[idx] if gid_all is not None else None
            loss, parts = lpf_loss(heads, tokens, mask, y_all[idx], labels, stage, gids, tcfg.lambda_rank)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            for k, v in parts.items():
                sums[k] = sums.get(k, 0.0) + float(v.detach()) / steps
        row = {"epoch": epoch + 1, **{f"loss_{k}": v for k, v in sums.items()}}
        if val is not None and len(val) >= 3:
            pred = predict_unit(heads, val.grids)
            row["val_srcc"], row["val_plcc"] = srcc(pred, val.y), plcc(pred, val.y)
            row["val_l1"] = float(np.abs(pred - val.y).mean())
            # NaN (constant output) never wins twice; a two-stage run's DaQRN is untrained in stage 1
            if stage != "aux" and (best_epoch == 0 or row["val_srcc"] > best_srcc):
                best, best_epoch, best_srcc = copy.deepcopy(heads.state_dict()), epoch + 1, row["val_srcc"]
        else:
            best, best_epoch = copy.deepcopy(heads.state_dict()), epoch + 1
        row["seconds"] = time.perf_counter() - t0
        history.append(row)
        state = FitState(epoch + 1, heads.state_dict(), opt.state_dict(), best, best_epoch, best_srcc, history)
        if on_epoch is not None:
            on_epoch(state)
        if progress is not None:
            progress(row)
        if tcfg.patience and epoch + 1 - best_epoch >= tcfg.patience:
            break
    heads.fen.requires_grad_(True)
    heads.load_state_dict(best)
    return FitResult(heads.eval(), history, best_epoch, time.perf_counter() - t0)
