"""How well a model orders synthetic distortions on photos it never saw (issue floors in brackets).

* level ordering: mean Spearman correlation between the score and -level within each
  (photo, type) group, overall [>= 0.90] and per type [>= 0.70 each; 0.80 before lpf-synth-v4];
* agreement with the weak labels across types: SRCC and PLCC over all distorted images [>= 0.85];
* clean beats damaged: share of (photo, type) pairs where the clean photo scores above every
  level-3-or-worse version [>= 95%];
* the scale: median score of the clean photos [>= 85 of 100] and of the level-5 images (reported).
"""

from __future__ import annotations

import warnings
from collections import defaultdict
from collections.abc import Sequence

import numpy as np
from scipy import stats

from ..datasets.manifest import Manifest
from ..metrics import evaluate

__all__ = ["FLOORS", "level_ordering_report"]

FLOORS = {"level_srcc_mean": 0.90, "level_srcc_per_type_min": 0.70, "label_srcc": 0.85, "label_plcc": 0.85,
          "clean_beats_level3plus": 0.95, "clean_median": 85.0}


def level_ordering_report(manifest: Manifest, scores: Sequence[float], split: str | None = "test") -> dict:
    """Figures of a model's scores on a synthetic manifest (single distortions; chains are skipped).

    Args:
        manifest: from ``lpfiqa synth`` (dist_type, dist_level, group; level 0 = the clean photo).
        scores: the model's score per manifest row (higher = better); NaN for an image that could
            not be scored (left out of every figure and counted in ``unscored``).
        split: only rows of this split (``None``: all rows).

    Returns:
        A dict with the overall figures, the per-type table and which floors pass.

    Example:
        >>> from pathlib import Path
        >>> from lpfiqa.datasets.manifest import Manifest, ManifestRow
        >>> rows = [ManifestRow(Path(f"{p}{t}{lv}"), 100 - 20 * lv, True, p, t if lv else "", lv, "test")
        ...         for p in "ab" for t in ("blur", "jpeg") for lv in range(6)]
        >>> r = level_ordering_report(Manifest(rows), [row.score for row in rows])
        >>> round(r["level_srcc_mean"], 6), r["clean_beats_level3plus"]
        (1.0, 1.0)
        >>> s = [row.score for row in rows]
        >>> s[1] = float("nan")  # one image could not be scored
        >>> r = level_ordering_report(Manifest(rows), s)
        >>> r["unscored"], r["label_n"], round(r["level_srcc_mean"], 6)
        (1, 19, 1.0)
    """
    scores = np.asarray(scores, dtype=float)
    rows = [(i, r) for i, r in enumerate(manifest.rows) if split is None or r.split == split]
    unscored = sum(1 for i, _ in rows if not np.isfinite(scores[i]))
    rows = [(i, r) for i, r in rows if np.isfinite(scores[i])]  # failed images are counted, not guessed
    clean = {r.group: scores[i] for i, r in rows if (r.dist_level or 0) == 0}
    groups: dict[tuple[str, str], list[tuple[int, float]]] = defaultdict(list)
    label_pred, label_true = [], []
    for i, r in rows:
        if (r.dist_level or 0) > 0 and r.dist_type and r.dist_type != "chain":
            groups[(r.group, r.dist_type)].append((int(r.dist_level), scores[i]))
        if (r.dist_level or 0) > 0:
            label_pred.append(scores[i])
            label_true.append(r.score)
    per_type: dict[str, list[float]] = defaultdict(list)
    beats: list[bool] = []
    for (photo, dtype), items in groups.items():
        levels, s = zip(*sorted(items), strict=True)
        if len(set(levels)) >= 2:
            rho = stats.spearmanr(s, -np.asarray(levels)).statistic
            per_type[dtype].append(0.0 if np.isnan(rho) else float(rho))
        bad = [v for lv, v in items if lv >= 3]
        if photo in clean and bad:
            beats.append(bool(clean[photo] > max(bad)))
    type_means = {t: float(np.mean(v)) for t, v in sorted(per_type.items())}
    all_rhos = [x for v in per_type.values() for x in v]
    out = {
        "photos": len({r.group for _, r in rows}),
        "groups": len(all_rhos),
        "level_srcc_mean": float(np.mean(all_rhos)) if all_rhos else float("nan"),
        "level_srcc_per_type": type_means,
        "level_srcc_per_type_min": min(type_means.values()) if type_means else float("nan"),
        "clean_beats_level3plus": float(np.mean(beats)) if beats else float("nan"),
        "clean_median": float(np.median(list(clean.values()))) if clean else float("nan"),
        "level5_median": _median([s for lv, s in (it for v in groups.values() for it in v) if lv == 5]),
        "unscored": unscored,
    }
    if len(label_pred) >= 3:
        with warnings.catch_warnings():  # a failed logistic fit is reported in the figures, not shouted
            warnings.simplefilter("ignore")
            m = evaluate(label_pred, label_true)
        out.update({"label_srcc": m["srcc"], "label_plcc": m["plcc"], "label_plcc_l4": m["plcc_l4"],
                    "label_krcc": m["krcc"], "label_n": m["n"]})
    out["floors"] = {k: {"floor": f, "value": out.get(k), "pass": bool(out.get(k, float("nan")) >= f)}
                     for k, f in FLOORS.items()}
    return out


def _median(values: list[float]) -> float:
    return float(np.median(values)) if values else float("nan")
