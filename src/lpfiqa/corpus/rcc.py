"""Reader of Qt binary resource files (``*.rcc``), as shipped by gcompris-qt-data.

Layout (Qt's ``rcc`` writer, format versions 1-3), all integers big-endian:

- header: ``b"qres"``, version (u32), tree offset (u32), data offset (u32), names offset
  (u32), and from version 3 on a flags word (u32);
- tree: fixed-size nodes (14 bytes, 22 from version 2 on: an 8-byte mtime follows).
  Each node is ``name_offset u32, flags u16`` then either ``child_count u32,
  first_child u32`` (a directory; children are node *indices*) or ``country u16,
  language u16, data_offset u32`` (a file);
- names: ``length u16`` (UTF-16 code units), ``hash u32``, UTF-16BE text;
- data: ``length u32`` then the payload. Flag 1 means zlib (``qCompress``: a u32
  uncompressed size, then a zlib stream), flag 4 means a zstd frame.

Example:
    >>> blob = _tiny_rcc()
    >>> [(e.path, e.data) for e in iter_rcc(blob)]
    [('img/a.txt', b'hello')]
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["RccEntry", "RccError", "iter_rcc", "write_rcc"]

COMPRESSED = 0x01
DIRECTORY = 0x02
COMPRESSED_ZSTD = 0x04


class RccError(ValueError):
    """The bytes are not a Qt resource file, or one of its entries is damaged."""


@dataclass(frozen=True)
class RccEntry:
    """One file inside an rcc: its path (``/``-separated, no leading slash) and payload."""

    path: str
    data: bytes


def _u16(b: bytes, o: int) -> int:
    return struct.unpack_from(">H", b, o)[0]


def _u32(b: bytes, o: int) -> int:
    return struct.unpack_from(">I", b, o)[0]


def _name(b: bytes, names: int, off: int) -> str:
    n = _u16(b, names + off)
    start = names + off + 6  # u16 length + u32 hash
    return b[start : start + 2 * n].decode("utf-16-be")


def _payload(b: bytes, data: int, off: int, flags: int, path: str) -> bytes:
    size = _u32(b, data + off)
    raw = b[data + off + 4 : data + off + 4 + size]
    if len(raw) != size:
        raise RccError(f"rcc entry {path!r} is truncated ({len(raw)} of {size} bytes)")
    if flags & COMPRESSED:
        return zlib.decompress(raw[4:])  # first 4 bytes: qCompress's uncompressed size
    if flags & COMPRESSED_ZSTD:
        return _unzstd(raw, path)
    return raw


def _unzstd(raw: bytes, path: str) -> bytes:
    try:
        import zstandard  # optional: only newer rcc files (Qt >= 5.13 with zstd) need it
    except ImportError as e:
        raise RccError(f"rcc entry {path!r} is zstd-compressed; pip install zstandard to read it") from e
    return zstandard.ZstdDecompressor().decompress(raw, max_output_size=1 << 30)


def iter_rcc(blob: bytes) -> Iterator[RccEntry]:
    """Yield every file of an rcc blob, depth first, in the order of its tree."""
    if blob[:4] != b"qres" or len(blob) < 20:
        raise RccError("not a Qt resource file (no 'qres' header)")
    version, tree, data, names = struct.unpack_from(">IIII", blob, 4)
    if version not in (1, 2, 3):
        raise RccError(f"unsupported rcc format version {version}")
    node = 14 if version == 1 else 22
    stack: list[tuple[int, str]] = [(0, "")]
    while stack:
        index, prefix = stack.pop()
        o = tree + index * node
        flags = _u16(blob, o + 4)
        name = "" if index == 0 else _name(blob, names, _u32(blob, o))
        path = f"{prefix}/{name}" if prefix else name
        if flags & DIRECTORY:
            count, first = _u32(blob, o + 6), _u32(blob, o + 10)
            stack.extend((first + i, path) for i in reversed(range(count)))
        else:
            yield RccEntry(path, _payload(blob, data, _u32(blob, o + 10), flags, path))


def write_rcc(files: dict[str, bytes], *, compress: bool = False) -> bytes:
    """A minimal version-2 rcc writer (flat: files in directories one level deep), for tests.

    Example:
        >>> [e.path for e in iter_rcc(write_rcc({"a/x": b"1", "a/y": b"2"}, compress=True))]
        ['a/x', 'a/y']
    """
    dirs: dict[str, list[str]] = {}
    for p in files:
        d, _, f = p.rpartition("/")
        dirs.setdefault(d, []).append(f)
    names, name_off = bytearray(), {}
    for n in [*dirs, *(f for fs in dirs.values() for f in fs)]:
        if n and n not in name_off:
            name_off[n] = len(names)
            names += struct.pack(">HI", len(n), 0) + n.encode("utf-16-be")
    data, nodes = bytearray(), []
    nodes.append(struct.pack(">IHII", 0, DIRECTORY, len(dirs), 1) + bytes(8))  # root
    first = 1 + len(dirs)
    for d, fs in dirs.items():
        nodes.append(struct.pack(">IHII", name_off[d], DIRECTORY, len(fs), first) + bytes(8))
        first += len(fs)
    for d, fs in dirs.items():
        for f in fs:
            raw = files[f"{d}/{f}" if d else f]
            if compress:
                raw = struct.pack(">I", len(raw)) + zlib.compress(raw)
            nodes.append(struct.pack(">IHHHI", name_off[f], COMPRESSED if compress else 0, 0, 0, len(data)) + bytes(8))
            data += struct.pack(">I", len(raw)) + raw
    tree_b = b"".join(nodes)
    head = 20
    return (
        b"qres"
        + struct.pack(">IIII", 2, head, head + len(tree_b), head + len(tree_b) + len(data))
        + tree_b
        + bytes(data)
        + bytes(names)
    )


def _tiny_rcc() -> bytes:
    return write_rcc({"img/a.txt": b"hello"})
