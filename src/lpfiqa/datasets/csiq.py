"""CSIQ (Categorical Subjective Image Quality) database.

E. C. Larson and D. M. Chandler, "Most apparent distortion: full-reference image
quality assessment and the role of strategy", Journal of Electronic Imaging
19(1):011006, 2010.

Official files: ``csiq.DMOS.xlsx`` (sheet ``all_by_image``; columns ``image,
dst_idx, dst_type, dst_lev, dmos_std, dmos``), ``src_imgs/<ref>.png`` (30
references) and ``dst_imgs/<folder>/<ref>.<TOKEN>.<level>.png`` (866 rated
images). DMOS in [0, 1], higher = worse.

Label files read, preferred first: the official workbook, the older
``csiq.beta.xlsx``/``csiq.beta.txt``, then HyperIQA's ``csiq_label.txt``
(``<ref>.<TOKEN>.<level>.png <dmos>`` per line; not official, no ``dmos_std``),
which many copies carry instead of the workbook. Images are looked up in
``dst_imgs/<folder>/``, else in a flattened ``dst_imgs_all/`` (pyiqa's and
HyperIQA's layout).
"""

from __future__ import annotations

import re
from pathlib import Path

from lpfiqa.errors import DatasetError

from ._io import (
    Resolver,
    RowCollector,
    cell_float,
    cell_str,
    find_header,
    locate,
    read_text_lines,
    read_xlsx_rows,
)
from .manifest import Manifest

__all__ = ["CSIQ_TYPES", "read_csiq"]

#: ``dst_type`` of the workbook (normalised: lower case, no spaces) -> (folder, file-name token).
#: Token case differs from folder case; files are matched case-insensitively anyway
#: (DBCNN even writes ``JPEG2000``).
CSIQ_TYPES: dict[str, tuple[str, str]] = {
    "noise": ("awgn", "AWGN"),
    "awgn": ("awgn", "AWGN"),
    "jpeg": ("jpeg", "JPEG"),
    "jpeg2000": ("jpeg2000", "jpeg2000"),
    "fnoise": ("fnoise", "fnoise"),
    "blur": ("blur", "BLUR"),
    "contrast": ("contrast", "contrast"),
}

_LABELS = ["csiq.DMOS.xlsx", "csiq.beta.xlsx", "csiq.beta.txt"]
_HYPERIQA = "csiq_label.txt"
_REQUIRED = ["image", "dst_type", "dst_lev", "dmos"]
_FOLDERS = {folder for folder, _ in CSIQ_TYPES.values()}


def _hyperiqa_rows(label: Path) -> list[tuple]:
    """``csiq_label.txt`` lines as workbook rows ``(image, dst_type, dst_lev, dmos)``; the token names the folder."""
    rows: list[tuple] = [("image", "dst_type", "dst_lev", "dmos")]
    for n, line in enumerate(read_text_lines(label), start=1):
        parts = line.split()
        if not parts:
            continue
        name = parts[0].split(".")
        if len(parts) != 2 or len(name) != 4 or name[1].lower() not in _FOLDERS:
            raise DatasetError(
                f"{label}, line {n}: expected '<ref>.<TOKEN>.<level>.png <dmos>' (e.g. '1600.AWGN.1.png 0.062'), "
                f"got {line.strip()!r}"
            )
        rows.append((name[0], name[1].lower(), name[2], parts[1]))
    return rows


def _rows(label: Path) -> tuple[str, list[tuple]]:
    if label.name.lower() == _HYPERIQA:
        return "", _hyperiqa_rows(label)
    if label.suffix.lower() == ".txt":
        # the older tab-separated copy with the same six columns
        return "", [tuple(line.split("\t")) for line in read_text_lines(label)]
    try:
        return read_xlsx_rows(label, "all_by_image")
    except DatasetError as exc:
        if "expected a sheet" not in str(exc):
            raise
        return read_xlsx_rows(label, None)  # copies without the sheet name: try the first sheet


def read_csiq(root: Path | str, *, label_file: Path | str | None = None) -> Manifest:
    """Read CSIQ.

    Args:
        root: The CSIQ folder (with ``csiq.DMOS.xlsx``, ``dst_imgs/``, ``src_imgs/``)
            or a folder above it.
        label_file: Use this workbook (or the tab-separated ``csiq.beta.txt``,
            or HyperIQA's ``csiq_label.txt``) instead of searching for
            ``csiq.DMOS.xlsx``.

    Returns:
        Manifest: DMOS in [0, 1], ``higher_is_better=False``; ``group`` = reference
        name (30 groups); ``dist_type`` = folder name (``awgn, jpeg, jpeg2000,
        fnoise, blur, contrast``); ``dist_level`` 1-5 (contrast 1-4); extras
        ``dmos_std`` (not in ``csiq_label.txt``) and ``ref_path``; no official
        split; ``meta["label_file"]`` names the label file. 866 rows on the full
        release.

    Raises:
        DatasetError: Workbook missing, no header row, unknown ``dst_type`` or a
            non-numeric level/DMOS (naming the sheet row).
        MissingDependencyError: openpyxl is not installed.

    Example:
        >>> import tempfile
        >>> d = Path(tempfile.mkdtemp())
        >>> _ = (d / "csiq.beta.txt").write_text("image\\tdst_idx\\tdst_type\\tdst_lev\\tdmos_std\\tdmos\\n"
        ...                                      "1600\\t1\\tnoise\\t1\\t0.01\\t0.06\\n")
        >>> import warnings; warnings.simplefilter("ignore")  # no images in this demo
        >>> m = read_csiq(d)
        >>> m.missing[0].path.name, m.missing[0].group, m.missing[0].dist_level
        ('1600.AWGN.1.png', '1600', 1)
    """
    res = Resolver()
    if label_file is not None:
        label = Path(label_file)
    else:
        try:
            label = locate(root, _LABELS, what="CSIQ", resolver=res)
        except DatasetError:  # the official files first, at any depth; then HyperIQA's (or the full error)
            label = locate(root, [*_LABELS, _HYPERIQA], what="CSIQ", resolver=res)
    if not label.is_file():
        raise DatasetError(f"CSIQ: label file not found: {label}")
    # images normally sit next to the workbook; else in the folder the user gave
    base = next(
        (b for b in (label.parent, Path(root)) if res.is_dir(b, "dst_imgs") or res.is_dir(b, "dst_imgs_all")),
        label.parent,
    )
    sheet, rows = _rows(label)
    h, cols = find_header(rows, _REQUIRED, file=label, sheet=sheet)
    where = f"{label}" + (f", sheet {sheet!r}" if sheet else "")

    dst_dir = res.is_dir(base, "dst_imgs") or base / "dst_imgs"
    flat_dir = res.is_dir(base, "dst_imgs_all")
    src_dir = res.is_dir(base, "src_imgs") or base / "src_imgs"
    col = RowCollector(dst_dir, res)
    for i in range(h + 1, len(rows)):
        r = rows[i]

        def cell(name: str, _r: tuple = r) -> object:
            j = cols.get(name)
            return _r[j] if j is not None and j < len(_r) else None

        image = cell_str(cell("image"))
        if not image:
            continue  # blank rows / trailing notes
        line = f"{where}, row {i + 1}"
        kind = re.sub(r"[\s_-]+", "", cell_str(cell("dst_type")).lower())
        if kind not in CSIQ_TYPES:
            raise DatasetError(
                f"{line}: dst_type must be one of noise, jpeg, jpeg 2000, fnoise, blur, contrast; "
                f"got {cell_str(cell('dst_type'))!r}"
            )
        lev = cell_float(cell("dst_lev"))
        if lev is None or not lev.is_integer():
            raise DatasetError(f"{line}: dst_lev must be an integer level, got {cell_str(cell('dst_lev'))!r}")
        dmos = cell_float(cell("dmos"))
        if dmos is None:
            raise DatasetError(f"{line}: dmos must be a number, got {cell_str(cell('dmos'))!r}")
        folder, token = CSIQ_TYPES[kind]
        extra = {"ref_path": str(col.find(f"{image}.png", src_dir)[0])}
        std = cell_float(cell("dmos_std"))
        if std is not None:
            extra["dmos_std"] = repr(std)
        rel, where_dir = f"{folder}/{image}.{token}.{int(lev)}.png", dst_dir
        flat = f"{image}.{token}.{int(lev)}.png"
        if flat_dir is not None and not col.find(rel, dst_dir)[1] and col.find(flat, flat_dir)[1]:
            rel, where_dir = flat, flat_dir
        col.add(
            rel,
            base=where_dir,
            score=dmos,
            higher_is_better=False,
            group=image,
            dist_type=folder,
            dist_level=int(lev),
            extra=extra,
        )
    if not col.rows and not col.missing:
        raise DatasetError(f"{where}: no data rows below the header")
    unit = "DMOS, 0-1" + (" (HyperIQA's csiq_label.txt)" if label.name.lower() == _HYPERIQA else "")
    return col.manifest("csiq", base, {"label_file": label.name, "score_unit": unit})
