"""LIVE Image Quality Assessment Database, Release 2.

H. R. Sheikh, M. F. Sabir and A. C. Bovik, "A statistical evaluation of recent full
reference image quality assessment algorithms", IEEE Trans. Image Processing
15(11):3440-3451, 2006. (Database: H. R. Sheikh, Z. Wang, L. Cormack and
A. C. Bovik, "LIVE Image Quality Assessment Database Release 2".)

Release layout (``databaserelease2/``)::

    jp2k/ jpeg/ wn/ gblur/ fastfading/   img1.bmp ... imgN.bmp (+ info.txt)
    refimgs/                              29 reference BMPs
    dmos.mat                              dmos, orgs            (1x982)
    dmos_realigned.mat                    dmos_new, dmos_std, orgs
    refnames_all.mat                      refnames_all (cell, 1x982)

The 982 label entries run jp2k 1-227, jpeg 228-460, wn 461-634, gblur 635-808,
fastfading 809-982, each by image index. ``orgs == 1`` marks undistorted copies
of the references; dropping them leaves the 779 rated distorted images.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from lpfiqa.errors import DatasetError

from ._io import DatasetWarning, Resolver, RowCollector, load_mat, locate, mat_strings, mat_vector, read_text_lines
from .manifest import Manifest

__all__ = ["LIVE_FOLDERS", "read_live"]

#: Distortion folders in label order, with their number of label entries.
LIVE_FOLDERS: tuple[tuple[str, int], ...] = (
    ("jp2k", 227),
    ("jpeg", 233),
    ("wn", 174),
    ("gblur", 174),
    ("fastfading", 174),
)
_N = sum(n for _, n in LIVE_FOLDERS)  # 982


def _info(folder: Path, resolver: Resolver) -> dict[str, str]:
    """``img<i>.bmp -> parameter`` from a folder's optional ``info.txt`` (``refname distname parameter``)."""
    info = resolver.resolve(folder, "info.txt")
    if info is None or not info.is_file():
        return {}
    out: dict[str, str] = {}
    for line in read_text_lines(info):
        parts = line.split()
        if len(parts) >= 3:  # blank or short lines carry nothing
            out[parts[1].lower()] = parts[2]
    return out


def read_live(root: Path | str, *, dmos: str = "auto", keep_references: bool = False) -> Manifest:
    """Read LIVE IQA Release 2.

    Args:
        root: The release folder (``databaserelease2/``) or a folder above it.
        dmos: Which DMOS to use. ``"realigned"``: ``dmos_new`` from
            ``dmos_realigned.mat``, the DMOS realigned across sessions described in
            Sheikh et al. 2006 and used by HyperIQA/DBCNN (range about -3..112;
            ``dmos_std`` goes to the ``dmos_std`` extra). ``"original"``: ``dmos``
            from ``dmos.mat``, as pyiqa uses (about 18..85 on kept images).
            ``"auto"`` (default): realigned when ``dmos_realigned.mat`` is there,
            else original with a :class:`DatasetWarning` (copies without the
            realigned file circulate). Which one the authors recommend is not
            documented; ``meta["dmos"]`` records the one used.
        keep_references: Keep the ``orgs == 1`` entries (reference copies; 982
            rows instead of 779; extra ``is_reference`` = ``1``).

    Returns:
        Manifest: DMOS, ``higher_is_better=False``; ``group`` = reference stem
        (29 groups); ``dist_type`` = folder name; no level (LIVE has only a
        continuous parameter, put in the ``dist_param`` extra from ``info.txt``
        when present); ``ref_path`` extra; no official split. 779 rows on the
        full release.

    Raises:
        DatasetError: A label file or variable is missing, or arrays are not 982 long.

    Example:
        >>> import tempfile, numpy as np, scipy.io
        >>> d = Path(tempfile.mkdtemp())
        >>> names = np.array([["a.bmp"] * 982], dtype=object)
        >>> scipy.io.savemat(d / "refnames_all.mat", {"refnames_all": names})
        >>> scipy.io.savemat(d / "dmos_realigned.mat", {"dmos_new": np.ones((1, 982)),
        ...     "dmos_std": np.ones((1, 982)), "orgs": np.zeros((1, 982))})
        >>> import warnings; warnings.simplefilter("ignore")  # no images in this demo
        >>> m = read_live(d)
        >>> len(m.missing), m.missing[0].dist_type, m.missing[0].higher_is_better
        (982, 'jp2k', False)
    """
    if dmos not in ("auto", "realigned", "original"):
        raise ValueError(f"dmos must be 'auto', 'realigned' or 'original', got {dmos!r}")
    res = Resolver()
    refnames_file = locate(root, ["refnames_all.mat"], what="LIVE", resolver=res)
    base = refnames_file.parent
    if dmos == "auto":
        if res.resolve(base, "dmos_realigned.mat") is not None:
            dmos = "realigned"
        elif res.resolve(base, "dmos.mat") is not None:
            dmos = "original"
            warnings.warn(
                f"LIVE: no dmos_realigned.mat in {base}; using dmos.mat (the original DMOS, about 18..85, as "
                "pyiqa does; the realigned one runs about -3..112); pass dmos='original' to silence this",
                DatasetWarning,
                stacklevel=2,
            )
        else:
            raise DatasetError(f"LIVE: neither dmos_realigned.mat nor dmos.mat found in {base}")
    if dmos == "realigned":
        label_file = res.resolve(base, "dmos_realigned.mat")
        if label_file is None:
            raise DatasetError(
                f"LIVE: {base / 'dmos_realigned.mat'} not found (needed for dmos='realigned'); "
                "use dmos='original' to read dmos.mat instead"
            )
        v = load_mat(label_file, ["dmos_new", "orgs"], optional=["dmos_std"])
        scores = mat_vector(v["dmos_new"], file=label_file, var="dmos_new")
        stds: np.ndarray | None = (
            mat_vector(v["dmos_std"], file=label_file, var="dmos_std") if "dmos_std" in v else None
        )
    else:
        label_file = res.resolve(base, "dmos.mat")
        if label_file is None:
            raise DatasetError(f"LIVE: {base / 'dmos.mat'} not found (needed for dmos='original')")
        v = load_mat(label_file, ["dmos", "orgs"])
        scores = mat_vector(v["dmos"], file=label_file, var="dmos")
        stds = None
    orgs = mat_vector(v["orgs"], file=label_file, var="orgs")
    refnames = mat_strings(
        load_mat(refnames_file, ["refnames_all"])["refnames_all"], file=refnames_file, var="refnames_all"
    )
    for arr, f, var in (
        (scores, label_file, "dmos_new" if dmos == "realigned" else "dmos"),
        (orgs, label_file, "orgs"),
        (refnames, refnames_file, "refnames_all"),
    ):
        if len(arr) != _N:
            raise DatasetError(
                f"{f}: variable {var} should have {_N} entries "
                f"({', '.join(f'{n} {c}' for n, c in LIVE_FOLDERS)}), got {len(arr)}"
            )
    if stds is not None and len(stds) != _N:
        raise DatasetError(f"{label_file}: variable dmos_std should have {_N} entries, got {len(stds)}")

    col = RowCollector(base, res)
    ref_dir = res.is_dir(base, "refimgs") or base / "refimgs"
    i = 0
    for folder, count in LIVE_FOLDERS:
        params = _info(res.is_dir(base, folder) or base / folder, res)
        for k in range(1, count + 1):
            is_ref = orgs[i] == 1
            if not is_ref or keep_references:
                name = f"img{k}.bmp"
                ref = refnames[i]
                ref_path, _ = col.find(ref, ref_dir)
                extra = {"ref_path": str(ref_path)}
                if stds is not None:
                    extra["dmos_std"] = repr(float(stds[i]))
                if name in params:
                    extra["dist_param"] = params[name]
                if keep_references:
                    extra["is_reference"] = "1" if is_ref else "0"
                col.add(
                    f"{folder}/{name}",
                    score=float(scores[i]),
                    higher_is_better=False,
                    group=Path(ref).stem,
                    dist_type=folder,
                    extra=extra,
                )
            i += 1
    meta = {
        "dmos": dmos,
        "keep_references": "1" if keep_references else "0",
        "label_file": label_file.name,
        "score_unit": "DMOS, realigned (dmos_new)" if dmos == "realigned" else "DMOS, original (dmos)",
    }
    return col.manifest("live", base, meta)
