"""The in-memory manifest: rated-image rows, the :class:`Manifest` list and its summary.

Its CSV form (columns, reading, writing) is :mod:`lpfiqa.datasets.manifest`, which also
re-exports everything defined here.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["SPLITS", "Manifest", "ManifestRow", "ManifestSummary"]

#: Allowed values of ``split`` (besides empty).
SPLITS: tuple[str, ...] = ("train", "val", "test")


@dataclass
class ManifestRow:
    """One rated image.

    Attributes:
        path: Image file (absolute once read from a manifest).
        score: Subjective score in the dataset's unit.
        higher_is_better: ``True`` for MOS, ``False`` for DMOS.
        group: Reference/content id (the image itself when there is none).
        dist_type: Distortion type, or ``""``.
        dist_level: Distortion level, or ``None``.
        split: ``"train"``, ``"val"``, ``"test"`` or ``""``.
        extra: Dataset-specific columns as strings (``std``, ``ref_path``...).
    """

    path: Path
    score: float
    higher_is_better: bool
    group: str
    dist_type: str = ""
    dist_level: int | None = None
    split: str = ""
    extra: dict[str, str] = field(default_factory=dict)


@dataclass
class ManifestSummary:
    """What :meth:`Manifest.summary` reports."""

    name: str
    images: int
    missing_files: list[str]
    score_min: float
    score_max: float
    higher_is_better: bool | None  # None: rows disagree
    groups: int
    splits: dict[str, int]
    dist_types: dict[str, int]
    label_file: str = ""  # the label file the reader used (``Manifest.meta["label_file"]``)
    score_unit: str = ""  # what ``score`` is, e.g. ``"MOS, 1-5"`` (``Manifest.meta["score_unit"]``)

    def as_dict(self) -> dict[str, Any]:
        """Plain-dict form (JSON-serialisable)."""
        return {
            "name": self.name,
            "images": self.images,
            "missing": len(self.missing_files),
            "missing_files": list(self.missing_files),
            "score_min": self.score_min,
            "score_max": self.score_max,
            "higher_is_better": self.higher_is_better,
            "groups": self.groups,
            "splits": dict(self.splits),
            "dist_types": dict(self.dist_types),
            "label_file": self.label_file,
            "score_unit": self.score_unit,
        }

    def __str__(self) -> str:
        direction = {True: "higher is better", False: "lower is better", None: "mixed directions"}
        lines = [
            f"{self.name or 'manifest'}: {self.images} images, {self.groups} groups",
            f"  scores {self.score_min:g} .. {self.score_max:g} ({direction[self.higher_is_better]})",
        ]
        told = [f"labels {self.label_file}"] if self.label_file else []
        told += [f"score {self.score_unit}"] if self.score_unit else []
        if told:
            lines.append("  " + "; ".join(told))
        if self.splits:
            lines.append("  splits " + ", ".join(f"{k or '(none)'}={v}" for k, v in self.splits.items()))
        if self.dist_types:
            lines.append(f"  {len(self.dist_types)} distortion types")
        if self.missing_files:
            lines.append(f"  {len(self.missing_files)} missing file(s):")
            lines.extend(f"    {p}" for p in self.missing_files[:20])
            if len(self.missing_files) > 20:
                lines.append(f"    ... and {len(self.missing_files) - 20} more")
        return "\n".join(lines)


@dataclass
class Manifest:
    """A list of rated images plus what a reader learned on the way.

    Attributes:
        rows: Images present on disk (or all rows, when read from a CSV).
        name: Dataset name (``"koniq10k"``...) or the CSV's stem.
        missing: Images listed in the labels but absent on disk; they are *not*
            in ``rows`` and are listed by :meth:`summary`.
        root: Dataset root folder, or the manifest file's folder.
        meta: Reader options and facts (``{"dmos": "realigned"}``...). Readers set
            ``label_file`` (the file the scores came from) and ``score_unit`` (what
            the score is and on which scale, e.g. ``"MOS, 1-5"``); :meth:`summary`
            reports both.

    Example:
        >>> m = Manifest([ManifestRow(Path("/d/a.png"), 3.5, True, "a.png"),
        ...               ManifestRow(Path("/d/b.png"), 1.5, True, "b.png")], name="demo")
        >>> len(m), m.scores().tolist()
        (2, [3.5, 1.5])
    """

    rows: list[ManifestRow]
    name: str = ""
    missing: list[ManifestRow] = field(default_factory=list)
    root: Path | None = None
    meta: dict[str, str] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[ManifestRow]:
        return iter(self.rows)

    def __getitem__(self, i: int) -> ManifestRow:
        return self.rows[i]

    def scores(self) -> np.ndarray:
        """Scores as a float64 array, in row order."""
        return np.array([r.score for r in self.rows], dtype=np.float64)

    def paths(self) -> list[Path]:
        """Image paths, in row order."""
        return [r.path for r in self.rows]

    def select(self, split: str) -> Manifest:
        """A manifest with only the rows of ``split`` (``""`` selects rows without one)."""
        if split not in ("", *SPLITS):
            raise ValueError(f"split must be one of {SPLITS} or '', got {split!r}")
        return Manifest([r for r in self.rows if r.split == split], self.name, [], self.root, dict(self.meta))

    def summary(self, *, check_files: bool = True) -> ManifestSummary:
        """Counts, score range and missing files.

        Args:
            check_files: Also stat every row's file, so a manifest read from CSV
                reports images that have since disappeared.

        Returns:
            A :class:`ManifestSummary`; ``str()`` of it is a readable report.

        Example:
            >>> m = Manifest([ManifestRow(Path("/nonexistent/a.png"), 3.0, True, "a.png")], name="demo")
            >>> s = m.summary()
            >>> s.images, s.missing_files, (s.score_min, s.score_max)
            (1, ['/nonexistent/a.png'], (3.0, 3.0))
        """
        missing = [str(r.path) for r in self.missing]
        if check_files:
            missing += [str(r.path) for r in self.rows if not r.path.is_file()]
        scores = self.scores()
        hib = {r.higher_is_better for r in self.rows}
        return ManifestSummary(
            name=self.name,
            images=len(self.rows),
            missing_files=missing,
            score_min=float(scores.min()) if scores.size else math.nan,
            score_max=float(scores.max()) if scores.size else math.nan,
            higher_is_better=hib.pop() if len(hib) == 1 else None,
            groups=len({r.group for r in self.rows}),
            splits=dict(sorted(Counter(r.split for r in self.rows).items())) if self.rows else {},
            dist_types=dict(sorted(Counter(r.dist_type for r in self.rows if r.dist_type).items())),
            label_file=self.meta.get("label_file", ""),
            score_unit=self.meta.get("score_unit", ""),
        )
