"""SPAQ (Smartphone Photography Attribute and Quality) database.

Y. Fang, H. Zhu, Y. Zeng, K. Ma and Z. Wang, "Perceptual quality assessment of
smartphone photography", Proc. IEEE/CVF CVPR, 2020.

Release layout::

    Annotations/MOS and Image attribute scores.xlsx   Image name, MOS, Brightness,
                                                      Colorfulness, Contrast, Noisiness, Sharpness
    Annotations/Scene category labels.xlsx            (not read)
    Annotations/EXIF_tags.xlsx                        (not read)
    TestImage/00001.jpg ... 11125.jpg

MOS on 0-100, higher = better. The archive is a split zip that needs ``zip -FF``;
some images are reported corrupted after extraction, so decoding problems show up
only when images are loaded, not here.
"""

from __future__ import annotations

from pathlib import Path

from lpfiqa.errors import DatasetError

from ._io import Resolver, RowCollector, cell_float, cell_str, find_header, locate, read_xlsx_rows
from .manifest import Manifest

__all__ = ["SPAQ_ATTRIBUTES", "read_spaq"]

#: Attribute columns of the MOS workbook, exported as lower-case extras.
SPAQ_ATTRIBUTES: tuple[str, ...] = ("Brightness", "Colorfulness", "Contrast", "Noisiness", "Sharpness")


def read_spaq(root: Path | str) -> Manifest:
    """Read SPAQ.

    Args:
        root: The SPAQ folder (with ``Annotations/`` and ``TestImage/``) or a folder
            above it. Only ``MOS and Image attribute scores.xlsx`` is read (the
            scene and EXIF workbooks are not needed).

    Returns:
        Manifest: MOS (0-100), ``higher_is_better=True``; ``group`` = the image
        name (authentic, no references); no split; extras ``brightness``,
        ``colorfulness``, ``contrast``, ``noisiness``, ``sharpness`` where present.
        11,125 rows on the full release.

    Raises:
        DatasetError: Workbook missing, no ``Image name``/``MOS`` header, or a
            non-numeric MOS (naming the row).
        MissingDependencyError: openpyxl is not installed.

    Example:
        >>> import tempfile, openpyxl
        >>> d = Path(tempfile.mkdtemp()); (d / "Annotations").mkdir()
        >>> wb = openpyxl.Workbook(); ws = wb.active
        >>> ws.append(["Image name", "MOS"]); ws.append(["00001.jpg", 42.5])
        >>> wb.save(d / "Annotations" / "MOS and Image attribute scores.xlsx")
        >>> import warnings; warnings.simplefilter("ignore")  # no images in this demo
        >>> [(r.path.name, r.score) for r in read_spaq(d).missing]
        [('00001.jpg', 42.5)]
    """
    res = Resolver()
    label = locate(
        root,
        ["Annotations/MOS and Image attribute scores.xlsx", "MOS and Image attribute scores.xlsx"],
        what="SPAQ",
        resolver=res,
    )
    # Annotations/ beside TestImage/ as released; some copies keep the workbook beside TestImage/
    base = label.parent if res.is_dir(label.parent, "TestImage") else label.parent.parent
    sheet, rows = read_xlsx_rows(label, None)
    h, cols = find_header(rows, ["image name", "mos"], file=label, sheet=sheet)
    attrs = [(a.lower(), cols[a.lower()]) for a in SPAQ_ATTRIBUTES if a.lower() in cols]
    img_dir = res.is_dir(base, "TestImage") or base / "TestImage"
    col = RowCollector(img_dir, res)
    for i in range(h + 1, len(rows)):
        r = rows[i]
        raw_name = r[cols["image name"]] if cols["image name"] < len(r) else None
        name = cell_str(raw_name)
        if not name:
            continue
        if isinstance(raw_name, (int, float)):  # a bare number: the files are 00001.jpg...
            name = f"{int(raw_name):05d}.jpg"
        raw = r[cols["mos"]] if cols["mos"] < len(r) else None
        mos = cell_float(raw)
        if mos is None:
            raise DatasetError(
                f"{label}, sheet {sheet!r}, row {i + 1}: MOS must be a number, got {cell_str(raw)!r}"
            )
        extra = {k: cell_str(r[j]) if j < len(r) else "" for k, j in attrs}
        col.add(name, score=mos, higher_is_better=True, group=name, extra=extra)
    if not col.rows and not col.missing:
        raise DatasetError(f"{label}, sheet {sheet!r}: no data rows below the header")
    return col.manifest("spaq", base, {"label_file": label.name, "score_unit": "MOS, 0-100"})
