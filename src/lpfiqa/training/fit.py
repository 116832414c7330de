"""The training loop over cached token grids: all three LPF tasks in one stage, in parallel.

This is the in-memory core that ``lpfiqa train``, the protocol's n splits and the
benchmarks' ablations share; it touches no files (checkpointing is a callback). Given a
:class:`~lpfiqa.training.distributed.World` of several processes, each trains on its slice of
every batch and they reach the one-process result (``distributed.py``).
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

from ..errors import ConfigError
from ..metrics import plcc, srcc
from ..models.config import LPFConfig
from ..models.lpf import LPFHeads
from .config import TrainConfig
from .diagnosis import diagnosis_accuracy
from .distributed import World, wrap_heads
from .losses import OrderInfo, bin_labels, lpf_loss, quantile_bins

__all__ = ["FeatureSet", "FitResult", "FitState", "fit", "predict_diagnosis", "predict_unit", "random_windows"]

RANK_SEED_STRIDE = 1_000_003  # rank r's dropout seed is rank 0's + r * this (rank 0's is one process's)


@dataclass
class FeatureSet:
    """Token grids (C, h, w) and unit-scale targets (higher = better) of a set of images.

    The optional per-image facts feed the optional tasks: ``groups`` the within-photo ranking
    and grouped batches; ``scenes``, ``dist_types`` and ``dist_levels`` the known-order term;
    ``families`` the diagnosis head. Empty lists / None mean unknown for every image.
    """

    grids: list[torch.Tensor]
    y: np.ndarray
    names: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)  # content group (source photo) of each image, if known
    dist_types: list[str] = field(default_factory=list)  # "" clean or unknown, "chain" for a chain
    dist_levels: np.ndarray | None = None  # int per image: 0 clean, 1..5, -1 unknown
    scenes: list[str] = field(default_factory=list)  # photo + view: same pixels before distortion (default: groups)
    families: np.ndarray | None = None  # (N, F) multi-hot diagnosis targets; NaN rows unknown

    def __len__(self) -> int:
        return len(self.grids)

    @classmethod
    def from_rows(cls, rows: list[Any], grids: list[torch.Tensor], y: np.ndarray) -> FeatureSet:
        """Grids plus what the manifest rows say of each image (content, scene, distortion).

        The one route from manifest rows to a training set: ``lpfiqa train`` and the protocol
        both build theirs here. A scene is a photo's view (``lpfiqa synth --views``): the
        pixels every distortion of it started from.

        Example:
            >>> from pathlib import Path
            >>> from lpfiqa.datasets.manifest import ManifestRow
            >>> rows = [ManifestRow(Path("a.png"), 90.0, True, "p1", "", 0, ""),
            ...         ManifestRow(Path("b.png"), 40.0, True, "p1", "jpeg", 4, "")]
            >>> fs = FeatureSet.from_rows(rows, [torch.zeros(4, 1, 1)] * 2, np.array([0.9, 0.4]))
            >>> fs.groups, fs.dist_types, fs.dist_levels.tolist()
            (['p1', 'p1'], ['', 'jpeg'], [0, 4])
        """
        groups = [r.group or str(r.path) for r in rows]
        scenes = [f"{g}@v{r.extra['view']}" if r.extra.get("view") not in (None, "", "0", 0) else g
                  for g, r in zip(groups, rows, strict=True)]
        levels = np.array([-1 if r.dist_level is None else int(r.dist_level) for r in rows], dtype=np.int64)
        return cls(grids, y, [str(r.path) for r in rows], groups, [r.dist_type or "" for r in rows], levels, scenes)

    def subset(self, idx: np.ndarray | list[int]) -> FeatureSet:
        idx = list(np.asarray(idx, dtype=int))

        def pick(items: list[str]) -> list[str]:
            return [items[i] for i in idx] if items else []

        return FeatureSet([self.grids[i] for i in idx], self.y[idx], pick(self.names), pick(self.groups),
                          pick(self.dist_types), None if self.dist_levels is None else self.dist_levels[idx],
                          pick(self.scenes), None if self.families is None else self.families[idx])


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
    return _predict(heads, grids, "score", batch_size, max_tokens)


def predict_diagnosis(heads: LPFHeads, grids: list[torch.Tensor], batch_size: int = 64,
                      max_tokens: int = 16384) -> np.ndarray:
    """(N, F) family probabilities on whole token grids (batched like :func:`predict_unit`).

    Example:
        >>> from lpfiqa.models import LPFConfig
        >>> cfg = LPFConfig(latent_dim=16, hidden_dim=32, use_diagnosis=True, diagnosis_families=("blur", "noise"))
        >>> p = predict_diagnosis(LPFHeads(cfg), [torch.rand(768, 2, 3), torch.rand(768, 1, 4)])
        >>> p.shape, bool(((p > 0) & (p < 1)).all())
        ((2, 2), True)
    """
    if heads.diagnosis is None:
        raise ConfigError("these heads have no diagnosis head (use_diagnosis=False)")
    return _predict(heads, grids, "diagnosis", batch_size, max_tokens)


@torch.inference_mode()
def _predict(heads: LPFHeads, grids: list[torch.Tensor], key: str, batch_size: int, max_tokens: int) -> np.ndarray:
    heads.eval()
    out: np.ndarray | None = None
    by_shape: dict[tuple[int, ...], list[int]] = {}
    for i, g in enumerate(grids):
        by_shape.setdefault(tuple(g.shape), []).append(i)
    for (c, h, w), members in by_shape.items():
        step = max(1, min(batch_size, max_tokens // max(1, h * w)))
        for k in range(0, len(members), step):
            idx = members[k:k + step]
            tokens = torch.stack([grids[i].reshape(c, -1).T for i in idx]).float()  # (B, N, C)
            value = heads(tokens)[key].double().numpy()
            if out is None:
                out = np.empty((len(grids), *value.shape[1:]))
            out[idx] = value
    return out if out is not None else np.empty(0)


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


def _family_targets(cfg: LPFConfig, train: FeatureSet) -> torch.Tensor | None:
    """(N, F) diagnosis targets as a tensor (NaN rows = unknown), checked against the config."""
    if not cfg.use_diagnosis:
        return None
    f = train.families
    if f is None or f.shape != (len(train), len(cfg.diagnosis_families)):
        got = "none" if f is None else f"shape {f.shape}"
        raise ConfigError(f"use_diagnosis needs FeatureSet.families of shape ({len(train)}, "
                          f"{len(cfg.diagnosis_families)}) (one column per diagnosis family), got {got}")
    return torch.as_tensor(f, dtype=torch.float32)


def _order_info(train: FeatureSet) -> OrderInfo:
    """(scene id, single-type id, level) per image for the known-order term."""
    scenes = train.scenes or train.groups
    if train.dist_levels is None or len(train.dist_types) != len(train) or len(scenes) != len(train):
        raise ConfigError("lambda_order needs dist_type, dist_level and group of every training image "
                          "(the manifest's columns); set lambda_order=0 for data without them")
    index: dict[str, int] = {}
    scene = torch.as_tensor([index.setdefault(s, len(index)) for s in scenes])
    types: dict[str, int] = {}
    # chains and clean/unknown rows have no single type: they only pair with the clean image
    tid = torch.as_tensor([-1 if t in ("", "chain") else types.setdefault(t, len(types)) for t in train.dist_types])
    return scene, tid, torch.as_tensor(np.asarray(train.dist_levels, dtype=np.int64))


def _validate(heads: LPFHeads, val: FeatureSet) -> dict[str, float]:
    """The validation figures of an epoch: SRCC (which chooses the epoch), PLCC, L1, diagnosis."""
    pred = predict_unit(heads, val.grids)
    row = {"val_srcc": srcc(pred, val.y), "val_plcc": plcc(pred, val.y), "val_l1": float(np.abs(pred - val.y).mean())}
    row.update(_val_diagnosis(heads, val))
    return row


def _val_diagnosis(heads: LPFHeads, val: FeatureSet) -> dict[str, float]:
    """Validation top-1 family accuracy (single distortions, level >= 3), when it can be measured."""
    if heads.diagnosis is None or val.families is None or val.dist_levels is None:
        return {}
    acc = diagnosis_accuracy(predict_diagnosis(heads, val.grids), val.families, val.dist_levels.tolist(),
                             heads.cfg.diagnosis_families)
    return {"val_diag_top1": acc["top1"]} if acc["n"] else {}


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
        progress: Callable[[dict[str, float]], None] | None = None, world: World | None = None) -> FitResult:
    """Train LPF heads on cached token grids; choose the epoch on ``val`` (never on a test set).

    Args:
        cfg: model config (its auxiliary-task and stream switches drive the ablations).
        tcfg: training settings.
        train: training features and unit targets.
        val: validation features; without it the last epoch is kept.
        resume: state saved by an interrupted run.
        on_epoch: called with the state after each epoch (checkpointing).
        progress: called with each epoch's history row (progress display).
        world: the processes training together (:func:`lpfiqa.training.distributed.session`); each
            needs the same arguments, and each calls ``on_epoch``/``progress`` (write on rank 0 only).
            None: this process alone.

    With ``cfg.use_diagnosis``, ``train.families`` holds the targets; the history then has
    ``loss_diag`` and, where ``val`` has single distortions at level >= 3, ``val_diag_top1``.
    The epoch is still chosen by validation SRCC, so the diagnosis shipped is that epoch's.
    With ``tcfg.lambda_order``, ``train`` needs ``dist_types``, ``dist_levels`` and groups (or
    scenes); the history has ``loss_order``.

    With several processes, every rank draws the same batches and windows, runs the heads on its
    slice of each batch and the loss of the whole batch (DDP averages the gradients); dropout is
    seeded per rank, so that ranks do not share masks. Rank 0 validates and broadcasts the row,
    so every rank keeps the same epoch and stops at the same time.
    """
    world = world or World()
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
    fam_all = _family_targets(cfg, train)
    order_all = _order_info(train) if tcfg.lambda_order > 0 else None
    history: list[dict[str, float]] = []
    best, best_epoch, best_srcc, start = copy.deepcopy(heads.state_dict()), 0, -math.inf, 0
    if resume is not None:
        heads.load_state_dict(resume.heads)
        opt.load_state_dict(resume.optimizer)
        best, best_epoch, best_srcc = resume.best, resume.best_epoch, resume.best_srcc
        history, start = list(resume.history), resume.epoch
    ddp = wrap_heads(heads, world) if world.size > 1 else None
    grouped = tcfg.groups_per_batch > 0 and len(train.groups) == len(train)
    steps = max(1, math.ceil(len(train) / tcfg.batch_size))
    if grouped:  # chunking by group leaves some batches short: count them once, for the lr schedule
        steps = len(batch_order(train.groups, tcfg.batch_size, tcfg.groups_per_batch, torch.Generator()))
    t0 = time.perf_counter() - (history[-1]["seconds"] if history else 0.0)
    for epoch in range(start, tcfg.epochs):
        # All randomness of an epoch (order, windows, dropout) derives from (seed, epoch), so a
        # resumed run repeats exactly what the uninterrupted run would have done.
        torch.manual_seed(tcfg.seed * 100_003 + epoch + RANK_SEED_STRIDE * world.rank)  # dropout: own per rank
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
            fams = fam_all[idx] if fam_all is not None else None
            order = tuple(t[idx] for t in order_all) if order_all is not None else None
            terms = (labels, stage, gids, tcfg.lambda_rank, fams, order, tcfg.lambda_order)
            if ddp is None:
                loss, parts = lpf_loss(heads, tokens, mask, y_all[idx], *terms)
            else:  # each rank runs its slice of the batch, then the whole batch's loss
                loss, parts = ddp(tokens, mask, y_all[idx], *terms)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            for k, v in parts.items():
                sums[k] = sums.get(k, 0.0) + float(v.detach()) / steps
        row = {"epoch": epoch + 1, **{f"loss_{k}": v for k, v in sums.items()}}
        if val is not None and len(val) >= 3:
            row.update(world.broadcast(_validate(heads, val) if world.is_main else None))
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
