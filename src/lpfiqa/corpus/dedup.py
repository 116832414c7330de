"""Perceptual hashes and near-duplicate detection (no dependency beyond numpy/scipy).

- dHash: 9x8 grey thumbnail, one bit per horizontal neighbour comparison (64 bits);
- pHash: 32x32 grey thumbnail, 2-D DCT, the 8x8 lowest frequencies (DC excluded)
  compared with their median (63 bits).

Two photos are near-duplicates when *both* Hamming distances are small (pHash <= 10
and dHash <= 12 of 64): either hash alone confuses dark, flat or low-contrast scenes
(night skies, fog), both together hold up under resizing, re-encoding and slight
colour shifts.

Example:
    >>> import numpy as np
    >>> from PIL import Image
    >>> rng = np.random.default_rng(0)
    >>> a = Image.fromarray((rng.random((64, 96)) * 255).astype("uint8")).resize((384, 256))
    >>> b = a.resize((192, 128))
    >>> c = Image.fromarray((rng.random((64, 96)) * 255).astype("uint8")).resize((384, 256))
    >>> is_duplicate(image_hash(a), image_hash(b)), is_duplicate(image_hash(a), image_hash(c))
    (True, False)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy.fft import dctn

__all__ = ["DuplicateIndex", "ImageHash", "hamming", "image_hash", "is_duplicate"]

PHASH_MAX = 10
DHASH_MAX = 12


@dataclass(frozen=True)
class ImageHash:
    """The two 64-bit perceptual hashes of one image."""

    phash: int
    dhash: int

    def to_hex(self) -> str:
        """``'<phash>:<dhash>'`` in hex, as stored in the build state."""
        return f"{self.phash:016x}:{self.dhash:016x}"

    @classmethod
    def from_hex(cls, s: str) -> ImageHash:
        """Inverse of :meth:`to_hex`."""
        p, d = s.split(":")
        return cls(int(p, 16), int(d, 16))


def _bits(mask: np.ndarray) -> int:
    return int("".join("1" if b else "0" for b in mask.ravel()), 2)


def image_hash(im: Image.Image) -> ImageHash:
    """pHash and dHash of ``im`` (any mode, any size)."""
    grey = im.convert("L")
    d = np.asarray(grey.resize((9, 8), Image.LANCZOS), dtype=np.float64)
    dh = _bits(d[:, 1:] > d[:, :-1])
    p = np.asarray(grey.resize((32, 32), Image.LANCZOS), dtype=np.float64)
    low = dctn(p, norm="ortho")[:8, :8].ravel()[1:]
    ph = _bits(low > np.median(low))
    return ImageHash(ph, dh)


def hamming(a: int, b: int) -> int:
    """Number of differing bits."""
    return (a ^ b).bit_count()


def is_duplicate(a: ImageHash, b: ImageHash) -> bool:
    """True when both hashes are within their thresholds."""
    return hamming(a.phash, b.phash) <= PHASH_MAX and hamming(a.dhash, b.dhash) <= DHASH_MAX


class DuplicateIndex:
    """The hashes kept so far; :meth:`find` returns the id of an earlier near-duplicate."""

    def __init__(self) -> None:
        self._items: list[tuple[str, ImageHash]] = []

    def find(self, h: ImageHash) -> str | None:
        """Id of the first kept image that ``h`` duplicates, or None."""
        for ident, other in self._items:
            if is_duplicate(h, other):
                return ident
        return None

    def add(self, ident: str, h: ImageHash) -> None:
        """Remember a kept image."""
        self._items.append((ident, h))

    def remove(self, ident: str) -> None:
        """Forget an image (replaced by a better copy)."""
        self._items = [(i, h) for i, h in self._items if i != ident]
