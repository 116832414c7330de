"""Score normalisation: between a dataset's own unit (MOS or DMOS) and [0, 1], higher = better.

Re-exported by :mod:`lpfiqa.datasets.manifest`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from lpfiqa.errors import ManifestError

from .records import Manifest

__all__ = ["ScoreScale", "denormalise_scores", "normalised_scores", "score_scale"]


@dataclass(frozen=True)
class ScoreScale:
    """Map between a dataset's score unit and [0, 1], higher = better.

    Save it with a trained model (:meth:`to_dict`) to report predictions in the
    dataset's unit later.

    Example:
        >>> s = ScoreScale(lo=0.0, hi=100.0, higher_is_better=False)  # DMOS
        >>> s.normalise([0.0, 25.0, 100.0]).tolist()
        [1.0, 0.75, 0.0]
        >>> s.denormalise([0.75]).tolist()
        [25.0]
    """

    lo: float
    hi: float
    higher_is_better: bool = True

    def normalise(self, scores: Any) -> np.ndarray:
        """Dataset unit -> [0, 1] (higher = better); values outside [lo, hi] go outside [0, 1]."""
        s = np.asarray(scores, dtype=np.float64)
        u = (s - self.lo) / (self.hi - self.lo)
        return u if self.higher_is_better else 1.0 - u

    def denormalise(self, values: Any) -> np.ndarray:
        """[0, 1] (higher = better) -> dataset unit; the inverse of :meth:`normalise`."""
        v = np.asarray(values, dtype=np.float64)
        u = v if self.higher_is_better else 1.0 - v
        return self.lo + u * (self.hi - self.lo)

    def to_dict(self) -> dict[str, Any]:
        return {"lo": self.lo, "hi": self.hi, "higher_is_better": self.higher_is_better}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ScoreScale:
        return cls(float(d["lo"]), float(d["hi"]), bool(d["higher_is_better"]))


def score_scale(manifest: Manifest) -> ScoreScale:
    """The :class:`ScoreScale` of a manifest: its score min/max and direction.

    Raises:
        ManifestError: No rows, constant scores, or rows with both directions.

    Example:
        >>> from pathlib import Path
        >>> from lpfiqa.datasets.manifest import Manifest, ManifestRow
        >>> m = Manifest([ManifestRow(Path(f"{i}.png"), s, False, str(i)) for i, s in enumerate([0.1, 0.9])])
        >>> score_scale(m)
        ScoreScale(lo=0.1, hi=0.9, higher_is_better=False)
    """
    if not manifest.rows:
        raise ManifestError(f"{manifest.name or 'manifest'}: no rows to normalise")
    hib = {r.higher_is_better for r in manifest.rows}
    if len(hib) != 1:
        raise ManifestError(
            f"{manifest.name or 'manifest'}: rows mix higher_is_better 1 and 0; "
            "normalise each dataset separately"
        )
    s = manifest.scores()
    lo, hi = float(s.min()), float(s.max())
    if lo == hi:
        raise ManifestError(f"{manifest.name or 'manifest'}: all scores equal {lo}; cannot normalise")
    return ScoreScale(lo, hi, hib.pop())


def normalised_scores(manifest: Manifest) -> np.ndarray:
    """Scores mapped to [0, 1] with higher = better, from the manifest's min/max.

    Example:
        >>> from pathlib import Path
        >>> from lpfiqa.datasets.manifest import Manifest, ManifestRow
        >>> m = Manifest([ManifestRow(Path(f"{i}.png"), s, False, str(i))
        ...               for i, s in enumerate([10.0, 30.0, 50.0])])
        >>> normalised_scores(m).tolist()
        [1.0, 0.5, 0.0]
    """
    return score_scale(manifest).normalise(manifest.scores())


def denormalise_scores(values: Any, scale: Manifest | ScoreScale) -> np.ndarray:
    """Map [0, 1] higher-is-better values back to the unit of ``scale`` (a manifest or its scale).

    Example:
        >>> from pathlib import Path
        >>> from lpfiqa.datasets.manifest import Manifest, ManifestRow
        >>> m = Manifest([ManifestRow(Path(f"{i}.png"), s, True, str(i))
        ...               for i, s in enumerate([1.0, 5.0])])
        >>> denormalise_scores([0.0, 0.5, 1.0], m).tolist()
        [1.0, 3.0, 5.0]
    """
    sc = scale if isinstance(scale, ScoreScale) else score_scale(scale)
    return sc.denormalise(values)
