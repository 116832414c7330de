"""What the protocol runs: a small ``Method`` interface and LPF behind it.

Every method sees the same three parts of every split and returns unit-scale predictions
(higher = better) for the test part. The runner hides the test labels (``test.y`` is all
NaN), so a method cannot choose anything on them even by accident; choices (epoch, early
stop, hyper-parameters) belong on ``val``.

Baselines and ablations plug in by subclassing :class:`Method`; a method that needs the
pixels rather than the cached VGG16 tokens can read the images from ``FeatureSet.names``
(the image paths).
"""

from __future__ import annotations

import copy
import dataclasses
from abc import ABC, abstractmethod
from typing import Any

import numpy as np

from ..models.config import LPFConfig
from ..training.config import TrainConfig
from ..training.fit import FeatureSet, fit, predict_unit

__all__ = ["LPFMethod", "Method"]


class Method(ABC):
    """A quality predictor the protocol can train and test on one split.

    Subclasses set ``name`` (the row label of the results table) and implement
    :meth:`fit_predict`. They may override :meth:`describe` (settings written to
    ``results.json``) and :meth:`last_info` (per-split facts such as the chosen epoch).

    Example:
        >>> class MeanToken(Method):
        ...     name = "mean token"
        ...     def fit_predict(self, train, val, test, *, seed=0):
        ...         return np.array([float(g.float().mean()) for g in test.grids])
        >>> import torch
        >>> fs = FeatureSet([torch.ones(4, 1, 1) * i for i in range(3)], np.full(3, np.nan))
        >>> MeanToken().fit_predict(fs, fs, fs).round(6).tolist()
        [0.0, 1.0, 2.0]
    """

    name: str = "method"

    @abstractmethod
    def fit_predict(self, train: FeatureSet, val: FeatureSet, test: FeatureSet, *,
                    seed: int = 0) -> np.ndarray:
        """Train on ``train`` (choosing on ``val``), then predict ``test``.

        Args:
            train: Token grids and unit-scale targets (0 = worst, 1 = best training image).
            val: Validation part in the same unit (may be empty); the only place to choose on.
            test: Token grids to predict; ``test.y`` is all NaN.
            seed: The split's seed: derive all randomness from it, so that re-runs repeat
                and different splits differ.

        Returns:
            One unit-scale prediction per test item, higher = better, shape ``(len(test),)``.
        """

    def prepare(self, data: FeatureSet) -> None:
        """Called once with every image before the splits: compute per-image features here.

        Label-free work only (``data.y`` is hidden). With ``run_within(workers=N)`` the splits
        run in forked processes, so a cache filled inside :meth:`fit_predict` would be lost with
        each process; one filled here is shared by all of them. No-op by default.
        """
        return None

    def describe(self) -> dict[str, Any]:
        """JSON-serialisable settings of the method (recorded in ``results.json``)."""
        return {"name": self.name}

    def last_info(self) -> dict[str, Any]:
        """Facts about the last :meth:`fit_predict` call (e.g. ``best_epoch``); ``{}`` by default."""
        return {}


class LPFMethod(Method):
    """LPF (FEN + category + comparison + DaQRN) trained on cached tokens.

    Args:
        cfg: Architecture and loss settings (ablations: ``use_category=False``...).
        tcfg: Training settings; its ``seed`` is replaced by the split's seed, so every
            method run on a split starts from the same randomness.
        name: Row label; default ``"LPF"``.

    Example:
        >>> m = LPFMethod(LPFConfig(use_comparison=False), TrainConfig(epochs=2), name="LPF w/o cmp")
        >>> m.describe()["model"]["use_comparison"], m.describe()["train"]["epochs"]
        (False, 2)
    """

    def __init__(self, cfg: LPFConfig | None = None, tcfg: TrainConfig | None = None,
                 name: str = "LPF") -> None:
        self.cfg = cfg or LPFConfig()
        self.tcfg = tcfg or TrainConfig()
        self.name = name
        self._info: dict[str, Any] = {}

    def fit_predict(self, train: FeatureSet, val: FeatureSet, test: FeatureSet, *,
                    seed: int = 0) -> np.ndarray:
        tcfg = dataclasses.replace(self.tcfg, seed=int(seed))
        # fit() keeps the config inside the heads; a copy keeps runs from sharing one object
        result = fit(copy.deepcopy(self.cfg), tcfg, train, val if len(val) >= 3 else None)
        self._info = {"best_epoch": result.best_epoch, "epochs_run": len(result.history)}
        if result.history and "val_srcc" in result.history[result.best_epoch - 1]:
            self._info["val_srcc"] = result.history[result.best_epoch - 1]["val_srcc"]
        return predict_unit(result.heads, test.grids)

    def describe(self) -> dict[str, Any]:
        model = {k: v for k, v in self.cfg.to_dict().items()
                 if k not in ("score_min", "score_max", "higher_is_better", "score_name", "extra")}
        return {"name": self.name, "model": model, "train": self.tcfg.to_dict()}

    def last_info(self) -> dict[str, Any]:
        return dict(self._info)
