"""Train / validation / test splits by content group, so that no scene is on both sides."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import ConfigError

__all__ = ["split_by_group"]

SPLITS = ("train", "val", "test")


def split_by_group(groups: Sequence[str], test_fraction: float, val_fraction: float, seed: int,
                   official: Sequence[str] | None = None) -> np.ndarray:
    """Assign every item to ``train``, ``val`` or ``test``, whole groups at a time.

    Args:
        groups: content id per item (reference image, scene); items of a group stay together.
        test_fraction: share of groups held out for testing.
        val_fraction: share of the remaining groups held out to choose the epoch.
        seed: the same seed gives the same split.
        official: an official split per item (``train``/``val``/``test``/``""``). When every item
            has one it is used as is; if it has no ``val`` part, validation groups are carved
            from its ``train`` part.

    Returns:
        Array of split names, one per item.

    Raises:
        ConfigError: too few groups to make a non-empty training and validation part.

    Example:
        >>> s = split_by_group(list("aabbccddeeff"), 0.2, 0.2, seed=0)
        >>> sorted(set(s)) == ["test", "train", "val"]
        True
        >>> all(len(set(s[i] for i, g in enumerate("aabbccddeeff") if g == x)) == 1 for x in "abcdef")
        True
    """
    groups = np.asarray([str(g) for g in groups])
    rng = np.random.default_rng(seed)
    if official is not None and all(o in SPLITS for o in official):
        out = np.asarray(official, dtype=object)
        if "val" not in set(out):
            out = _carve(out, groups, "train", val_fraction, rng)
        return out.astype(str)
    uniq = np.unique(groups)
    if len(uniq) < 3:
        raise ConfigError(f"only {len(uniq)} content group(s); need at least 3 to split train/val/test by group")
    out = np.full(len(groups), "train", dtype=object)
    order = rng.permutation(uniq)
    n_test = int(round(test_fraction * len(uniq))) if test_fraction > 0 else 0
    n_test = min(max(n_test, 1 if test_fraction > 0 else 0), len(uniq) - 2)
    out[np.isin(groups, order[:n_test])] = "test"
    out = _carve(out, groups, "train", val_fraction, rng)
    return out.astype(str)


def _carve(out: np.ndarray, groups: np.ndarray, source: str, fraction: float,
           rng: np.random.Generator) -> np.ndarray:
    """Move ``fraction`` of the groups of ``source`` to ``val`` (at least one, leaving one)."""
    pool = np.unique(groups[out == source])
    if fraction <= 0:
        return out
    if len(pool) < 2:
        raise ConfigError(f"the {source} part has {len(pool)} group(s); cannot carve a validation part")
    n_val = min(max(1, int(round(fraction * len(pool)))), len(pool) - 1)
    val = rng.permutation(pool)[:n_val]
    out = out.copy()
    out[(out == source) & np.isin(groups, val)] = "val"
    return out
