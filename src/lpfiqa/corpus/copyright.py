"""Per-file licences and authors from a package's copyright records.

Two record formats are read by the same parser:

- Debian machine-readable ``copyright`` files (DEP-5): stanzas of ``Files:``,
  ``Copyright:``, ``License:``, ``Comment:`` fields; the *last* stanza whose pattern
  matches a path wins (``*`` matches ``/`` too);
- gcompris' per-activity ``README`` credits (inside the rcc files), the same fields with
  the file names on the lines after ``Files:``, relative to the README's folder.

Image names are matched without their extension, because packagers convert pictures
(gcompris' ``.jpg`` sources ship as ``.webp``).

Example:
    >>> text = '''Files: *
    ... Copyright: Someone
    ... License: GPL-3+
    ...
    ... Files: images/land/bwerner*
    ... Copyright: Berthold Werner
    ... License: CC-BY-SA-3.0
    ... '''
    >>> r = lookup(parse_records(text), "images/land/bwerner3.jpg")
    >>> r.licence, r.author
    ('CC-BY-SA-3.0', 'Berthold Werner')
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass

__all__ = ["Record", "lookup", "normalise_licence", "parse_records"]

_FIELD = re.compile(r"^([A-Z][A-Za-z-]*):[ \t]*(.*)$")
_IMAGE_EXT = re.compile(r"\.(jpe?g|png|webp|svgz?|gif|bmp)$", re.IGNORECASE)


@dataclass(frozen=True)
class Record:
    """One stanza: the file patterns it covers and their licence, author and comment."""

    patterns: tuple[str, ...]
    licence: str
    author: str
    comment: str = ""
    source: str = ""


def normalise_licence(text: str) -> str:
    """SPDX-like spelling: ``'CC-BY-SA 4.0'`` -> ``'CC-BY-SA-4.0'``, ``'Public Domain'`` -> ``'public-domain'``.

    Example:
        >>> normalise_licence("CC BY-SA 4.0"), normalise_licence("Public Domain"), normalise_licence("GPLv3")
        ('CC-BY-SA-4.0', 'public-domain', 'GPL-3')
    """
    t = text.strip().splitlines()[0].strip() if text.strip() else ""
    if t.lower().replace("-", " ") in ("public domain", "pd"):
        return "public-domain"
    t = re.sub(r"^GPLv(\d)", r"GPL-\1", t)
    return re.sub(r"[ _]+", "-", t)


def _stanzas(text: str) -> list[dict[str, list[str]]]:
    out: list[dict[str, list[str]]] = []
    cur: dict[str, list[str]] = {}
    key = ""
    for line in text.splitlines():
        if not line.strip():
            if cur:
                out.append(cur)
            cur, key = {}, ""
            continue
        m = _FIELD.match(line)
        if m:
            key = m.group(1).lower()
            cur[key] = [m.group(2).strip()] if m.group(2).strip() else []
        elif key:
            cur[key].append(line.strip())
    if cur:
        out.append(cur)
    return out


def parse_records(text: str, base: str = "") -> list[Record]:
    """The stanzas of ``text`` that cover files; patterns are prefixed with ``base`` (a folder)."""
    recs = []
    for st in _stanzas(text):
        if "files" not in st:
            continue
        pats = tuple(f"{base}/{p}" if base else p for line in st["files"] for p in line.split())
        author = "; ".join(x for x in st.get("copyright", []) if x)
        lic_lines = st.get("license", [])
        comment = " ".join(st.get("comment", st.get("comments", []))) or " ".join(lic_lines[1:])
        lic = normalise_licence("\n".join(lic_lines))
        recs.append(Record(pats, lic, author, comment, " ".join(st.get("source", []))))
    return recs


def _stem(p: str) -> str:
    return _IMAGE_EXT.sub("", p)


def lookup(records: list[Record], path: str) -> Record | None:
    """The last record with a pattern matching ``path`` (extension-insensitive for images)."""
    hit = None
    stem = _stem(path)
    for r in records:
        if any(fnmatch.fnmatchcase(path, p) or fnmatch.fnmatchcase(stem, _stem(p)) for p in r.patterns):
            hit = r
    return hit
