"""What the protocol runs: a small ``Method`` interface, LPF behind it, and the registry of methods.

Every method sees the same three parts of every split and returns unit-scale predictions
(higher = better) for the test part. The runner hides the test labels (``test.y`` is all
NaN), so a method cannot choose anything on them even by accident; choices (epoch, early
stop, hyper-parameters) belong on ``val``.

Baselines and ablations plug in by subclassing :class:`Method`; a method that needs the
pixels rather than the cached VGG16 tokens can read the images from ``FeatureSet.names``
(the image paths). :data:`METHODS` names the ones ``lpfiqa protocol --method NAME`` runs
(LPF and the baselines of :mod:`lpfiqa.protocol.baselines`); :func:`make_method` builds one.
"""

from __future__ import annotations

import copy
import dataclasses
import importlib.util
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import ConfigError
from ..models.config import LPFConfig
from ..training.config import TrainConfig
from ..training.fit import FeatureSet, fit, predict_unit

__all__ = ["METHODS", "LPFMethod", "Method", "MethodSpec", "make_method"]


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
        return {"name": self.name, "model": self.cfg.architecture(), "train": self.tcfg.to_dict()}

    def last_info(self) -> dict[str, Any]:
        return dict(self._info)


@dataclasses.dataclass(frozen=True)
class MethodSpec:
    """A method ``lpfiqa protocol --method KEY`` can run.

    Attributes:
        key: Stable command-line name (``gap-ridge``).
        name: Row label of the results table (``VGG16 GAP + ridge``), as the benchmarks print it.
        summary: One line for ``--method list``.
        build: ``build(cfg, tcfg)`` -> a fresh :class:`Method`; LPF takes both, the learned
            heads take ``tcfg``'s epochs, batch size, learning rate and window.
        requires: ``(module, pip requirement)`` pairs it imports when it runs, checked by
            :func:`make_method` so that a missing one fails before the features are extracted.
    """

    key: str
    name: str
    summary: str
    build: Callable[[LPFConfig, TrainConfig], Method]
    requires: tuple[tuple[str, str], ...] = ()


# The baselines are imported when built: they pull in scikit-learn, which LPF alone never needs.
def _gap(regressor: str) -> Callable[[LPFConfig, TrainConfig], Method]:
    def build(cfg: LPFConfig, tcfg: TrainConfig) -> Method:
        from .baselines import GAPRegressor

        return GAPRegressor(regressor)

    return build


def _head(kind: str) -> Callable[[LPFConfig, TrainConfig], Method]:
    def build(cfg: LPFConfig, tcfg: TrainConfig) -> Method:
        from .baselines import BilinearHead, HyperHead

        cls = BilinearHead if kind == "bilinear" else HyperHead
        return cls(epochs=tcfg.epochs, batch_size=tcfg.batch_size, lr=tcfg.lr, window=tcfg.window)

    return build


def _brisque(cfg: LPFConfig, tcfg: TrainConfig) -> Method:
    from .baselines import BrisqueSVR

    return BrisqueSVR()


def _niqe(cfg: LPFConfig, tcfg: TrainConfig) -> Method:
    from .baselines import NIQEMethod

    return NIQEMethod()


_SKLEARN = (("sklearn", "scikit-learn>=1.3"),)

#: Every method by its command-line name, in the order the accuracy table lists them.
METHODS: dict[str, MethodSpec] = {s.key: s for s in (
    MethodSpec("lpf", "LPF", "LPF as configured (--stages, --latent-dim, --epochs ...)",
               lambda cfg, tcfg: LPFMethod(cfg, tcfg)),
    MethodSpec("gap-ridge", "VGG16 GAP + ridge", "mean VGG16 token + ridge regression, alpha chosen on val",
               _gap("ridge"), _SKLEARN),
    MethodSpec("gap-svr", "VGG16 GAP + svr", "mean VGG16 token + RBF SVR, C chosen on val", _gap("svr"),
               _SKLEARN),
    MethodSpec("bilinear", "DBCNN-style bilinear head",
               "bilinear pooling of the tokens (DBCNN, TCSVT 2020); --epochs, --lr, --window apply",
               _head("bilinear")),
    MethodSpec("hyper", "HyperIQA-style hyper-network",
               "content-generated regressor weights (HyperIQA, CVPR 2020); as bilinear",
               _head("hyper")),
    MethodSpec("brisque-svr", "BRISQUE + SVR", "36 BRISQUE features + RBF SVR (TIP 2012); reads the pixels",
               _brisque, _SKLEARN),
    MethodSpec("niqe", "NIQE", "opinion-unaware NIQE (SPL 2013), fitted on the top-scored training images",
               _niqe),
)}


def make_method(key: str, cfg: LPFConfig | None = None, tcfg: TrainConfig | None = None) -> Method:
    """A fresh method by its :data:`METHODS` name.

    Args:
        key: ``lpf``, ``gap-ridge``, ``gap-svr``, ``bilinear``, ``hyper``, ``brisque-svr`` or ``niqe``.
        cfg: LPF's settings (only ``lpf`` reads them).
        tcfg: Training settings (``lpf`` and the learned heads read them).

    Raises:
        ConfigError: An unknown name, or a package the method needs is not installed.

    Example:
        >>> make_method("gap-svr").name, make_method("bilinear", tcfg=TrainConfig(epochs=3)).epochs
        ('VGG16 GAP + svr', 3)
    """
    if key not in METHODS:
        raise ConfigError(f"unknown method {key!r}; choose among {', '.join(METHODS)} "
                          "(`lpfiqa protocol --method list` describes them)")
    spec = METHODS[key]
    for module, requirement in spec.requires:
        if importlib.util.find_spec(module) is None:
            raise ConfigError(f"{key} needs {requirement.split('>')[0]}, which is not installed: "
                              f"pip install '{requirement}'")
    return spec.build(cfg or LPFConfig(), tcfg or TrainConfig())
