"""LPF's three losses, computed in parallel on one batch.

* regression: L1 between the DaQRN score and the normalised MOS;
* category (sample level): cross-entropy over K quality classes binned at training quantiles;
* comparison (batch level): every pair (i, j), i < j, of the batch; L1 between the predicted
  and the true normalised gap. B images give B(B-1)/2 pairs: the paper's augmentation.

Optional terms: within-photo ranking on label gaps (``lambda_rank``), the known level order
(``lambda_order``, see :func:`order_pairs`) and the diagnosis (multi-label BCE per family).
"""

from __future__ import annotations

import numpy as np
import torch
from torch.nn import functional as F

from ..models.lpf import LPFHeads

__all__ = ["ORDER_TEMPERATURE", "LossParts", "OrderInfo", "batch_loss", "bin_labels", "lpf_loss", "order_pairs",
           "quantile_bins"]

LossParts = dict[str, torch.Tensor]
OrderInfo = tuple[torch.Tensor, torch.Tensor, torch.Tensor]  # (scene id, single-type id or -1, level or -1), (B,)
# Width, in unit score (0-1), of the soft margin of the order loss: a pair ordered by more than a few
# times this stops pulling, so the term orders levels without stretching the score scale.
ORDER_TEMPERATURE = 0.05


def quantile_bins(y: np.ndarray, k: int) -> np.ndarray:
    """Inner edges (k - 1) that split ``y`` into k classes of (about) equal size.

    Example:
        >>> quantile_bins(np.arange(8.0), 4).round(6).tolist()
        [1.75, 3.5, 5.25]
    """
    return np.quantile(np.asarray(y, dtype=np.float64), np.arange(1, k) / k)


def bin_labels(y: np.ndarray | torch.Tensor, edges: np.ndarray) -> torch.Tensor:
    """Class index of each value (0 = worst quality, k - 1 = best).

    Example:
        >>> bin_labels(np.array([0.0, 2.0, 9.0]), np.array([1.0, 5.0])).tolist()
        [0, 1, 2]
    """
    y = torch.as_tensor(y, dtype=torch.float64)
    return torch.bucketize(y, torch.as_tensor(edges, dtype=torch.float64), right=True)


def order_pairs(scene: torch.Tensor, dist_type: torch.Tensor,
                level: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Pairs of a batch whose quality order is known: (better, worse) index tensors.

    Known: the same scene (photo and view) and either the same distortion type at two different
    levels (the higher level is worse), or the clean image (level 0) and any distorted version
    of it (level >= 1, chains included). Other pairs say nothing about order.

    Args:
        scene: (B,) scene id of each image.
        dist_type: (B,) id of its single distortion type; -1 for clean, chained or unknown.
        level: (B,) distortion level, 0 = clean; -1 = unknown.

    Example:
        >>> scene = torch.tensor([0, 0, 0, 0, 1])
        >>> dist_type = torch.tensor([-1, 5, 5, 7, 5])
        >>> level = torch.tensor([0, 1, 3, 2, 2])
        >>> better, worse = order_pairs(scene, dist_type, level)
        >>> list(zip(better.tolist(), worse.tolist()))
        [(0, 1), (0, 2), (0, 3), (1, 2)]
    """
    i, j = torch.triu_indices(len(scene), len(scene), offset=1)
    li, lj = level[i], level[j]
    graded = (dist_type[i] == dist_type[j]) & (dist_type[i] >= 0) & (li >= 1) & (lj >= 1) & (li != lj)
    clean = ((li == 0) & (lj >= 1)) | ((lj == 0) & (li >= 1))
    keep = (scene[i] == scene[j]) & (graded | clean)
    i, j = i[keep], j[keep]
    i_better = level[i] < level[j]  # in both cases the lower level (0 = clean) is the better image
    return torch.where(i_better, i, j), torch.where(i_better, j, i)


def lpf_loss(heads: LPFHeads, tokens: torch.Tensor, mask: torch.Tensor | None, y: torch.Tensor,
             labels: torch.Tensor | None, stage: str = "all", groups: torch.Tensor | None = None,
             lambda_rank: float = 0.0, families: torch.Tensor | None = None, order: OrderInfo | None = None,
             lambda_order: float = 0.0) -> tuple[torch.Tensor, LossParts]:
    """Total loss and its parts for a batch.

    Args:
        heads: the model being trained.
        tokens: (B, N, C) token features; mask: (B, N) True where a token is real.
        y: (B,) normalised targets in [0, 1], higher = better.
        labels: (B,) class indices for the category task (None if it is off).
        stage: ``"all"`` (LPF: the three losses together), or, for the two-stage baseline,
            ``"aux"`` (only the auxiliary tasks) or ``"reg"`` (only the regression).
        groups: (B,) integer content group of each image (for the within-content ranking term).
        lambda_rank: weight of that term (0: off); it trains DaQRN, so it joins the regression loss.
        families: (B, F) multi-hot family targets for the diagnosis head; NaN rows are unknown
            and left out (None: no diagnosis loss).
        order: (scene, type, level) of each image for the known-order term (see :func:`order_pairs`).
        lambda_order: weight of that term (0: off): a logistic loss with a soft margin of
            :data:`ORDER_TEMPERATURE` on the score difference of every known-order pair, in the
            known direction; it trains DaQRN, so it joins the regression loss.
    """
    return batch_loss(heads, heads(tokens, mask), y, labels, stage, groups, lambda_rank, families, order,
                      lambda_order)


def batch_loss(heads: LPFHeads, out: dict[str, torch.Tensor], y: torch.Tensor, labels: torch.Tensor | None,
               stage: str = "all", groups: torch.Tensor | None = None, lambda_rank: float = 0.0,
               families: torch.Tensor | None = None, order: OrderInfo | None = None,
               lambda_order: float = 0.0) -> tuple[torch.Tensor, LossParts]:
    """:func:`lpf_loss` from the heads' outputs for the batch (``score``, ``g`` and the logits it uses).

    Several processes each run the heads on a slice and gather the outputs of the whole batch
    (:func:`lpfiqa.training.distributed.gather_batch`) before this: the comparison head runs here,
    on every pair of the whole batch.
    """
    cfg = heads.cfg
    parts: LossParts = {"reg": F.l1_loss(out["score"], y)}
    aux = torch.zeros((), dtype=y.dtype)
    if heads.category is not None and labels is not None:
        parts["cat"] = F.cross_entropy(out["logits"], labels)
        aux = aux + cfg.lambda_cat * parts["cat"]
    i, j = torch.triu_indices(len(y), len(y), offset=1)  # every pair of the batch, i < j
    if heads.compare is not None and len(y) > 1:
        gap = heads.compare(out["g"][i], out["g"][j])
        parts["cmp"] = F.l1_loss(gap, y[i] - y[j])
        aux = aux + cfg.lambda_cmp * parts["cmp"]
    reg = parts["reg"]
    if lambda_rank > 0 and groups is not None:
        same = groups[i] == groups[j]
        if bool(same.any()):
            a, b = i[same], j[same]
            parts["rank"] = F.l1_loss(out["score"][a] - out["score"][b], y[a] - y[b])
            reg = reg + lambda_rank * parts["rank"]
    if lambda_order > 0 and order is not None:
        better, worse = order_pairs(*order)
        if len(better):
            d = (out["score"][better] - out["score"][worse]) / ORDER_TEMPERATURE
            parts["order"] = ORDER_TEMPERATURE * F.softplus(-d).mean()
            reg = reg + lambda_order * parts["order"]
    if heads.diagnosis is not None and families is not None:
        known = ~torch.isnan(families).any(1)
        if bool(known.any()):
            parts["diag"] = F.binary_cross_entropy_with_logits(out["diag_logits"][known], families[known])
            aux = aux + cfg.lambda_diag * parts["diag"]
    total = {"all": reg + aux, "aux": aux, "reg": reg}[stage]
    parts["total"] = total
    return total, parts
