"""Generic readers: a manifest-style CSV (``csv``) and pyiqa meta-info files (``pyiqa``).

pyiqa: C. Chen and J. Mo, "IQA-PyTorch: PyTorch toolbox for image quality
assessment", https://github.com/chaofengc/IQA-PyTorch, 2022. Its
``pyiqa/data/meta_info/meta_info_<Name>Dataset.csv`` files (and the older
``.txt`` ones they replaced) list one image per row, with paths relative to the
dataset's image folder; :func:`read_pyiqa` documents every layout they use.
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
import warnings
from pathlib import Path, PurePosixPath

from lpfiqa.errors import DatasetError

from ._io import DatasetWarning, Resolver, RowCollector
from .manifest import COLUMNS, Manifest, ManifestRow, read_manifest

__all__ = ["PYIQA_DIRECTIONS", "PYIQA_LOWER_IS_BETTER", "read_csv", "read_pyiqa"]

#: pyiqa dataset name (``meta_info_<Name>Dataset.csv``) -> whether its score is
#: higher-is-better. LIVE, CSIQ and LIVE-MD are DMOS. KADID's column is *named*
#: ``dmos`` but is MOS-like, so the column name alone cannot decide the direction.
#: PIPAL's ``elo_score`` is higher-is-better.
PYIQA_DIRECTIONS: dict[str, bool] = {
    "LIVEIQA": False,
    "CSIQ": False,
    "LIVEMD": False,
    "KADID10k": True,
    "TID2008": True,
    "TID2013": True,
    "LIVEChallenge": True,
    "KonIQ10k": True,
    "KonIQ10k++": True,
    "SPAQ": True,
    "PIPAL": True,
}
#: pyiqa meta files whose score is a DMOS (lower = better), ``.csv`` and the older ``.txt``.
PYIQA_LOWER_IS_BETTER: frozenset[str] = frozenset(
    f"meta_info_{k}Dataset.{ext}" for k, v in PYIQA_DIRECTIONS.items() if not v for ext in ("csv", "txt")
)

# header names (lower case, single spaces), in order of preference
_PATH_COLS = (
    "dist_name",
    "dis_img_path",
    "dist_img",
    "dist_img_path",
    "dis_name",
    "img_name",
    "image_name",
    "image name",
    "img_path",
    "image",
    "filename",
    "file_name",
    "path",
    "name",
)
_REF_COLS = ("ref_name", "ref_img_path", "ref_img", "ref_path", "hq_name", "ref")
_SCORE_COLS = ("mos", "dmos", "mos_zscore", "qmos", "elo_score", "score", "mos_score", "label")
_SPLIT_COLS = ("split", "set")
# headerless files, as pyiqa reads them: by position
_NR_NAMES = ("img_name", "mos", "std", "split")
_FR_NAMES = ("ref_name", "dist_name", "mos", "std")
_SPLITS = {
    "training": "train",
    "train": "train",
    "validation": "val",
    "val": "val",
    "test": "test",
    "testing": "test",
    # pyiqa's later meta_info_KonIQ10kDataset.csv codes the official split as 0/1/2
    "0": "train",
    "1": "val",
    "2": "test",
}
# tried, in order, for a path written without extension (an older LIVE meta file: ``jp2k/img2``)
_IMAGE_EXTS = (".bmp", ".png", ".jpg", ".jpeg", ".tif", ".tiff")


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


def _is_number(s: str) -> bool:
    try:
        return math.isfinite(float(s))
    except ValueError:
        return False


def _split_rows(meta: Path) -> tuple[str, list[tuple[int, list[str]]]]:
    """``(separator, [(line, fields)])`` of a meta file: comma CSV, tab-separated or space-aligned."""
    raw = meta.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    if "," in first:
        reader = csv.reader(io.StringIO(text, newline=""))
        return "comma", [(reader.line_num, [f.strip() for f in fields]) for fields in reader]
    rows = []
    for n, ln in enumerate(text.splitlines(), start=1):
        if "\t" in first:  # padded with spaces around the tabs; names may hold spaces
            fields = [f.strip() for f in ln.split("\t")]
            while fields and not fields[-1]:
                fields.pop()
        else:
            fields = ln.split()
        rows.append((n, fields))
    return ("tab" if "\t" in first else "whitespace"), rows


def _dedupe(names: list[str]) -> list[str]:
    """pandas-style names for repeated columns (SPAQ's has two ``Brightness``): ``Brightness.1``."""
    seen: dict[str, int] = {}
    out = []
    for h in names:
        k = h.lower()
        out.append(h if k not in seen else f"{h}.{seen[k]}")
        seen[k] = seen.get(k, 0) + 1
    return out


def _norm_parts(rel: str) -> tuple[str, ...]:
    """Path parts compared loosely: case, spaces, ``_`` and ``-`` ignored (``Part1/`` is ``Part 1/``)."""
    return tuple(re.sub(r"[\s_-]+", "", p.lower()) for p in PurePosixPath(rel.replace("\\", "/")).parts)


class _Finder:
    """Finds a meta file's image under the image folder, as pyiqa's copies of a dataset lay it out or not.

    Tried in order: the path as written (case-insensitive); with an image
    extension when it has none; the file name alone anywhere below the folder
    (pyiqa flattens some sets, e.g. CSIQ's ``dst_imgs_all/``, while the
    official release keeps ``dst_imgs/<type>/``), used when it is unique, or
    when exactly one of the files so named ends in the written folders, compared
    loosely (LIVE-MD's ``Part1/blurjpeg/x.bmp`` is ``Part 1/blurjpeg/x.bmp``, not
    ``Part 2/blurnoise/x.bmp``).
    """

    def __init__(self, root: Path, resolver: Resolver) -> None:
        self.root = root
        self.res = resolver
        self._index: dict[str, list[Path]] | None = None
        self.ambiguous: list[tuple[str, list[Path]]] = []

    def _by_name(self) -> dict[str, list[Path]]:
        if self._index is None:
            self._index = {}
            for dirpath, dirnames, filenames in os.walk(self.root):
                dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
                for f in sorted(filenames):
                    self._index.setdefault(f.lower(), []).append(Path(dirpath) / f)
        return self._index

    def find(self, rel: str, *, image: bool = True) -> tuple[Path, bool]:
        """``(path, exists)``: the file on disk, or the path as written under the folder when absent.

        An image (not a reference) matching several files is remembered in ``ambiguous``.
        """
        tries = [rel] if PurePosixPath(rel.replace("\\", "/")).suffix else [rel, *(rel + e for e in _IMAGE_EXTS)]
        for t in tries:
            hit = self.res.resolve(self.root, t)
            if hit is not None and hit.is_file():
                return hit, True
        if not Path(rel).is_absolute() and self.root.is_dir():
            for t in tries:
                matches = self._by_name().get(PurePosixPath(t.replace("\\", "/")).name.lower(), [])
                if len(matches) > 1:
                    want = _norm_parts(t)
                    matches = [
                        m for m in matches if _norm_parts(m.relative_to(self.root).as_posix())[-len(want) :] == want
                    ] or matches
                if len(matches) == 1:
                    return matches[0], True
                if len(matches) > 1:
                    if image:
                        self.ambiguous.append((rel, matches))
                    break
        return self.root / rel, False


def _meta_file(base: Path, meta_csv: Path | str | None) -> Path:
    if meta_csv is not None:
        meta = Path(meta_csv)
        if not meta.is_file():
            raise DatasetError(f"pyiqa: meta file not found: {meta}")
        return meta
    if base.is_file():
        return base
    if not base.is_dir():
        raise DatasetError(f"pyiqa: folder not found: {base}")
    found = sorted(
        q
        for q in base.iterdir()
        if q.name.lower().startswith("meta_info") and q.suffix.lower() in (".csv", ".txt") and q.is_file()
    )
    if len(found) != 1:
        raise DatasetError(
            f"pyiqa: expected exactly one meta_info_*.csv (or .txt) in {base} (or pass meta_csv=), "
            f"found {[q.name for q in found] or 'none'}"
        )
    return found[0]


def read_pyiqa(
    root: Path | str,
    *,
    meta_csv: Path | str | None = None,
    image_dir: Path | str | None = None,
    higher_is_better: bool | None = None,
    name: str | None = None,
) -> Manifest:
    """Read a pyiqa ``meta_info_*.csv`` (or an older ``meta_info_*.txt``) with the images it refers to.

    Every meta file of pyiqa's repository (``pyiqa/data/meta_info/``) is read as
    shipped. Layouts (the first row decides: a header has no number in it):

    ===================  ===========================================  ===============================
    layout               first row                                    pyiqa files
    ===================  ===========================================  ===============================
    header, image        ``img_name,mos,std[,split,c1..c5,c_total]``  KonIQ10k, LIVEChallenge
    header, image        ``"filename","qmos","sd",...`` (quoted)      KonIQ10k++
    header, image        ``Image name,MOS,Brightness,...``            SPAQ (``Brightness`` twice)
    header, ref + image  ``ref_name,dist_name,mos|dmos[,std]``        LIVEIQA, CSIQ, LIVEMD, TID2008,
                                                                      TID2013, KADID10k
    header, ref + image  ``hq_name,dist_name,elo_score``              PIPAL
    no header, tabs      ``name<TAB>mos<TAB>std[<TAB>split]``         KonIQ10k, LIVEChallenge (.txt)
    no header, tabs      ``ref<TAB>dist<TAB>score[<TAB>std]``         CSIQ, KADID10k, LIVEIQA, LIVEMD
                                                                      (.txt)
    no header, spaces    ``ref dist mos std`` (aligned)               TID2008, TID2013 (.txt)
    ===================  ===========================================  ===============================

    Columns are matched case-insensitively: image from ``dist_name``,
    ``dis_img_path``, ``dist_img``, ``img_name``, ``image_name``, ``Image name``,
    ``filename``, ``path``...; reference from ``ref_name``, ``ref_img_path``,
    ``ref_img``, ``hq_name``...; score from ``mos``, ``dmos``, ``mos_zscore``,
    ``qmos``, ``elo_score``, ``score``; split from ``split``/``set``
    (``training``/``validation``/``test``, ``train``/``val``/``test`` or
    pyiqa's ``0``/``1``/``2``). A headerless file is read by position, as pyiqa
    does: ``image, score[, std][, split]`` when its second field is a number,
    else ``ref, image, score[, std]``. Fields are stripped (the ``.txt`` files pad
    them with spaces). Every other column becomes an extra (a repeated name gets
    ``.1``); a reference also gives the ``ref_path`` extra and the ``group``.

    Images are looked up under ``image_dir``: as written (case-insensitively),
    then with an image extension if the name has none (an older LIVE file writes
    ``jp2k/img2``), then by file name alone anywhere below, if unique (pyiqa
    flattens CSIQ into ``dst_imgs_all/``, the release has ``dst_imgs/<type>/``;
    TID's references sit in ``reference_images/``).

    Rows are kept as listed: pyiqa's own LIVEChallenge loader drops the first 7
    (``t1.bmp``..``t7.bmp``, the subject-training images) in code, as lpfiqa's
    ``livec`` reader does by default; filter them out to match.

    Score direction: ``higher_is_better`` if given; else by the pyiqa dataset
    (:data:`PYIQA_DIRECTIONS`: LIVE, CSIQ and LIVE-MD are DMOS, KADID's ``dmos``
    is a MOS); else higher-is-better for a ``mos``-like column. A column named
    ``dmos``, or a file without header, that lpfiqa does not know is an error
    asking for ``higher_is_better``, because the name is unreliable.

    Args:
        root: The dataset's image folder, holding the meta file unless
            ``meta_csv`` is given; or the meta file itself (images then relative
            to its folder).
        meta_csv: The meta file; default the single ``meta_info_*.csv`` (or ``.txt``) in ``root``.
        image_dir: Folder the file's paths are relative to; default ``root``.
        higher_is_better: Score direction (see above).
        name: Manifest name; default from the file (``meta_info_KonIQ10kDataset.csv`` -> ``KonIQ10k``).

    Returns:
        The manifest; absent images in ``missing``; ``meta["label_file"]`` and
        ``meta["score_unit"]`` name the file and the score column.

    Raises:
        DatasetError: No/ambiguous meta file, unknown columns, undecidable
            direction, or a malformed row (naming the line).

    Example:
        >>> import tempfile
        >>> d = Path(tempfile.mkdtemp())
        >>> _ = (d / "meta_info_CSIQDataset.csv").write_text("ref_name,dist_name,dmos\\n"
        ...     "1600.png,1600.AWGN.1.png,0.061989\\n")
        >>> import warnings; warnings.simplefilter("ignore")  # no images in this demo
        >>> r = read_pyiqa(d).missing[0]
        >>> r.score, r.higher_is_better, r.group
        (0.061989, False, '1600')
        >>> _ = (d / "meta_info_CSIQDataset.csv").unlink()
        >>> _ = (d / "meta_info_TID2013Dataset.txt").write_text(
        ...     "I01.BMP        I01_01_1.bmp   5.51429        0.13013\\n")
        >>> r = read_pyiqa(d).missing[0]
        >>> r.path.name, r.score, r.group, r.extra["std"]
        ('I01_01_1.bmp', 5.51429, 'I01', '0.13013')
    """
    base = Path(root)
    meta = _meta_file(base, meta_csv)
    img_root = Path(image_dir) if image_dir is not None else (base if base.is_dir() else meta.parent)
    stem = os.path.splitext(meta.name)[0]
    dataset = stem.removeprefix("meta_info_").removesuffix("Dataset") or stem
    known = {k.lower(): v for k, v in PYIQA_DIRECTIONS.items()}.get(dataset.lower())

    kind, rows = _split_rows(meta)
    rows = [(n, f) for n, f in rows if any(f)]
    if not rows:
        raise DatasetError(f"{meta}: empty file; expected a header or rows '<image> <score> ...'")
    line0, first = rows[0]
    has_header = not any(_is_number(f) for f in first)
    if has_header:
        header = _dedupe([re.sub(r"\s+", " ", h) for h in first])
        body = rows[1:]
    else:
        if len(first) >= 2 and _is_number(first[1]):
            names = _NR_NAMES
        elif len(first) >= 3 and _is_number(first[2]):
            names = _FR_NAMES
        else:
            raise DatasetError(
                f"{meta}, line {line0}: expected a header, or rows '<image> <score> ...' or "
                f"'<reference> <image> <score> ...'; got {first}"
            )
        header = [*names, *(f"col{j + 1}" for j in range(len(names), len(first)))][: len(first)]
        body = rows
    low = [h.lower() for h in header]

    def pick(aliases: tuple[str, ...]) -> int | None:
        return next((low.index(c) for c in aliases if c in low), None)

    i_p, i_s, i_ref, i_split = pick(_PATH_COLS), pick(_SCORE_COLS), pick(_REF_COLS), pick(_SPLIT_COLS)
    if i_p is None or i_s is None:
        raise DatasetError(
            f"{meta}, line {line0}: expected an image column ({'/'.join(_PATH_COLS[:8])}...) and a score column "
            f"({'/'.join(_SCORE_COLS)}); got {header}"
        )
    if higher_is_better is None:
        if known is not None:
            higher_is_better = known
        elif not has_header:
            raise DatasetError(
                f"{meta}: a meta file without header that lpfiqa does not know; pass higher_is_better= "
                "(True for MOS-like scores, False for DMOS)"
            )
        elif low[i_s] == "dmos":
            raise DatasetError(
                f"{meta}: score column 'dmos' in a file lpfiqa does not know; pass higher_is_better= "
                "(True for MOS-like scores, False for DMOS)"
            )
        else:
            higher_is_better = True
    used = {i_p, i_s, i_ref, i_split}
    extras = []
    for j, h in enumerate(header):
        if j in used or not h:
            continue
        extras.append((j, f"pyiqa_{h}" if h.lower() in COLUMNS or h.lower() == "ref_path" else h))
    need = max(j for j in used if j is not None) + 1

    res = Resolver()
    finder = _Finder(img_root, res)
    col = RowCollector(img_root, res)
    for line, fields in body:
        if len(fields) > len(header) or len(fields) < need:
            raise DatasetError(f"{meta}, line {line}: expected {len(header)} fields, got {len(fields)}")
        fields = fields + [""] * (len(header) - len(fields))
        rel, raw = fields[i_p], fields[i_s]
        if not rel:
            raise DatasetError(f"{meta}, line {line}: the image column is empty")
        if not _is_number(raw):
            raise DatasetError(f"{meta}, line {line}: {header[i_s]} must be a number, got {raw!r}")
        split = ""
        if i_split is not None and fields[i_split]:
            s = fields[i_split].lower()
            if s not in _SPLITS:
                raise DatasetError(
                    f"{meta}, line {line}: split must be training, validation or test (or train/val/test, "
                    f"0/1/2); got {fields[i_split]!r}"
                )
            split = _SPLITS[s]
        extra = {h: fields[j] for j, h in extras}
        group = rel
        if i_ref is not None and fields[i_ref]:
            ref = fields[i_ref]
            group = PurePosixPath(ref.replace("\\", "/")).stem
            extra["ref_path"] = str(finder.find(ref, image=False)[0])
        path, ok = finder.find(rel)
        row = ManifestRow(path, float(raw), higher_is_better, group, split=split, extra=extra)
        (col.rows if ok else col.missing).append(row)
    if not col.rows and not col.missing:
        raise DatasetError(f"{meta}: no rows after the header")
    if finder.ambiguous:
        rel, hits = finder.ambiguous[0]
        warnings.warn(
            f"pyiqa: {len(finder.ambiguous)} name(s) of {meta.name} match several files under {img_root} "
            f"(e.g. {rel!r}: {', '.join(str(h) for h in hits[:2])}); they count as missing: pass "
            "image_dir= the folder the file's paths are relative to",
            DatasetWarning,
            stacklevel=2,
        )
    unit = f"column {header[i_s]!r} ({'higher' if higher_is_better else 'lower'} is better)"
    layout = f"{kind}-separated, " + ("header" if has_header else "no header: " + ",".join(header))
    meta_info = {"meta_csv": meta.name, "label_file": meta.name, "score_unit": unit, "layout": layout}
    return col.manifest(name or dataset, img_root, meta_info)
