"""The cross-dataset protocol: train on one dataset, test on others as they are.

Generalisation across datasets is how BIQA papers show a model did not just learn one
dataset's distortions or scale. Train on all of A (validation groups carved from A choose
the epoch), then predict every image of each test set B, C... once. B's scores stay in B's
unit; because a model trained on A knows nothing of B's scale, only scale-free figures
(SRCC, KRCC, PLCC, and PLCC/RMSE after a logistic fitted on B) are meaningful. A DMOS set is
inversely related to quality, so correlations are computed against its scores *negated*
(higher = better) and come out positive for a good model; RMSE (l4) is in B's own unit.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from ..datasets.manifest import Manifest, ScoreScale
from ..errors import ConfigError
from ..models.config import LPFConfig
from ..training.config import TrainConfig
from ..training.fit import FeatureSet
from ..training.splits import split_by_group
from .data import feature_cache, load_set
from .methods import LPFMethod, Method
from .report import ProtocolResult, SplitRecord, TestPredictions
from .runner import Fit, Split, check_methods, run_splits, split_metrics, train_range
from .within import split_seeds

__all__ = ["cross_protocol", "run_cross"]


def run_cross(train: FeatureSet, groups: Sequence[str], tests: Mapping[str, FeatureSet],
              methods: Sequence[Method], n_repeats: int = 1, seed: int = 0, val_fraction: float = 0.15,
              test_scales: Mapping[str, ScoreScale] | None = None, progress: bool = True,
              name: str = "train") -> ProtocolResult:
    """Train each method on ``train`` (val carved by group), predict every test set, in memory.

    Args:
        train: Token grids and [0, 1] higher-is-better targets of the training set.
        groups: Content group per training image.
        tests: Test set name -> token grids with [0, 1] higher-is-better ``y``.
        methods: What to compare; all see the same training/validation parts.
        n_repeats: Repeats with different validation carving and training seeds.
        seed: Seed of the repeats.
        val_fraction: Share of the training groups held out to choose the epoch.
        test_scales: Each test set's unit, to report scores and RMSE (l4) in it; default the
            unit of its ``y``.
        progress: A progress bar on stderr.
        name: Training set name for the report.

    Returns:
        The :class:`ProtocolResult` (``kind="cross"``); predictions are in the training set's
        unit scale (0..1, higher = better), scores in each test set's own unit.

    Raises:
        ConfigError: No methods, no test sets, a test set named like the training set, too few groups.

    Example:
        >>> import torch
        >>> class GridMean(Method):
        ...     name = "grid mean"
        ...     def fit_predict(self, train, val, test, *, seed=0):
        ...         return np.array([float(g.mean()) for g in test.grids])
        >>> y = np.linspace(0, 1, 12)
        >>> a = FeatureSet([torch.full((4, 1, 1), v) for v in y], y, [f"a{i}.png" for i in range(12)])
        >>> yb = np.linspace(0, 1, 6)
        >>> b = FeatureSet([torch.full((4, 1, 1), v) for v in yb], yb, [f"b{i}.png" for i in range(6)])
        >>> res = run_cross(a, [str(i // 2) for i in range(12)], {"B": b}, [GridMean()],
        ...                 test_scales={"B": ScoreScale(0.0, 100.0, False)}, progress=False, name="A")
        >>> round(res.records[0].metrics["srcc"], 6), res.predictions[0].truth[:2].round(6).tolist()  # B is a DMOS set
        (1.0, [100.0, 80.0])
    """
    check_methods(methods)
    if not tests:
        raise ConfigError("no test sets; give at least one (--test B.csv)")
    if name in tests:
        raise ConfigError(f"test set {name!r} has the training set's name; rename one of the manifests")
    groups = [str(g) for g in groups]
    if len(groups) != len(train):
        raise ConfigError(f"{len(groups)} groups for {len(train)} training images; give one group per image")
    if not 0 < val_fraction < 1:
        raise ConfigError(f"val_fraction must be in (0, 1) (the epoch is chosen on it), got {val_fraction}")
    scales = dict(test_scales or {})
    names = list(tests)
    # one blind test set holding all of them: each method is fitted once per repeat
    pooled = FeatureSet([g for t in names for g in tests[t].grids],
                        np.full(sum(len(tests[t]) for t in names), np.nan),
                        [n for t in names for n in (tests[t].names or [""] * len(tests[t]))])
    bounds = np.cumsum([0] + [len(tests[t]) for t in names])
    truth = {t: np.asarray(scales[t].denormalise(tests[t].y) if t in scales else tests[t].y) for t in names}
    # correlations against higher-is-better scores: a DMOS set is negated (RMSE magnitude unchanged)
    oriented = {t: truth[t] if t not in scales or scales[t].higher_is_better else -truth[t] for t in names}

    seeds = split_seeds(seed, n_repeats)
    assignments = [split_by_group(groups, 0.0, val_fraction, s) for s in seeds]
    parts = [(np.flatnonzero(a == "train"), np.flatnonzero(a == "val")) for a in assignments]
    ranges = [train_range(train.y[tr], f"repeat {k}") for k, (tr, _) in enumerate(parts)]

    def split(k: int) -> Split:
        (tr, va), (lo, hi) = parts[k], ranges[k]
        part_train, part_val = train.subset(tr), train.subset(va)
        part_train.y, part_val.y = (part_train.y - lo) / (hi - lo), (part_val.y - lo) / (hi - lo)
        return Split(k, seeds[k], part_train, part_val, pooled)

    def score(k: int, method: Method, fit: Fit) -> list[tuple[SplitRecord, TestPredictions]]:
        (tr, va), out = parts[k], []
        for j, t in enumerate(names):
            pred = fit.pred[bounds[j]:bounds[j + 1]]
            metrics, warns = split_metrics(pred, oriented[t])
            metrics["rmse"] = float("nan")  # prediction and score are on different scales
            info = {**fit.info, **({"warnings": warns} if warns else {})}
            out.append((SplitRecord(k, method.name, t, metrics, len(tr), len(va), len(pred), fit.seconds, info),
                        TestPredictions(k, method.name, t, list(pooled.names[bounds[j]:bounds[j + 1]]), truth[t],
                                        pred)))
        return out

    t0 = time.perf_counter()
    done = run_splits(methods, n_repeats, split, score, progress=progress, desc="cross")
    records, predictions = [r for r, _ in done], [p for _, p in done]
    dmos = [t for t in names if t in scales and not scales[t].higher_is_better]
    notes = [f"Trained on {name}: {1 - val_fraction:.0%} of its groups for training, {val_fraction:.0%} "
             f"carved out for validation to choose the epoch; {n_repeats} repeat(s) from seed {seed}; each "
             "test set predicted whole, once.",
             "Correlations are against each test set's scores converted to higher-is-better"
             + (f" ({', '.join(dmos)}: DMOS, negated)" if dmos else " (all test sets here are already so)")
             + "; PLCC/RMSE (l4) after a 4-parameter logistic fitted on the test set, RMSE in its own unit; "
               "raw RMSE is not reported (the model's scale is the training set's)."]
    seen = set(train.names)
    for t in names:
        shared = sum(n in seen for n in tests[t].names)
        if shared:  # the same file in training and test: the figures are not cross-dataset figures
            notes.append(f"Warning: {shared} image(s) of {t} are also in the training set {name}.")
    settings = {"n_splits": n_repeats, "seed": seed, "val_fraction": val_fraction,
                "pred_unit": f"unit scale of {name}, 0..1, higher = better",
                "test_higher_is_better": {t: scales[t].higher_is_better if t in scales else True
                                          for t in names}}
    return ProtocolResult("cross", name, names, [m.describe() for m in methods], settings, records,
                          predictions, list(train.names), groups, assignments, seeds, notes,
                          timing={"train_seconds": time.perf_counter() - t0})


def cross_protocol(train: Manifest | Path | str, tests: Sequence[Manifest | Path | str],
                   methods: Sequence[Method] | None = None, *, n_repeats: int = 1, seed: int = 0,
                   val_fraction: float = 0.15, cfg: LPFConfig | None = None, tcfg: TrainConfig | None = None,
                   cache_root: Path | str | None = None, encoder_weights: str | None = None,
                   max_side: int | None = None, out: Path | str | None = None,
                   progress: bool = True) -> ProtocolResult:
    """Manifests in, cross-dataset results out: every set's tokens extracted once.

    Args:
        train: Training manifest (or CSV); all of it is used, official split or not.
        tests: Test manifests (or CSVs); names (file stems) must differ.
        methods: Default one :class:`LPFMethod` from ``cfg``/``tcfg``.
        n_repeats: Repeats (different validation carving and seeds).
        seed, val_fraction, cfg, tcfg, cache_root, encoder_weights, max_side, out, progress:
            As in :func:`~lpfiqa.protocol.within.within_protocol`.

    Raises:
        ConfigError: Duplicate set names or bad settings.
        ManifestError: An unreadable manifest or too few readable images.
    """
    cfg = cfg or LPFConfig()
    methods = list(methods) if methods is not None else [LPFMethod(cfg, tcfg or TrainConfig())]
    check_methods(methods)
    if not tests:
        raise ConfigError("no test sets; give at least one (--test B.csv)")
    cache = feature_cache(cfg, cache_root, encoder_weights, max_side)
    a = load_set(train, cache, progress)
    loaded = [load_set(t, cache, progress) for t in tests]
    seen = [a.name, *(t.name for t in loaded)]
    dup = sorted({n for n in seen if seen.count(n) > 1})
    if dup:
        raise ConfigError(f"manifests share the name(s) {dup}; give them distinct file names")
    res = run_cross(a.features, a.groups, {t.name: t.features for t in loaded}, methods, n_repeats, seed,
                    val_fraction, {t.name: t.scale for t in loaded}, progress, a.name)
    res.failures = [f for s in (a, *loaded) for f in s.failures]
    if a.official is not None:
        res.notes.append(f"{a.name} has an official split; all of it was used for training and validation.")
    res.settings.update({"train_manifest": str(train) if not isinstance(train, Manifest) else a.name,
                         "test_manifests": [str(t) if not isinstance(t, Manifest) else t.name for t in tests],
                         "max_side": max_side})
    sets = (a, *loaded)
    res.timing.update({"features_seconds": sum(s.seconds for s in sets),
                       "images": sum(len(s.rows) for s in sets),
                       "cache_hits": sum(s.cache_hits for s in sets),
                       "cache_misses": sum(s.cache_misses for s in sets)})
    if out is not None:
        res.save(out)
    return res
