"""``lpfiqa score -o OUT``: rows streamed to ``OUT.partial`` as they come, renamed at the end; ``--resume``.

A run killed at any moment (``kill -9`` included) leaves ``OUT.partial`` holding every row it
finished, flushed one by one, plus at most one torn last line. ``--resume`` keeps the complete
rows, cuts the torn one, skips their files and appends the rest: no row is lost or duplicated.
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from ..inference import ScoreRecord

__all__ = ["COLUMNS", "StreamingWriter", "csv_columns", "family_cells", "row"]

COLUMNS = ("path", "score", "width", "height", "error")


def csv_columns(families: tuple[str, ...]) -> tuple[str, ...]:
    return (*COLUMNS[:2], *families, "top_family", *COLUMNS[2:]) if families else COLUMNS


def row(rec: ScoreRecord, families: tuple[str, ...] = ()) -> dict:
    out = {"path": rec.source, "score": None if rec.score is None else round(rec.score, 4),
           "width": rec.width, "height": rec.height, "error": rec.error}
    if families:  # --explain: what is wrong, beside the score
        from ..inference import top_family

        out["diagnosis"] = None if rec.diagnosis is None else {f: round(rec.diagnosis[f], 4) for f in families}
        out["top_family"] = top_family(rec.diagnosis)
    return out


def family_cells(rec: ScoreRecord, families: tuple[str, ...]) -> dict[str, str | None]:
    """Probabilities with 2 decimals (empty on a failed row), for the table and CSV."""
    d = rec.diagnosis
    return {f: None if d is None else f"{d[f]:.2f}" for f in families}


def _complete_part(data: bytes) -> bytes:
    """The bytes up to and including the last newline (a torn last line is dropped)."""
    end = data.rfind(b"\n")
    return data[: end + 1] if end >= 0 else b""


class StreamingWriter:
    """Writes rows to ``OUT.partial`` as they come, then renames it to ``OUT`` (readers never see half a file).

    Args:
        path: the output file (``.csv``, or ``.jsonl``/``.json`` for JSON lines).
        families: ``--explain``'s families (CSV columns, JSONL ``diagnosis``).
        resume: continue ``OUT.partial`` (or a finished ``OUT``) instead of starting afresh.

    Attributes:
        done: the paths already written by an earlier run (empty without ``resume``).
        kept: rows kept from the earlier run (scores, errors), as dicts of strings.
    """

    def __init__(self, path: Path, families: tuple[str, ...] = (), resume: bool = False) -> None:
        self.path, self.families = path, families
        self.fmt = "jsonl" if path.suffix.lower() in (".jsonl", ".json") else "csv"
        self.tmp = path.with_name(path.name + ".partial")
        self.columns = csv_columns(families)
        self.done: set[str] = set()
        self.kept: list[dict] = []
        self.replaced = False
        path.parent.mkdir(parents=True, exist_ok=True)
        if resume and not self.tmp.exists() and path.exists():
            os.replace(path, self.tmp)  # a finished run: continue it (new files only)
        if resume and self.tmp.exists():
            self._load_previous()
            self.f = open(self.tmp, "a", newline="")
        else:
            self.replaced = self.tmp.exists()
            self.f = open(self.tmp, "w", newline="")
            if self.fmt == "csv":
                csv.writer(self.f).writerow(self.columns)
        self.csv = csv.writer(self.f) if self.fmt == "csv" else None
        self.f.flush()

    def _load_previous(self) -> None:
        text = _complete_part(self.tmp.read_bytes()).decode("utf-8", errors="replace")
        lines = text.splitlines(keepends=True)
        rows: list[dict] = []
        kept: list[str] = []
        if self.fmt == "csv":
            header = next(csv.reader(io.StringIO(lines[0])), []) if lines else list(self.columns)
            if tuple(header) != self.columns:
                raise click.ClickException(f"--resume: {self.tmp} has columns {','.join(header)}, not "
                                           f"{','.join(self.columns)}; rerun with the same --explain, or without "
                                           "--resume to start afresh")
            kept.append(lines[0] if lines else ",".join(self.columns) + "\r\n")
            for line in lines[1:]:
                cells = next(csv.reader(io.StringIO(line)), [])
                if len(cells) != len(self.columns):
                    break  # a torn row: it and anything after it are redone
                rows.append(dict(zip(self.columns, cells, strict=True)))
                kept.append(line)
        else:
            for line in lines:
                try:
                    rows.append(json.loads(line))
                except ValueError:
                    break
                kept.append(line)
        fixed = self.tmp.with_name(self.tmp.name + ".tmp")  # rewrite without the torn tail, atomically
        fixed.write_bytes("".join(kept).encode())
        os.replace(fixed, self.tmp)
        self.kept = rows
        self.done = {str(r["path"]) for r in rows}

    def write(self, rec: ScoreRecord) -> None:
        """Append one row and flush it (so that it survives ``kill -9``)."""
        out = row(rec, self.families)
        if self.csv is not None:
            flat = {**out, **family_cells(rec, self.families)}
            self.csv.writerow(["" if flat[c] is None else flat[c] for c in self.columns])
        else:
            self.f.write(json.dumps(out) + "\n")
        self.f.flush()

    def close(self, finished: bool = True) -> None:
        """Close; when ``finished``, rename ``OUT.partial`` to ``OUT``."""
        self.f.close()
        if finished:
            os.replace(self.tmp, self.path)
