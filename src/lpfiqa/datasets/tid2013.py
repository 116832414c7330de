"""TID2013 (Tampere Image Database 2013).

N. Ponomarenko et al., "Image database TID2013: Peculiarities, results and
perspectives", Signal Processing: Image Communication 30:57-77, 2015.

Release layout::

    distorted_images/   3000 BMPs  iRR_TT_L.bmp (RR ref 01-25, TT type 01-24, L level 1-5)
    reference_images/   I01.BMP ... I24.BMP, i25.bmp
    mos_with_names.txt  "<mos> <file name>" per line (CRLF), 3000 lines
    mos_std.txt         one value per line, aligned with the above

MOS on a 0-9 scale, higher = better. File names in the list and on disk differ in
case (``I01_01_1.bmp``, ``i01_11_1.BMP``...), so every lookup is case-insensitive.

A copy with ``mos.txt`` (the MOS alone, same 3000 lines) but no
``mos_with_names.txt`` is read too: the names follow from the release order (by
reference, then distortion type, then level).
"""

from __future__ import annotations

import math
import re
from pathlib import Path

from lpfiqa.errors import DatasetError

from ._io import Resolver, RowCollector, locate, read_text_lines
from .manifest import Manifest

__all__ = ["TID2013_TYPES", "read_tid2013"]

#: Distortion type code -> name.
TID2013_TYPES: dict[int, str] = {
    1: "additive_gaussian_noise",
    2: "color_noise",
    3: "spatially_correlated_noise",
    4: "masked_noise",
    5: "high_frequency_noise",
    6: "impulse_noise",
    7: "quantization_noise",
    8: "gaussian_blur",
    9: "denoising",
    10: "jpeg",
    11: "jpeg2000",
    12: "jpeg_transmission_errors",
    13: "jpeg2000_transmission_errors",
    14: "non_eccentricity_pattern_noise",
    15: "local_blockwise_distortion",
    16: "mean_shift",
    17: "contrast_change",
    18: "color_saturation_change",
    19: "multiplicative_gaussian_noise",
    20: "comfort_noise",
    21: "lossy_compression_of_noisy_images",
    22: "color_quantization_with_dither",
    23: "chromatic_aberrations",
    24: "sparse_sampling_and_reconstruction",
}

_NAME = re.compile(r"^i(\d{2})_(\d{2})_(\d)\.bmp$", re.IGNORECASE)
#: File names in release order, as mos.txt lists the scores (25 references x 24 types x 5 levels).
_ORDER = [f"i{r:02d}_{t:02d}_{lv}.bmp" for r in range(1, 26) for t in range(1, 25) for lv in range(1, 6)]


def _mos_only(label: Path) -> list[str]:
    """``mos.txt`` as ``mos_with_names.txt`` lines, the names taken from the release order."""
    values = [v.strip() for v in read_text_lines(label) if v.strip()]
    if len(values) != len(_ORDER):
        raise DatasetError(
            f"{label}: expected {len(_ORDER)} MOS values (one per line, in release order) to name the images "
            f"without mos_with_names.txt, got {len(values)}; use the release's mos_with_names.txt"
        )
    return [f"{v} {n}" for v, n in zip(values, _ORDER, strict=True)]


def read_tid2013(root: Path | str) -> Manifest:
    """Read TID2013.

    Args:
        root: The release folder (with ``mos_with_names.txt``, or else ``mos.txt``)
            or a folder above it.

    Returns:
        Manifest: MOS (0-9), ``higher_is_better=True``; ``group`` = ``I01``..``I25``
        (25 groups); ``dist_type`` from :data:`TID2013_TYPES`; ``dist_level`` 1-5;
        extras ``ref_path`` and, when ``mos_std.txt`` is present, ``mos_std`` (as
        released; it may be a standard error rather than a deviation); no official
        split; ``meta["label_file"]`` names the label file. 3000 rows on the full release.

    Raises:
        DatasetError: ``mos_with_names.txt`` missing, a malformed line (naming it),
            a name not of the form ``iRR_TT_L.bmp``, or ``mos_std.txt`` of another length.

    Example:
        >>> import tempfile
        >>> d = Path(tempfile.mkdtemp())
        >>> _ = (d / "mos_with_names.txt").write_bytes(b"5.51429 I01_01_1.bmp\\r\\n")
        >>> import warnings; warnings.simplefilter("ignore")  # no images in this demo
        >>> r = read_tid2013(d).missing[0]
        >>> r.score, r.group, r.dist_type, r.dist_level
        (5.51429, 'I01', 'additive_gaussian_noise', 1)
    """
    res = Resolver()
    try:
        label = locate(root, ["mos_with_names.txt"], what="TID2013", resolver=res)
    except DatasetError:  # the names file first, at any depth; then the MOS alone (or the full error)
        label = locate(root, ["mos_with_names.txt", "mos.txt"], what="TID2013", resolver=res)
    base = label.parent
    named = label.name.lower() == "mos_with_names.txt"
    entries: list[tuple[int, float, str, re.Match[str]]] = []
    for n, line in enumerate(read_text_lines(label) if named else _mos_only(label), start=1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 2:
            raise DatasetError(f"{label}, line {n}: expected '<mos> <file name>', got {line.strip()!r}")
        try:
            mos = float(parts[0])
        except ValueError:
            raise DatasetError(f"{label}, line {n}: MOS must be a number, got {parts[0]!r}") from None
        if not math.isfinite(mos):
            raise DatasetError(f"{label}, line {n}: MOS must be finite, got {parts[0]!r}")
        m = _NAME.match(parts[1])
        if m is None or int(m.group(2)) not in TID2013_TYPES:
            raise DatasetError(f"{label}, line {n}: expected a file name like i01_01_1.bmp, got {parts[1]!r}")
        entries.append((n, mos, parts[1], m))
    if not entries:
        raise DatasetError(f"{label}: no '<mos> <file name>' lines")

    stds: list[str] | None = None
    std_file = res.resolve(base, "mos_std.txt")
    if std_file is not None and std_file.is_file():
        stds = [s.strip() for s in read_text_lines(std_file) if s.strip()]
        if len(stds) != len(entries):
            raise DatasetError(
                f"{std_file}: expected one value per line of {label.name} ({len(entries)}), got {len(stds)}"
            )
        for n, v in enumerate(stds, start=1):
            try:
                float(v)
            except ValueError:
                raise DatasetError(f"{std_file}: value {n} must be a number, got {v!r}") from None

    dist_dir = res.is_dir(base, "distorted_images") or base / "distorted_images"
    ref_dir = res.is_dir(base, "reference_images") or base / "reference_images"
    col = RowCollector(dist_dir, res)
    for k, (_, mos, name, m) in enumerate(entries):
        rr, tt, lvl = m.group(1), int(m.group(2)), int(m.group(3))
        extra = {"ref_path": str(col.find(f"I{rr}.BMP", ref_dir)[0])}
        if stds is not None:
            extra["mos_std"] = stds[k]
        col.add(
            name,
            score=mos,
            higher_is_better=True,
            group=f"I{rr}",
            dist_type=TID2013_TYPES[tt],
            dist_level=lvl,
            extra=extra,
        )
    unit = "MOS, 0-9" if named else "MOS, 0-9 (names from the release order)"
    return col.manifest("tid2013", base, {"label_file": label.name, "score_unit": unit})
