"""Random chains of KADID-10k distortions, for training data with mixed degradations.

KADID-10k: H. Lin, V. Hosu, D. Saupe, "KADID-10k", QoMEX 2019 (the 25 types of
:mod:`lpfiqa.synth.distortions`).
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np

from lpfiqa.errors import ConfigError

from .distortions import get_distortion, list_distortions
from .distortions._registry import check_image, check_level, check_rng
from .distortions.compression import jpeg2000_available

__all__ = ["available_types", "random_chain"]


def available_types(types: Sequence[str] | None = None) -> list[str]:
    """Validate ``types`` (default: every type this Pillow build can run), without duplicates.

    Args:
        types: distortion names, or None for all (jpeg2000 left out when OpenJPEG is missing).

    Returns:
        The names, in the given order (KADID order for None).

    Raises:
        ConfigError: an unknown name, or an empty selection.

    Example:
        >>> available_types(["jpeg", "gaussian_blur", "jpeg"])
        ['jpeg', 'gaussian_blur']
    """
    if types is None:
        names = [n for n in list_distortions() if n != "jpeg2000" or jpeg2000_available()]
    else:
        if isinstance(types, str):  # a bare string would otherwise be split into letters
            types = [types]
        names = list(dict.fromkeys(get_distortion(t).name for t in types))
    if not names:
        raise ConfigError("no distortion types selected; pass names from lpfiqa.synth.list_distortions()")
    return names


def random_chain(
    image: np.ndarray,
    rng: np.random.Generator,
    max_len: int = 3,
    levels: Sequence[int] = (1, 2, 3, 4, 5),
    types: Sequence[str] | None = None,
) -> tuple[np.ndarray, list[tuple[str, int]]]:
    """Apply 1..``max_len`` distinct random distortion types, each at a random level, in random order.

    Args:
        image: uint8 RGB (H, W, 3).
        rng: the only source of randomness (chain length, types, levels and each distortion's
            own draws), so the same seed reproduces the chain byte for byte.
        max_len: longest chain; the length is uniform in 1..min(max_len, number of types).
        levels: levels to draw from (each in 1..5).
        types: allowed distortion names; None for all available ones.

    Returns:
        ``(distorted image, [(name, level), ...])`` in the order applied.

    Raises:
        ConfigError: bad image, max_len below 1, bad level or type name.

    Example:
        >>> import numpy as np
        >>> img = np.random.default_rng(0).integers(0, 256, (16, 16, 3), dtype=np.uint8)
        >>> out, steps = random_chain(img, np.random.default_rng(3), max_len=2, types=["jpeg", "darken"])
        >>> out.shape, 1 <= len(steps) <= 2
        ((16, 16, 3), True)
    """
    image = check_image(image)
    rng = check_rng(rng)
    names = available_types(types)
    if isinstance(max_len, bool) or not isinstance(max_len, numbers.Integral) or max_len < 1:
        raise ConfigError(f"max_len must be an integer >= 1, got {max_len!r}")
    level_list = [check_level(lv) for lv in levels]
    if not level_list:
        raise ConfigError("levels must hold at least one level from 1 to 5")

    # Types are distinct within a chain, so fewer types than max_len caps the length.
    length = int(rng.integers(1, min(max_len, len(names)) + 1))
    picks = rng.choice(len(names), size=length, replace=False)
    steps: list[tuple[str, int]] = []
    out = image
    for idx in picks:
        name, level = names[int(idx)], level_list[int(rng.integers(len(level_list)))]
        out = get_distortion(name).fn(out, level, rng)
        steps.append((name, level))
    return out, steps
