"""Input validation and the numerics shared by every metric of :mod:`lpfiqa.metrics`.

Each metric's ``_x_update`` calls :func:`_check_pair`; the conventions it enforces (1-D,
equal length, at least :data:`MIN_ITEMS` finite values, constant input -> ``nan`` with a
:class:`ConstantInputWarning`) are described in :mod:`lpfiqa.metrics`.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

#: Smallest number of (pred, mos) pairs any metric accepts.
MIN_ITEMS = 3


class ConstantInputWarning(UserWarning):
    """An input is constant, so a correlation is undefined and ``nan`` is returned."""


# --------------------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------------------


def _to_1d(x: Any, name: str) -> np.ndarray:
    """Convert ``x`` to a finite float64 1-D array or raise ``ValueError`` naming it."""
    if hasattr(x, "detach") and hasattr(x, "cpu"):  # torch.Tensor, without importing torch
        x = x.detach().cpu().numpy()
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a sequence of numbers, got {type(x).__name__}: {exc}") from exc
    if arr.ndim != 1:
        if arr.ndim == 0:
            raise ValueError(f"{name} must be 1-D, got a scalar")
        if sum(s > 1 for s in arr.shape) > 1:
            raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
        arr = arr.reshape(-1)  # (N, 1) or (1, N): unambiguous, flatten
    return arr


def _check_pair(pred: Any, mos: Any) -> tuple[np.ndarray, np.ndarray]:
    """Shared validation of every metric's ``_x_update``."""
    p = _to_1d(pred, "pred")
    m = _to_1d(mos, "mos")
    if p.shape[0] != m.shape[0]:
        raise ValueError(
            f"pred and mos must have the same length, got pred={p.shape[0]} and mos={m.shape[0]}"
        )
    for arr, name in ((p, "pred"), (m, "mos")):
        if arr.shape[0] < MIN_ITEMS:
            raise ValueError(f"{name} has {arr.shape[0]} item(s); at least {MIN_ITEMS} are needed")
        bad = ~np.isfinite(arr)
        if bad.any():
            first = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"{name} contains {int(bad.sum())} NaN/inf value(s) (first at index {first}); "
                "remove or fix them before evaluating"
            )
    return p, m


def _is_constant(x: np.ndarray) -> bool:
    # ptp == 0 is exact; a relative test would call nearly-constant data constant,
    # and such data still has a defined (if noisy) correlation.
    return bool(np.ptp(x) == 0.0)


def _warn_constant(p: np.ndarray, m: np.ndarray, what: str) -> bool:
    """Warn and return True when either input is constant (correlation undefined)."""
    names = [n for n, a in (("pred", p), ("mos", m)) if _is_constant(a)]
    if names:
        warnings.warn(
            f"{' and '.join(names)} is constant; {what} is undefined and nan is returned",
            ConstantInputWarning,
            stacklevel=3,
        )
        return True
    return False


def _pearson(p: np.ndarray, m: np.ndarray) -> float:
    pc = p - p.mean()
    mc = m - m.mean()
    denom = math.sqrt(float(pc @ pc) * float(mc @ mc))
    if denom == 0.0:
        return float("nan")
    # rounding can push |r| a hair above 1
    return float(np.clip(float(pc @ mc) / denom, -1.0, 1.0))
