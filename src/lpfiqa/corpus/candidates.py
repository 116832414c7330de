"""Enumerate the candidate photos of an unpacked source package, as raw encoded bytes.

A candidate's ``path_inside`` names it uniquely within its package:

- plain files: the path relative to the unpacked package (``usr/share/.../beach0.jpg``);
- rcc members: ``<rcc path>:<member path>``;
- ``.edj`` backgrounds: ``<edj path>:largest`` (the embedded stream with the most pixels).

Example:
    >>> candidate_id("gcompris", "usr/share/gcompris-qt/rcc/erase.rcc:gcompris/src/activities/erase/resource/bee.webp")
    'gcompris_erase_bee'
    >>> candidate_id("endless-sky", "usr/share/games/endless-sky/images/land/beach0.jpg")
    'endless-sky_land_beach0'
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .carve import largest_image
from .rcc import iter_rcc
from .sources import Source

__all__ = ["Candidate", "candidate_id", "iter_candidates"]


@dataclass(frozen=True)
class Candidate:
    """One candidate photo: where it lies in its package, and its encoded bytes."""

    path_inside: str
    data: bytes


def _slug(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", s).strip("-")


def candidate_id(key: str, path_inside: str) -> str:
    """A stable, file-name-safe id: ``<source>_<folder>_<name>`` (folder: the activity or image set)."""
    outer, _, member = path_inside.partition(":")
    if member == "largest":  # edj: the background's name
        return f"{key}_{_slug(PurePosixPath(outer).stem)}"
    p = PurePosixPath(member or outer)
    if member:  # rcc: activity name + path under resource/
        parts = p.parts
        act = parts[parts.index("activities") + 1] if "activities" in parts else PurePosixPath(outer).stem
        sub = [x for x in parts[:-1] if x not in ("gcompris", "src", "activities", act, "resource", "images")]
        return "_".join([key, _slug(act), *(_slug(x) for x in sub[-1:]), _slug(p.stem)])
    return f"{key}_{_slug(p.parent.name)}_{_slug(p.stem)}"


def _files(src: Source, root: Path) -> list[Path]:
    out: set[Path] = set()
    for g in src.globs:
        out.update(p for p in root.glob(g) if p.is_file())
    return sorted(out)


def iter_candidates(src: Source, root: Path, wanted: set[str] | None = None) -> Iterator[Candidate]:
    """Yield the candidates of ``src`` unpacked at ``root`` (only those in ``wanted``, if given)."""
    for f in _files(src, root):
        rel = f.relative_to(root).as_posix()
        if src.container == "file":
            if wanted is None or rel in wanted:
                yield Candidate(rel, f.read_bytes())
        elif src.container == "edj":
            pi = f"{rel}:largest"
            if wanted is None or pi in wanted:
                s = largest_image(f.read_bytes())
                if s is not None:
                    yield Candidate(pi, s.data)
        else:
            if wanted is not None and not any(w.startswith(rel + ":") for w in wanted):
                continue
            for e in iter_rcc(f.read_bytes()):
                pi = f"{rel}:{e.path}"
                if any(fnmatch.fnmatch(e.path.lower(), m) for m in src.members) and (wanted is None or pi in wanted):
                    yield Candidate(pi, e.data)
