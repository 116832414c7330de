"""The manifest: one CSV row per rated image, shared by every reader and the trainer.

CSV layout (columns in this order, then any extra columns a dataset has)::

    path,score,higher_is_better,group,dist_type,dist_level,split[,extras...]

* ``path`` – absolute, or relative to the manifest file's folder. Written relative
  when the image lies under that folder (so a dataset folder with its manifest can
  be moved), absolute otherwise.
* ``score`` – the dataset's own unit, MOS or DMOS as released.
* ``higher_is_better`` – ``1`` for MOS, ``0`` for DMOS.
* ``group`` – reference / content id, so splits can be made by content. For
  authentic datasets without references, the image itself.
* ``dist_type``, ``dist_level`` – where known, else empty.
* ``split`` – ``train``/``val``/``test`` where the dataset has an official split,
  else empty.

:func:`read_manifest` also accepts minimal hand-written CSVs: only a path and a
score column are required, header names are case-insensitive, ``image``,
``filename``, ``image_name`` and ``img_name`` are accepted for ``path`` and
``mos``, ``dmos`` and ``label`` for ``score``. A malformed row raises
:class:`~lpfiqa.errors.ManifestError` naming the file and line; nothing is
silently skipped, because a silently shorter training set is worse than an error
the user can fix.

The in-memory types (:class:`Manifest`, :class:`ManifestRow`, :class:`ManifestSummary`)
live in :mod:`lpfiqa.datasets.records` and the score normalisation (:class:`ScoreScale`)
in :mod:`lpfiqa.datasets.scale`; both are re-exported here.
"""

from __future__ import annotations

import csv
import io
import math
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from lpfiqa.errors import ManifestError

from .records import SPLITS, Manifest, ManifestRow, ManifestSummary
from .scale import ScoreScale, denormalise_scores, normalised_scores, score_scale

__all__ = [
    "COLUMNS",
    "PATH_EXTRAS",
    "SPLITS",
    "Manifest",
    "ManifestRow",
    "ManifestSummary",
    "ScoreScale",
    "denormalise_scores",
    "normalised_scores",
    "read_manifest",
    "score_scale",
    "write_manifest",
]

#: The fixed columns, in order.
COLUMNS: tuple[str, ...] = ("path", "score", "higher_is_better", "group", "dist_type", "dist_level", "split")
#: Extra columns holding image paths; made relative/absolute like ``path``.
PATH_EXTRAS: tuple[str, ...] = ("ref_path",)

# Header aliases of minimal CSVs, in order of preference.
_PATH_ALIASES = ("path", "image", "filename", "image_name", "img_name")
_SCORE_ALIASES = ("score", "mos", "dmos", "label")
_SPLIT_ALIASES = {
    "train": "train",
    "training": "train",
    "val": "val",
    "valid": "val",
    "validation": "val",
    "test": "test",
    "testing": "test",
}
_TRUE = {"1", "true", "yes", "y", "t"}
_FALSE = {"0", "false", "no", "n", "f"}


# --------------------------------------------------------------------------------------
# writing
# --------------------------------------------------------------------------------------


def _path_for_csv(p: Path, folder: str) -> str:
    # abspath, not resolve: a symlinked data folder should stay "under" the manifest
    ap = os.path.abspath(p)
    try:
        rel = os.path.relpath(ap, folder)
    except ValueError:  # different drives on Windows
        return ap
    if rel == os.pardir or rel.startswith(os.pardir + os.sep):
        return ap
    return Path(rel).as_posix()


def write_manifest(manifest: Manifest, path: Path | str) -> Path:
    """Write ``manifest`` as CSV, atomically (temp file in the same folder + ``os.replace``).

    A crash mid-write leaves the old file intact, never a truncated one that a
    later training run would silently read.

    Args:
        manifest: What to write (``manifest.missing`` is not written; it is not data).
        path: Target ``.csv`` file; parent folders are created.

    Returns:
        The path written.

    Raises:
        ManifestError: An extra column collides with a fixed one.

    Example:
        >>> import tempfile
        >>> d = Path(tempfile.mkdtemp())
        >>> m = Manifest([ManifestRow(d / "img" / "a.png", 4.0, True, "a", extra={"std": "0.5"})])
        >>> out = write_manifest(m, d / "m.csv")
        >>> print(out.read_text().strip())
        path,score,higher_is_better,group,dist_type,dist_level,split,std
        img/a.png,4.0,1,a,,,,0.5
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    folder = os.path.abspath(path.parent)
    extras: list[str] = []
    for r in manifest.rows:
        for k in r.extra:
            if k not in extras:
                extras.append(k)
    clash = [k for k in extras if k.lower() in COLUMNS]
    if clash:
        raise ManifestError(f"{path}: extra column(s) {clash} collide with the fixed columns {COLUMNS}")

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([*COLUMNS, *extras])
    for r in manifest.rows:
        ex = []
        for k in extras:
            v = r.extra.get(k, "")
            if k in PATH_EXTRAS and v:
                v = _path_for_csv(Path(v), folder)
            ex.append(v)
        w.writerow(
            [
                _path_for_csv(r.path, folder),
                repr(float(r.score)),  # shortest exact float text: round trip is lossless
                1 if r.higher_is_better else 0,
                r.group,
                r.dist_type,
                "" if r.dist_level is None else int(r.dist_level),
                r.split,
                *ex,
            ]
        )
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(buf.getvalue())
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path


# --------------------------------------------------------------------------------------
# reading
# --------------------------------------------------------------------------------------


def _pick(header: Sequence[str], aliases: Sequence[str]) -> int | None:
    low = [h.strip().lower() for h in header]
    for a in aliases:
        if a in low:
            return low.index(a)
    return None


def read_manifest(path: Path | str, *, name: str | None = None) -> Manifest:
    """Read a manifest CSV (full or minimal).

    Missing optional columns get defaults: ``higher_is_better`` is ``0`` when the
    score column is named ``dmos`` and ``1`` otherwise; ``group`` is the path as
    written; the rest are empty. Unknown columns become ``extra``. Relative paths
    are resolved against the manifest's folder.

    Args:
        path: The CSV file (UTF-8, a BOM is fine).
        name: Manifest name; default the file stem.

    Returns:
        The :class:`Manifest` (``root`` = the CSV's folder).

    Raises:
        ManifestError: Missing file, no path/score column, no rows, or a bad row
            (message: ``<file>, line <n>: <what was expected>``).

    Example:
        >>> import tempfile
        >>> d = Path(tempfile.mkdtemp())
        >>> _ = (d / "m.csv").write_text("Image,DMOS\\na.png,12.5\\nb.png,40\\n")
        >>> m = read_manifest(d / "m.csv")
        >>> [(r.path.name, r.score, r.higher_is_better) for r in m]
        [('a.png', 12.5, False), ('b.png', 40.0, False)]
        >>> _ = (d / "bad.csv").write_text("path,score\\na.png,good\\n")
        >>> read_manifest(d / "bad.csv")
        Traceback (most recent call last):
        ...
        lpfiqa.errors.ManifestError: ...bad.csv, line 2: column 'score' must be a number, got 'good'
    """
    path = Path(path)
    if not path.is_file():
        raise ManifestError(f"manifest not found: {path}")
    folder = Path(os.path.abspath(path.parent))
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ManifestError(f"{path}: not UTF-8 text ({exc})") from exc
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    for header in reader:
        if any(c.strip() for c in header):
            break
    else:
        raise ManifestError(f"{path}: empty file; expected a header with at least 'path' and 'score' columns")
    assert header is not None
    header = [h.strip() for h in header]
    low = [h.lower() for h in header]
    dup = sorted({h for h in low if h and low.count(h) > 1})
    if dup:
        raise ManifestError(f"{path}, line {reader.line_num}: duplicate column(s) {dup}")
    i_path = _pick(header, _PATH_ALIASES)
    i_score = _pick(header, _SCORE_ALIASES)
    if i_path is None or i_score is None:
        raise ManifestError(
            f"{path}, line {reader.line_num}: header must have a path column ({'/'.join(_PATH_ALIASES)}) "
            f"and a score column ({'/'.join(_SCORE_ALIASES)}); got {header}"
        )
    idx = {c: (low.index(c) if c in low else None) for c in COLUMNS[2:]}
    default_hib = low[i_score] != "dmos"
    used = {i_path, i_score, *(i for i in idx.values() if i is not None)}
    extra_cols = [(j, header[j]) for j in range(len(header)) if j not in used and header[j]]

    rows: list[ManifestRow] = []
    for fields in reader:
        line = reader.line_num
        if not any(c.strip() for c in fields):
            continue  # blank line
        if len(fields) > len(header):
            raise ManifestError(
                f"{path}, line {line}: expected {len(header)} fields as in the header, got {len(fields)}"
            )
        fields = fields + [""] * (len(header) - len(fields))

        def err(col: str, expected: str, got: str, _line: int = line) -> ManifestError:
            return ManifestError(f"{path}, line {_line}: column {col!r} must be {expected}, got {got!r}")

        raw_path = fields[i_path].strip()
        if not raw_path:
            raise err("path", "a non-empty image path", raw_path)
        raw_score = fields[i_score].strip()
        try:
            score = float(raw_score)
        except ValueError:
            raise err("score", "a number", raw_score) from None
        if not math.isfinite(score):
            raise err("score", "a finite number", raw_score)

        hib = default_hib
        if idx["higher_is_better"] is not None:
            v = fields[idx["higher_is_better"]].strip().lower()
            if v in _TRUE:
                hib = True
            elif v in _FALSE:
                hib = False
            elif v:
                raise err("higher_is_better", "1 or 0", v)
        level: int | None = None
        if idx["dist_level"] is not None and fields[idx["dist_level"]].strip():
            v = fields[idx["dist_level"]].strip()
            try:
                fl = float(v)
                if not fl.is_integer():
                    raise ValueError
                level = int(fl)
            except ValueError:
                raise err("dist_level", "an integer or empty", v) from None
        split = ""
        if idx["split"] is not None:
            v = fields[idx["split"]].strip()
            if v:
                if v.lower() not in _SPLIT_ALIASES:
                    raise err("split", "train, val, test or empty", v)
                split = _SPLIT_ALIASES[v.lower()]
        group = fields[idx["group"]].strip() if idx["group"] is not None else ""
        dist_type = fields[idx["dist_type"]].strip() if idx["dist_type"] is not None else ""
        extra: dict[str, str] = {}
        for j, h in extra_cols:
            v = fields[j].strip()
            if h.lower() in PATH_EXTRAS and v:
                v = os.path.normpath(folder / v)
            extra[h] = v
        rows.append(
            ManifestRow(
                path=Path(os.path.normpath(folder / raw_path)),
                score=score,
                higher_is_better=hib,
                group=group or raw_path,
                dist_type=dist_type,
                dist_level=level,
                split=split,
                extra=extra,
            )
        )
    if not rows:
        raise ManifestError(f"{path}: no rows after the header; expected one row per image")
    return Manifest(rows=rows, name=name if name is not None else path.stem, root=folder)
