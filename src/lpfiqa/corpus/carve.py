"""Find whole JPEG, PNG and WebP streams embedded in arbitrary bytes (e.g. EET ``.edj`` files).

Enlightenment's ``.edj`` backgrounds are EET containers that store each image as a
plain JPEG stream (several sizes of one picture). Instead of parsing EET, we walk the
bytes: a JPEG is followed marker by marker from SOI to EOI (segment lengths, then the
entropy-coded data up to the next real marker), a PNG chunk by chunk up to ``IEND``,
a WebP by its RIFF length. Truncated streams are skipped.

Example:
    >>> import io
    >>> from PIL import Image
    >>> buf = io.BytesIO(); Image.new("RGB", (16, 8), "red").save(buf, "JPEG")
    >>> blob = b"junk\\xff\\xd8" + buf.getvalue() + b"more junk"
    >>> [(s.kind, s.start, len(s.data) == len(buf.getvalue())) for s in carve(blob)]
    [('jpeg', 6, True)]
"""

from __future__ import annotations

import io
import struct
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["Stream", "carve", "largest_image"]

_PNG = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class Stream:
    """An embedded image stream: its kind (``jpeg``, ``png``, ``webp``), offset and bytes."""

    kind: str
    start: int
    data: bytes


def _jpeg_end(b: bytes, o: int) -> int | None:
    """Offset just past the EOI of the JPEG starting at ``o``, or None if it is not whole."""
    p, n = o + 2, len(b)
    while p + 4 <= n:
        if b[p] != 0xFF:
            return None
        m = b[p + 1]
        if m == 0xFF:  # fill byte
            p += 1
            continue
        if m == 0xD9:
            return p + 2
        if m == 0xD8:  # a second SOI: what we started on was not a JPEG
            return None
        if 0xD0 <= m <= 0xD7 or m == 0x01:
            p += 2
            continue
        seg = struct.unpack_from(">H", b, p + 2)[0]
        p += 2 + seg
        if m == 0xDA:  # start of scan: skip entropy-coded data up to the next real marker
            while True:
                p = b.find(b"\xff", p)
                if p < 0 or p + 1 >= n:
                    return None
                nxt = b[p + 1]
                if nxt == 0x00 or 0xD0 <= nxt <= 0xD7 or nxt == 0xFF:
                    p += 1 if nxt == 0xFF else 2
                    continue
                break
    return None


def _png_end(b: bytes, o: int) -> int | None:
    p = o + 8
    while p + 12 <= len(b):
        length, kind = struct.unpack_from(">I4s", b, p)
        p += 12 + length
        if kind == b"IEND":
            return p if p <= len(b) else None
    return None


def _webp_end(b: bytes, o: int) -> int | None:
    if b[o + 8 : o + 12] != b"WEBP":
        return None
    end = o + 8 + struct.unpack_from("<I", b, o + 4)[0]
    return end if end <= len(b) else None


def carve(blob: bytes) -> Iterator[Stream]:
    """Yield every complete JPEG, PNG and WebP stream in ``blob``, in order of offset."""
    found: list[Stream] = []
    for kind, magic, end_of in (
        ("jpeg", b"\xff\xd8\xff", _jpeg_end),
        ("png", _PNG, _png_end),
        ("webp", b"RIFF", _webp_end),
    ):
        o = blob.find(magic)
        while o >= 0:
            end = end_of(blob, o)
            if end is not None:
                found.append(Stream(kind, o, blob[o:end]))
            o = blob.find(magic, end if end is not None else o + 1)
    yield from sorted(found, key=lambda s: s.start)


def largest_image(blob: bytes) -> Stream | None:
    """The embedded stream with the most pixels that PIL can open (None if there is none)."""
    from PIL import Image

    best, best_px = None, 0
    for s in carve(blob):
        try:
            w, h = Image.open(io.BytesIO(s.data)).size
        except Exception:  # noqa: BLE001 - a stream that PIL cannot open is no candidate
            continue
        if w * h > best_px:
            best, best_px = s, w * h
    return best
