"""Classic NR-IQA baselines: BRISQUE features, NIQE, and the regressors they are paired with.

* BRISQUE: Mittal, Moorthy, Bovik, IEEE TIP 2012 -> :func:`brisque_features` (36 features),
  trained with :func:`fit_svr` on the same splits as the deep model.
* NIQE: Mittal, Soundararajan, Bovik, IEEE SPL 2013 -> :func:`fit_niqe` on the project's own
  pristine photos, then :func:`niqe` (opinion-unaware, no training on scores).
* :mod:`~lpfiqa.baselines.regressors`: RBF epsilon-SVR, ridge and group k-fold grid search, from
  scikit-learn (``SVR``, ``Ridge``, ``GridSearchCV`` with ``GroupKFold``).

The features are the project's own numpy/scipy code (no OpenCV or scikit-image), checked against
a re-implementation from the papers in tests/test_baselines.py. As protocol methods, on LPF's
splits: :mod:`lpfiqa.protocol.baselines` (``lpfiqa protocol --method brisque-svr``).
"""

from lpfiqa.baselines.brisque import BRISQUE_FEATURE_NAMES, brisque_features, brisque_features_batch
from lpfiqa.baselines.niqe import NIQEModel, fit_niqe, niqe, niqe_patch_features
from lpfiqa.baselines.regressors import (
    GridSearchResult,
    RidgeModel,
    SVRModel,
    fit_ridge,
    fit_svr,
    grid_search_cv,
    group_kfold,
)

__all__ = [
    "BRISQUE_FEATURE_NAMES",
    "GridSearchResult",
    "NIQEModel",
    "RidgeModel",
    "SVRModel",
    "brisque_features",
    "brisque_features_batch",
    "fit_niqe",
    "fit_ridge",
    "fit_svr",
    "grid_search_cv",
    "group_kfold",
    "niqe",
    "niqe_patch_features",
]
