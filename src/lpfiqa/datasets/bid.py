"""BID (Blurred Image Database, UFRJ).

A. Ciancio, A. L. N. T. da Costa, E. A. B. da Silva, A. Said, R. Samadani and
P. Obrador, "No-reference blur assessment of digital pictures based on
multifeature classifiers", IEEE Trans. Image Processing 20(1):64-75, 2011.

Release (``ImageDatabase.tgz``)::

    ImageDatabase/DatabaseImage0001.JPG ...   (4-digit, upper-case extension)
    DatabaseGrades.xlsx                        header on row 1; A = image number, B = MOS

Numbers run 1-590 with 2, 346, 413 and 439 absent: 586 rated images (QUALINET
says 585; unresolved). MOS on 0-5, higher = better.
"""

from __future__ import annotations

from pathlib import Path

from lpfiqa.errors import DatasetError

from ._io import Resolver, RowCollector, cell_float, cell_str, locate, read_xlsx_rows
from .manifest import Manifest

__all__ = ["read_bid"]


def read_bid(root: Path | str) -> Manifest:
    """Read BID.

    Args:
        root: The folder holding ``DatabaseGrades.xlsx`` (the images next to it
            or in ``ImageDatabase/``), or a folder above it.

    Returns:
        Manifest: MOS (0-5), ``higher_is_better=True``; ``group`` = the image
        file name (authentic blur, no references); no split; extra ``image_no``.
        586 rows on the full release.

    Raises:
        DatasetError: Workbook missing, or a row whose number or MOS is not
            numeric (naming the row).
        MissingDependencyError: openpyxl is not installed.

    Example:
        >>> import tempfile, openpyxl
        >>> d = Path(tempfile.mkdtemp())
        >>> wb = openpyxl.Workbook(); ws = wb.active
        >>> ws.append(["Image", "MOS"]); ws.append([1, 4.2]); ws.append([3, 1.5])
        >>> wb.save(d / "DatabaseGrades.xlsx")
        >>> import warnings; warnings.simplefilter("ignore")  # no images in this demo
        >>> [(r.path.name, r.score) for r in read_bid(d).missing]
        [('DatabaseImage0001.JPG', 4.2), ('DatabaseImage0003.JPG', 1.5)]
    """
    res = Resolver()
    label = locate(
        root, ["DatabaseGrades.xlsx", "ImageDatabase/DatabaseGrades.xlsx"], what="BID", resolver=res
    )
    base = label.parent
    # images next to the workbook (as in the archive) or in an ImageDatabase/ folder
    sub = res.is_dir(base, "ImageDatabase")
    img_dir = sub if sub is not None and res.resolve(base, "DatabaseImage0001.JPG") is None else base
    sheet, rows = read_xlsx_rows(label, None)
    col = RowCollector(img_dir, res)
    for i, r in enumerate(rows):
        a = r[0] if len(r) > 0 else None
        b = r[1] if len(r) > 1 else None
        if cell_str(a) == "" and cell_str(b) == "":
            continue
        num = cell_float(a)
        if i == 0 and num is None:
            continue  # the header row
        where = f"{label}, sheet {sheet!r}, row {i + 1}"
        if num is None or not num.is_integer() or num < 1:
            raise DatasetError(f"{where}: column A must be the image number, got {cell_str(a)!r}")
        mos = cell_float(b)
        if mos is None:
            raise DatasetError(f"{where}: column B must be the MOS, got {cell_str(b)!r}")
        name = f"DatabaseImage{int(num):04d}.JPG"
        col.add(name, score=mos, higher_is_better=True, group=name, extra={"image_no": str(int(num))})
    if not col.rows and not col.missing:
        raise DatasetError(f"{label}, sheet {sheet!r}: no data rows (expected image number and MOS)")
    return col.manifest("bid", base, {"label_file": label.name, "score_unit": "MOS, 0-5"})
