"""Readers of the standard IQA datasets, producing a common :class:`Manifest`.

Each reader parses an official release as its authors distribute it and returns a
:class:`Manifest` (one row per rated image: path, score in the dataset's own unit
and direction, content group, distortion type/level, official split). Write it
with :func:`write_manifest`; the trainer reads it back with :func:`read_manifest`.

===========  =============================  =====  ==================
name         reader                         unit   better
===========  =============================  =====  ==================
live         :func:`read_live`              DMOS   lower
csiq         :func:`read_csiq`              DMOS   lower
tid2013      :func:`read_tid2013`           MOS    higher
kadid10k     :func:`read_kadid10k`          MOS    higher
livec        :func:`read_livec`             MOS    higher
koniq10k     :func:`read_koniq10k`          MOS    higher
spaq         :func:`read_spaq`              MOS    higher
bid          :func:`read_bid`               MOS    higher
cid2013      :func:`read_cid2013`           MOS    higher
csv          :func:`read_csv`               any    per row
pyiqa        :func:`read_pyiqa`             any    per file
===========  =============================  =====  ==================

Label files each reader takes, preferred first (any one of them is enough;
``Manifest.meta["label_file"]`` and the summary say which was used):

===========  ===================================================================
name         label files
===========  ===================================================================
live         ``refnames_all.mat`` + ``dmos_realigned.mat``, else ``dmos.mat``
csiq         ``csiq.DMOS.xlsx``, ``csiq.beta.xlsx``/``.txt``, HyperIQA's ``csiq_label.txt``
tid2013      ``mos_with_names.txt``, else ``mos.txt`` (names from the release order)
kadid10k     ``dmos.csv``
livec        ``AllImages_release.mat`` + ``AllMOS_release.mat`` (+ ``AllStdDev_release.mat``)
koniq10k     ``koniq10k_scores_and_distributions.csv`` and/or the GitHub
             ``koniq10k_distributions_sets.csv``
spaq         ``MOS and Image attribute scores.xlsx``
bid          ``DatabaseGrades.xlsx``
cid2013      ``CID2013 data - version *.xlsx``
csv          any CSV with a path and a score column
pyiqa        every ``meta_info_*.csv``/``.txt`` pyiqa shipped (see :func:`read_pyiqa`)
===========  ===================================================================

Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> d = Path(tempfile.mkdtemp()); _ = (d / "a.jpg").write_bytes(b"")
    >>> _ = (d / "scores.csv").write_text("path,mos\\na.jpg,71.5\\n")
    >>> m = prepare("csv", d / "scores.csv", out=d / "manifest.csv")
    >>> (d / "manifest.csv").read_text().splitlines()[1]
    'a.jpg,71.5,1,a.jpg,,,'
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from lpfiqa.errors import ConfigError

from ._io import DatasetWarning, MissingDependencyError
from .bid import read_bid
from .checks import EXPECTED, Expected, check_counts
from .cid2013 import read_cid2013
from .csiq import read_csiq
from .generic import read_csv, read_pyiqa
from .kadid import read_kadid10k
from .koniq import read_koniq10k
from .live import read_live
from .livec import read_livec
from .manifest import (
    COLUMNS,
    SPLITS,
    Manifest,
    ManifestRow,
    ManifestSummary,
    ScoreScale,
    denormalise_scores,
    normalised_scores,
    read_manifest,
    score_scale,
    write_manifest,
)
from .spaq import read_spaq
from .tid2013 import read_tid2013

__all__ = [
    "COLUMNS",
    "EXPECTED",
    "READERS",
    "SPLITS",
    "DatasetWarning",
    "Expected",
    "Manifest",
    "ManifestRow",
    "ManifestSummary",
    "MissingDependencyError",
    "ScoreScale",
    "check_counts",
    "denormalise_scores",
    "list_datasets",
    "normalised_scores",
    "prepare",
    "read_bid",
    "read_cid2013",
    "read_csiq",
    "read_csv",
    "read_kadid10k",
    "read_koniq10k",
    "read_live",
    "read_livec",
    "read_manifest",
    "read_pyiqa",
    "read_spaq",
    "read_tid2013",
    "score_scale",
    "write_manifest",
]

#: Dataset name -> reader ``(root, **options) -> Manifest``.
READERS: dict[str, Callable[..., Manifest]] = {
    "live": read_live,
    "csiq": read_csiq,
    "tid2013": read_tid2013,
    "kadid10k": read_kadid10k,
    "livec": read_livec,
    "koniq10k": read_koniq10k,
    "spaq": read_spaq,
    "bid": read_bid,
    "cid2013": read_cid2013,
    "csv": read_csv,
    "pyiqa": read_pyiqa,
}


def list_datasets() -> list[str]:
    """Names accepted by :func:`prepare`, in registry order.

    Example:
        >>> list_datasets()[:3]
        ['live', 'csiq', 'tid2013']
    """
    return list(READERS)


def prepare(
    name: str,
    root: Path | str,
    *,
    out: Path | str | None = None,
    check: Literal["warn", "error", "off"] = "warn",
    **options: Any,
) -> Manifest:
    """Read dataset ``name`` from ``root`` and optionally write its manifest.

    Args:
        name: One of :func:`list_datasets` (case-insensitive; ``-``/``_`` ignored,
            so ``KADID-10k`` works).
        root: Where the release was unpacked.
        out: Write the manifest CSV here (atomically) when given.
        check: Compare with the published counts (:func:`check_counts`):
            ``"warn"`` (default) emits a :class:`DatasetWarning`, ``"error"``
            raises, ``"off"`` skips.
        **options: Passed to the reader (e.g. ``dmos="original"`` for LIVE,
            ``size="512x384"`` for KonIQ-10k).

    Returns:
        The manifest (absent images in ``missing``, see ``summary()``).

    Raises:
        ConfigError: Unknown ``name`` (the message lists the known ones).
        DatasetError: From the reader, or a count mismatch with ``check="error"``.

    Example:
        >>> import tempfile
        >>> d = Path(tempfile.mkdtemp()) / "kadid10k"; (d / "images").mkdir(parents=True)
        >>> _ = (d / "dmos.csv").write_text("dist_img,ref_img,dmos,var\\nI01_01_01.png,I01.png,4.57,0.496\\n")
        >>> _ = (d / "images" / "I01_01_01.png").write_bytes(b"")
        >>> m = prepare("KADID-10k", d, check="off", out=d / "manifest.csv")
        >>> print(m.summary())
        kadid10k: 1 images, 1 groups
          scores 4.57 .. 4.57 (higher is better)
          labels dmos.csv; score MOS-like, 1-5 (the 'dmos' column)
          splits (none)=1
          1 distortion types
    """
    key = name.lower().replace("-", "").replace("_", "")
    aliases = {"kadid": "kadid10k", "koniq": "koniq10k", "tid": "tid2013", "livechallenge": "livec"}
    key = aliases.get(key, key)
    if key not in READERS:
        raise ConfigError(f"unknown dataset {name!r}; known: {', '.join(READERS)}")
    if check not in ("warn", "error", "off"):
        raise ValueError(f"check must be 'warn', 'error' or 'off', got {check!r}")
    manifest = READERS[key](Path(root), **options)
    if check != "off":
        problems = check_counts(manifest, key, strict=check == "error")
        for p in problems:
            warnings.warn(p, DatasetWarning, stacklevel=2)
    if out is not None:
        write_manifest(manifest, out)
    return manifest
