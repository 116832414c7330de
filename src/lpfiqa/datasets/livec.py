"""LIVE In the Wild Image Quality Challenge database (LIVEC, "ChallengeDB").

D. Ghadiyaram and A. C. Bovik, "Massive online crowdsourced study of subjective
and objective picture quality", IEEE Trans. Image Processing 25(1):372-387, 2016.

Release layout (``ChallengeDB_release/``)::

    Images/                    1162 test images (535 .bmp, 627 .JPG)
    Images/trainingImages/     t1.bmp ... t7.bmp (subject-training images)
    Data/AllImages_release.mat AllImages_release: 1169x1 cell of bare file names
    Data/AllMOS_release.mat    AllMOS_release:    1x1169 MOS (0-100)
    Data/AllStdDev_release.mat AllStdDev_release: 1x1169

The label order is t1..t7 first, then the 1162 test images. The 7 training
images were shown only to train subjects and are dropped, as in pyiqa,
HyperIQA and KonIQ++.
"""

from __future__ import annotations

import re
from pathlib import Path

from lpfiqa.errors import DatasetError

from ._io import Resolver, RowCollector, load_mat, locate, mat_strings, mat_vector
from .manifest import Manifest

__all__ = ["read_livec"]

_TRAINING = re.compile(r"^t\d+\.bmp$", re.IGNORECASE)


def read_livec(root: Path | str, *, keep_training: bool = False) -> Manifest:
    """Read LIVE In the Wild Challenge.

    Args:
        root: ``ChallengeDB_release/`` or a folder above it. Only
            ``Data/AllImages_release.mat`` and ``Data/AllMOS_release.mat`` are
            needed (``AllStdDev_release.mat`` is optional); the ``.mat`` files may
            also sit directly beside ``Images/``.
        keep_training: Keep the 7 ``t*.bmp`` subject-training images (resolved
            under ``Images/trainingImages/``); 1169 rows instead of 1162.

    Returns:
        Manifest: MOS (0-100), ``higher_is_better=True``; ``group`` = the image
        file name (authentic distortions, no references); no distortion type or
        split; extra ``std`` when ``AllStdDev_release.mat`` is present. 1162 rows
        on the full release.

    Raises:
        DatasetError: A label file or variable is missing, or names and MOS differ in length.

    Example:
        >>> import tempfile, numpy as np, scipy.io
        >>> d = Path(tempfile.mkdtemp()); (d / "Data").mkdir()
        >>> names = np.array([["t1.bmp"], ["100.bmp"]], dtype=object)
        >>> scipy.io.savemat(d / "Data" / "AllImages_release.mat", {"AllImages_release": names})
        >>> scipy.io.savemat(d / "Data" / "AllMOS_release.mat", {"AllMOS_release": np.array([[50.0, 32.5]])})
        >>> import warnings; warnings.simplefilter("ignore")  # no images in this demo
        >>> [(r.path.name, r.score) for r in read_livec(d).missing]
        [('100.bmp', 32.5)]
    """
    res = Resolver()
    names_file = locate(
        root, ["Data/AllImages_release.mat", "AllImages_release.mat"], what="LIVEC", resolver=res
    )
    data_dir = names_file.parent
    # Data/ beside Images/ as released; some copies put the .mat files beside Images/ instead
    base = data_dir if res.is_dir(data_dir, "Images") else data_dir.parent
    mos_file = res.resolve(data_dir, "AllMOS_release.mat")
    if mos_file is None:
        raise DatasetError(f"LIVEC: {data_dir / 'AllMOS_release.mat'} not found (variable AllMOS_release)")
    names = mat_strings(
        load_mat(names_file, ["AllImages_release"])["AllImages_release"],
        file=names_file,
        var="AllImages_release",
    )
    mos = mat_vector(
        load_mat(mos_file, ["AllMOS_release"])["AllMOS_release"], file=mos_file, var="AllMOS_release"
    )
    if len(mos) != len(names):
        raise DatasetError(
            f"{mos_file}: AllMOS_release has {len(mos)} values but {names_file.name} {len(names)} names"
        )
    std = None
    std_file = res.resolve(data_dir, "AllStdDev_release.mat")
    if std_file is not None:
        std = mat_vector(
            load_mat(std_file, ["AllStdDev_release"])["AllStdDev_release"],
            file=std_file,
            var="AllStdDev_release",
        )
        if len(std) != len(names):
            raise DatasetError(f"{std_file}: AllStdDev_release has {len(std)} values, expected {len(names)}")

    img_dir = res.is_dir(base, "Images") or base / "Images"
    train_dir = res.is_dir(img_dir, "trainingImages") or img_dir / "trainingImages"
    col = RowCollector(img_dir, res)
    for i, name in enumerate(names):
        training = bool(_TRAINING.match(name))
        if training and not keep_training:
            continue
        extra = {"std": repr(float(std[i]))} if std is not None else {}
        col.add(
            name,
            base=train_dir if training else img_dir,
            score=float(mos[i]),
            higher_is_better=True,
            group=name,
            extra=extra,
        )
    meta = {"keep_training": "1" if keep_training else "0", "label_file": mos_file.name, "score_unit": "MOS, 0-100"}
    return col.manifest("livec", base, meta)
