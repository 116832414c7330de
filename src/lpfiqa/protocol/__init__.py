"""The field's evaluation protocol, done right: within-dataset n splits, cross-dataset, model evaluation.

* :func:`run_within` / :func:`within_protocol` – n random splits by content group (or the
  official split), validation carved from training for every choice, test touched once,
  every :class:`Method` on the same splits; median / mean ± std / IQR over splits.
* :func:`run_cross` / :func:`cross_protocol` – train on A, test on B, C... in their own units
  (DMOS sets correlated against their negated scores).
* :func:`evaluate_model` – a trained model on a prepared dataset (``lpfiqa eval``).

The ``run_*`` functions work on token grids in memory (the encoder runs once); the
``*_protocol`` functions take manifests, extract through the feature cache, and time both.
Both protocols fit their splits through one runner (:func:`.runner.run_splits`): a protocol
says what a split's parts are and what its predictions are scored against.

Example:
    >>> import numpy as np, torch
    >>> from lpfiqa.training import FeatureSet, TrainConfig
    >>> from lpfiqa.models import LPFConfig
    >>> y = np.linspace(0, 1, 24)
    >>> data = FeatureSet([torch.full((256, 1, 1), v) for v in y], y, [f"{i}.png" for i in range(24)])
    >>> cfg = LPFConfig(stages=("conv3_3",), latent_dim=8, hidden_dim=16, head_hidden=8, compare_hidden=8)
    >>> res = run_within(data, [str(i // 3) for i in range(24)], [LPFMethod(cfg, TrainConfig(epochs=1))],
    ...                  n_splits=2, seed=0, progress=False)
    >>> len(res.records), res.to_markdown().splitlines()[0]
    (2, '# Within-dataset protocol: dataset')
"""

from .cross import cross_protocol, run_cross
from .data import LoadedSet, feature_cache, load_set
from .evaluation import EvalReport, evaluate_model
from .methods import LPFMethod, Method
from .report import ProtocolResult, SplitRecord, TestPredictions, spread
from .within import DEFAULT_SPLITS, make_splits, run_within, split_seeds, within_protocol

__all__ = [
    "DEFAULT_SPLITS",
    "EvalReport",
    "LPFMethod",
    "LoadedSet",
    "Method",
    "ProtocolResult",
    "SplitRecord",
    "TestPredictions",
    "cross_protocol",
    "evaluate_model",
    "feature_cache",
    "load_set",
    "make_splits",
    "run_cross",
    "run_within",
    "split_seeds",
    "spread",
    "within_protocol",
]
