"""The optional local ``pristine`` folder (``../shared/pristine``): clean PNGs with a SOURCES.md.

Its licences are read from the SOURCES.md table (``| `prefix_` (n) | origin | licence |``),
matched by file-name prefix.

Example:
    >>> md = "| prefix | origin | licence |\\n| --- | --- | --- |\\n| `mate_` (12) | Debian mate | GPL-2+ |\\n"
    >>> prefix_licences(md)
    {'mate_': ('GPL-2+', 'Debian mate')}
"""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["PRISTINE_DIR", "prefix_licences", "pristine_photos"]

PRISTINE_DIR = Path(__file__).resolve().parents[4] / "shared" / "pristine"  # ../shared/pristine of the checkout


def prefix_licences(markdown: str) -> dict[str, tuple[str, str]]:
    """``{prefix: (licence, origin)}`` from the table rows of SOURCES.md."""
    out = {}
    for line in markdown.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        m = re.match(r"`([^`]+)`", cells[0]) if len(cells) >= 3 else None
        if m:
            out[m.group(1)] = (cells[2].strip(), cells[1].replace("`", ""))
    return out


def pristine_photos(folder: Path) -> list[tuple[Path, str, str]]:
    """``(png, licence, author/origin)`` for each PNG of ``folder`` (empty if the folder does not exist)."""
    if not folder.is_dir():
        return []
    md = folder / "SOURCES.md"
    table = prefix_licences(md.read_text(encoding="utf-8")) if md.is_file() else {}
    out = []
    for p in sorted(folder.glob("*.png")):
        hit = next(((lic, o) for pre, (lic, o) in table.items() if p.name.startswith(pre)), None)
        lic, origin = hit or ("see SOURCES.md", "")
        by = p.stem.partition("_by_")[2].replace("_", " ")  # lomiri names carry the photographer
        out.append((p, lic, f"{by}; {origin}" if by else origin))
    return out
