"""LPF's three losses, computed in parallel on one batch.

* regression: L1 between the DaQRN score and the normalised MOS;
* category (sample level): cross-entropy over K quality classes binned at training quantiles;
* comparison (batch level): every pair (i, j), i < j, of the batch; L1 between the predicted
  and the true normalised gap. B images give B(B-1)/2 pairs: the paper's augmentation.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.nn import functional as F

from ..models.lpf import LPFHeads

__all__ = ["LossParts", "lpf_loss", "quantile_bins", "bin_labels"]

LossParts = dict[str, torch.Tensor]


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


def lpf_loss(heads: LPFHeads, tokens: torch.Tensor, mask: torch.Tensor | None, y: torch.Tensor,
             labels: torch.Tensor | None, stage: str = "all", groups: torch.Tensor | None = None,
             lambda_rank: float = 0.0) -> tuple[torch.Tensor, LossParts]:
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
    """
    cfg = heads.cfg
    out = heads(tokens, mask)
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
    total = {"all": reg + aux, "aux": aux, "reg": reg}[stage]
    parts["total"] = total
    return total, parts
