"""Expected sizes of the official releases, to catch a wrong or partial download.

The numbers come from the dataset papers and the public label files. Counts are taken over
*labelled* entries (``rows + missing``), so a release with some images missing
still passes here while :meth:`Manifest.summary` lists what is missing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lpfiqa.errors import DatasetError

from .manifest import Manifest

__all__ = ["EXPECTED", "Expected", "check_counts"]


@dataclass(frozen=True)
class Expected:
    """What a complete release contains.

    Attributes:
        images: Accepted numbers of labelled images (several where sources disagree).
        groups: Number of distinct ``group`` values (references), if fixed.
        splits: Rows per official split, if the dataset has one.
    """

    images: tuple[int, ...]
    groups: int | None = None
    splits: dict[str, int] = field(default_factory=dict)


EXPECTED: dict[str, Expected] = {
    "live": Expected((779,), groups=29),  # 982 label entries minus 203 reference copies
    "csiq": Expected((866,), groups=30),
    "tid2013": Expected((3000,), groups=25),
    "kadid10k": Expected((10125,), groups=81),
    "livec": Expected((1162,)),  # after dropping the 7 t*.bmp training images
    "koniq10k": Expected((10073,), splits={"train": 7058, "val": 1000, "test": 2015}),
    "spaq": Expected((11125,)),
    "bid": Expected((586,)),  # QUALINET says 585; the grades file has 586 rows
    "cid2013": Expected((474, 480)),  # 474 in circulating copies, 480 in the paper
}


def _expected_for(manifest: Manifest, name: str) -> Expected | None:
    exp = EXPECTED.get(name)
    if exp is None:
        return None
    # options that change the count on purpose
    if name == "live" and manifest.meta.get("keep_references") == "1":
        return Expected((982,), groups=29)
    if name == "livec" and manifest.meta.get("keep_training") == "1":
        return Expected((1169,))
    if name == "koniq10k" and manifest.meta.get("split") != "official":
        return Expected(exp.images)
    return exp


def check_counts(manifest: Manifest, name: str | None = None, *, strict: bool = False) -> list[str]:
    """Compare a manifest of a full release with the published counts.

    Args:
        manifest: A reader's output.
        name: Dataset name; default ``manifest.name``. Unknown names pass.
        strict: Raise instead of returning the problems.

    Returns:
        Human-readable problems; empty when everything matches.

    Raises:
        DatasetError: When ``strict`` and there is a problem.

    Example:
        >>> from pathlib import Path
        >>> from lpfiqa.datasets.manifest import ManifestRow
        >>> m = Manifest([ManifestRow(Path("a.bmp"), 1.0, True, "a.bmp")], name="bid")
        >>> check_counts(m)
        ['bid: 1 labelled images (1 present, 0 missing), expected 586']
    """
    key = name or manifest.name
    exp = _expected_for(manifest, key)
    if exp is None:
        return []
    allrows = [*manifest.rows, *manifest.missing]
    problems: list[str] = []
    if len(allrows) not in exp.images:
        want = " or ".join(str(n) for n in exp.images)
        problems.append(
            f"{key}: {len(allrows)} labelled images ({len(manifest.rows)} present, "
            f"{len(manifest.missing)} missing), expected {want}"
        )
    if exp.groups is not None:
        g = len({r.group for r in allrows})
        if g != exp.groups:
            problems.append(f"{key}: {g} groups (references), expected {exp.groups}")
    for split, n in exp.splits.items():
        got = sum(r.split == split for r in allrows)
        if got != n:
            problems.append(f"{key}: {got} images in split {split!r}, expected {n}")
    if strict and problems:
        raise DatasetError("; ".join(problems) + " (an incomplete or different release?)")
    return problems
