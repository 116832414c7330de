"""Generic readers: a manifest-style CSV (``csv``) and pyiqa meta-info CSVs (``pyiqa``).

pyiqa: C. Chen and J. Mo, "IQA-PyTorch: PyTorch toolbox for image quality
assessment", https://github.com/chaofengc/IQA-PyTorch, 2022. Its
``pyiqa/data/meta_info/meta_info_<Name>Dataset.csv`` files list one image per
row (``img_name,mos,std[,split,...]`` for authentic sets,
``ref_name,dist_name,mos|dmos[,std]`` for synthetic ones), with paths relative to
the dataset's image folder.
"""

from __future__ import annotations

import csv
import io
import math
import os
from pathlib import Path

from lpfiqa.errors import DatasetError

from ._io import Resolver, RowCollector
from .manifest import Manifest, read_manifest

__all__ = ["PYIQA_LOWER_IS_BETTER", "read_csv", "read_pyiqa"]

#: pyiqa meta files whose score is a DMOS (lower = better). Note KADID's column is
#: *named* ``dmos`` but is MOS-like (higher = better), so the column name alone
#: cannot decide the direction.
PYIQA_LOWER_IS_BETTER: frozenset[str] = frozenset(
    {"meta_info_LIVEIQADataset.csv", "meta_info_CSIQDataset.csv", "meta_info_LIVEMDDataset.csv"}
)
#: pyiqa meta files known to be higher = better despite the column name.
_PYIQA_HIGHER = frozenset({"meta_info_KADID10kDataset.csv"})

_PATH_COLS = ("dist_name", "img_name", "image_name", "filename", "path")
_SCORE_COLS = ("mos", "dmos", "mos_zscore", "score")
_SPLITS = {
    "training": "train",
    "train": "train",
    "validation": "val",
    "val": "val",
    "test": "test",
    "testing": "test",
}


def read_csv(root: Path | str, *, name: str | None = None) -> Manifest:
    """Read a user's manifest CSV (see :func:`~lpfiqa.datasets.manifest.read_manifest`).

    Rows whose image is absent are moved to ``Manifest.missing`` (with a
    warning), as for the official readers.

    Args:
        root: The CSV file, or a folder with ``manifest.csv`` or exactly one ``.csv``.
        name: Manifest name; default the file stem.

    Returns:
        The manifest.

    Raises:
        DatasetError: No CSV found, or several and none named ``manifest.csv``.
        ManifestError: A malformed row (naming the line).

    Example:
        >>> import tempfile
        >>> d = Path(tempfile.mkdtemp()); _ = (d / "a.png").write_bytes(b"")
        >>> _ = (d / "labels.csv").write_text("filename,MOS\\na.png,3.2\\n")
        >>> m = read_csv(d)
        >>> m.name, [(r.path.name, r.score, r.group) for r in m]
        ('labels', [('a.png', 3.2, 'a.png')])
    """
    p = Path(root)
    if p.is_dir():
        if (p / "manifest.csv").is_file():
            p = p / "manifest.csv"
        else:
            found = sorted(q for q in p.iterdir() if q.suffix.lower() == ".csv" and q.is_file())
            if len(found) != 1:
                raise DatasetError(
                    f"csv: expected manifest.csv or exactly one .csv file in {p}, found "
                    f"{[q.name for q in found] or 'none'}"
                )
            p = found[0]
    elif not p.is_file():
        raise DatasetError(f"csv: file not found: {p}")
    m = read_manifest(p, name=name)
    col = RowCollector(p.parent)
    for r in m.rows:
        (col.rows if r.path.is_file() else col.missing).append(r)
    return col.manifest(m.name, p.parent)


def read_pyiqa(
    root: Path | str,
    *,
    meta_csv: Path | str | None = None,
    image_dir: Path | str | None = None,
    higher_is_better: bool | None = None,
    name: str | None = None,
) -> Manifest:
    """Read a pyiqa ``meta_info_*.csv`` with the images it refers to.

    Column detection: path from ``dist_name``/``img_name``/``image_name``/
    ``filename``/``path``; score from ``mos``/``dmos``/``mos_zscore``/``score``;
    ``group`` from ``ref_name`` (else the image itself); ``split`` from a
    ``split`` column (``training``/``validation``/``test``). Other columns become
    extras; ``ref_name`` also gives ``ref_path``.

    Score direction: ``higher_is_better`` if given; else known pyiqa files
    (:data:`PYIQA_LOWER_IS_BETTER`: LIVE, CSIQ and LIVE-MD are DMOS); else
    higher-is-better for a ``mos``-like column; a column named ``dmos`` in an
    unknown file is an error asking for ``higher_is_better``, because the name is
    unreliable (KADID's ``dmos`` is a MOS).

    Args:
        root: The dataset's image folder, holding the meta CSV unless ``meta_csv`` is given.
        meta_csv: The meta CSV; default the single ``meta_info_*.csv`` in ``root``.
        image_dir: Folder the CSV's paths are relative to; default ``root``.
        higher_is_better: Score direction (see above).
        name: Manifest name; default from the file (``meta_info_KonIQ10kDataset.csv`` -> ``KonIQ10k``).

    Returns:
        The manifest; absent images in ``missing``.

    Raises:
        DatasetError: No/ambiguous meta CSV, unknown columns, undecidable
            direction, or a malformed row (naming the line).

    Example:
        >>> import tempfile
        >>> d = Path(tempfile.mkdtemp())
        >>> _ = (d / "meta_info_CSIQDataset.csv").write_text("ref_name,dist_name,dmos\\n"
        ...     "1600.png,awgn/1600.AWGN.1.png,0.061\\n")
        >>> import warnings; warnings.simplefilter("ignore")  # no images in this demo
        >>> r = read_pyiqa(d).missing[0]
        >>> r.score, r.higher_is_better, r.group
        (0.061, False, '1600')
    """
    base = Path(root)
    if meta_csv is None:
        if not base.is_dir():
            raise DatasetError(f"pyiqa: folder not found: {base}")
        found = sorted(
            q for q in base.iterdir() if q.name.lower().startswith("meta_info") and q.suffix == ".csv"
        )
        if len(found) != 1:
            raise DatasetError(
                f"pyiqa: expected exactly one meta_info_*.csv in {base} (or pass meta_csv=), "
                f"found {[q.name for q in found] or 'none'}"
            )
        meta = found[0]
    else:
        meta = Path(meta_csv)
        if not meta.is_file():
            raise DatasetError(f"pyiqa: meta CSV not found: {meta}")
    img_root = Path(image_dir) if image_dir is not None else (base if base.is_dir() else meta.parent)

    reader = csv.reader(io.StringIO(meta.read_text(encoding="utf-8-sig"), newline=""))
    header = [h.strip() for h in next(reader, [])]
    low = [h.lower() for h in header]
    i_p = next((low.index(c) for c in _PATH_COLS if c in low), None)
    i_s = next((low.index(c) for c in _SCORE_COLS if c in low), None)
    if i_p is None or i_s is None:
        raise DatasetError(
            f"{meta}, line 1: expected an image column ({'/'.join(_PATH_COLS)}) and a score column "
            f"({'/'.join(_SCORE_COLS)}); got {header}"
        )
    if higher_is_better is None:
        if meta.name in PYIQA_LOWER_IS_BETTER:
            higher_is_better = False
        elif meta.name in _PYIQA_HIGHER or low[i_s] != "dmos":
            higher_is_better = True
        else:
            raise DatasetError(
                f"{meta}: score column 'dmos' in a file lpfiqa does not know; pass higher_is_better= "
                "(True for MOS-like scores, False for DMOS)"
            )
    i_ref = low.index("ref_name") if "ref_name" in low else None
    i_split = low.index("split") if "split" in low else None
    extras = [(j, header[j]) for j in range(len(header)) if j not in (i_p, i_s, i_ref, i_split) and header[j]]

    res = Resolver()
    col = RowCollector(img_root, res)
    for fields in reader:
        line = reader.line_num
        if not any(f.strip() for f in fields):
            continue
        if len(fields) < len(header):
            raise DatasetError(f"{meta}, line {line}: expected {len(header)} fields, got {len(fields)}")
        rel, raw = fields[i_p].strip(), fields[i_s].strip()
        if not rel:
            raise DatasetError(f"{meta}, line {line}: the image column is empty")
        try:
            score = float(raw)
        except ValueError:
            score = math.nan
        if not math.isfinite(score):
            raise DatasetError(f"{meta}, line {line}: {header[i_s]} must be a number, got {raw!r}")
        split = ""
        if i_split is not None and fields[i_split].strip():
            s = fields[i_split].strip().lower()
            if s not in _SPLITS:
                raise DatasetError(
                    f"{meta}, line {line}: split must be training, validation or test; got {s!r}"
                )
            split = _SPLITS[s]
        extra = {h: fields[j].strip() for j, h in extras}
        group = rel
        if i_ref is not None and fields[i_ref].strip():
            ref = fields[i_ref].strip()
            group = Path(ref).stem
            extra["ref_path"] = str(col.find(ref)[0])
        col.add(rel, score=score, higher_is_better=higher_is_better, group=group, split=split, extra=extra)
    if not col.rows and not col.missing:
        raise DatasetError(f"{meta}: no rows after the header")
    stem = os.path.splitext(meta.name)[0]
    default = stem.removeprefix("meta_info_").removesuffix("Dataset") or stem
    return col.manifest(name or default, img_root, {"meta_csv": meta.name})
