"""The VQEG monotonic logistic map from predictions onto the subjective scale.

* 4 parameters: ``(b1 - b2) / (1 + exp(-(x - b3) / |b4|)) + b2``
* 5 parameters: ``b1 * (0.5 - 1 / (1 + exp(b2 * (x - b3)))) + b4 * x + b5``

See :mod:`lpfiqa.metrics` for why PLCC and RMSE are reported after this map.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import optimize, special

from ._validate import _check_pair, _is_constant, _pearson


class FitWarning(UserWarning):
    """A logistic fit failed or was degenerate, so the least-squares line was used."""


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
        >>> bad.ok, bad.kind, tuple(round(p, 6) + 0.0 for p in bad.params)
        (False, 'linear', (0.0, 2.5))
    """
    p, m = _logistic_update(pred, mos, params)
    return _logistic_compute(p, m, params, maxfev)
