"""Regressors of the "features + regressor" baselines: scikit-learn's, behind the project's names.

* :func:`fit_svr`: epsilon-SVR with an RBF kernel (:class:`sklearn.svm.SVR`, i.e. LIBSVM: C.-C.
  Chang, C.-J. Lin, "LIBSVM: A Library for Support Vector Machines", ACM TIST 2011), the
  regressor of BRISQUE (Mittal et al., IEEE TIP 2012) and of most hand-crafted NR-IQA baselines.
* :func:`fit_ridge`: ridge regression (:class:`sklearn.linear_model.Ridge`), intercept not penalised.

Both standardise the features first (a :class:`~sklearn.preprocessing.StandardScaler` in one
:class:`~sklearn.pipeline.Pipeline`, so the training mean and std travel with the model and a
constant feature stays 0). :func:`grid_search_cv` is :class:`~sklearn.model_selection.GridSearchCV`
over :class:`~sklearn.model_selection.GroupKFold` folds of the data it is given, which must be the
TRAINING split only (groups = source photo, so that no scene is on both sides of a fold); the test
split is scored once, afterwards, by the caller.

The returned :class:`SVRModel` / :class:`RidgeModel` wrap the fitted pipeline (``.pipeline``) and
expose the figures the project reads (support vectors, coefficients, chosen hyper-parameters).
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.stats import pearsonr, spearmanr
from sklearn.linear_model import Ridge
from sklearn.metrics import make_scorer
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVR

__all__ = [
    "GridSearchResult",
    "RidgeModel",
    "SVRModel",
    "fit_ridge",
    "fit_svr",
    "grid_search_cv",
    "group_kfold",
]


def _check_xy(X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    # our own check: sklearn's messages for NaN inputs run over several lines
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    if X.ndim != 2 or len(X) != len(y) or len(y) < 2:
        raise ValueError(f"need X (n, d) and y (n,) with n >= 2, got {X.shape} and {y.shape}")
    if not (np.isfinite(X).all() and np.isfinite(y).all()):
        raise ValueError("X and y must be finite (drop or impute NaN features first)")
    return X, y


def _gamma(gamma: float | str, d: int) -> float:
    # "scale" is 1/d here, not sklearn's 1/(d var(X)): the features are standardised, and a
    # constant feature (variance 0) must not widen the kernel of the others
    g = 1.0 / d if gamma == "scale" else float(gamma)
    if not g > 0:
        raise ValueError(f"gamma must be > 0 or 'scale', got {gamma!r}")
    return g


def _svr_pipeline(C: float, gamma: float, epsilon: float, tol: float, max_iter: int) -> Pipeline:
    if not (C > 0 and epsilon >= 0):
        raise ValueError(f"need C > 0 and epsilon >= 0, got C={C}, epsilon={epsilon}")
    svr = SVR(kernel="rbf", C=float(C), gamma=gamma, epsilon=float(epsilon), tol=tol, max_iter=max_iter)
    return Pipeline([("scale", StandardScaler()), ("svr", svr)])


def _ridge_pipeline(alpha: float) -> Pipeline:
    if not alpha >= 0:
        raise ValueError(f"alpha must be >= 0, got {alpha}")
    return Pipeline([("scale", StandardScaler()), ("ridge", Ridge(alpha=float(alpha)))])


@dataclass
class _StandardisedModel:
    """A fitted ``StandardScaler`` + regressor pipeline: prediction and the scaler's statistics."""

    pipeline: Pipeline

    def predict(self, X: Any) -> np.ndarray:
        """Predict (n,) scores for (n, d) features."""
        return self.pipeline.predict(np.asarray(X, dtype=np.float64))

    @property
    def x_mean(self) -> np.ndarray:
        return self.pipeline.named_steps["scale"].mean_

    @property
    def x_scale(self) -> np.ndarray:
        return self.pipeline.named_steps["scale"].scale_


@dataclass
class SVRModel(_StandardisedModel):
    """A fitted epsilon-SVR: f(x) = sum_i coef_i exp(-gamma |z_i - z|^2) + intercept, z standardised.

    Attributes:
        pipeline: The fitted ``StandardScaler`` + ``SVR`` pipeline.
    """

    @property
    def svr(self) -> SVR:
        return self.pipeline.named_steps["svr"]

    @property
    def C(self) -> float:  # noqa: N802 - the field's name for it
        return float(self.svr.C)

    @property
    def gamma(self) -> float:
        return float(self.svr.gamma)

    @property
    def epsilon(self) -> float:
        return float(self.svr.epsilon)

    @property
    def support(self) -> np.ndarray:
        """(n_sv,) row indices of the support vectors in the training X."""
        return self.svr.support_

    @property
    def support_vectors(self) -> np.ndarray:
        """(n_sv, d) support vectors, standardised."""
        return self.svr.support_vectors_

    @property
    def dual_coef(self) -> np.ndarray:
        """(n_sv,) alpha - alpha*, in [-C, C], summing to 0."""
        return self.svr.dual_coef_[0]

    @property
    def intercept(self) -> float:
        return float(self.svr.intercept_[0])

    @property
    def n_iter(self) -> int:
        return int(np.sum(self.svr.n_iter_))


@dataclass
class RidgeModel(_StandardisedModel):
    """A fitted ridge regression on standardised features.

    Attributes:
        pipeline: The fitted ``StandardScaler`` + ``Ridge`` pipeline.
    """

    @property
    def ridge(self) -> Ridge:
        return self.pipeline.named_steps["ridge"]

    @property
    def coef(self) -> np.ndarray:
        """(d,) weights of the standardised features."""
        return self.ridge.coef_

    @property
    def intercept(self) -> float:
        return float(self.ridge.intercept_)

    @property
    def alpha(self) -> float:
        return float(self.ridge.alpha)


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
        max_iter: Solver iteration cap (-1: none); sklearn warns when it is hit.

    Returns:
        The fitted :class:`SVRModel`.

    Raises:
        ValueError: Shapes that do not match, non-finite values, or parameters out of range.

    Example:
        >>> x = np.linspace(0, 6, 60)[:, None]
        >>> m = fit_svr(x, np.sin(x[:, 0]), C=10.0, gamma=1.0, epsilon=0.05)
        >>> float(np.abs(m.predict(x) - np.sin(x[:, 0])).max()) < 0.1
        True
    """
    X, y = _check_xy(X, y)
    return SVRModel(_svr_pipeline(C, _gamma(gamma, X.shape[1]), epsilon, tol, max_iter).fit(X, y))


def fit_ridge(X: Any, y: Any, alpha: float = 1.0) -> RidgeModel:
    """Ridge regression on standardised features; the intercept is not penalised.

    sklearn solves the primal normal equations when n >= d and the dual (kernel) form otherwise,
    so that wide deep features (d in the thousands) stay cheap.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(100, 3)); y = X @ [1.0, -2.0, 0.5] + 3.0
        >>> m = fit_ridge(X, y, alpha=1e-8)
        >>> bool(np.allclose(m.predict(X), y, atol=1e-6)), bool(np.isclose(m.intercept, y.mean()))  # centred z
        (True, True)
    """
    X, y = _check_xy(X, y)
    return RidgeModel(_ridge_pipeline(alpha).fit(X, y))


def group_kfold(groups: Any, n_splits: int = 5) -> list[tuple[np.ndarray, np.ndarray]]:
    """GroupKFold's folds: largest groups first, each to the currently smallest fold (deterministic).

    Returns:
        ``n_splits`` pairs ``(train_idx, val_idx)``; no group is in both parts of a pair.

    Example:
        >>> [v.tolist() for _, v in group_kfold(["a", "a", "b", "c", "c", "c"], n_splits=2)]
        [[3, 4, 5], [0, 1, 2]]
    """
    groups = np.asarray(groups)
    n_groups = len(np.unique(groups))
    if not 2 <= n_splits <= n_groups:
        raise ValueError(f"need 2 <= n_splits <= number of groups ({n_groups}), got {n_splits}")
    return list(GroupKFold(n_splits).split(np.zeros((len(groups), 1)), groups=groups))


def _correlation(fn):
    def score(y: np.ndarray, p: np.ndarray) -> float:
        if np.ptp(p) == 0 or np.ptp(y) == 0:
            return float("nan")  # undefined for a constant prediction; GridSearchCV ranks NaN last
        return float(fn(y, p)[0])

    return make_scorer(score)


_SCORING = {"srcc": _correlation(spearmanr), "plcc": _correlation(pearsonr), "rmse": "neg_root_mean_squared_error"}


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
    """Pick hyper-parameters by group k-fold cross-validation (GridSearchCV) on TRAINING data only.

    Args:
        X: (n, d) features of the training split (never pass test images here).
        y: (n,) training targets (e.g. MOS).
        groups: (n,) group label per row (source photo / reference image), so that one scene
            never lands in both a fitting fold and its validation fold.
        model: ``"svr"`` (grid over C, gamma, epsilon) or ``"ridge"`` (grid over alpha).
        param_grid: Values per parameter; defaults to a small grid (SVR: C 1/10/100, gamma
            0.5/1/2 over d, epsilon 0.1 std(y); ridge: alpha 0.01..1000). ``gamma="scale"`` is 1/d.
        n_splits: Number of folds.
        scoring: ``"srcc"``, ``"plcc"`` or ``"rmse"`` (negated). A candidate with an undefined
            fold score ranks last; ties keep the earlier candidate.
        refit: Refit the winner on all of ``X``, ``y``.

    Raises:
        ValueError: Unknown ``model``/``scoring``, non-finite inputs, or fewer groups than folds.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(60, 2)); y = X[:, 0] + 0.1 * rng.normal(size=60)
        >>> res = grid_search_cv(X, y, np.arange(60) // 5, model="ridge",
        ...                      param_grid={"alpha": [0.1, 1e4]}, n_splits=3)
        >>> res.best_params, res.best_score > 0.9
        ({'alpha': 0.1}, True)
    """
    X, y = _check_xy(X, y)
    if model not in ("svr", "ridge") or scoring not in _SCORING:
        raise ValueError(f"unknown model {model!r} or scoring {scoring!r}; use model 'svr' or 'ridge', "
                         f"scoring one of {sorted(_SCORING)}")
    d = X.shape[1]
    if param_grid is None and model == "ridge":
        param_grid = {"alpha": [0.01, 0.1, 1.0, 10.0, 100.0, 1000.0]}
    elif param_grid is None:  # gamma around 1/d; tube relative to the spread of the scores
        param_grid = {"C": [1.0, 10.0, 100.0], "gamma": [0.5 / d, 1 / d, 2 / d], "epsilon": [0.1 * float(y.std())]}
    keys = list(param_grid)
    candidates = [dict(zip(keys, v, strict=True)) for v in itertools.product(*param_grid.values())]
    if model == "svr":
        candidates = [{**c, "gamma": _gamma(c["gamma"], d)} if "gamma" in c else c for c in candidates]
        estimator = _svr_pipeline(1.0, _gamma("scale", d), 0.1, 1e-3, 1_000_000)
    else:
        estimator = _ridge_pipeline(1.0)
    # One single-point grid per candidate: sklearn's ParameterGrid would sort the keys and reorder
    # the candidates; this keeps the order given, so that a tie goes to the earlier one.
    grid = [{f"{model}__{k}": [v] for k, v in c.items()} for c in candidates]
    folds = group_kfold(groups, n_splits)  # our check of n_splits gives the one-line error
    search = GridSearchCV(estimator, grid, scoring=_SCORING[scoring], cv=folds, refit=refit, error_score="raise")
    with warnings.catch_warnings():  # a NaN fold (constant prediction) is expected and ranked last
        warnings.filterwarnings("ignore", message="One or more of the test scores are non-finite")
        search.fit(X, y)
    cv = search.cv_results_
    fold_scores = np.stack([cv[f"split{k}_test_score"] for k in range(n_splits)], axis=1)
    results = [
        {"params": p, "mean_score": float(m), "fold_scores": s.tolist()}
        for p, m, s in zip(candidates, cv["mean_test_score"], fold_scores, strict=True)
    ]
    best = int(np.argmin(cv["rank_test_score"]))  # the first of the best
    fitted = None
    if refit:
        fitted = (SVRModel if model == "svr" else RidgeModel)(search.best_estimator_)
    return GridSearchResult(dict(candidates[best]), float(cv["mean_test_score"][best]), results, fitted)
