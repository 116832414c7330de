"""Helpers shared by the dataset readers: file lookup, MATLAB, Excel and text labels.

Official IQA releases were made on Windows and MATLAB, so on Linux the readers
meet mixed-case names (``I01.BMP`` next to ``i01_01_1.bmp``), MATLAB cell arrays
that load as nested object arrays, and label workbooks whose header is not on the
first row. Everything here turns those into plain Python values or into a
:class:`~lpfiqa.errors.DatasetError` that names the file and what was expected.
"""

from __future__ import annotations

import fnmatch
import math
import os
import re
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np

from lpfiqa.errors import DatasetError

from .manifest import Manifest, ManifestRow

__all__ = [
    "DatasetWarning",
    "MissingDependencyError",
    "Resolver",
    "RowCollector",
    "cell_float",
    "cell_str",
    "find_header",
    "load_mat",
    "locate",
    "locate_dir",
    "mat_strings",
    "mat_vector",
    "read_text_lines",
    "read_xlsx_rows",
    "require_openpyxl",
]


class DatasetWarning(UserWarning):
    """Something in a release is incomplete but the manifest is still usable (e.g. missing images)."""


class MissingDependencyError(DatasetError, ImportError):
    """An optional dependency needed for this dataset is not installed."""


# --------------------------------------------------------------------------------------
# file lookup
# --------------------------------------------------------------------------------------


class Resolver:
    """Case-insensitive path lookup with one directory listing per folder.

    An exact match wins; otherwise a case-insensitive match is used. Listing each
    folder once keeps 10k lookups cheap and avoids a ``stat`` per candidate.

    Example:
        >>> import tempfile
        >>> d = Path(tempfile.mkdtemp())
        >>> _ = (d / "I01.BMP").write_bytes(b"")
        >>> Resolver().resolve(d, "i01.bmp").name
        'I01.BMP'
        >>> Resolver().resolve(d, "i02.bmp") is None
        True
    """

    def __init__(self) -> None:
        self._cache: dict[Path, tuple[frozenset[str], dict[str, str]] | None] = {}

    def _listing(self, folder: Path) -> tuple[frozenset[str], dict[str, str]] | None:
        if folder not in self._cache:
            try:
                names = sorted(os.listdir(folder))
            except (FileNotFoundError, NotADirectoryError, PermissionError):
                self._cache[folder] = None
            else:
                lower: dict[str, str] = {}
                for n in names:  # sorted: the first of two case-variants wins, deterministically
                    lower.setdefault(n.lower(), n)
                self._cache[folder] = (frozenset(names), lower)
        return self._cache[folder]

    def resolve(self, base: Path, rel: str | os.PathLike[str]) -> Path | None:
        """Return the existing path for ``base / rel`` matched case-insensitively, or ``None``."""
        rel_s = str(rel).replace("\\", "/")
        cur = Path(base)
        parts = PurePosixPath(rel_s).parts
        if Path(rel_s).is_absolute():  # an absolute path in a label file: look it up as is
            if Path(rel_s).is_file():
                return Path(rel_s)
            cur, parts = Path(parts[0]), parts[1:]
        for part in parts:
            if part in (".", ""):
                continue
            listing = self._listing(cur)
            if listing is None:
                return None
            exact, lower = listing
            if part in exact:
                cur = cur / part
            elif part.lower() in lower:
                cur = cur / lower[part.lower()]
            else:
                return None
        return cur

    def is_dir(self, base: Path, rel: str) -> Path | None:
        """Like :meth:`resolve` but only for folders."""
        p = self.resolve(base, rel)
        return p if p is not None and p.is_dir() else None


def _subdirs(folder: Path, depth: int) -> Iterable[Path]:
    """``folder`` and its sub-folders down to ``depth`` levels, breadth first, sorted."""
    level = [folder]
    for _ in range(depth + 1):
        nxt: list[Path] = []
        for d in level:
            yield d
            try:
                nxt.extend(sorted(p for p in d.iterdir() if p.is_dir() and not p.name.startswith(".")))
            except OSError:
                continue
        level = nxt


def locate(
    root: Path | str,
    candidates: Sequence[str],
    *,
    what: str,
    depth: int = 2,
    resolver: Resolver | None = None,
) -> Path:
    """Find a label file of a release under ``root``.

    Users point at the folder they unpacked, which is often one or two levels
    above the release's own root (``~/data/LIVE`` holding ``databaserelease2/``).
    So each candidate (a relative path, matched case-insensitively; ``*`` and
    ``?`` wildcards allowed in the last part) is tried in ``root`` and then in its
    sub-folders down to ``depth`` levels, breadth first.

    Args:
        root: The folder the user gave.
        candidates: Relative paths in order of preference.
        what: Dataset name for the error message.
        depth: How many folder levels below ``root`` to search.
        resolver: A shared :class:`Resolver` (optional).

    Returns:
        The existing path.

    Raises:
        DatasetError: ``root`` does not exist, or no candidate was found.

    Example:
        >>> import tempfile
        >>> d = Path(tempfile.mkdtemp())
        >>> (d / "release" / "Data").mkdir(parents=True)
        >>> _ = (d / "release" / "Data" / "mos.txt").write_text("1")
        >>> locate(d, ["data/MOS.txt"], what="demo").relative_to(d).as_posix()
        'release/Data/mos.txt'
    """
    root = Path(root).expanduser()
    if not root.exists():
        raise DatasetError(f"{what}: folder not found: {root}")
    if root.is_file():
        root = root.parent
    res = resolver or Resolver()
    for folder in _subdirs(root, depth):
        for cand in candidates:
            parent, _, last = cand.replace("\\", "/").rpartition("/")
            base = res.resolve(folder, parent) if parent else folder
            if base is None:
                continue
            if any(c in last for c in "*?["):
                listing = res._listing(base)
                if listing is None:
                    continue
                hits = sorted(n for n in listing[0] if fnmatch.fnmatch(n.lower(), last.lower()))
                hits = [h for h in hits if (base / h).is_file()]
                if hits:
                    return base / hits[0]
            else:
                hit = res.resolve(base, last)
                if hit is not None and hit.is_file():
                    return hit
    raise DatasetError(
        f"{what}: none of {', '.join(repr(c) for c in candidates)} found in {root} "
        f"or its sub-folders (searched {depth} levels deep); point at the folder of the official release"
    )


def locate_dir(
    root: Path | str, name: str, *, depth: int = 2, resolver: Resolver | None = None
) -> Path | None:
    """The first folder ``name`` (case-insensitive) in ``root`` or below, breadth first, else ``None``."""
    root = Path(root)
    if not root.is_dir():
        return None
    res = resolver or Resolver()
    for folder in _subdirs(root, depth):
        hit = res.is_dir(folder, name)
        if hit is not None:
            return hit
    return None


# --------------------------------------------------------------------------------------
# rows
# --------------------------------------------------------------------------------------


class RowCollector:
    """Builds a :class:`Manifest`, sorting labelled images into present and missing.

    Images listed in the labels but absent on disk go to ``Manifest.missing``
    (never silently dropped) and trigger one :class:`DatasetWarning`.
    """

    def __init__(self, base: Path, resolver: Resolver | None = None) -> None:
        self.base = Path(base)
        self.resolver = resolver or Resolver()
        self.rows: list[ManifestRow] = []
        self.missing: list[ManifestRow] = []

    def find(self, rel: str, base: Path | None = None) -> tuple[Path, bool]:
        """``(path, exists)``: the on-disk path, or the expected one when absent."""
        b = self.base if base is None else base
        hit = self.resolver.resolve(b, rel)
        if hit is not None and hit.is_file():
            return hit, True
        return b / rel, False

    def add(self, rel: str, *, base: Path | None = None, **fields: Any) -> ManifestRow:
        """Add the image ``rel`` (relative to ``base``, default the collector's base)."""
        path, ok = self.find(rel, base)
        row = ManifestRow(path=path, **fields)
        (self.rows if ok else self.missing).append(row)
        return row

    def manifest(self, name: str, root: Path, meta: dict[str, str] | None = None) -> Manifest:
        m = Manifest(rows=self.rows, name=name, missing=self.missing, root=root, meta=dict(meta or {}))
        if self.missing:
            shown = ", ".join(str(r.path) for r in self.missing[:3])
            more = f" and {len(self.missing) - 3} more" if len(self.missing) > 3 else ""
            warnings.warn(
                f"{name}: {len(self.missing)} image(s) listed in the labels are missing on disk and were "
                f"left out of the manifest: {shown}{more} (see Manifest.missing / summary())",
                DatasetWarning,
                stacklevel=3,
            )
        return m


# --------------------------------------------------------------------------------------
# MATLAB
# --------------------------------------------------------------------------------------


def load_mat(path: Path, variables: Sequence[str], optional: Sequence[str] = ()) -> dict[str, np.ndarray]:
    """Load ``variables`` (and any of ``optional`` present) from a MATLAB file.

    Raises :class:`DatasetError` naming the file and the absent variables.

    Example:
        >>> import tempfile, scipy.io
        >>> p = Path(tempfile.mkdtemp()) / "x.mat"
        >>> scipy.io.savemat(p, {"dmos": np.array([[1.0, 2.0]])})
        >>> load_mat(p, ["dmos"])["dmos"].shape
        (1, 2)
    """
    from scipy import io as sio

    try:
        data = sio.loadmat(str(path))
    except NotImplementedError as exc:  # MATLAB v7.3 files are HDF5
        raise DatasetError(
            f"{path}: MATLAB v7.3 (HDF5) files are not supported; re-save it with '-v7'"
        ) from exc
    except Exception as exc:  # scipy raises ValueError/TypeError/OSError on junk
        raise DatasetError(f"{path}: not a readable MATLAB .mat file ({exc})") from exc
    absent = [v for v in variables if v not in data]
    if absent:
        have = sorted(k for k in data if not k.startswith("__"))
        raise DatasetError(f"{path}: expected MATLAB variable(s) {', '.join(absent)}; the file has {have}")
    return {v: data[v] for v in (*variables, *optional) if v in data}


def _mat_scalar_str(x: Any) -> str:
    # cells load as object arrays whose items are 1-element (or empty) string arrays
    while isinstance(x, np.ndarray):
        if x.size == 0:
            return ""
        if x.dtype.kind in "US" and x.size == 1:
            x = x.reshape(-1)[0]
            break
        if x.size != 1:
            if x.dtype.kind == "U":  # char matrix row
                return "".join(x.reshape(-1).tolist())
            raise ValueError(f"expected one string per cell, got an array of shape {x.shape}")
        x = x.reshape(-1)[0]
    if isinstance(x, bytes):
        x = x.decode("latin-1")
    return str(x).strip()


def mat_strings(arr: np.ndarray, *, file: Path, var: str) -> list[str]:
    """Flatten a MATLAB cell array of strings (``1xN`` or ``Nx1``, nested) to ``list[str]``."""
    try:
        return [_mat_scalar_str(x) for x in np.asarray(arr, dtype=object).reshape(-1)]
    except ValueError as exc:
        raise DatasetError(f"{file}: variable {var} should be a cell array of file names ({exc})") from exc


def mat_vector(arr: np.ndarray, *, file: Path, var: str) -> np.ndarray:
    """Flatten a MATLAB ``1xN``/``Nx1`` numeric array to a float 1-D array."""
    a = np.asarray(arr)
    if a.ndim > 2 or (a.ndim == 2 and min(a.shape) > 1):
        raise DatasetError(f"{file}: variable {var} should be a 1xN or Nx1 vector, got shape {a.shape}")
    try:
        return a.astype(np.float64).reshape(-1)
    except (TypeError, ValueError) as exc:
        raise DatasetError(f"{file}: variable {var} should be numeric ({exc})") from exc


# --------------------------------------------------------------------------------------
# Excel
# --------------------------------------------------------------------------------------


def require_openpyxl() -> Any:
    """Import openpyxl lazily, with an error saying how to install it."""
    try:
        import openpyxl
    except ImportError as exc:
        raise MissingDependencyError(
            "reading this dataset's .xlsx label file needs openpyxl: pip install openpyxl "
            "(or pip install 'lpfiqa[xlsx]')"
        ) from exc
    return openpyxl


def read_xlsx_rows(path: Path, sheet: str | None = None) -> tuple[str, list[tuple[Any, ...]]]:
    """All rows of one sheet as tuples of cell values.

    Args:
        path: The workbook.
        sheet: Sheet name, matched case-insensitively; ``None`` = the first sheet.

    Returns:
        ``(sheet_name, rows)``.

    Raises:
        DatasetError: Not a workbook, or no such sheet (the message lists the sheets).
        MissingDependencyError: openpyxl is not installed.
    """
    openpyxl = require_openpyxl()
    try:
        wb = openpyxl.load_workbook(str(path), read_only=True, data_only=True)
    except Exception as exc:  # BadZipFile, InvalidFileException, KeyError...
        raise DatasetError(f"{path}: not a readable .xlsx workbook ({exc})") from exc
    try:
        names = list(wb.sheetnames)
        if sheet is None:
            ws = wb[names[0]]
        else:
            match = [n for n in names if n.strip().lower() == sheet.strip().lower()]
            if not match:
                raise DatasetError(f"{path}: expected a sheet named {sheet!r}; the workbook has {names}")
            ws = wb[match[0]]
        rows = [tuple(r) for r in ws.iter_rows(values_only=True)]
        return ws.title, rows
    finally:
        wb.close()


def _norm_header(v: Any) -> str:
    return re.sub(r"\s+", " ", cell_str(v)).strip().lower()


def find_header(
    rows: Sequence[Sequence[Any]],
    required: Sequence[str],
    *,
    file: Path,
    sheet: str = "",
    scan: int = 30,
) -> tuple[int, dict[str, int]]:
    """Find the header row by content rather than position.

    Circulating copies of some workbooks (CSIQ) have the header on row 4 starting
    at column D, others on row 1, so the first row (of the first ``scan``) holding
    every ``required`` name (case- and whitespace-insensitive) is the header.

    Returns:
        ``(row_index, {normalised_name: column_index})`` (0-based).

    Raises:
        DatasetError: No such row.

    Example:
        >>> rows = [("title",), (), (None, "Image", "DMOS")]
        >>> find_header(rows, ["image", "dmos"], file=Path("x.xlsx"))
        (2, {'image': 1, 'dmos': 2})
    """
    want = [r.lower() for r in required]
    for i, row in enumerate(rows[:scan]):
        cols: dict[str, int] = {}
        for j, v in enumerate(row):
            key = _norm_header(v)
            if key and key not in cols:
                cols[key] = j
        if all(w in cols for w in want):
            return i, cols
    where = f"{file}" + (f", sheet {sheet!r}" if sheet else "")
    raise DatasetError(
        f"{where}: no header row with the columns {', '.join(required)} in the first {scan} rows"
    )


def cell_str(v: Any) -> str:
    """A cell as text; integral floats lose their ``.0`` (CSIQ stores image ``1600`` as a number)."""
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def cell_float(v: Any) -> float | None:
    """A cell as a finite float, or ``None`` when empty or not numeric."""
    if v is None or (isinstance(v, str) and not v.strip()):
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


# --------------------------------------------------------------------------------------
# text
# --------------------------------------------------------------------------------------


def read_text_lines(path: Path) -> list[str]:
    """Lines of a text label file, CRLF or LF, UTF-8 (with or without BOM) or Latin-1."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    return text.splitlines()
