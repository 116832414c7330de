"""KADID-10k (Konstanz Artificially Distorted Image quality Database).

H. Lin, V. Hosu and D. Saupe, "KADID-10k: A large-scale artificially distorted IQA
database", Proc. QoMEX 2019.

Release layout (``kadid10k/``)::

    images/    I01.png ... I81.png (references) and IRR_TT_LL.png (10,125 distorted)
    dmos.csv   dist_img,ref_img,dmos,var

Despite its name, ``dmos`` is a MOS-like score in [1, 5], higher = better (as the
official page says; it falls with the distortion level). ``var`` behaves like a
standard deviation (inferred: values equal sqrt(p(1-p)) for two adjacent rating
levels), so it is exported as the ``std`` extra.
"""

from __future__ import annotations

import csv
import io
import math
import re
from pathlib import Path

from lpfiqa.errors import DatasetError

from ._io import Resolver, RowCollector, locate
from .manifest import Manifest

__all__ = ["KADID10K_TYPES", "read_kadid10k"]

#: Distortion type code -> name.
KADID10K_TYPES: dict[int, str] = {
    1: "gaussian_blur",
    2: "lens_blur",
    3: "motion_blur",
    4: "color_diffusion",
    5: "color_shift",
    6: "color_quantization",
    7: "color_saturation_1",
    8: "color_saturation_2",
    9: "jpeg2000",
    10: "jpeg",
    11: "white_noise",
    12: "white_noise_color_component",
    13: "impulse_noise",
    14: "multiplicative_noise",
    15: "denoise",
    16: "brighten",
    17: "darken",
    18: "mean_shift",
    19: "jitter",
    20: "non_eccentricity_patch",
    21: "pixelate",
    22: "quantization",
    23: "color_block",
    24: "high_sharpen",
    25: "contrast_change",
}

_NAME = re.compile(r"^I(\d{2})_(\d{2})_(\d{2})\.png$", re.IGNORECASE)


def read_kadid10k(root: Path | str) -> Manifest:
    """Read KADID-10k.

    Args:
        root: The ``kadid10k/`` folder (with ``dmos.csv`` and ``images/``) or a
            folder above it. Third-party repacks with ``distorted_images/`` and
            ``reference_images/`` folders are also understood.

    Returns:
        Manifest: score = the ``dmos`` column (MOS-like, 1-5),
        ``higher_is_better=True``; ``group`` = reference stem (``I01``..``I81``);
        ``dist_type`` from :data:`KADID10K_TYPES`; ``dist_level`` 1-5; extras
        ``std`` (the ``var`` column) and ``ref_path``; no official split. 10,125
        rows on the full release.

    Raises:
        DatasetError: ``dmos.csv`` missing, a missing column, or a malformed row
            (naming the line).

    Example:
        >>> import tempfile
        >>> d = Path(tempfile.mkdtemp())
        >>> _ = (d / "dmos.csv").write_text("dist_img,ref_img,dmos,var\\nI01_01_01.png,I01.png,4.57,0.496\\n")
        >>> import warnings; warnings.simplefilter("ignore")  # no images in this demo
        >>> r = read_kadid10k(d).missing[0]
        >>> r.score, r.higher_is_better, r.group, r.dist_type, r.dist_level, r.extra["std"]
        (4.57, True, 'I01', 'gaussian_blur', 1, '0.496')
    """
    res = Resolver()
    label = locate(root, ["dmos.csv"], what="KADID-10k", resolver=res)
    base = label.parent
    dist_dir = res.is_dir(base, "images") or res.is_dir(base, "distorted_images") or base / "images"
    ref_dir = (
        res.is_dir(base, "reference_images") if dist_dir.name.lower() == "distorted_images" else dist_dir
    )
    ref_dir = ref_dir or dist_dir

    reader = csv.reader(io.StringIO(label.read_text(encoding="utf-8-sig"), newline=""))
    header = [h.strip().lower() for h in next(reader, [])]
    need = ["dist_img", "ref_img", "dmos"]
    if not all(c in header for c in need):
        raise DatasetError(f"{label}, line 1: expected the header dist_img,ref_img,dmos,var; got {header}")
    i_d, i_r, i_s = (header.index(c) for c in need)
    i_v = header.index("var") if "var" in header else None

    col = RowCollector(dist_dir, res)
    for fields in reader:
        line = reader.line_num
        if not any(f.strip() for f in fields):
            continue
        if len(fields) < len(header):
            raise DatasetError(f"{label}, line {line}: expected {len(header)} fields, got {len(fields)}")
        dist, ref, raw = fields[i_d].strip(), fields[i_r].strip(), fields[i_s].strip()
        m = _NAME.match(dist)
        if m is None or int(m.group(2)) not in KADID10K_TYPES:
            raise DatasetError(f"{label}, line {line}: expected dist_img like I01_01_01.png, got {dist!r}")
        try:
            score = float(raw)
        except ValueError:
            score = math.nan
        if not math.isfinite(score):
            raise DatasetError(f"{label}, line {line}: dmos must be a number, got {raw!r}")
        extra = {"ref_path": str(col.find(ref, ref_dir)[0])}
        if i_v is not None:
            extra["std"] = fields[i_v].strip()
        col.add(
            dist,
            score=score,
            higher_is_better=True,
            group=Path(ref).stem if ref else f"I{m.group(1)}",
            dist_type=KADID10K_TYPES[int(m.group(2))],
            dist_level=int(m.group(3)),
            extra=extra,
        )
    if not col.rows and not col.missing:
        raise DatasetError(f"{label}: no rows after the header")
    meta = {"label_file": label.name, "score_unit": "MOS-like, 1-5 (the 'dmos' column)"}
    return col.manifest("kadid10k", base, meta)
