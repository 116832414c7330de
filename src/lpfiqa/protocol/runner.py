"""The per-split runner both protocols share: every method fitted on the same parts of every split.

A protocol (:mod:`.within`, :mod:`.cross`) decides what a split is (its training, validation
and test parts, targets mapped with the training part's range) and what its predictions are
scored against; this module does the rest the same way for both: check the methods, fit each
one on each split with the test labels hidden (in forked workers if asked), and collect the
figures in the order of the tasks, whatever finished first.
"""

from __future__ import annotations

import functools
import multiprocessing
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from tqdm.auto import tqdm

from ..errors import ConfigError
from ..metrics import evaluate
from ..parallel import fork_map
from ..training.fit import FeatureSet
from .methods import Method
from .report import SplitRecord, TestPredictions

__all__ = ["Fit", "Split", "blind", "check_methods", "run_method", "run_splits", "split_metrics", "train_range"]


@dataclass
class Split:
    """One split as the methods see it: targets in [0, 1] on the training part's range (:func:`train_range`)."""

    index: int
    seed: int
    train: FeatureSet
    val: FeatureSet
    test: FeatureSet  # what to predict; its labels are hidden from the method (:func:`blind`)


@dataclass
class Fit:
    """One method's fit on one split: its test predictions (training unit), seconds, and info."""

    pred: np.ndarray
    seconds: float
    info: dict


def check_methods(methods: Sequence[Method], workers: int = 1) -> None:
    """At least one method, unique names (they label the table rows), and workers this platform can fork.

    Example:
        >>> check_methods([])
        Traceback (most recent call last):
        ...
        lpfiqa.errors.ConfigError: no methods to run; pass at least one (e.g. LPFMethod())
    """
    names = [m.name for m in methods]
    if not names:
        raise ConfigError("no methods to run; pass at least one (e.g. LPFMethod())")
    if len(set(names)) != len(names):
        raise ConfigError(f"method names must be unique (they label the table rows), got {names}")
    if workers < 1:
        raise ConfigError(f"workers={workers}: use 1 (in this process) or more (forked processes)")
    if workers > 1 and "fork" not in multiprocessing.get_all_start_methods():
        raise ConfigError(f"workers={workers} needs the 'fork' start method, which this platform lacks; use workers=1")


def train_range(y: np.ndarray, what: str) -> tuple[float, float]:
    """The training part's score range, which maps its targets to [0, 1] (the test labels never do).

    Example:
        >>> train_range(np.array([0.2, 0.6, 0.4]), "split 0")
        (0.2, 0.6)
    """
    lo, hi = float(y.min()), float(y.max())
    if hi <= lo:
        raise ConfigError(f"{what}: every training image has the same score; cannot learn a ranking")
    return lo, hi


def blind(fs: FeatureSet) -> FeatureSet:
    """The test part as a method sees it: grids and names, labels hidden."""
    return FeatureSet(fs.grids, np.full(len(fs), np.nan), fs.names)


def run_method(method: Method, split: Split) -> Fit:
    """Fit ``method`` on the split's training part (validation chooses), predict its blind test part."""
    t0 = time.perf_counter()
    pred = np.asarray(method.fit_predict(split.train, split.val, blind(split.test), seed=split.seed),
                      dtype=np.float64).reshape(-1)
    seconds = time.perf_counter() - t0
    if pred.shape != (len(split.test),):
        raise ValueError(f"method {method.name!r} returned {pred.shape[0]} predictions "
                         f"for {len(split.test)} test items")
    return Fit(pred, seconds, method.last_info())


def split_metrics(pred: np.ndarray, truth: np.ndarray) -> tuple[dict[str, float], list[str]]:
    """evaluate() with its warnings collected (a 2-epoch model may be constant) and NaN outputs tolerated.

    Example:
        >>> m, warns = split_metrics(np.array([1.0, np.nan]), np.array([1.0, 2.0]))
        >>> m["n"], warns
        (2, ['non-finite predictions'])
    """
    if not np.all(np.isfinite(pred)):
        keys = ("srcc", "krcc", "plcc", "rmse", "plcc_l4", "rmse_l4", "plcc_l5", "rmse_l5")
        return {**{k: float("nan") for k in keys}, "n": int(pred.size)}, ["non-finite predictions"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        m = evaluate(pred, truth)
    return m, list(dict.fromkeys(str(w.message) for w in caught))


Scored = list[tuple[SplitRecord, TestPredictions]]  # one (record, predictions) pair per test set


def run_splits(methods: Sequence[Method], n_splits: int, split: Callable[[int], Split],
               score: Callable[[int, Method, Fit], Scored], *, workers: int = 1, progress: bool = True,
               desc: str = "protocol") -> Scored:
    """Fit every method on every split; the records and predictions in (split, method) order.

    Args:
        methods: What to compare (the caller checks them first, :func:`check_methods`).
        n_splits: Splits (or repeats), ``split(0) .. split(n_splits - 1)``.
        split: Builds split ``k``, in the process that fits it, once per split there.
        score: Turns the fit of one method on split ``k`` into its records and test predictions.
        workers: Fits at once in forked one-thread processes (results identical to 1).
        progress: A progress bar on stderr.
        desc: The bar's label.
    """
    parts = functools.lru_cache(maxsize=1)(split)  # tasks come split by split: build each split once
    tasks = [(k, mi) for k in range(n_splits) for mi in range(len(methods))]

    def fit_one(task: tuple[int, int]) -> tuple[tuple[int, int], Fit]:  # inherited by forked workers
        k, mi = task
        return task, run_method(methods[mi], parts(k))

    bar = tqdm(total=len(tasks), desc=desc, unit="run", disable=not progress, file=sys.stderr)
    done: dict[tuple[int, int], Scored] = {}
    for (k, mi), fit in fork_map(fit_one, tasks, workers):
        done[(k, mi)] = scored = score(k, methods[mi], fit)
        bar.update(1)
        bar.set_postfix(split=k, method=methods[mi].name, srcc=f"{scored[0][0].metrics['srcc']:.3f}")
    bar.close()
    return [item for t in tasks for item in done[t]]  # the same order whatever finished first
