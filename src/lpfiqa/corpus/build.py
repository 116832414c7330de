"""The corpus pipeline: fetch, extract, check, downscale, de-duplicate, write PNGs + manifest.

Output under ``out`` (default ``data/corpus``)::

    photos/<id>.png     8-bit RGB, long side <= 1024 (see lpfiqa.corpus.scale)
    manifest.csv        one row per kept photo: provenance, licence, sizes, scale
    summary.json        photos per source, sizes, bytes, every dropped photo and why
    state.json          what earlier runs did (makes the build resumable)
    sheets/<source>.png contact sheets (with ``sheets=True``)

Resumable: a photo whose PNG exists and whose state records the same source sha256 is
not processed again, nor is one dropped before; a source with nothing left to do is
not even fetched. Every file is written to a temporary name and renamed.

Near-duplicates are dropped across sources in :data:`BUILD_ORDER` (cleanest sources
first, so the better copy survives).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import statistics
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from ..utils import atomic_write_bytes, atomic_write_text
from .candidates import iter_candidates
from .dedup import DuplicateIndex, ImageHash, image_hash
from .fetch import fetch
from .photolist import PHOTO_LIST, read_photo_list
from .pristine import PRISTINE_DIR, pristine_photos
from .scale import downscale
from .sheet import save_sheet
from .sources import SOURCES, Source

__all__ = ["BUILD_ORDER", "MANIFEST_COLUMNS", "build", "format_summary"]

BUILD_ORDER = ("pristine", "enlightenment", "lxqt", "tiktok", "tuxpaint", "gcompris", "endless-sky")
MANIFEST_COLUMNS = [
    "id", "path", "source", "package", "version", "path_inside", "sha256_source", "licence", "author",
    "width", "height", "source_width", "source_height", "scale",
]  # fmt: skip
MIN_SOURCE_SHORT = 200  # px: smaller sources are dropped as "too small"


@dataclass(frozen=True)
class Job:
    """One photo to produce."""

    id: str
    source: str
    package: str
    version: str
    path_inside: str
    sha256: str
    licence: str
    author: str
    factor: float


def _jobs(photo_list: Path, pristine_dir: Path | None) -> tuple[dict[str, list[Job]], list[dict[str, str]]]:
    """Jobs per source key, and the review rejections (keep=0 rows) as dropped entries."""
    by_pkg = {s.package: s for s in SOURCES.values()}
    jobs: dict[str, list[Job]] = {k: [] for k in BUILD_ORDER}
    rejected = []
    for r in read_photo_list(photo_list):
        src = by_pkg[r.package]
        if not r.keep:
            rejected.append({"id": r.id, "source": src.key, "reason": f"rejected in review: {r.notes}"})
            continue
        jobs[src.key].append(
            Job(r.id, src.key, r.package, r.version, r.path_inside, r.sha256, r.licence, r.author, src.scale)
        )
    for png, lic, origin in pristine_photos(pristine_dir) if pristine_dir else []:
        sha = hashlib.sha256(png.read_bytes()).hexdigest()
        jobs["pristine"].append(
            Job(f"pristine_{png.stem}", "pristine", "pristine", "", png.name, sha, lic, origin, 1.0)
        )
    return jobs, rejected


class _State:
    def __init__(self, path: Path) -> None:
        self.path = path
        d = json.loads(path.read_text()) if path.is_file() else {}
        self.photos: dict[str, dict[str, Any]] = d.get("photos", {})
        self.sources: dict[str, dict[str, Any]] = d.get("sources", {})

    def done(self, job: Job, photos_dir: Path) -> bool:
        st = self.photos.get(job.id)
        if st is None or st["sha256"] != job.sha256:
            return False
        return st["status"] == "dropped" or (photos_dir / f"{job.id}.png").is_file()

    def save(self) -> None:
        atomic_write_text(self.path, json.dumps({"photos": self.photos, "sources": self.sources}, indent=1))


def _process(job: Job, data: bytes, index: DuplicateIndex, photos_dir: Path, state: _State) -> dict[str, Any]:
    """Decode, check, downscale, hash, de-duplicate and write one photo; its state entry.

    Of two near-duplicates the one met first is kept (sources run cleanest first), except
    within one source, where a larger original replaces a smaller one already written.
    """
    sha = hashlib.sha256(data).hexdigest()
    base: dict[str, Any] = {"sha256": job.sha256, "status": "dropped"}
    if sha != job.sha256:
        return {**base, "reason": f"sha256 mismatch: {sha[:12]} in the package, {job.sha256[:12]} in photos.csv"}
    try:
        im = Image.open(io.BytesIO(data))
        im.load()
    except Exception as e:  # noqa: BLE001 - any decoder failure drops the photo with its reason
        return {**base, "reason": f"decode error: {e}"}
    if min(im.size) < MIN_SOURCE_SHORT:
        return {**base, "reason": f"too small: {im.width}x{im.height}"}
    out, s = downscale(im, job.factor)
    h = image_hash(out)
    dup = index.find(h)
    if dup is not None:
        old = state.photos[dup]["row"]
        if old["source"] != job.source or old["source_width"] * old["source_height"] >= im.width * im.height:
            return {**base, "reason": f"duplicate of {dup}", "hash": h.to_hex()}
        index.remove(dup)  # the same photo, larger: it replaces the copy written earlier
        (photos_dir / f"{dup}.png").unlink(missing_ok=True)
        state.photos[dup] = {**state.photos[dup], "status": "dropped", "reason": f"duplicate of {job.id} (smaller)"}
        state.photos[dup].pop("row")
    buf = io.BytesIO()
    out.save(buf, "PNG", compress_level=6)
    atomic_write_bytes(photos_dir / f"{job.id}.png", buf.getvalue())
    index.add(job.id, h)
    row = {
        "id": job.id, "path": f"photos/{job.id}.png", "source": job.source, "package": job.package,
        "version": job.version, "path_inside": job.path_inside, "sha256_source": job.sha256,
        "licence": job.licence, "author": job.author, "width": out.width, "height": out.height,
        "source_width": im.width, "source_height": im.height, "scale": s,
    }  # fmt: skip
    return {"sha256": job.sha256, "status": "kept", "hash": h.to_hex(), "row": row}


def _candidates(key: str, jobs: list[Job], downloads: Path, pristine_dir: Path | None, state: _State) -> Any:
    """Yield ``(job, data)`` for the pending jobs of one source; listed photos it lacks are dropped."""
    if key == "pristine":
        assert pristine_dir is not None  # there are no pristine jobs without the folder
        for j in jobs:
            yield j, (pristine_dir / j.path_inside).read_bytes()
        return
    src: Source = SOURCES[key]
    root = fetch(src, downloads)
    wanted = {j.path_inside: j for j in jobs}
    seen = set()
    for c in iter_candidates(src, root, set(wanted)):
        seen.add(c.path_inside)
        yield wanted[c.path_inside], c.data
    for p in sorted(set(wanted) - seen):
        j = wanted[p]
        state.photos[j.id] = {"sha256": j.sha256, "status": "dropped", "reason": f"missing from package: {p}"}


def build(
    out: Path,
    sources: list[str] | None = None,
    downloads: Path | None = None,
    *,
    sheets: bool = False,
    pristine_dir: Path | None = PRISTINE_DIR,
    photo_list: Path = PHOTO_LIST,
    progress: bool = True,
) -> dict[str, Any]:
    """Build (or resume) the corpus in ``out``; the summary (also written to ``summary.json``)."""
    from tqdm import tqdm

    t0 = time.time()
    out = Path(out)
    downloads = Path(downloads) if downloads else out.parent / "corpus_downloads"
    photos_dir = out / "photos"
    photos_dir.mkdir(parents=True, exist_ok=True)
    all_jobs, rejected = _jobs(photo_list, pristine_dir)
    selected = [k for k in BUILD_ORDER if sources is None or k in sources]
    state = _State(out / "state.json")
    index = DuplicateIndex()
    pending = {k: [j for j in all_jobs[k] if not state.done(j, photos_dir)] for k in selected}
    worked = 0
    with tqdm(total=sum(map(len, pending.values())), unit="photo", disable=not progress) as bar:
        for key in BUILD_ORDER:
            todo = {j.id for j in pending.get(key, [])}
            for j in all_jobs[key]:  # earlier results join the duplicate index in build order
                st = state.photos.get(j.id)
                if j.id not in todo and st and st["status"] == "kept":
                    index.add(j.id, ImageHash.from_hex(st["hash"]))
            if not todo:
                continue
            bar.set_description(key)
            for n, (job, data) in enumerate(_candidates(key, pending[key], downloads, pristine_dir, state)):
                state.photos[job.id] = _process(job, data, index, photos_dir, state)
                worked += 1
                bar.update()
                if n % 25 == 24:
                    state.save()
            state.save()
    summary = _summarise(all_jobs, rejected, state, out, selected, time.time() - t0, worked)
    _write_manifest(out, all_jobs, state)
    atomic_write_text(out / "summary.json", json.dumps(summary, indent=1))
    if sheets:
        _sheets(out, all_jobs, state, photos_dir, selected)
    return summary


def _kept_rows(all_jobs: dict[str, list[Job]], state: _State, key: str) -> list[dict[str, Any]]:
    """Manifest rows of the kept photos; licence and author always from the current list (edits need no rebuild)."""
    return [
        {**st["row"], "licence": j.licence, "author": j.author}
        for j in all_jobs[key]
        if (st := state.photos.get(j.id)) and st["status"] == "kept" and st["sha256"] == j.sha256
    ]


def _write_manifest(out: Path, all_jobs: dict[str, list[Job]], state: _State) -> None:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=MANIFEST_COLUMNS, lineterminator="\n")
    w.writeheader()
    for key in BUILD_ORDER:
        w.writerows(_kept_rows(all_jobs, state, key))
    atomic_write_text(out / "manifest.csv", buf.getvalue())


def _summarise(all_jobs, rejected, state, out, selected, seconds, worked) -> dict[str, Any]:  # noqa: ANN001
    per: dict[str, Any] = {}
    dropped = list(rejected)
    for key in BUILD_ORDER:
        rows = _kept_rows(all_jobs, state, key)
        reasons: Counter[str] = Counter(d["reason"].split(":")[0] for d in rejected if d["source"] == key)
        for j in all_jobs[key]:
            st = state.photos.get(j.id)
            if st and st["status"] == "dropped":
                kind = "duplicate" if st["reason"].startswith("duplicate of") else st["reason"].split(":")[0]
                reasons[kind] += 1
                dropped.append({"id": j.id, "source": key, "reason": st["reason"]})
        src = SOURCES.get(key)
        nbytes = sum((out / r["path"]).stat().st_size for r in rows if (out / r["path"]).is_file())
        per[key] = {
            "package": src.package if src else "pristine (local folder)",
            "version": src.version if src else "",
            "sha256": src.sha256 if src else "",
            "kept": len(rows),
            "dropped": dict(reasons),
            "bytes": nbytes,
            "long_side": _stats([max(r["width"], r["height"]) for r in rows]),
            "short_side": _stats([min(r["width"], r["height"]) for r in rows]),
            "built": key in selected,
        }
    return {
        "total_kept": sum(p["kept"] for p in per.values()),
        "total_bytes": sum(p["bytes"] for p in per.values()),
        "photos_processed_this_run": worked,
        "seconds": round(seconds, 1),
        "sources": per,
        "dropped": dropped,
    }


def _stats(v: list[int]) -> dict[str, int]:
    return {"min": min(v), "median": int(statistics.median(v)), "max": max(v)} if v else {}


def _sheets(out, all_jobs, state, photos_dir, selected) -> None:  # noqa: ANN001
    for key in selected:
        rows = _kept_rows(all_jobs, state, key)
        if not rows:
            continue
        ims, labels = [], []
        for i, r in enumerate(rows):
            with Image.open(out / r["path"]) as im:
                im.thumbnail((160, 160))
                ims.append(im.copy())
            labels.append(f"{i} {r['id'].removeprefix(key + '_')}")
        save_sheet(out / "sheets" / f"{key}.png", ims, labels, cols=12, cell=160)


def format_summary(s: dict[str, Any]) -> str:
    """The summary as a short text table (one line per source, then the drop reasons)."""
    lines = [f"{'source':<14}{'kept':>6}{'MB':>8}  long side min/med/max  dropped"]
    for key, p in s["sources"].items():
        ls = p["long_side"]
        size = f"{ls['min']}/{ls['median']}/{ls['max']}" if ls else "-"
        drops = ", ".join(f"{k} {v}" for k, v in sorted(p["dropped"].items())) or "-"
        lines.append(f"{key:<14}{p['kept']:>6}{p['bytes'] / 1e6:>8.1f}  {size:<21}  {drops}")
    lines.append(f"{'total':<14}{s['total_kept']:>6}{s['total_bytes'] / 1e6:>8.1f}")
    lines.append(f"{s['photos_processed_this_run']} photos processed in {s['seconds']} s")
    return "\n".join(lines)
