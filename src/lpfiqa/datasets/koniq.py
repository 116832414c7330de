"""KonIQ-10k.

V. Hosu, H. Lin, T. Sziranyi and D. Saupe, "KonIQ-10k: An ecologically valid
database for deep learning of blind image quality assessment", IEEE Trans. Image
Processing 29:4041-4056, 2020.

Files::

    1024x768/ and/or 512x384/                 the same 10,073 JPEGs (numeric names)
    koniq10k_scores_and_distributions.csv     download site: image_name,c1..c5,c_total,MOS,SD,MOS_zscore
    koniq10k_distributions_sets.csv           github.com/subpic/koniq (metadata/):
                                              image_name,c1..c5,c_total,MOS,SD,set

``c1``..``c5`` are the fractions of ratings 1..5, ``MOS`` (download site) is on
1-5 and equals ``sum(k * ck)``, ``MOS_zscore`` is on ~0-100, ``SD`` on 1-5.
Quirk (subpic/koniq#12): the ``MOS`` column of the *sets* file holds the
z-score values (0-100), not the 1-5 MOS.

Which file is read:

====================================  ==================================================
present                               scores and split
====================================  ==================================================
both files                            scores from the download-site file, split from
                                      the sets file (the preferred source)
only the sets file (the common case)  both from the sets file; ``score="MOS"`` is
                                      ``sum(k * ck)`` of its ``c1..c5`` (1-5), and
                                      ``score="MOS_zscore"`` its ``MOS`` column (0-100)
only the download-site file           scores from it, ``split`` empty (with a warning)
====================================  ==================================================

Either way the manifest's score is on the scale ``score`` names, and
``Manifest.meta`` records the file (``label_file``) and the scale
(``score_unit``), which the summary prints.
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
_SCORES_FILE = "koniq10k_scores_and_distributions.csv"
_SETS_FILES = ("koniq10k_distributions_sets.csv", "metadata/koniq10k_distributions_sets.csv")
_UNITS = {"MOS": "MOS, 1-5", "MOS_zscore": "MOS z-score, 0-100"}
_DIST = ("c1", "c2", "c3", "c4", "c5")


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
        out[fields[i_n].strip()] = _split(fields[i_s], path, reader.line_num)
    return out


def _split(raw: str, path: Path, line: int) -> str:
    s = raw.strip().lower()
    if s not in _SETS:
        raise DatasetError(f"{path}, line {line}: set must be training, validation or test; got {raw!r}")
    return _SETS[s]


def _number(raw: str, what: str, path: Path, line: int) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise DatasetError(f"{path}, line {line}: {what} must be a number, got {raw!r}")
    return value


def _find(root: Path | str, candidates: tuple[str, ...] | list[str], res: Resolver) -> Path | None:
    try:
        return locate(root, list(candidates), what="KonIQ-10k", resolver=res)
    except DatasetError:
        if not Path(root).expanduser().exists():
            raise
        return None


def read_koniq10k(
    root: Path | str,
    *,
    size: str = "auto",
    score: str = "MOS",
    split_file: Path | str | None = None,
) -> Manifest:
    """Read KonIQ-10k from the download-site scores file, the GitHub sets file, or both.

    Args:
        root: Folder with the image folder(s) and ``koniq10k_scores_and_distributions.csv``
            and/or ``koniq10k_distributions_sets.csv`` (also found in a
            ``metadata/`` sub-folder, as in a clone of github.com/subpic/koniq),
            or a folder above it.
        size: ``"1024x768"``, ``"512x384"``, or ``"auto"`` (the first of these
            present; both hold the same images and the scores apply to both).
        score: ``"MOS"`` (1-5, default) or ``"MOS_zscore"`` (0-100, what pyiqa and
            many papers report). The other one goes to an extra column. Both files
            give the same scale for the same choice (see the module docstring).
        split_file: The official ``koniq10k_distributions_sets.csv``; default:
            searched under ``root``. With the download-site file and no sets file,
            ``split`` stays empty and a :class:`DatasetWarning` says so; with no
            download-site file it is also the label file.

    Returns:
        Manifest: ``higher_is_better=True``; ``group`` = the image name
        (authentic, no references); ``split`` train/val/test from the sets file
        (7058/1000/2015); extras ``std`` (SD, 1-5 scale), ``mos`` or
        ``mos_zscore`` (the score not chosen) and ``c_total`` (ratings);
        ``meta["label_file"]`` and ``meta["score_unit"]`` say where the scores
        came from and on which scale they are. 10,073 rows on the full release.

    Raises:
        DatasetError: Neither label file found, a label file malformed (naming
            the line), no image folder, or an image of the scores file absent
            from the sets file.

    Example:
        >>> import tempfile
        >>> d = Path(tempfile.mkdtemp()); (d / "512x384").mkdir()
        >>> _ = (d / "koniq10k_distributions_sets.csv").write_text(
        ...     "image_name,c1,c2,c3,c4,c5,c_total,MOS,SD,set\\n"
        ...     "10004473376.jpg,0.0,0.0,0.238095238095,0.695238095238,0.0666666666667,105,"
        ...     "77.3836206897,0.527277894494,training\\n")
        >>> import warnings; warnings.simplefilter("ignore")  # no images in this demo
        >>> m = read_koniq10k(d)
        >>> r = m.missing[0]
        >>> round(r.score, 4), r.split, r.extra["mos_zscore"], m.meta["score_unit"]
        (3.8286, 'train', '77.3836206897', 'MOS, 1-5 (sum k*ck of c1..c5)')
        >>> _ = (d / "koniq10k_scores_and_distributions.csv").write_text(
        ...     "image_name,c1,c2,c3,c4,c5,c_total,MOS,SD,MOS_zscore\\n"
        ...     "10004473376.jpg,0,0,0.238,0.695,0.067,105,3.829,0.527,77.384\\n")
        >>> m = read_koniq10k(d)  # the download-site file is preferred for the scores
        >>> m.missing[0].score, m.missing[0].split, m.meta["label_file"]
        (3.829, 'train', 'koniq10k_scores_and_distributions.csv')
    """
    if size not in ("auto", *KONIQ_SIZES):
        raise ValueError(f"size must be 'auto', '1024x768' or '512x384', got {size!r}")
    if score not in ("MOS", "MOS_zscore"):
        raise ValueError(f"score must be 'MOS' or 'MOS_zscore', got {score!r}")
    res = Resolver()
    if split_file is None:
        sets_path = _find(root, _SETS_FILES, res)
    else:
        sets_path = Path(split_file)
        if not sets_path.is_file():
            raise DatasetError(f"KonIQ-10k: split file not found: {sets_path}")
    scores_path = _find(root, [_SCORES_FILE], res)
    if scores_path is None and sets_path is None:
        raise DatasetError(
            f"KonIQ-10k: none of {_SCORES_FILE!r} (download site) or 'koniq10k_distributions_sets.csv' "
            f"(github.com/subpic/koniq, metadata/) found in {root} or its sub-folders (searched 2 levels "
            "deep); point at the folder with the image folders and one of these files (for pyiqa's "
            "meta_info_KonIQ10kDataset.csv use the 'pyiqa' reader)"
        )
    label = scores_path if scores_path is not None else sets_path
    assert label is not None
    base = label.parent

    # image folder: next to the label file, or anywhere below root (zips unpack
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

    if scores_path is not None:
        sets = _read_sets(sets_path) if sets_path is not None else None
        official = sets is not None
        if sets is None:
            warnings.warn(
                "KonIQ-10k: koniq10k_distributions_sets.csv (official split, github.com/subpic/koniq "
                "metadata/) not found; split left empty",
                DatasetWarning,
                stacklevel=2,
            )
        col = _from_scores(scores_path, score, sets, sets_path, RowCollector(img_dir, res))
        unit = _UNITS[score]
    else:
        assert sets_path is not None
        col = _from_sets(sets_path, score, RowCollector(img_dir, res))
        unit = _UNITS[score] + (" (sum k*ck of c1..c5)" if score == "MOS" else " (the sets file's MOS column)")
        official = True
    meta = {
        "size": img_dir.name,
        "score": score,
        "split": "official" if official else "",
        "label_file": label.name,
        "score_unit": unit,
    }
    return col.manifest("koniq10k", base, meta)


def _from_scores(
    label: Path, score: str, sets: dict[str, str] | None, sets_path: Path | None, col: RowCollector
) -> RowCollector:
    """Rows of the download-site ``koniq10k_scores_and_distributions.csv``."""
    header, reader = _csv(label)
    low = [h.lower() for h in header]
    if not all(c in low for c in ("image_name", score.lower())):
        raise DatasetError(
            f"{label}, line 1: expected columns image_name,c1..c5,c_total,MOS,SD,MOS_zscore; got {header}"
        )
    i_n, i_s = low.index("image_name"), low.index(score.lower())
    other = "mos_zscore" if score == "MOS" else "mos"
    optional = {"std": "sd", other: other, "c_total": "c_total"}
    for fields in reader:
        line = reader.line_num
        if not any(f.strip() for f in fields):
            continue
        if len(fields) < len(header):
            raise DatasetError(f"{label}, line {line}: expected {len(header)} fields, got {len(fields)}")
        name = fields[i_n].strip()
        if not name:
            raise DatasetError(f"{label}, line {line}: image_name is empty")
        value = _number(fields[i_s].strip(), score, label, line)
        split = ""
        if sets is not None:
            if name not in sets:
                raise DatasetError(f"{sets_path}: image {name!r} (line {line} of {label.name}) has no set")
            split = sets[name]
        extra = {k: fields[low.index(c)].strip() for k, c in optional.items() if c in low}
        col.add(name, score=value, higher_is_better=True, group=name, split=split, extra=extra)
    return col


def _from_sets(label: Path, score: str, col: RowCollector) -> RowCollector:
    """Rows of the GitHub ``koniq10k_distributions_sets.csv`` alone (its ``MOS`` is the z-score)."""
    header, reader = _csv(label)
    low = [h.lower() for h in header]
    need = ["image_name", "set", *(_DIST if score == "MOS" else ("mos",))]
    absent = [c for c in need if c not in low]
    if absent:
        hint = (
            " (score='MOS' is computed from c1..c5; use score='MOS_zscore' to read its MOS column)"
            if score == "MOS" and "mos" in low
            else ""
        )
        raise DatasetError(
            f"{label}, line 1: expected columns image_name,c1..c5,c_total,MOS,SD,set; "
            f"missing {', '.join(absent)}{hint}"
        )
    i_n, i_set = low.index("image_name"), low.index("set")
    i_dist = [low.index(c) for c in _DIST] if all(c in low for c in _DIST) else None
    i_z = low.index("mos") if "mos" in low else None
    optional = {"std": "sd", "c_total": "c_total"}
    for fields in reader:
        line = reader.line_num
        if not any(f.strip() for f in fields):
            continue
        if len(fields) < len(header):
            raise DatasetError(f"{label}, line {line}: expected {len(header)} fields, got {len(fields)}")
        name = fields[i_n].strip()
        if not name:
            raise DatasetError(f"{label}, line {line}: image_name is empty")
        mos = None
        if i_dist is not None:
            c = [_number(fields[j].strip(), _DIST[k], label, line) for k, j in enumerate(i_dist)]
            mos = round(sum((k + 1) * ck for k, ck in enumerate(c)), 10)  # 10 digits: drop float noise
        zscore = fields[i_z].strip() if i_z is not None else ""
        extra = {k: fields[low.index(c)].strip() for k, c in optional.items() if c in low}
        if score == "MOS":
            assert mos is not None
            value = mos
            if zscore:
                extra["mos_zscore"] = zscore
        else:
            value = _number(zscore, "MOS", label, line)
            if mos is not None:
                extra["mos"] = repr(mos)
        split = _split(fields[i_set], label, line)
        col.add(name, score=value, higher_is_better=True, group=name, split=split, extra=extra)
    return col
