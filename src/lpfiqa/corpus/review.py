"""Draft ``photos.csv`` rows and candidate contact sheets, for the review by eye.

``python tools/build_corpus.py --review`` lists every candidate of the chosen sources
(new ones get ``keep=1`` and the licence/author from :mod:`lpfiqa.corpus.credits`;
existing rows keep their decision), and writes numbered contact sheets of *all*
candidates to ``<out>/review/<source>-<page>.png``. Look at them, set ``keep=0`` with a
note for whatever is not a real photograph, and commit the list.
"""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from .candidates import candidate_id, iter_candidates
from .credits import credit_lookup
from .fetch import fetch
from .photolist import PhotoRow
from .sheet import save_sheet
from .sources import Source

__all__ = ["draft_rows"]

PAGE = 96  # thumbnails per review sheet


def draft_rows(src: Source, downloads: Path, old: dict[str, PhotoRow], review_dir: Path | None) -> list[PhotoRow]:
    """Rows for every candidate of ``src``; decisions and notes of ``old`` rows (by id) are kept."""
    import hashlib

    root = fetch(src, downloads)
    credit = credit_lookup(src, root)
    rows, thumbs, labels = [], [], []
    for c in iter_candidates(src, root):
        ident = candidate_id(src.key, c.path_inside)
        try:
            im = Image.open(io.BytesIO(c.data))
            im.load()
            size = f"{im.width}x{im.height}"
        except Exception:  # noqa: BLE001 - an undecodable candidate is still listed, as rejected
            im, size = Image.new("RGB", (8, 8), "magenta"), "undecodable"
        lic, author, note = credit(c.path_inside)
        prev = old.get(ident)
        keep = prev.keep if prev else 1
        notes = prev.notes if prev else "; ".join(x for x in (size, note) if x)
        if prev and prev.licence:
            lic, author = prev.licence, prev.author
        sha = hashlib.sha256(c.data).hexdigest()
        rows.append(PhotoRow(ident, src.package, src.version, c.path_inside, sha, lic, author, keep, notes))
        if review_dir is not None:
            im.thumbnail((200, 200))
            thumbs.append(im.copy())
            labels.append(f"{len(rows) - 1} {ident.removeprefix(src.key + '_')}")
    if review_dir is not None:
        for p in range(0, len(thumbs), PAGE):
            save_sheet(review_dir / f"{src.key}-{p // PAGE}.png", thumbs[p : p + PAGE], labels[p : p + PAGE], cols=12)
    return rows
