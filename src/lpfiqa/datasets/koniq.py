"""KonIQ-10k.

V. Hosu, H. Lin, T. Sziranyi and D. Saupe, "KonIQ-10k: An ecologically valid
database for deep learning of blind image quality assessment", IEEE Trans. Image
Processing 29:4041-4056, 2020.

Files::

    1024x768/ and/or 512x384/                 the same 10,073 JPEGs (numeric names)
    koniq10k_scores_and_distributions.csv     image_name,c1..c5,c_total,MOS,SD,MOS_zscore
    koniq10k_distributions_sets.csv           official split, from github.com/subpic/koniq
                                              (metadata/), column "set": training/validation/test

``MOS`` is on 1-5 (= sum k*ck), ``MOS_zscore`` on ~0-100, ``SD`` on 1-5. Quirk:
the ``MOS`` column of the *sets* file holds the z-score values (subpic/koniq#12),
so only its ``set`` column is used here; scores always come from the scores file.
"""

from __future__ import annotations

import csv
import io
import math
import warnings
from pathlib import Path

from lpfiqa.errors import DatasetError

from ._io import DatasetWarning, Resolver, RowCollector, locate, locate_dir
from .manifest import Manifest

__all__ = ["KONIQ_SIZES", "read_koniq10k"]

#: Image folders of the release, preferred first.
KONIQ_SIZES: tuple[str, ...] = ("1024x768", "512x384")
_SETS = {"training": "train", "validation": "val", "test": "test"}


def _csv(path: Path) -> tuple[list[str], csv.reader]:
    reader = csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline=""))
    header = [h.strip() for h in next(reader, [])]
    return header, reader


def _read_sets(path: Path) -> dict[str, str]:
    header, reader = _csv(path)
    low = [h.lower() for h in header]
    if "image_name" not in low or "set" not in low:
        raise DatasetError(f"{path}, line 1: expected columns image_name and set; got {header}")
    i_n, i_s = low.index("image_name"), low.index("set")
    out: dict[str, str] = {}
    for fields in reader:
        if not any(f.strip() for f in fields):
            continue
        if len(fields) <= max(i_n, i_s):
            raise DatasetError(
                f"{path}, line {reader.line_num}: expected {len(header)} fields, got {len(fields)}"
            )
        s = fields[i_s].strip().lower()
        if s not in _SETS:
            raise DatasetError(
                f"{path}, line {reader.line_num}: set must be training, validation or test; "
                f"got {fields[i_s]!r}"
            )
        out[fields[i_n].strip()] = _SETS[s]
    return out


def read_koniq10k(
    root: Path | str,
    *,
    size: str = "auto",
    score: str = "MOS",
    split_file: Path | str | None = None,
) -> Manifest:
    """Read KonIQ-10k.

    Args:
        root: Folder with ``koniq10k_scores_and_distributions.csv`` and the image
            folder(s), or a folder above it.
        size: ``"1024x768"``, ``"512x384"``, or ``"auto"`` (the first of these
            present; both hold the same images and the scores apply to both).
        score: ``"MOS"`` (1-5, default) or ``"MOS_zscore"`` (0-100, what pyiqa and
            many papers report). The other one goes to an extra column.
        split_file: The official ``koniq10k_distributions_sets.csv``; default:
            searched under ``root`` (e.g. a cloned ``koniq/metadata/``). Without
            it, ``split`` stays empty and a :class:`DatasetWarning` says so.

    Returns:
        Manifest: ``higher_is_better=True``; ``group`` = the image name
        (authentic, no references); ``split`` train/val/test from the sets file
        (7058/1000/2015); extras ``std`` (SD, 1-5 scale), ``mos`` or
        ``mos_zscore`` (the score not chosen) and ``c_total`` (ratings). 10,073
        rows on the full release.

    Raises:
        DatasetError: Scores file missing or malformed, no image folder, or an
            image of the scores file absent from the sets file.

    Example:
        >>> import tempfile
        >>> d = Path(tempfile.mkdtemp()); (d / "512x384").mkdir()
        >>> _ = (d / "koniq10k_scores_and_distributions.csv").write_text(
        ...     "image_name,c1,c2,c3,c4,c5,c_total,MOS,SD,MOS_zscore\\n"
        ...     "10004473376.jpg,0,0,0.24,0.7,0.06,105,3.83,0.53,77.38\\n")
        >>> _ = (d / "koniq10k_distributions_sets.csv").write_text(
        ...     "image_name,c1,c2,c3,c4,c5,c_total,MOS,SD,set\\n"
        ...     "10004473376.jpg,0,0,0.24,0.7,0.06,105,77.38,0.53,training\\n")
        >>> import warnings; warnings.simplefilter("ignore")  # no images in this demo
        >>> m = read_koniq10k(d)
        >>> r = m.missing[0]
        >>> r.score, r.split, r.extra["mos_zscore"], m.meta["size"]
        (3.83, 'train', '77.38', '512x384')
    """
    if size not in ("auto", *KONIQ_SIZES):
        raise ValueError(f"size must be 'auto', '1024x768' or '512x384', got {size!r}")
    if score not in ("MOS", "MOS_zscore"):
        raise ValueError(f"score must be 'MOS' or 'MOS_zscore', got {score!r}")
    res = Resolver()
    label = locate(root, ["koniq10k_scores_and_distributions.csv"], what="KonIQ-10k", resolver=res)
    base = label.parent

    # image folder: next to the scores file, or anywhere below root (zips unpack
    # to e.g. koniq10k_1024x768/1024x768/)
    wanted = KONIQ_SIZES if size == "auto" else (size,)
    found = [
        d
        for s in wanted
        for b in dict.fromkeys((base, Path(root)))
        if (d := locate_dir(b, s, depth=2, resolver=res)) is not None
    ]
    # prefer a folder that actually holds JPEGs (a half-unpacked zip leaves an empty one)
    with_jpegs = [d for d in found if any(p.suffix.lower() == ".jpg" for p in d.iterdir())]
    img_dir = (with_jpegs or found or [None])[0]
    if img_dir is None:
        raise DatasetError(
            f"KonIQ-10k: no image folder {' or '.join(repr(s + '/') for s in wanted)} "
            f"next to {label} or under {root}"
        )

    if split_file is None:
        try:
            sets_path: Path | None = locate(
                root,
                ["koniq10k_distributions_sets.csv", "metadata/koniq10k_distributions_sets.csv"],
                what="KonIQ-10k",
                resolver=res,
            )
        except DatasetError:
            sets_path = None
    else:
        sets_path = Path(split_file)
        if not sets_path.is_file():
            raise DatasetError(f"KonIQ-10k: split file not found: {sets_path}")
    sets = _read_sets(sets_path) if sets_path is not None else None
    if sets is None:
        warnings.warn(
            "KonIQ-10k: koniq10k_distributions_sets.csv (official split, github.com/subpic/koniq "
            "metadata/) not found; split left empty",
            DatasetWarning,
            stacklevel=2,
        )

    header, reader = _csv(label)
    low = [h.lower() for h in header]
    need = ["image_name", score.lower()]
    if not all(c in low for c in need):
        raise DatasetError(
            f"{label}, line 1: expected columns image_name,c1..c5,c_total,MOS,SD,MOS_zscore; got {header}"
        )
    i_n, i_s = low.index("image_name"), low.index(score.lower())
    other = "mos_zscore" if score == "MOS" else "mos"
    optional = {"std": "sd", other: other, "c_total": "c_total"}
    col = RowCollector(img_dir, res)
    for fields in reader:
        line = reader.line_num
        if not any(f.strip() for f in fields):
            continue
        if len(fields) < len(header):
            raise DatasetError(f"{label}, line {line}: expected {len(header)} fields, got {len(fields)}")
        name, raw = fields[i_n].strip(), fields[i_s].strip()
        if not name:
            raise DatasetError(f"{label}, line {line}: image_name is empty")
        try:
            value = float(raw)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise DatasetError(f"{label}, line {line}: {score} must be a number, got {raw!r}")
        split = ""
        if sets is not None:
            if name not in sets:
                raise DatasetError(f"{sets_path}: image {name!r} (line {line} of {label.name}) has no set")
            split = sets[name]
        extra = {k: fields[low.index(c)].strip() for k, c in optional.items() if c in low}
        col.add(name, score=value, higher_is_better=True, group=name, split=split, extra=extra)
    meta = {"size": img_dir.name, "score": score, "split": "official" if sets is not None else ""}
    return col.manifest("koniq10k", base, meta)
