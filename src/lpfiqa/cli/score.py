"""``lpfiqa score``: score files, folders and globs; table, CSV or JSONL out."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import click
from tqdm.auto import tqdm

from ..registry import DEFAULT_MODEL
from ._common import expand_inputs

if TYPE_CHECKING:
    from ..inference import ScoreRecord

COLUMNS = ("path", "score", "width", "height", "error")


class _StreamingWriter:
    """Writes rows to ``OUT.partial`` as they come (nothing computed is lost on a crash),
    then renames it to ``OUT`` at the end (readers never see half a file).

    With ``families`` (``--explain``), CSV gets a probability column per family and ``top_family``;
    JSONL a ``diagnosis`` object and ``top_family``.
    """

    def __init__(self, path: Path, families: tuple[str, ...] = ()) -> None:
        self.path = path
        self.families = families
        self.fmt = "jsonl" if path.suffix.lower() in (".jsonl", ".json") else "csv"
        self.tmp = path.with_name(path.name + ".partial")
        path.parent.mkdir(parents=True, exist_ok=True)
        self.f = open(self.tmp, "w", newline="")
        if self.fmt == "csv":
            import csv

            self.csv = csv.writer(self.f)
            self.csv.writerow(_csv_columns(families))

    def write(self, rec: ScoreRecord) -> None:
        row = _row(rec, self.families)
        if self.fmt == "csv":
            flat = {**row, **_family_cells(rec, self.families)}
            self.csv.writerow(["" if flat[c] is None else flat[c] for c in _csv_columns(self.families)])
        else:
            self.f.write(json.dumps(row) + "\n")
        self.f.flush()

    def close(self) -> None:
        self.f.close()
        os.replace(self.tmp, self.path)


def _csv_columns(families: tuple[str, ...]) -> tuple[str, ...]:
    return (*COLUMNS[:2], *families, "top_family", *COLUMNS[2:]) if families else COLUMNS


def _row(rec: ScoreRecord, families: tuple[str, ...] = ()) -> dict:
    row = {"path": rec.source, "score": None if rec.score is None else round(rec.score, 4),
           "width": rec.width, "height": rec.height, "error": rec.error}
    if families:  # --explain: what is wrong, beside the score
        row["diagnosis"] = None if rec.diagnosis is None else {f: round(rec.diagnosis[f], 4) for f in families}
        row["top_family"] = _top(rec)
    return row


def _top(rec: ScoreRecord) -> str | None:
    from ..inference import top_family  # imports torch: only called once records exist

    return top_family(rec.diagnosis)


def _family_cells(rec: ScoreRecord, families: tuple[str, ...]) -> dict[str, str | None]:
    """Probabilities with 2 decimals (empty on a failed row), for the table and CSV."""
    d = rec.diagnosis
    return {f: None if d is None else f"{d[f]:.2f}" for f in families}


@click.command("score")
@click.argument("inputs", nargs=-1, required=True)
@click.option("-m", "--model", default=DEFAULT_MODEL, show_default=True,
              help="Registered model name, run folder, or .safetensors file.")
@click.option("-r", "--recursive", is_flag=True, help="Descend into sub-folders (and ** in globs).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write results to a .csv or .jsonl file as well.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines instead of a table.")
@click.option("--sort", is_flag=True, help="Print best first (order of the model's scale).")
@click.option("--explain", is_flag=True,
              help="Also say what is wrong: a probability per distortion family and the top family "
                   "(models with a diagnosis head).")
@click.option("--max-pixels", type=click.IntRange(1), default=None, help="Refuse images larger than this.")
@click.option("--threads", type=click.IntRange(0), default=0, help="Torch threads (0: default).")
def score_cmd(inputs: tuple[str, ...], model: str, recursive: bool, output: Path | None, as_json: bool,
              sort: bool, explain: bool, max_pixels: int | None, threads: int) -> None:
    """Score images (files, folders, globs) with an LPF model.

    Unreadable images are reported on their own row and on stderr; the rest are still scored.
    Exit status: 0 all scored, 1 some failed (or a bad model/option).
    """
    import torch

    if threads:
        torch.set_num_threads(threads)
    if output is not None and output.suffix.lower() not in (".csv", ".jsonl", ".json"):
        raise click.BadParameter(f"{output}: use a .csv or .jsonl file name", param_hint="--output")
    sources = expand_inputs(inputs, recursive)
    if not sources:
        raise click.ClickException(f"no images found in {' '.join(inputs)}; check the paths or add --recursive")
    from ..registry import create_model  # imports torch: only once there is work to do

    qm = create_model(model, max_pixels=max_pixels)
    families = qm.diagnosis_families if explain else ()
    if explain and not families:
        raise click.ClickException(f"--explain: model {qm.name or model} has no diagnosis head (it was trained "
                                   "without one); use a model trained with use_diagnosis=True, or drop --explain")
    writer = _StreamingWriter(output, families) if output else None
    bar = tqdm(total=len(sources), desc="scoring", unit="img", file=sys.stderr,
               disable=None if len(sources) > 1 else True)

    def on_record(rec: ScoreRecord) -> None:
        bar.update(1)
        if writer:
            writer.write(rec)
        if rec.error:
            tqdm.write(f"error: {rec.error}", file=sys.stderr)

    t0 = time.perf_counter()
    try:
        records = qm.score_files(sources, on_record=on_record)
    finally:
        bar.close()
        if writer:
            writer.close()
    seconds = time.perf_counter() - t0
    _print(records, as_json, sort, qm.cfg.higher_is_better, families)
    ok = [r for r in records if r.ok]
    failed = len(records) - len(ok)
    summary = f"scored {len(ok)} of {len(records)} images in {seconds:.1f}s with {qm.name}"
    if ok:
        vals = [r.score for r in ok]
        summary += (f"; scores {min(vals):.1f}..{max(vals):.1f} on [{qm.cfg.score_min:g}, {qm.cfg.score_max:g}], "
                    f"{'higher' if qm.cfg.higher_is_better else 'lower'} is better")
    if failed:
        summary += f"; {failed} failed (see above)"
    if output:
        summary += f"; wrote {output}"
    click.echo(summary, err=True)
    if failed:
        sys.exit(1)


def _print(records: list[ScoreRecord], as_json: bool, sort: bool, higher_is_better: bool,
           families: tuple[str, ...] = ()) -> None:
    if sort:
        ok = sorted((r for r in records if r.ok), key=lambda r: r.score, reverse=higher_is_better)
        records = ok + [r for r in records if not r.ok]
    if as_json:
        for r in records:
            click.echo(json.dumps(_row(r, families)))
        return
    width = max([len(r.source) for r in records] + [4])
    widths = {f: max(len(f), 4) for f in (*families, "top_family")} if families else {}
    head = "".join(f"  {c:>{w}}" for c, w in widths.items())
    click.echo(f"{'score':>8}{head}  {'path':<{width}}")
    for r in records:
        value = f"{r.score:8.2f}" if r.ok else f"{'FAILED':>8}"
        if families:
            cells = {**_family_cells(r, families), "top_family": _top(r)}
            value += "".join(f"  {cells[c] or '-':>{w}}" for c, w in widths.items())
        click.echo(f"{value}  {r.source}")


COMMANDS = [score_cmd]
