"""The within-dataset protocol: n random splits by content group, every method on the same splits.

The field's practice (e.g. HyperIQA, DBCNN, MUSIQ papers) is to repeat a random 80/20 split
of a dataset n times (10 here) and report the median SRCC/PLCC over the repeats. Done right:

* splits are made **by content group** (reference image / scene), so no scene is in training
  and test of the same split;
* a **validation part carved from the training part** makes every choice (the epoch); the
  test part is touched once per split, and its labels are never shown to a method;
* training targets are mapped to [0, 1] with the **training part's** score range only;
* every method runs on **exactly the same splits** (same seeds), so rows are comparable;
* the encoder's tokens are extracted **once** and every split runs in memory.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..datasets.manifest import SPLITS, Manifest, ScoreScale
from ..errors import ConfigError
from ..models.config import LPFConfig
from ..training.config import TrainConfig
from ..training.fit import FeatureSet
from ..training.splits import split_by_group
from .data import feature_cache, load_set
from .methods import LPFMethod, Method
from .report import ProtocolResult, SplitRecord, TestPredictions
from .runner import Fit, Split, check_methods, run_splits, split_metrics, train_range

__all__ = ["DEFAULT_SPLITS", "make_splits", "run_within", "split_seeds", "within_protocol"]

#: Random splits when none is asked for (1 with an official split).
DEFAULT_SPLITS = 10


def split_seeds(seed: int, n: int) -> list[int]:
    """``n`` independent seeds from one; the first ``k`` are the same for any ``n >= k``.

    Example:
        >>> split_seeds(0, 3) == split_seeds(0, 5)[:3]
        True
    """
    return [int(s) for s in np.random.SeedSequence(seed).generate_state(n)]


def make_splits(groups: Sequence[str], n_splits: int, seed: int, test_fraction: float = 0.2,
                val_fraction: float = 0.15, official: Sequence[str] | None = None) -> list[np.ndarray]:
    """The ``train``/``val``/``test`` assignment of every item, for each of ``n_splits`` splits.

    Args:
        groups: Content group per item; a group is never split across parts.
        n_splits: How many splits.
        seed: The same seed gives the same splits.
        test_fraction: Share of the groups held out for testing (random splits).
        val_fraction: Share of the training groups held out for validation.
        official: Official part per item: used as the train/test division of every split
            (its ``val`` part too, when it has one; otherwise validation groups are carved from
            its training part with each split's seed).

    Returns:
        One array of part names per split.

    Raises:
        ConfigError: Fractions out of range, too few groups, or an incomplete official split.

    Example:
        >>> s = make_splits(list("aabbccddeeffgghhiijj"), 2, seed=0)
        >>> [sorted(set(a.tolist())) for a in s]
        [['test', 'train', 'val'], ['test', 'train', 'val']]
        >>> bool((s[0] != s[1]).any())
        True
    """
    if n_splits < 1:
        raise ConfigError(f"n_splits must be at least 1, got {n_splits}")
    if not 0 < test_fraction < 1 and official is None:
        raise ConfigError(f"test_fraction must be in (0, 1), got {test_fraction}")
    if not 0 < val_fraction < 1:
        raise ConfigError(f"val_fraction must be in (0, 1) (the epoch is chosen on it), got {val_fraction}")
    if official is not None:
        official = [str(o) for o in official]
        bad = sorted({o for o in official if o not in SPLITS})
        if len(official) != len(groups) or bad:
            raise ConfigError(f"the official split must give every image one of {SPLITS}; "
                              f"got {bad or 'a length mismatch'}")
        if "test" not in official or "train" not in official:
            raise ConfigError("the official split has no 'train' or no 'test' part; "
                              "run random splits instead")
    seeds = split_seeds(seed, n_splits)
    return [split_by_group(groups, test_fraction, val_fraction, s, official) for s in seeds]


def run_within(data: FeatureSet, groups: Sequence[str], methods: Sequence[Method],
               n_splits: int = DEFAULT_SPLITS, seed: int = 0, test_fraction: float = 0.2,
               val_fraction: float = 0.15, official: Sequence[str] | None = None, progress: bool = True,
               scale: ScoreScale | None = None, name: str = "dataset", workers: int = 1) -> ProtocolResult:
    """Run every method on the same ``n_splits`` splits of one dataset, in memory.

    Args:
        data: Token grids of every image, ``y`` in [0, 1] higher = better (any affine map of
            the scores; each split re-maps it with its training part's range).
        groups: Content group per image (``ManifestRow.group``).
        methods: What to compare (e.g. ``[LPFMethod(cfg, tcfg), LPFMethod(ablated, tcfg, "LPF w/o cat")]``).
        n_splits: Random splits (with ``official``: repeats of the official split with
            different seeds, i.e. training variance only).
        seed: Seed of the splits and of each split's training.
        test_fraction: Share of the groups in each test part.
        val_fraction: Share of the training groups held out to choose the epoch.
        official: Official part per image (see :func:`make_splits`).
        progress: A progress bar on stderr.
        scale: The dataset's unit: figures (RMSE) and predictions are reported in it. ``None``:
            in the unit of ``data.y``.
        name: Dataset name for the report.
        workers: Run this many (split, method) fits at once in forked processes of one thread
            each (Linux/macOS). Results are identical to ``workers=1`` (every fit seeds itself);
            worth it when one fit cannot keep all cores busy.

    Returns:
        The :class:`ProtocolResult` (``timing["train_seconds"]`` filled in; add the feature
        extraction time yourself, as :func:`within_protocol` does).

    Raises:
        ConfigError: No or duplicate methods, too few groups, bad fractions or official split.

    Example:
        >>> import torch
        >>> rng = np.random.default_rng(0)
        >>> y = rng.random(40)
        >>> grids = [torch.full((256, 1, 2), v) + 0.1 * torch.randn(256, 1, 2) for v in y]
        >>> cfg = LPFConfig(stages=("conv3_3",), latent_dim=8, hidden_dim=16, head_hidden=8, compare_hidden=8)
        >>> lpf = LPFMethod(cfg, TrainConfig(epochs=1, batch_size=8))
        >>> res = run_within(FeatureSet(grids, y), [str(i // 2) for i in range(40)], [lpf], n_splits=2,
        ...                  progress=False)
        >>> [r.n_test for r in res.records], sorted(res.summary()[0]["metrics"]["srcc"])[:3]
        ([8, 8], ['iqr', 'max', 'mean'])
    """
    check_methods(methods, workers)
    groups = [str(g) for g in groups]
    official = [str(o) for o in official] if official is not None else None
    if len(groups) != len(data):
        raise ConfigError(f"{len(groups)} groups for {len(data)} images; give one group per image")
    seeds = split_seeds(seed, n_splits)
    assignments = make_splits(groups, n_splits, seed, test_fraction, val_fraction, official)
    truth = np.asarray(scale.denormalise(data.y) if scale is not None else data.y, dtype=np.float64)
    ranges = [train_range(data.y[a == "train"], f"split {k}") for k, a in enumerate(assignments)]

    def split(k: int) -> Split:
        # training-part range only: the test labels must not shape the targets
        (lo, hi), a = ranges[k], assignments[k]
        parts = {p: FeatureSet([data.grids[i] for i in ix], (data.y[ix] - lo) / (hi - lo),
                               [data.names[i] for i in ix] if data.names else [],
                               [groups[i] for i in ix])  # content groups, for grouped batches
                 for p, ix in ((p, np.flatnonzero(a == p)) for p in SPLITS)}
        return Split(k, seeds[k], parts["train"], parts["val"], parts["test"])

    def score(k: int, method: Method, fit: Fit) -> list[tuple[SplitRecord, TestPredictions]]:
        a, (lo, hi) = assignments[k], ranges[k]
        test_idx = np.flatnonzero(a == "test")
        pred = lo + fit.pred * (hi - lo)
        pred = np.asarray(scale.denormalise(pred)) if scale is not None else pred
        metrics, warns = split_metrics(pred, truth[test_idx])
        info = {**fit.info, **({"warnings": warns} if warns else {})}
        n = {p: int((a == p).sum()) for p in SPLITS}
        return [(SplitRecord(k, method.name, name, metrics, n["train"], n["val"], n["test"], fit.seconds, info),
                 TestPredictions(k, method.name, name, [data.names[i] for i in test_idx] if data.names else [],
                                 truth[test_idx], pred))]

    for method in methods:  # label-free per-image work, once, before any fork
        method.prepare(FeatureSet(data.grids, np.full(len(data), np.nan), data.names, groups))
    t0 = time.perf_counter()
    done = run_splits(methods, n_splits, split, score, workers=workers, progress=progress, desc="protocol")
    records, predictions = [r for r, _ in done], [p for _, p in done]
    unit_name = "score unit of the dataset" if scale is not None else "unit of data.y"
    kind = "official split" if official is not None else "random splits"
    settings = {"n_splits": n_splits, "seed": seed, "workers": workers,
                "test_fraction": None if official is not None else test_fraction,
                "val_fraction": val_fraction, "official": official is not None, "pred_unit": unit_name}
    notes = [_describe(n_splits, seed, test_fraction, val_fraction, official is not None, official),
             f"Figures of each split on its test part ({kind}); PLCC/RMSE (l4) after the 4-parameter "
             "logistic fitted on that test part (VQEG); RMSE in the dataset's score unit."]
    return ProtocolResult("within", name, [name], [m.describe() for m in methods], settings, records,
                          predictions, list(data.names), groups, assignments, seeds, notes,
                          timing={"train_seconds": time.perf_counter() - t0})


def _describe(n: int, seed: int, test_fraction: float, val_fraction: float, is_official: bool,
              official: Sequence[str] | None) -> str:
    val = (f"a validation part ({val_fraction:.0%} of the training groups, carved from them)"
           if not (official and "val" in official) else "the official validation part")
    if is_official:
        return (f"The official train/test split, run {n} time(s) with seeds from {seed}; {val} chooses the "
                "epoch; each test part is used once.")
    return (f"{n} random {1 - test_fraction:.0%}/{test_fraction:.0%} splits by content group (seed {seed}); "
            f"{val} chooses the epoch; each test part is used once, its labels never shown to a method.")


def within_protocol(manifest: Manifest | Path | str, methods: Sequence[Method] | None = None, *,
                    n_splits: int | None = None, seed: int = 0, official: bool = False,
                    test_fraction: float = 0.2, val_fraction: float = 0.15, cfg: LPFConfig | None = None,
                    tcfg: TrainConfig | None = None, cache_root: Path | str | None = None,
                    encoder_weights: str | None = None,
                    max_side: int | None = None, out: Path | str | None = None,
                    progress: bool = True, workers: int = 1) -> ProtocolResult:
    """Manifest in, results (and optionally a results folder) out: extract once, run every split.

    Args:
        manifest: Manifest or its CSV (``lpfiqa data prepare``).
        methods: What to run; default one :class:`LPFMethod` from ``cfg`` and ``tcfg``.
        n_splits: Default :data:`DEFAULT_SPLITS` (1 with ``official``).
        seed: Seed of the splits and the training.
        official: Use the manifest's official split (every row must have one).
        test_fraction: Test share of the groups (random splits).
        val_fraction: Validation share of the training groups.
        cfg: Encoder stages/cell for the shared tokens (and LPF's settings).
        tcfg: LPF training settings (``max_side`` and ``seed`` here take precedence).
        cache_root: Feature cache folder.
        encoder_weights: Other VGG16 weights.
        max_side: Downscale images to this long side before encoding.
        out: Write ``results.json``, ``results.md``, CSVs and plots here.
        progress: Progress bars on stderr.
        workers: Fits at once in forked one-thread processes (see :func:`run_within`).

    Raises:
        ConfigError: ``official`` without an official split, or bad settings.
        ManifestError: Unreadable manifest or too few readable images.
    """
    cfg = cfg or LPFConfig()
    methods = list(methods) if methods is not None else [LPFMethod(cfg, tcfg or TrainConfig())]
    check_methods(methods)
    loaded = load_set(manifest, feature_cache(cfg, cache_root, encoder_weights, max_side), progress)
    if official and loaded.official is None:
        why = "some rows have none" if loaded.partial_official else "this manifest has none"
        raise ConfigError(f"{loaded.name}: --official needs a split column with train/val/test on every row "
                          f"({why}); drop --official to run random splits")
    n = n_splits or (1 if official else DEFAULT_SPLITS)
    res = run_within(loaded.features, loaded.groups, methods, n, seed, test_fraction, val_fraction,
                     loaded.official if official else None, progress, loaded.scale, loaded.name, workers)
    if loaded.official is not None and not official:
        res.notes.append("The manifest has an official split; it was not used (pass --official to use it).")
    res.failures = loaded.failures
    res.settings.update({"manifest": str(manifest) if not isinstance(manifest, Manifest) else loaded.name,
                         "max_side": max_side, "higher_is_better": loaded.scale.higher_is_better,
                         "score_range": [loaded.scale.lo, loaded.scale.hi]})
    res.timing.update({"features_seconds": loaded.seconds, "images": len(loaded.rows),
                       "cache_hits": loaded.cache_hits, "cache_misses": loaded.cache_misses})
    if out is not None:
        res.save(out)
    return res
