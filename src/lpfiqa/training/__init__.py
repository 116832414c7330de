"""Training LPF on cached encoder features: losses, splits, the loop, checkpoints, run folders."""

from .config import TrainConfig
from .fit import FeatureSet, FitResult, fit, predict_unit
from .run import TrainReport, extract_features, train_run
from .splits import split_by_group

__all__ = ["FeatureSet", "FitResult", "TrainConfig", "TrainReport", "extract_features", "fit", "predict_unit",
           "split_by_group", "train_run"]
