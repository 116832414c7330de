"""Agreement between predicted quality and subjective scores (MOS / DMOS).

The four numbers every IQA paper reports:

* **SRCC** – Spearman rank-order correlation (monotonicity),
* **KRCC** – Kendall rank correlation, tau-b (monotonicity, robust to ties),
* **PLCC** – Pearson linear correlation (linearity / accuracy),
* **RMSE** – root-mean-square error (accuracy, in the subjective unit).

PLCC and RMSE are normally reported *after* a monotonic non-linear mapping of the
predictions onto the subjective scale (VQEG, "Final report from the Video Quality
Experts Group on the validation of objective models of video quality assessment",
Phase I, 2000; Sheikh, Sabir & Bovik, "A statistical evaluation of recent full
reference image quality assessment algorithms", IEEE TIP 15(11), 2006).
:func:`logistic_fit` provides the two usual mappings:

* 4 parameters: ``(b1 - b2) / (1 + exp(-(x - b3) / |b4|)) + b2``
* 5 parameters: ``b1 * (0.5 - 1 / (1 + exp(b2 * (x - b3)))) + b4 * x + b5``

The code follows the torchmetrics layout: a private ``_x_update`` validates and
converts the inputs, a private ``_x_compute`` does the maths, and the public
function calls both.

Conventions (chosen once, used everywhere):

* Inputs are 1-D sequences of equal length (lists, tuples, numpy arrays, torch
  tensors; an ``(N, 1)`` or ``(1, N)`` array is flattened). Anything else raises
  :class:`ValueError` naming the argument (``pred`` or ``mos``).
* At least 3 items are required and every value must be finite; NaN/inf raise
  :class:`ValueError` rather than being dropped, because silently evaluating on a
  subset makes numbers incomparable.
* A **constant** input is *not* an error: the correlation is undefined, so the
  correlation functions return ``nan`` and emit a :class:`ConstantInputWarning`
  (like :func:`scipy.stats.pearsonr`). A model that collapsed to one output is a
  legitimate, if bad, state during training, and a validation loop should not crash
  on it. RMSE stays defined.
* Every public function returns plain Python ``float`` s.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from scipy import optimize, special, stats

__all__ = [
    "ConstantInputWarning",
    "FitWarning",
    "LogisticFit",
    "evaluate",
    "krcc",
    "logistic_fit",
    "plcc",
    "rmse",
    "srcc",
]

FitKind = Literal["none", "logistic4", "logistic5"]

#: Smallest number of (pred, mos) pairs any metric accepts.
MIN_ITEMS = 3


class ConstantInputWarning(UserWarning):
    """An input is constant, so a correlation is undefined and ``nan`` is returned."""


class FitWarning(UserWarning):
    """A logistic fit failed or was degenerate, so the least-squares line was used."""


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
        >>> srcc([1, 2, 3, 4], [10, 20, 40, 30])
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
# logistic fit
# --------------------------------------------------------------------------------------


def _logistic4(x: np.ndarray, b1: float, b2: float, b3: float, b4: float) -> np.ndarray:
    # expit is the overflow-free 1 / (1 + exp(-z)); the tiny constant keeps |b4| > 0.
    return (b1 - b2) * special.expit((x - b3) / (abs(b4) + 1e-12)) + b2


def _logistic5(x: np.ndarray, b1: float, b2: float, b3: float, b4: float, b5: float) -> np.ndarray:
    # 1 / (1 + exp(b2 (x - b3))) == expit(-b2 (x - b3))
    return b1 * (0.5 - special.expit(-b2 * (x - b3))) + b4 * x + b5


@dataclass(frozen=True)
class LogisticFit:
    """A fitted monotonic map from predictions to the subjective scale.

    Call it on predictions to map them: ``fit(pred)``.

    Attributes:
        kind: The map actually used: ``"logistic4"``, ``"logistic5"``, or the
            fallback ``"linear"`` (least-squares ``a * x + b``, params ``(a, b)``).
        params: Parameters of ``kind`` in the original units (``b1..b4`` or
            ``b1..b5`` in the VQEG formulas of the module docstring).
        ok: ``True`` when the requested logistic was fitted successfully.
        reason: Why the fallback was used; empty when ``ok``.
        requested: 4 or 5, the number of parameters asked for.
        sse: Sum of squared residuals of the map on the fitted data.
    """

    kind: str
    params: tuple[float, ...]
    ok: bool
    reason: str = ""
    requested: int = 4
    sse: float = float("nan")

    def __call__(self, x: Any) -> np.ndarray:
        """Map predictions ``x`` (any array-like) onto the subjective scale."""
        if hasattr(x, "detach") and hasattr(x, "cpu"):
            x = x.detach().cpu().numpy()
        xs = np.asarray(x, dtype=np.float64)
        if self.kind == "logistic4":
            return _logistic4(xs, *self.params)
        if self.kind == "logistic5":
            return _logistic5(xs, *self.params)
        a, b = self.params  # "linear"
        return a * xs + b


def _logistic_update(pred: Any, mos: Any, params: int) -> tuple[np.ndarray, np.ndarray]:
    if params not in (4, 5):
        raise ValueError(f"params must be 4 or 5, got {params!r}")
    return _check_pair(pred, mos)


def _fallback(p: np.ndarray, m: np.ndarray, requested: int, reason: str) -> LogisticFit:
    """The least-squares line ``a * pred + b``, used when no logistic can be fitted.

    A linear map keeps PLCC unchanged (up to sign) and puts RMSE into MOS units,
    which is the best a failed non-linear fit can honestly offer. For a constant
    ``pred`` the line degenerates to ``a = 0, b = mean(mos)``: the best constant
    predictor, so RMSE becomes the spread of ``mos`` instead of depending on the
    arbitrary unit of ``pred`` (as the identity map would).
    """
    if _is_constant(p):
        a, b = 0.0, float(m.mean())
        reason += "; mapped to the mean of mos"
    else:
        a, b = (float(v) for v in np.polyfit(p, m, 1))
        reason += "; linear map used"
    sse = float(((a * p + b - m) ** 2).sum())
    return LogisticFit("linear", (a, b), False, reason, requested, sse)


def _logistic_compute(p: np.ndarray, m: np.ndarray, params: int, maxfev: int) -> LogisticFit:
    if _is_constant(p) or _is_constant(m):
        which = "pred" if _is_constant(p) else "mos"
        return _fallback(p, m, params, f"{which} is constant, a logistic is undetermined")
    if np.unique(p).size < params:
        return _fallback(p, m, params, f"pred has fewer than {params} distinct values")

    # Fit in standardised units so one set of initial values works for any scale
    # (scores in [0, 1], MOS in [1, 5] or DMOS in [0, 100] alike), then convert the
    # parameters back; see the formulas below.
    mx, sx = float(p.mean()), float(p.std())
    my, sy = float(m.mean()), float(m.std())
    x = (p - mx) / sx
    y = (m - my) / sy
    sign = 1.0 if _pearson(x, y) >= 0 else -1.0
    lo, hi = float(y.min()), float(y.max())

    if params == 4:
        fn: Callable[..., np.ndarray] = _logistic4
        top, bottom = (hi, lo) if sign > 0 else (lo, hi)
        # Several slopes: a steep and a shallow start converge to different local
        # minima on strongly saturated data; the best SSE wins.
        inits = [[top, bottom, float(np.median(x)), s] for s in (1.0, 0.3, 3.0)]
    else:
        fn = _logistic5
        inits = [[sign * (hi - lo), s, float(np.median(x)), 0.0, 0.0] for s in (1.0, 3.0, 0.3)]

    best: tuple[float, np.ndarray] | None = None
    errors: list[str] = []
    for p0 in inits:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optimize.OptimizeWarning)
                warnings.simplefilter("ignore", RuntimeWarning)
                c, _ = optimize.curve_fit(fn, x, y, p0=p0, maxfev=maxfev)
        except (RuntimeError, ValueError, TypeError, np.linalg.LinAlgError) as exc:
            errors.append(str(exc).splitlines()[0])
            continue
        if not np.all(np.isfinite(c)):
            errors.append("non-finite parameters")
            continue
        sse = float(((fn(x, *c) - y) ** 2).sum())
        if np.isfinite(sse) and (best is None or sse < best[0]):
            best = (sse, c)
    if best is None:
        return _fallback(p, m, params, "curve_fit failed (" + "; ".join(errors) + ")")

    c = best[1]
    if params == 4:
        c1, c2, c3, c4 = c
        b = (sy * c1 + my, sy * c2 + my, mx + sx * c3, sx * abs(c4))
    else:
        c1, c2, c3, c4, c5 = c
        b = (sy * c1, c2 / sx, mx + sx * c3, sy * c4 / sx, sy * (c5 - c4 * mx / sx) + my)
    b = tuple(float(v) for v in b)
    mapped = fn(p, *b)
    if not np.all(np.isfinite(mapped)):
        return _fallback(p, m, params, "the fitted curve is not finite on the data")
    if _is_constant(mapped) or float(np.std(mapped)) <= 1e-12 * max(1.0, float(np.abs(m).max())):
        return _fallback(p, m, params, "the fitted curve is flat on the data (degenerate fit)")
    sse = float(((mapped - m) ** 2).sum())
    a_lin, b_lin = np.polyfit(p, m, 1)
    sse_lin = float(((a_lin * p + b_lin - m) ** 2).sum())
    # A converged logistic is at least as good as a line (the 5-parameter form
    # contains it; the 4-parameter one approaches it). Worse means a bad local
    # minimum, and reporting it would understate the model.
    if sse > sse_lin * (1.0 + 1e-6) + 1e-12:
        return _fallback(p, m, params, "the logistic fit converged to a worse solution than a line")
    return LogisticFit(f"logistic{params}", b, True, "", params, sse)


def logistic_fit(pred: Any, mos: Any, params: int = 4, *, maxfev: int = 20000) -> LogisticFit:
    """Fit the VQEG 4- or 5-parameter logistic from ``pred`` to ``mos``.

    The fit runs on standardised data from a few data-driven starting points
    (top/bottom asymptotes from the MOS range, centre at the median prediction,
    direction from the sign of the correlation) with
    :func:`scipy.optimize.curve_fit` (Levenberg-Marquardt), and keeps the best.

    Fallback: when every start fails, the result is not finite, the curve is flat
    on the data, an input is constant, or the fit is worse than a straight line,
    the least-squares line is returned instead (for a constant ``pred``, the
    constant ``mean(mos)``), with ``kind="linear"``, ``ok=False`` and the
    ``reason``. A fallback never raises, so an
    evaluation loop always gets numbers; check ``fit.ok`` when it matters.

    Args:
        pred: Predicted scores, 1-D.
        mos: Subjective scores, same length.
        params: 4 or 5.
        maxfev: Maximum function evaluations per start, passed to ``curve_fit``.

    Returns:
        A :class:`LogisticFit`; call it on predictions to map them.

    Raises:
        ValueError: For ``params`` other than 4/5, or invalid inputs (as
            :func:`srcc`).

    Example:
        >>> import numpy as np
        >>> x = np.linspace(-3, 3, 50)
        >>> y = (5 - 1) / (1 + np.exp(-(x - 0.5) / 0.7)) + 1
        >>> fit = logistic_fit(x, y, params=4)
        >>> fit.ok, [round(b, 3) for b in fit.params]
        (True, [5.0, 1.0, 0.5, 0.7])
        >>> bad = logistic_fit([1, 1, 1, 1], [1, 2, 3, 4])
        >>> bad.ok, bad.kind, bad.params
        (False, 'linear', (0.0, 2.5))
    """
    p, m = _logistic_update(pred, mos, params)
    return _logistic_compute(p, m, params, maxfev)


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
        >>> rmse([1, 2, 3], [1, 2, 5])
        1.1547005383792515
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
        >>> r["srcc"], r["n"]
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
