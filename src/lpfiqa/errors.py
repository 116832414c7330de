"""Domain errors. Each message names the thing that failed and says what to do.

The CLI turns any :class:`LpfiqaError` into a one-line message and a non-zero exit;
the HTTP service turns it into a 4xx answer.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "DatasetError",
    "ImageReadError",
    "ImageTooLargeError",
    "LpfiqaError",
    "ManifestError",
    "ShardError",
    "UnknownModelError",
    "UnsupportedImageError",
    "WeightsError",
]


class LpfiqaError(Exception):
    """Base class of every error lpfiqa raises on purpose."""


class ImageReadError(LpfiqaError, ValueError):
    """An image could not be read or decoded (missing, corrupt, truncated, too large, unsupported)."""


class ImageTooLargeError(ImageReadError):
    """An image has more pixels than the limit (a decompression-bomb guard); found from its header alone."""


class UnsupportedImageError(ImageReadError):
    """The bytes are not in an image format Pillow can read (or the input type is not an image)."""


class ManifestError(LpfiqaError, ValueError):
    """A manifest CSV is missing, has no usable rows, or a row is malformed."""


class DatasetError(LpfiqaError, ValueError):
    """An official dataset release is missing a file or has an unexpected layout."""


class ShardError(LpfiqaError, ValueError):
    """A ``--shard`` is invalid, or the parts of a sharded run are missing, unfinished or do not fit together."""


class ConfigError(LpfiqaError, ValueError):
    """A config value or a combination of options is invalid."""


class WeightsError(LpfiqaError, ValueError):
    """A weights file is missing, unreadable, or does not match the architecture."""


class UnknownModelError(LpfiqaError, KeyError):
    """A model name is not registered and is not a path to a run folder or weights file."""

    def __str__(self) -> str:  # KeyError quotes its message; we want it plain
        return str(self.args[0]) if self.args else ""
