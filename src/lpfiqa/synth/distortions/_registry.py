"""Registry of the 25 KADID-10k distortion types and the input checks they share.

KADID-10k: H. Lin, V. Hosu, D. Saupe, "KADID-10k: A Large-scale Artificially Distorted IQA
Database", QoMEX 2019. Type ids follow the order of that paper and its ``imdist_generator``.
"""

from __future__ import annotations

import difflib
import numbers
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from lpfiqa.errors import ConfigError

__all__ = [
    "FAMILIES",
    "Distortion",
    "check_args",
    "distort",
    "get_distortion",
    "list_distortions",
    "register",
]

FAMILIES = ("blur", "color", "compression", "noise", "brightness", "spatial", "sharpness_contrast")
N_LEVELS = 5

DistortionFn = Callable[[np.ndarray, int, np.random.Generator], np.ndarray]


@dataclass(frozen=True)
class Distortion:
    """One KADID-10k distortion type.

    Attributes:
        name: snake_case name, e.g. ``"gaussian_blur"``.
        kadid_id: 1..25, the type's number in KADID-10k.
        family: one of :data:`FAMILIES`.
        fn: ``fn(image, level, rng) -> image``; validates its arguments.
    """

    name: str
    kadid_id: int
    family: str
    fn: DistortionFn


_REGISTRY: dict[str, Distortion] = {}


def check_image(image: object) -> np.ndarray:
    """Raise ConfigError unless ``image`` is a uint8 (H, W, 3) RGB array; return it."""
    if not isinstance(image, np.ndarray):
        raise ConfigError(f"image must be a numpy uint8 array of shape (H, W, 3), got {type(image).__name__}")
    if image.dtype != np.uint8:
        raise ConfigError(f"image must have dtype uint8 (values 0..255), got {image.dtype}; convert it first")
    if image.ndim != 3 or image.shape[2] != 3 or image.shape[0] < 2 or image.shape[1] < 2:
        raise ConfigError(f"image must have shape (H, W, 3) RGB with H, W >= 2, got shape {image.shape}")
    return image


def check_level(level: object) -> int:
    """Raise ConfigError unless ``level`` is an integer in 1..5; return it as int."""
    if isinstance(level, bool) or not isinstance(level, numbers.Integral) or not 1 <= level <= N_LEVELS:
        raise ConfigError(
            f"distortion level must be an integer from 1 (mildest) to {N_LEVELS}, got {level!r}"
        )
    return int(level)


def check_rng(rng: object) -> np.random.Generator:
    """Default to ``np.random.default_rng(0)``; raise ConfigError for anything but a Generator."""
    if rng is None:
        return np.random.default_rng(0)
    if not isinstance(rng, np.random.Generator):
        raise ConfigError(f"rng must be a numpy.random.Generator or None, got {type(rng).__name__}")
    return rng


def check_args(image: object, level: object, rng: object) -> tuple[np.ndarray, int, np.random.Generator]:
    """Validate the common ``(image, level, rng)`` arguments; every distortion calls this first."""
    return check_image(image), check_level(level), check_rng(rng)


def register(name: str, kadid_id: int, family: str) -> Callable[[DistortionFn], DistortionFn]:
    """Decorator adding ``fn(image, level, rng)`` to the registry; returns ``fn`` unchanged."""
    if family not in FAMILIES:
        raise ValueError(f"unknown family {family!r}")

    def deco(fn: DistortionFn) -> DistortionFn:
        if name in _REGISTRY or any(d.kadid_id == kadid_id for d in _REGISTRY.values()):
            raise ValueError(f"distortion {name!r} / id {kadid_id} registered twice")
        _REGISTRY[name] = Distortion(name=name, kadid_id=kadid_id, family=family, fn=fn)
        return fn

    return deco


def list_distortions() -> list[str]:
    """Names of all registered distortion types, in KADID-10k id order.

    Returns:
        The 25 names, ``"gaussian_blur"`` (id 1) first, ``"contrast_change"`` (id 25) last.

    Example:
        >>> from lpfiqa.synth import list_distortions
        >>> names = list_distortions()
        >>> len(names), names[0], names[-1]
        (25, 'gaussian_blur', 'contrast_change')
    """
    return [d.name for d in sorted(_REGISTRY.values(), key=lambda d: d.kadid_id)]


def get_distortion(name: str) -> Distortion:
    """Look up a distortion type by name.

    Args:
        name: snake_case name as listed by :func:`list_distortions`.

    Returns:
        The :class:`Distortion` record.

    Raises:
        ConfigError: the name is unknown; the message suggests close matches.

    Example:
        >>> from lpfiqa.synth import get_distortion
        >>> d = get_distortion("jpeg")
        >>> d.kadid_id, d.family
        (10, 'compression')
    """
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        close = difflib.get_close_matches(str(name), list(_REGISTRY), n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else "; see lpfiqa.synth.list_distortions()"
        raise ConfigError(f"unknown distortion type {name!r}{hint}") from None


def distort(image: np.ndarray, name: str, level: int, rng: np.random.Generator | None = None) -> np.ndarray:
    """Apply one KADID-10k distortion type at one level.

    Args:
        image: uint8 RGB array of shape (H, W, 3).
        name: distortion type, e.g. ``"gaussian_blur"`` (see :func:`list_distortions`).
        level: 1 (mildest, about just visible) to 5 (strongest).
        rng: source of all randomness; ``np.random.default_rng(0)`` when None, so the same
            seed always gives byte-identical output.

    Returns:
        A new uint8 array with the same shape.

    Raises:
        ConfigError: unknown name, level outside 1..5, or an image that is not uint8 (H, W, 3).

    Example:
        >>> import numpy as np
        >>> from lpfiqa.synth import distort
        >>> img = np.tile(np.arange(0, 256, 16, dtype=np.uint8), (16, 1))[..., None].repeat(3, axis=2)
        >>> out = distort(img, "white_noise", 3, np.random.default_rng(1))
        >>> out.shape, out.dtype, bool((out != img).any())
        ((16, 16, 3), dtype('uint8'), True)
    """
    return get_distortion(name).fn(image, level, rng)
