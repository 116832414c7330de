"""SRCC, KRCC, PLCC and RMSE, and :func:`evaluate`, which reports them all at once.

Conventions (inputs, constant data, return types) are those of :mod:`lpfiqa.metrics`.
"""

from __future__ import annotations

import warnings
from typing import Any, Literal

import numpy as np
from scipy import stats

from ._validate import ConstantInputWarning, _check_pair, _is_constant, _pearson, _warn_constant
from .logistic import FitWarning, _logistic_compute

FitKind = Literal["none", "logistic4", "logistic5"]


# --------------------------------------------------------------------------------------
# SRCC
# --------------------------------------------------------------------------------------


def _srcc_update(pred: Any, mos: Any) -> tuple[np.ndarray, np.ndarray]:
    return _check_pair(pred, mos)


def _srcc_compute(p: np.ndarray, m: np.ndarray) -> float:
    if _warn_constant(p, m, "SRCC"):
        return float("nan")
    # Pearson on average ranks == scipy.stats.spearmanr, ties included.
    return _pearson(stats.rankdata(p), stats.rankdata(m))


def srcc(pred: Any, mos: Any) -> float:
    """Spearman rank-order correlation coefficient.

    Ties get average ranks, so the result equals :func:`scipy.stats.spearmanr`.
    The sign is kept: a model that predicts *quality* scored against DMOS gives a
    negative SRCC.

    Args:
        pred: Predicted scores, 1-D (list, numpy array or torch tensor).
        mos: Subjective scores of the same images, same length.

    Returns:
        SRCC in [-1, 1], or ``nan`` (with :class:`ConstantInputWarning`) when an
        input is constant.

    Raises:
        ValueError: Naming ``pred`` or ``mos`` for different lengths, fewer than 3
            items, NaN/inf values or a non-1-D shape.

    Example:
        >>> round(srcc([1, 2, 3, 4], [10, 20, 40, 30]), 6)
        0.8
    """
    p, m = _srcc_update(pred, mos)
    return _srcc_compute(p, m)


# --------------------------------------------------------------------------------------
# KRCC
# --------------------------------------------------------------------------------------


def _krcc_update(pred: Any, mos: Any) -> tuple[np.ndarray, np.ndarray]:
    return _check_pair(pred, mos)


def _krcc_compute(p: np.ndarray, m: np.ndarray) -> float:
    if _warn_constant(p, m, "KRCC"):
        return float("nan")
    # tau-b: the tie-corrected variant, O(n log n) in scipy.
    return float(stats.kendalltau(p, m, variant="b").statistic)


def krcc(pred: Any, mos: Any) -> float:
    """Kendall rank correlation coefficient, tau-b (tie-corrected).

    Args:
        pred: Predicted scores, 1-D.
        mos: Subjective scores, same length.

    Returns:
        KRCC in [-1, 1], or ``nan`` (with :class:`ConstantInputWarning`) when an
        input is constant.

    Raises:
        ValueError: As :func:`srcc`.

    Example:
        >>> round(krcc([1, 2, 3, 4], [10, 20, 40, 30]), 4)
        0.6667
    """
    p, m = _krcc_update(pred, mos)
    return _krcc_compute(p, m)


# --------------------------------------------------------------------------------------
# PLCC / RMSE
# --------------------------------------------------------------------------------------

_FITS = {"none": 0, "logistic4": 4, "logistic5": 5}


def _fit_update(pred: Any, mos: Any, fit: str) -> tuple[np.ndarray, np.ndarray]:
    if fit not in _FITS:
        raise ValueError(f"fit must be one of {sorted(_FITS)}, got {fit!r}")
    return _check_pair(pred, mos)


def _map(p: np.ndarray, m: np.ndarray, fit: str) -> np.ndarray:
    if fit == "none":
        return p
    f = _logistic_compute(p, m, _FITS[fit], 20000)
    if not f.ok:
        warnings.warn(f"{fit} fit not used: {f.reason}", FitWarning, stacklevel=4)
    return f(p)


def _plcc_update(pred: Any, mos: Any, fit: str) -> tuple[np.ndarray, np.ndarray]:
    return _fit_update(pred, mos, fit)


def _plcc_compute(p: np.ndarray, m: np.ndarray, fit: str = "none") -> float:
    if _warn_constant(p, m, "PLCC"):
        return float("nan")
    q = _map(p, m, fit)
    if _is_constant(q):
        warnings.warn("the mapped predictions are constant; PLCC is nan", ConstantInputWarning, stacklevel=3)
        return float("nan")
    return _pearson(q, m)


def plcc(pred: Any, mos: Any, fit: FitKind = "none") -> float:
    """Pearson linear correlation coefficient, optionally after a logistic map.

    Args:
        pred: Predicted scores, 1-D.
        mos: Subjective scores, same length.
        fit: ``"none"`` (raw predictions), ``"logistic4"`` or ``"logistic5"``
            (map ``pred`` with :func:`logistic_fit` first, as in VQEG). A failed
            fit falls back to a linear map with a :class:`FitWarning`.

    Returns:
        PLCC in [-1, 1], or ``nan`` (with :class:`ConstantInputWarning`) when an
        input is constant.

    Raises:
        ValueError: For an unknown ``fit`` or invalid inputs (as :func:`srcc`).

    Example:
        >>> round(plcc([1, 2, 3, 4], [2, 4, 6, 8.5]), 4)
        0.9984
        >>> x, y = [1, 2, 3, 4, 5, 6, 7, 8], [1.1, 1.0, 1.6, 3.0, 3.9, 4.6, 4.5, 4.8]
        >>> round(plcc(x, y), 3), round(plcc(x, y, fit="logistic4"), 3)
        (0.959, 0.997)
    """
    p, m = _plcc_update(pred, mos, fit)
    return _plcc_compute(p, m, fit)


def _rmse_update(pred: Any, mos: Any, fit: str) -> tuple[np.ndarray, np.ndarray]:
    return _fit_update(pred, mos, fit)


def _rmse_compute(p: np.ndarray, m: np.ndarray, fit: str = "none") -> float:
    q = _map(p, m, fit)
    return float(np.sqrt(np.mean((q - m) ** 2)))


def rmse(pred: Any, mos: Any, fit: FitKind = "none") -> float:
    """Root-mean-square error, optionally after a logistic map.

    Without a fit the predictions must already be in the unit of ``mos``; with
    ``fit="logistic4"``/``"logistic5"`` they are first mapped onto it, which is
    how RMSE is reported in papers.

    Args:
        pred: Predicted scores, 1-D.
        mos: Subjective scores, same length.
        fit: ``"none"``, ``"logistic4"`` or ``"logistic5"`` (see :func:`plcc`).

    Returns:
        RMSE in the unit of ``mos`` (always defined, also for constant inputs).

    Raises:
        ValueError: For an unknown ``fit`` or invalid inputs (as :func:`srcc`).

    Example:
        >>> round(rmse([1, 2, 3], [1, 2, 5]), 6)
        1.154701
    """
    p, m = _rmse_update(pred, mos, fit)
    return _rmse_compute(p, m, fit)


# --------------------------------------------------------------------------------------
# all at once
# --------------------------------------------------------------------------------------


def evaluate(pred: Any, mos: Any) -> dict[str, float]:
    """Every metric at once: the numbers of an IQA results table.

    Each logistic is fitted once and reused for PLCC and RMSE.

    Args:
        pred: Predicted scores, 1-D.
        mos: Subjective scores, same length.

    Returns:
        ``{"srcc", "krcc", "plcc", "rmse", "plcc_l4", "rmse_l4", "plcc_l5",
        "rmse_l5", "n"}``. ``plcc``/``rmse`` use the raw predictions, ``_l4``/``_l5``
        the 4-/5-parameter logistic map; ``n`` is the number of pairs.
        Correlations are ``nan`` for constant inputs (with a warning); a failed
        logistic fit falls back to a line with a :class:`FitWarning`.

    Raises:
        ValueError: For invalid inputs (as :func:`srcc`).

    Example:
        >>> r = evaluate([0.1, 0.4, 0.35, 0.8, 0.9], [1.2, 2.5, 2.2, 4.1, 4.6])
        >>> sorted(r)
        ['krcc', 'n', 'plcc', 'plcc_l4', 'plcc_l5', 'rmse', 'rmse_l4', 'rmse_l5', 'srcc']
        >>> round(r["srcc"], 6), r["n"]
        (1.0, 5)
    """
    p, m = _check_pair(pred, mos)
    out: dict[str, float] = {
        "srcc": _srcc_compute(p, m),
        "krcc": _krcc_compute(p, m),
        "plcc": _plcc_compute(p, m, "none"),
        "rmse": _rmse_compute(p, m, "none"),
    }
    for params in (4, 5):
        f = _logistic_compute(p, m, params, 20000)
        if not f.ok:
            warnings.warn(f"logistic{params} fit not used: {f.reason}", FitWarning, stacklevel=2)
        q = f(p)
        if _is_constant(q) or _is_constant(m):
            # the constant-input warning was already given by srcc/krcc/plcc above
            out[f"plcc_l{params}"] = float("nan")
        else:
            out[f"plcc_l{params}"] = _pearson(q, m)
        out[f"rmse_l{params}"] = float(np.sqrt(np.mean((q - m) ** 2)))
    out["n"] = int(p.shape[0])
    return out
