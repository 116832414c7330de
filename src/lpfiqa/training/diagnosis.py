"""Diagnosis targets and figures: which distortion families an image has, and how often the head is right.

The families are those of :mod:`lpfiqa.synth.distortions` (its ``FAMILIES``; each registered type
names its family). A manifest row says what was done to an image in ``dist_type`` / ``dist_level``:
a type name at a level >= 1 (one family), ``chain`` with the steps in the ``chain`` column
(``"jpeg:3+darken:2"``, several families), or level 0 for the clean reference (no family: all
zeros, so the head can also say "nothing wrong"). Anything else (a human-rated set's own type
names, an empty type without a level) is *unknown*: a row of NaN, left out of the loss.

Nothing here imports torch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["CHAIN", "diagnosis_accuracy", "families_in", "family_of", "family_targets", "registry_families"]

CHAIN = "chain"  # the dist_type of a chained row (lpfiqa.synth.build)


def registry_families() -> tuple[str, ...]:
    """The distortion families of :mod:`lpfiqa.synth.distortions`, in its order.

    Example:
        >>> registry_families()[:3]
        ('blur', 'color', 'compression')
    """
    from ..synth.distortions import FAMILIES  # numpy/scipy only; loaded when a diagnosis is trained

    return tuple(FAMILIES)


def family_of(dist_type: str) -> str | None:
    """Family of a distortion type name (a family name stands for itself); None if unknown.

    Example:
        >>> family_of("jpeg"), family_of("contrast_change"), family_of("noise"), family_of("fastfading")
        ('compression', 'sharpness_contrast', 'noise', None)
    """
    from ..errors import ConfigError
    from ..synth.distortions import FAMILIES, get_distortion

    name = dist_type.strip()
    if name in FAMILIES:
        return name
    try:
        return get_distortion(name).family
    except ConfigError:
        return None


def _row_families(dist_type: str, level: int | None, chain: str) -> list[str] | None:
    """Families of one row ([] = clean), or None when the row does not say."""
    if level == 0:
        return []
    if dist_type == CHAIN:
        steps = [s.split(":")[0] for s in chain.split("+") if s.strip()]
        fams = [family_of(s) for s in steps]
        return None if not steps or None in fams else list(dict.fromkeys(f for f in fams if f))
    fam = family_of(dist_type) if dist_type else None
    return None if fam is None else [fam]


def family_targets(dist_types: Sequence[str], dist_levels: Sequence[int | None], chains: Sequence[str] | None,
                   families: Sequence[str]) -> np.ndarray:
    """Multi-hot family targets (N, F), float32; a row of NaN where the manifest does not say.

    Args:
        dist_types: each row's ``dist_type`` (``""`` when unknown or clean).
        dist_levels: each row's ``dist_level`` (0 = clean, None = unknown).
        chains: each row's ``chain`` column (``"type:level+..."``), or None when there is none.
        families: the head's outputs, in order; a family not among them is ignored.

    Example:
        >>> t = family_targets(["gaussian_blur", "chain", "", "fastfading"], [3, 4, 0, 2],
        ...                    ["", "jpeg:4+white_noise:1", "", ""], ["blur", "compression", "noise"])
        >>> t.tolist()
        [[1.0, 0.0, 0.0], [0.0, 1.0, 1.0], [0.0, 0.0, 0.0], [nan, nan, nan]]
    """
    index = {f: k for k, f in enumerate(families)}
    out = np.zeros((len(dist_types), len(families)), dtype=np.float32)
    chains = chains if chains is not None else [""] * len(dist_types)
    for i, (t, lv, c) in enumerate(zip(dist_types, dist_levels, chains, strict=True)):
        fams = _row_families(t or "", lv, c or "")
        if fams is None:
            out[i] = np.nan
        else:
            out[i, [index[f] for f in fams if f in index]] = 1.0
    return out


def families_in(dist_types: Sequence[str], dist_levels: Sequence[int | None],
                chains: Sequence[str] | None = None) -> tuple[str, ...]:
    """The registry families that at least one row has, in registry order (what a head can learn).

    Example:
        >>> families_in(["jpeg", "noise", "", "darken"], [1, 2, 0, None])
        ('compression', 'noise', 'brightness')
    """
    allf = registry_families()
    t = family_targets(dist_types, dist_levels, chains, allf)
    seen = np.nansum(t, axis=0) > 0
    return tuple(f for f, s in zip(allf, seen, strict=True) if s)


def diagnosis_accuracy(probs: np.ndarray, targets: np.ndarray, levels: Sequence[int | None],
                       families: Sequence[str], min_level: int = 3) -> dict[str, Any]:
    """Top-1 family accuracy on single-distortion images at level >= ``min_level``, overall and per family.

    Chains (several families), clean and unknown rows, and mild levels are left out: at level 1
    many distortions are barely visible, and "which one" is the question only where one is clear.

    Args:
        probs: (N, F) predicted probabilities.
        targets: (N, F) multi-hot targets from :func:`family_targets` (NaN rows = unknown).
        levels: each image's distortion level (None = unknown).
        families: the F family names.
        min_level: the mildest level counted.

    Returns:
        ``{"top1": accuracy or None, "n": images counted, "per_family": {family: {"top1", "n"}}}``
        (a family with no image counted is absent).

    Example:
        >>> probs = np.array([[0.9, 0.2], [0.6, 0.7], [0.1, 0.8], [0.9, 0.1]])
        >>> targets = np.array([[1, 0], [1, 0], [0, 1], [1, 0]], dtype=float)
        >>> r = diagnosis_accuracy(probs, targets, [3, 4, 5, 1], ["blur", "noise"])  # the level-1 row is left out
        >>> round(r["top1"], 3), r["n"], {f: round(v["top1"], 2) for f, v in r["per_family"].items()}
        (0.667, 3, {'blur': 0.5, 'noise': 1.0})
    """
    probs, targets = np.asarray(probs, dtype=np.float64), np.asarray(targets, dtype=np.float64)
    lv = np.array([-1 if v is None else int(v) for v in levels])
    known = ~np.isnan(targets).any(axis=1)
    single = known & (np.nan_to_num(targets).sum(axis=1) == 1) & (lv >= min_level)
    truth = np.nan_to_num(targets).argmax(axis=1)
    hit = probs.argmax(axis=1) == truth if len(probs) else np.zeros(0, dtype=bool)
    per_family = {}
    for k, fam in enumerate(families):
        sel = single & (truth == k)
        if sel.any():
            per_family[fam] = {"top1": float(hit[sel].mean()), "n": int(sel.sum())}
    n = int(single.sum())
    return {"top1": float(hit[single].mean()) if n else None, "n": n, "per_family": per_family}
