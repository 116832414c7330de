"""Licence and author of each candidate, from the records its package ships.

Used when (re)drafting ``photos.csv`` for review (:func:`lpfiqa.corpus.review.draft_rows`);
the build itself reads licences from the committed list only.

- endless-sky: the DEP-5 ``copyright`` maps ``images/land/*`` patterns to photographers;
- gcompris: each activity's ``resource/README`` inside the rcc (wins), then the DEP-5 file;
- tuxpaint: ``AUTHORS.txt`` (templates by Bill Kendrick, GPL-2+; two NOAA starters);
- tiktok: Pexels photos; the photographer is in some file names (``pexels-<name>-<id>``);
- enlightenment, lxqt: one licence for all (BSD-2-clause; CC-BY-SA-3.0 with credits).

Example:
    >>> tiktok_author("interior_photos/images/pexels-cup-of-couple-6962851.jpg")
    'cup-of-couple (Pexels)'
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from .copyright import Record, lookup, parse_records
from .rcc import iter_rcc
from .sources import Source

__all__ = ["credit_lookup", "tiktok_author"]

Credit = tuple[str, str, str]  # licence, author, note

_TUXPAINT_STARTERS = {
    "skyline-sf-dusk": ("public-domain", "Rich Bourgerie, NOAA (photolib.noaa.gov line1989)"),
    "reef": ("public-domain", "Thomas K. Gibson, NOAA (photolib.noaa.gov reef2583)"),
}
_LXQT_STEFONARCH = (
    "beam",
    "flowers",
    "butterfly",
    "fog",
    "this-is-not-windows",
    "appleflower",
    "after-the-rain",
    "drop",
)


def tiktok_author(path_inside: str) -> str:
    """``'<name> (Pexels)'`` when the file name carries the photographer, else ``'Pexels'``."""
    m = re.match(r"pexels-(.+)-\d+$", PurePosixPath(path_inside).stem)
    return f"{m.group(1)} (Pexels)" if m and not m.group(1).isdigit() else "Pexels"


def _from(rec: Record | None, default: str) -> Credit:
    if rec is None:
        return default, "", "licence: package default"
    author = rec.author
    if author.lower() in ("various", "") and rec.comment:  # e.g. "Various (Taken from unsplash.com, ...)"
        author = f"{author or 'unknown'} ({rec.comment.split(',')[0].strip().rstrip('.')})"
    note = f"source: {rec.source}" if rec.source else ""
    if rec.patterns == ("*",):
        note = "licence: package default (Files: *)"
    return rec.licence or default, author, note


def credit_lookup(src: Source, root: Path) -> Callable[[str], Credit]:
    """A function ``path_inside -> (licence, author, note)`` for ``src`` unpacked at ``root``."""
    deb: list[Record] = []
    if src.copyright and (root / src.copyright).is_file():
        deb = parse_records((root / src.copyright).read_text(encoding="utf-8", errors="replace"))
    if src.key == "endless-sky":
        return lambda p: _from(lookup(deb, p.removeprefix("usr/share/games/endless-sky/")), "CC-BY-SA-4.0")
    if src.key == "gcompris":
        readme: list[Record] = []
        for g in src.globs:
            for f in sorted(root.glob(g)):
                for e in iter_rcc(f.read_bytes()):
                    if PurePosixPath(e.path).name == "README":
                        base = str(PurePosixPath(e.path).parent).removeprefix("gcompris/")
                        readme += parse_records(e.data.decode("utf-8", errors="replace"), base)
        recs = deb + readme  # last match wins: the activity's own README first

        def gcompris(p: str) -> Credit:
            return _from(lookup(recs, p.partition(":")[2].removeprefix("gcompris/")), "GPL-3+")

        return gcompris
    if src.key == "tuxpaint":

        def tuxpaint(p: str) -> Credit:
            stem = PurePosixPath(p).stem.removesuffix("-back")
            if stem in _TUXPAINT_STARTERS:
                return (*_TUXPAINT_STARTERS[stem], "AUTHORS.txt")
            return "GPL-2+", "Bill Kendrick", "AUTHORS.txt"

        return tuxpaint
    if src.key == "tiktok":
        return lambda p: (src.licence, tiktok_author(p), "package licence MIT; photos under the Pexels licence")
    if src.key == "lxqt":

        def lxqt(p: str) -> Credit:
            stem = PurePosixPath(p).stem
            author = "stefonarch" if stem in _LXQT_STEFONARCH else "LXQt Project Team"
            return src.licence, author, "wallpapers/License"

        return lxqt
    return lambda p: (src.licence, "Carsten Haitzler and contributors", "copyright: Files: *")
