"""Regressors for the "features + regressor" baselines, in numpy/scipy only.

* epsilon-SVR with an RBF kernel, the regressor of BRISQUE (Mittal et al., IEEE TIP 2012) and
  of most hand-crafted NR-IQA baselines. The dual is solved by SMO with the second-order working
  set selection of LIBSVM: R.-E. Fan, P.-H. Chen, C.-J. Lin, "Working Set Selection Using
  Second Order Information for Training SVM", JMLR 6, 2005; C.-C. Chang, C.-J. Lin, "LIBSVM: A
  Library for Support Vector Machines", ACM TIST 2011. Same problem, stopping rule (tol 1e-3)
  and bias as LIBSVM, without shrinking; the full kernel matrix is kept (n <= ~8,000).
* Ridge regression in closed form.

Both standardise the features with the training mean and std and store them in the model.
:func:`grid_search_cv` picks hyper-parameters by group k-fold cross-validation on the data it
is given, which must be the TRAINING split only (groups = source photo, so that no scene is in
two folds); the test split is scored once, afterwards, by the caller.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.stats import pearsonr, spearmanr

__all__ = [
    "GridSearchResult",
    "RidgeModel",
    "SVRModel",
    "fit_ridge",
    "fit_svr",
    "grid_search_cv",
    "group_kfold",
]

_TAU = 1e-12  # LIBSVM's floor for a non-positive curvature


def _standardise(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean = X.mean(axis=0)
    scale = X.std(axis=0)
    return mean, np.where(scale > 0, scale, 1.0)  # constant features stay 0, not NaN


def _check_xy(X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    if X.ndim != 2 or len(X) != len(y) or len(y) < 2:
        raise ValueError(f"need X (n, d) and y (n,) with n >= 2, got {X.shape} and {y.shape}")
    if not (np.isfinite(X).all() and np.isfinite(y).all()):
        raise ValueError("X and y must be finite (drop or impute NaN features first)")
    return X, y


def _sqdist(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    d = (A * A).sum(1)[:, None] + (B * B).sum(1)[None, :] - 2.0 * A @ B.T
    return np.maximum(d, 0.0)  # cancellation can give tiny negatives


@dataclass
class SVRModel:
    """A fitted epsilon-SVR: f(x) = sum_i coef_i exp(-gamma |z_i - z|^2) + intercept, z standardised."""

    support_vectors: np.ndarray  # (n_sv, d), standardised
    dual_coef: np.ndarray  # (n_sv,) alpha - alpha*, in [-C, C], summing to 0
    intercept: float
    gamma: float
    x_mean: np.ndarray
    x_scale: np.ndarray
    C: float
    epsilon: float
    support: np.ndarray  # (n_sv,) row indices of the support vectors in the training X
    n_iter: int = 0

    def predict(self, X: Any) -> np.ndarray:
        """Predict (n,) scores for (n, d) features."""
        Z = (np.asarray(X, dtype=np.float64) - self.x_mean) / self.x_scale
        return np.exp(-self.gamma * _sqdist(Z, self.support_vectors)) @ self.dual_coef + self.intercept


@dataclass
class RidgeModel:
    """A fitted ridge regression on standardised features."""

    coef: np.ndarray
    intercept: float
    x_mean: np.ndarray
    x_scale: np.ndarray
    alpha: float

    def predict(self, X: Any) -> np.ndarray:
        """Predict (n,) scores for (n, d) features."""
        return ((np.asarray(X, dtype=np.float64) - self.x_mean) / self.x_scale) @ self.coef + self.intercept


def _smo(K: np.ndarray, y: np.ndarray, C: float, eps: float, tol: float, max_iter: int):
    """Solve the epsilon-SVR dual (LIBSVM form, variables alpha and alpha*) by SMO with WSS2.

    Row 0 of ``a`` holds alpha (label +1), row 1 alpha* (label -1). With r = y - K beta and
    beta = alpha - alpha*, LIBSVM's -y_t grad_t is r - eps (alpha) and r + eps (alpha*).
    Returns ``(beta, b, n_iter)``, b the bias of f(x) = sum_i beta_i k(x_i, x) + b.
    """
    n = len(y)
    a = np.zeros((2, n))
    sign, off = (1.0, -1.0), (-eps, eps)
    # v + off_up is v on I_up (alpha < C or alpha* > 0) and -inf elsewhere; off_low likewise for
    # I_low (alpha > 0 or alpha* < C) with +inf. Adding beats np.where in the hot loop.
    off_up = np.array([[-eps] * n, [-np.inf] * n])
    off_low = np.array([[np.inf] * n, [eps] * n])
    r = np.array(y, dtype=np.float64)  # a copy: updated in place
    diag = np.diag(K).copy()
    vu, vl, tmp = np.empty((2, n)), np.empty((2, n)), np.empty(n)
    it = 0
    while True:
        np.add(r, off_up, out=vu)
        hi, si = divmod(int(vu.argmax()), n)
        gmax = vu[hi, si]
        np.add(r, off_low, out=vl)
        gmin = vl.min()
        if gmax - gmin < tol or it >= max_iter:
            break
        # Second-order choice of j: maximise b^2 / curvature over I_low with b = gmax - v > 0
        # (non-members have v = +inf, so b clips to 0 and they never win).
        np.multiply(K[si], -2.0, out=tmp)
        tmp += diag
        np.maximum(tmp + diag[si], _TAU, out=tmp)
        np.subtract(gmax, vl, out=vl)
        np.maximum(vl, 0.0, out=vl)
        np.square(vl, out=vl)
        np.divide(vl, tmp, out=vl)
        hj, sj = divmod(int(vl.argmax()), n)
        # Step (d alpha_i, d alpha_j) = (y_i t, -y_j t) keeps sum_t y_t alpha_t fixed; t is the
        # unconstrained optimum clipped to the box, as LIBSVM's update. beta_si += t, beta_sj -= t.
        yi, yj = sign[hi], sign[hj]
        ai, aj = a[hi, si], a[hj, sj]
        cap_i = C - ai if yi > 0 else ai
        cap_j = aj if yj > 0 else C - aj
        t = min((gmax - r[sj] - off[hj]) / max(diag[si] + diag[sj] - 2.0 * K[si, sj], _TAU), cap_i, cap_j)
        # Land exactly on a bound when clipped, so that the I_up / I_low tests stay exact.
        a[hi, si] = (C if yi > 0 else 0.0) if t == cap_i else ai + yi * t
        a[hj, sj] = (0.0 if yj > 0 else C) if t == cap_j else aj - yj * t
        for h, s_ in ((hi, si), (hj, sj)):
            in_up = a[h, s_] < C if h == 0 else a[h, s_] > 0
            in_low = a[h, s_] > 0 if h == 0 else a[h, s_] < C
            off_up[h, s_] = off[h] if in_up else -np.inf
            off_low[h, s_] = off[h] if in_low else np.inf
        np.subtract(K[si], K[sj], out=tmp)
        tmp *= t
        r -= tmp  # K is symmetric: its row is the column
        it += 1
    if it >= max_iter:
        warnings.warn(f"SVR: SMO stopped at max_iter={max_iter} before reaching tol={tol}", stacklevel=3)
    # Bias as LIBSVM: mean of v over free variables, else the middle of the feasible interval.
    free = (a > 0) & (a < C)
    v = r[None, :] + np.array([[-eps], [eps]])
    bias = float(v[free].mean()) if free.any() else float((gmax + gmin) / 2.0)
    return a[0] - a[1], bias, it


def fit_svr(
    X: Any,
    y: Any,
    C: float = 1.0,
    gamma: float | str = "scale",
    epsilon: float = 0.1,
    tol: float = 1e-3,
    max_iter: int = 1_000_000,
) -> SVRModel:
    """Fit an epsilon-SVR with RBF kernel exp(-gamma |z - z'|^2) on standardised features z.

    Args:
        X: (n, d) training features, finite.
        y: (n,) training targets.
        C: Box constraint (> 0).
        gamma: RBF width (> 0), or ``"scale"`` for 1/d (features have unit variance).
        epsilon: Half-width of the insensitive tube, in the units of ``y``.
        tol: Stopping tolerance on the maximal KKT violation (LIBSVM's ``-e``, 1e-3).
        max_iter: SMO iteration cap; a warning is issued when it is hit.

    Returns:
        The fitted :class:`SVRModel` (support vectors only).

    Example:
        >>> x = np.linspace(0, 6, 60)[:, None]
        >>> m = fit_svr(x, np.sin(x[:, 0]), C=10.0, gamma=1.0, epsilon=0.05)
        >>> float(np.abs(m.predict(x) - np.sin(x[:, 0])).max()) < 0.1
        True
    """
    X, y = _check_xy(X, y)
    mean, scale = _standardise(X)
    Z = (X - mean) / scale
    return _fit_svr_z(Z, y, _sqdist(Z, Z), mean, scale, C, gamma, epsilon, tol, max_iter)


def _fit_svr_z(Z, y, d2, mean, scale, C=1.0, gamma="scale", epsilon=0.1, tol=1e-3, max_iter=1_000_000):
    """fit_svr on already standardised features Z with their squared distances d2."""
    g = 1.0 / Z.shape[1] if gamma == "scale" else float(gamma)
    if C <= 0 or epsilon < 0 or g <= 0:
        raise ValueError(f"need C > 0, epsilon >= 0, gamma > 0; got C={C}, epsilon={epsilon}, gamma={gamma}")
    beta, b, it = _smo(np.exp(-g * d2), y, float(C), float(epsilon), tol, max_iter)
    sv = np.flatnonzero(beta)
    return SVRModel(Z[sv].copy(), beta[sv], b, g, mean, scale, float(C), float(epsilon), sv, it)


def fit_ridge(X: Any, y: Any, alpha: float = 1.0) -> RidgeModel:
    """Ridge regression on standardised features, closed form; the intercept is not penalised.

    Uses the primal normal equations when n >= d and the dual (kernel) form otherwise, so that
    wide deep features (d in the thousands) stay cheap.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(100, 3)); y = X @ [1.0, -2.0, 0.5] + 3.0
        >>> m = fit_ridge(X, y, alpha=1e-8)
        >>> bool(np.allclose(m.predict(X), y, atol=1e-6))
        True
    """
    X, y = _check_xy(X, y)
    if alpha < 0:
        raise ValueError(f"alpha must be >= 0, got {alpha}")
    mean, scale = _standardise(X)
    Z = (X - mean) / scale
    yc = y - y.mean()
    n, d = Z.shape
    if n >= d:
        coef = np.linalg.lstsq(Z.T @ Z + alpha * np.eye(d), Z.T @ yc, rcond=None)[0]
    else:
        coef = Z.T @ np.linalg.lstsq(Z @ Z.T + alpha * np.eye(n), yc, rcond=None)[0]
    return RidgeModel(coef, float(y.mean()), mean, scale, float(alpha))


def group_kfold(groups: Any, n_splits: int = 5) -> list[tuple[np.ndarray, np.ndarray]]:
    """Deterministic group k-fold: largest groups first, each to the currently smallest fold.

    Returns:
        ``n_splits`` pairs ``(train_idx, val_idx)``; no group is in both parts of a pair.

    Example:
        >>> [v.tolist() for _, v in group_kfold(["a", "a", "b", "c", "c", "c"], n_splits=2)]
        [[3, 4, 5], [0, 1, 2]]
    """
    groups = np.asarray(groups)
    uniq, inv, counts = np.unique(groups, return_inverse=True, return_counts=True)
    if len(uniq) < n_splits or n_splits < 2:
        raise ValueError(f"need 2 <= n_splits <= number of groups ({len(uniq)}), got {n_splits}")
    fold_of_group = np.empty(len(uniq), dtype=np.int64)
    sizes = np.zeros(n_splits, dtype=np.int64)
    for gi in np.argsort(-counts, kind="stable"):
        k = int(np.argmin(sizes))
        fold_of_group[gi] = k
        sizes[k] += counts[gi]
    fold = fold_of_group[inv]
    return [(np.flatnonzero(fold != k), np.flatnonzero(fold == k)) for k in range(n_splits)]


def _score(kind: str, y: np.ndarray, p: np.ndarray) -> float:
    if kind == "rmse":
        return -float(np.sqrt(np.mean((y - p) ** 2)))
    if np.ptp(p) == 0 or np.ptp(y) == 0:
        return float("nan")  # correlation undefined for a constant prediction
    fn = spearmanr if kind == "srcc" else pearsonr
    return float(fn(y, p)[0])


@dataclass
class GridSearchResult:
    """Outcome of :func:`grid_search_cv` (scores: higher is better, RMSE is negated)."""

    best_params: dict[str, Any]
    best_score: float  # mean validation score of best_params
    results: list[dict[str, Any]] = field(default_factory=list)  # params, mean_score, fold_scores
    model: SVRModel | RidgeModel | None = None  # the winner refitted on all data (if refit)


def grid_search_cv(
    X: Any,
    y: Any,
    groups: Any,
    model: str = "svr",
    param_grid: Mapping[str, Sequence[Any]] | None = None,
    n_splits: int = 5,
    scoring: str = "srcc",
    refit: bool = True,
) -> GridSearchResult:
    """Pick hyper-parameters by group k-fold cross-validation on TRAINING data only.

    Args:
        X: (n, d) features of the training split (never pass test images here).
        y: (n,) training targets (e.g. MOS).
        groups: (n,) group label per row (source photo / reference image), so that one scene
            never lands in both a fitting fold and its validation fold.
        model: ``"svr"`` (grid over C, gamma, epsilon) or ``"ridge"`` (grid over alpha).
        param_grid: Values per parameter; defaults to a small grid (SVR: C 1/10/100, gamma
            0.5/1/2 over d, epsilon 0.1 std(y); ridge: alpha 0.01..1000).
        n_splits: Number of folds.
        scoring: ``"srcc"``, ``"plcc"`` or ``"rmse"`` (negated). Folds with an undefined score
            count as the worst; ties keep the earlier candidate.
        refit: Refit the winner on all of ``X``, ``y``.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(60, 2)); y = X[:, 0] + 0.1 * rng.normal(size=60)
        >>> res = grid_search_cv(X, y, np.arange(60) // 5, model="ridge",
        ...                      param_grid={"alpha": [0.1, 1e4]}, n_splits=3)
        >>> res.best_params, res.best_score > 0.9
        ({'alpha': 0.1}, True)
    """
    X, y = _check_xy(X, y)
    if model not in ("svr", "ridge") or scoring not in ("srcc", "plcc", "rmse"):
        raise ValueError(f"unknown model {model!r} or scoring {scoring!r}")
    if param_grid is None and model == "ridge":
        param_grid = {"alpha": [0.01, 0.1, 1.0, 10.0, 100.0, 1000.0]}
    elif param_grid is None:  # gamma around 1/d; tube relative to the spread of the scores
        d = X.shape[1]
        param_grid = {
            "C": [1.0, 10.0, 100.0],
            "gamma": [0.5 / d, 1 / d, 2 / d],
            "epsilon": [0.1 * float(y.std())],
        }
    keys = list(param_grid)
    candidates = [dict(zip(keys, v, strict=True)) for v in itertools.product(*param_grid.values())]
    scores = np.full((len(candidates), n_splits), np.nan)
    for k, (tr, va) in enumerate(group_kfold(groups, n_splits)):
        if model == "svr":  # standardise and take distances once per fold, not per candidate
            mean, scale = _standardise(X[tr])
            Z = (X[tr] - mean) / scale
            d2 = _sqdist(Z, Z)
        for c, p in enumerate(candidates):
            m = _fit_svr_z(Z, y[tr], d2, mean, scale, **p) if model == "svr" else fit_ridge(X[tr], y[tr], **p)
            scores[c, k] = _score(scoring, y[va], m.predict(X[va]))
    means = np.where(np.isnan(scores), -np.inf, scores).mean(axis=1)
    best = int(np.argmax(means))
    results = [
        {"params": p, "mean_score": float(m), "fold_scores": s.tolist()}
        for p, m, s in zip(candidates, means, scores, strict=True)
    ]
    fitted = None
    if refit:
        fit = fit_ridge if model == "ridge" else fit_svr
        fitted = fit(X, y, **candidates[best])
    return GridSearchResult(dict(candidates[best]), float(means[best]), results, fitted)
