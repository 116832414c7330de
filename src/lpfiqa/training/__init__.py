"""Training LPF on cached encoder features: losses, splits, the loop, checkpoints, run folders.

The torch-based parts load on first use, so that the CLI can read :class:`TrainConfig`'s
defaults for ``--help`` without importing torch.
"""

from typing import TYPE_CHECKING

from .._lazy import lazy_getattr
from .config import TrainConfig

if TYPE_CHECKING:
    from .diagnosis import diagnosis_accuracy, family_targets
    from .fit import FeatureSet, FitResult, fit, predict_diagnosis, predict_unit
    from .run import TrainReport, extract_features, train_run
    from .splits import split_by_group

__all__ = ["FeatureSet", "FitResult", "TrainConfig", "TrainReport", "diagnosis_accuracy", "extract_features",
           "family_targets", "fit", "predict_diagnosis", "predict_unit", "split_by_group", "train_run"]
__getattr__ = lazy_getattr(__name__, {
    "FeatureSet": "fit", "FitResult": "fit", "fit": "fit", "predict_unit": "fit", "predict_diagnosis": "fit",
    "diagnosis_accuracy": "diagnosis", "family_targets": "diagnosis",
    "TrainReport": "run", "extract_features": "run", "train_run": "run",
    "split_by_group": "splits",
})
