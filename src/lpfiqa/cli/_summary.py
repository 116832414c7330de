"""The end of ``lpfiqa score``: counts, failures, throughput and a histogram of the scores, for the terminal."""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["histogram"]

_BLOCKS = " ▏▎▍▌▋▊▉█"


def _bar(value: float, width: int) -> str:
    eighths = round(value * width * 8)
    full, part = divmod(eighths, 8)
    return "█" * full + (_BLOCKS[part] if part else "")


def histogram(scores: Sequence[float], lo: float, hi: float, bins: int = 10, width: int = 40) -> list[str]:
    """Lines of a horizontal histogram of ``scores`` over ``[lo, hi]`` (out-of-range values go to the end bins).

    Example:
        >>> for line in histogram([1, 2, 2, 9], 0, 10, bins=2, width=8):
        ...     print(line)
          0.0 ..   5.0  ████████ 3
          5.0 ..  10.0  ██▋      1
    """
    if not scores:
        return []
    if not hi > lo or not all(math.isfinite(x) for x in (lo, hi)):
        lo, hi = min(scores), max(scores) + 1e-9
    counts = [0] * bins
    for s in scores:
        k = int((s - lo) / (hi - lo) * bins)
        counts[min(bins - 1, max(0, k))] += 1
    peak = max(counts)
    digits = len(str(peak))
    step = (hi - lo) / bins
    return [f"{lo + k * step:5.1f} .. {lo + (k + 1) * step:5.1f}  {_bar(c / peak, width):<{width}} {c:>{digits}}"
            for k, c in enumerate(counts)]
