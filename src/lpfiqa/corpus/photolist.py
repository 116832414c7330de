"""The committed, reviewed list of candidate photos (``photos.csv`` next to this file).

Every candidate found in a source is listed, with ``keep`` 1 (a real photograph, goes
into the corpus) or 0 (rejected by eye on the review contact sheet; ``notes`` says
why: drawing, render, UI, map, text, pattern...). ``sha256`` is that of the candidate's
encoded bytes as extracted (the file, the rcc member, or the carved JPEG), so a changed
package is noticed photo by photo. ``licence`` and ``author`` come from the package's
copyright records (:mod:`lpfiqa.corpus.credits`) and were checked during the review.

Example:
    >>> rows = read_photo_list()
    >>> all(r.licence for r in rows), len({r.id for r in rows}) == len(rows)
    (True, True)
"""

from __future__ import annotations

import csv
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from lpfiqa.errors import ManifestError

__all__ = ["PHOTO_LIST", "PhotoRow", "read_photo_list", "write_photo_list"]

PHOTO_LIST = Path(__file__).with_name("photos.csv")


@dataclass(frozen=True)
class PhotoRow:
    """One reviewed candidate."""

    id: str
    package: str
    version: str
    path_inside: str
    sha256: str
    licence: str
    author: str
    keep: int  # 1: a real photograph, in the corpus; 0: rejected in review
    notes: str = ""


COLUMNS = [f.name for f in fields(PhotoRow)]


def read_photo_list(path: Path = PHOTO_LIST) -> list[PhotoRow]:
    """The rows of the list; :class:`ManifestError` names the first malformed one."""
    with open(path, newline="", encoding="utf-8") as f:
        r = csv.DictReader(f)
        if r.fieldnames != COLUMNS:
            raise ManifestError(f"{path}: columns are {r.fieldnames}, expected {COLUMNS}")
        rows = []
        for i, d in enumerate(r, start=2):
            if d["keep"] not in ("0", "1"):
                raise ManifestError(f"{path}:{i}: keep must be 0 or 1, got {d['keep']!r}")
            rows.append(PhotoRow(**{**d, "keep": int(d["keep"])}))
    return rows


def write_photo_list(rows: list[PhotoRow], path: Path = PHOTO_LIST) -> None:
    """Write the list sorted by id (atomically)."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS, lineterminator="\n")
        w.writeheader()
        w.writerows(asdict(r) for r in sorted(rows, key=lambda r: r.id))
    os.replace(tmp, path)
