"""``lpfiqa score``: score files, folders and globs; table, CSV or JSONL out; resumable; decoding in workers;
one shard of the files (``--shard K/N``, torchrun's ranks) into its part file."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import click
from tqdm.auto import tqdm

from ..errors import ShardError
from ..registry import DEFAULT_MODEL
from ..shard import Shard, parse_shard, threads_per_process, torchrun_merge, torchrun_shard
from ._common import expand_inputs
from ._output import StreamingWriter, family_cells, row
from ._summary import histogram

if TYPE_CHECKING:
    from ..inference import QualityModel, ScoreRecord


def _shard_option(_ctx: click.Context, _param: click.Parameter, value: str | None) -> Shard | None:
    try:
        return parse_shard(value) if value is not None else None
    except ShardError as exc:
        raise click.BadParameter(str(exc)) from exc


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
@click.option("-w", "--workers", type=click.IntRange(0, 64), default=0, show_default=True,
              help="Processes decoding images while the model runs (0: decode between predictions).")
@click.option("--resume", is_flag=True,
              help="Continue an interrupted run: keep the rows in OUT.partial (or OUT), score only the rest.")
@click.option("--save-maps", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write a quality-map overlay PNG per image here, named after the input.")
@click.option("--map", "map_kind", type=click.Choice(["weight", "score"]), default="weight", show_default=True,
              help="Which map --save-maps paints: where the model looks (weight) or what it penalises (score).")
@click.option("--engine", type=click.Choice(["torch", "onnx"]), default="torch", show_default=True,
              help="Run the model in PyTorch, or in ONNX Runtime (--model FILE.onnx, or exported once and cached).")
@click.option("--threads", type=click.IntRange(0), default=0,
              help="Torch (or ONNX Runtime) threads (0: default; under torchrun the CPUs / local processes).")
@click.option("--shard", metavar="K/N|auto", default=None, callback=_shard_option,
              help="Score shard K of N (0-based) of the files into OUT.part-K-of-N.csv (file i goes to shard "
                   "i mod N); auto: a Slurm array task's. Then: lpfiqa merge -o OUT.")
def score_cmd(inputs: tuple[str, ...], model: str, recursive: bool, output: Path | None, as_json: bool,
              sort: bool, explain: bool, max_pixels: int | None, workers: int, resume: bool, save_maps: Path | None,
              map_kind: str, engine: str, threads: int, shard: Shard | None) -> None:
    """Score images (files, folders, globs) with an LPF model.

    Rows are written to OUT.partial as they come (renamed to OUT at the end); after a crash or
    kill, --resume scores only what is missing. Unreadable images get their own row and a
    stderr line; the rest are still scored. A summary with a histogram of the scores ends the run.
    Under torchrun (torchrun --nproc_per_node N -m lpfiqa score ... -o OUT) each rank scores its
    shard into its part, and rank 0 merges them into OUT once all are written (no table is printed).
    Exit status: 0 all scored, 1 some failed (or a bad model/option); under torchrun 0 once merged,
    failures being rows with an error (torchrun takes a rank's 1 for a crash and stops the others).
    """
    import torch

    ranked = torchrun_shard()
    if shard and ranked:
        raise click.BadParameter(f"torchrun already splits the files (this is rank {ranked}); drop --shard",
                                 param_hint="--shard")
    shard = shard or ranked
    if shard and output is None:
        raise click.BadParameter(f"shard {shard} writes OUT.part-{shard.index}-of-{shard.count}.csv; add -o OUT.csv",
                                 param_hint="--output")
    if threads or ranked:
        torch.set_num_threads(threads or threads_per_process())
    if output is not None and output.suffix.lower() not in (".csv", ".jsonl", ".json"):
        raise click.BadParameter(f"{output}: use a .csv or .jsonl file name", param_hint="--output")
    if resume and output is None:
        raise click.BadParameter("--resume continues an output file; add -o OUT.csv (the one the run wrote)",
                                 param_hint="--resume")
    sources = expand_inputs(inputs, recursive)
    if not sources:
        raise click.ClickException(f"no images found in {' '.join(inputs)}; check the paths or add --recursive")
    from ..batch import map_paths, score_paths  # imports torch: only once there is work to do

    qm = _engine(model, engine, max_pixels, threads)
    families = qm.diagnosis_families if explain else ()
    if explain and not families:
        raise click.ClickException(f"--explain: model {qm.name or model} has no diagnosis head (it was trained "
                                   "without one); use a model trained with use_diagnosis=True, or drop --explain")
    maps = map_paths(sources, save_maps, map_kind) if save_maps else None  # named from all files, as in one run
    part = shard.part(output) if shard and output else output
    sources = shard.select(sources) if shard else sources
    writer = StreamingWriter(part, families, resume=resume) if part else None
    if writer and writer.replaced:
        click.echo(f"note: replaced {writer.tmp} left by an interrupted run (--resume would have continued it)",
                   err=True)
    skipped = [s for s in sources if writer and s in writer.done]
    todo = [s for s in sources if not (writer and s in writer.done)]
    bar = tqdm(total=len(todo), desc="scoring", unit="img", file=sys.stderr,
               disable=None if len(todo) > 1 else True)

    def on_record(rec: ScoreRecord) -> None:
        bar.update(1)
        if writer:
            writer.write(rec)
        if rec.error:
            tqdm.write(f"error: {rec.error}", file=sys.stderr)

    t0 = time.perf_counter()
    finished = False
    try:
        records = score_paths(qm, todo, workers=workers, on_record=on_record, maps=maps, map_kind=map_kind)
        finished = True
    finally:
        bar.close()
        if writer:
            writer.close(finished)
    seconds = time.perf_counter() - t0
    if not ranked:  # torchrun's ranks would print their tables into each other
        _print(records, as_json, sort, qm.cfg.higher_is_better, families)
    failed = _summary(qm, records, seconds, workers, skipped, writer, part, save_maps)
    if ranked:
        merged = torchrun_merge(ranked, output)
        if merged:
            click.echo(str(merged), err=True)
        return
    if shard:
        click.echo(f"shard {shard} done; once all {shard.count} are: lpfiqa merge -o {output}", err=True)
    if failed:
        sys.exit(1)


def _engine(model: str, engine: str, max_pixels: int | None, threads: int) -> QualityModel:
    """The model to score with: PyTorch's, or ONNX Runtime's (from an .onnx file, or exported once and cached)."""
    from ..registry import create_model

    if engine == "torch" and model.endswith(".onnx"):
        raise click.BadParameter(f"{model} is an ONNX file; add --engine onnx", param_hint="--model")
    return create_model(model, max_pixels=max_pixels, engine=engine, threads=threads)


def _summary(qm: QualityModel, records: list[ScoreRecord], seconds: float, workers: int, skipped: list[str],
             writer: StreamingWriter | None, output: Path | None, save_maps: Path | None) -> int:
    """The closing lines on stderr: counts, throughput, score range, a histogram. Returns the failures."""
    ok = [r for r in records if r.ok]
    failed = len(records) - len(ok)
    earlier = [r for r in (writer.kept if writer else []) if r.get("score") not in (None, "")]
    earlier_failed = len(skipped) - len(earlier) if writer else 0
    summary = f"scored {len(ok)} of {len(records)} images in {seconds:.1f}s with {qm.name}"
    if records:
        summary += f" ({len(records) / max(seconds, 1e-9):.1f} img/s, {workers} decoding workers)"
    if skipped:
        summary += f"; {len(skipped)} already done (--resume)"
    scores = [r.score for r in ok] + [float(r["score"]) for r in earlier]
    if scores:
        lo, hi = qm.cfg.output_range
        summary += (f"; scores {min(scores):.1f}..{max(scores):.1f} on [{lo:g}, {hi:g}], "
                    f"{'higher' if qm.cfg.higher_is_better else 'lower'} is better")
    if failed:
        summary += f"; {failed} failed (see above)"
    if earlier_failed:
        summary += f"; {earlier_failed} failed in the earlier run"
    if output:
        summary += f"; wrote {output}"
    if save_maps:
        summary += f"; maps in {save_maps}"
    click.echo(summary, err=True)
    if len(scores) > 1:
        for line in histogram(scores, *qm.cfg.output_range):
            click.echo("  " + line, err=True)
    return failed


def _print(records: list[ScoreRecord], as_json: bool, sort: bool, higher_is_better: bool,
           families: tuple[str, ...] = ()) -> None:
    if sort:
        ok = sorted((r for r in records if r.ok), key=lambda r: r.score, reverse=higher_is_better)
        records = ok + [r for r in records if not r.ok]
    if as_json:
        for r in records:
            click.echo(json.dumps(row(r, families)))
        return
    width = max([len(r.source) for r in records] + [4])
    widths = {f: max(len(f), 4) for f in (*families, "top_family")} if families else {}
    head = "".join(f"  {c:>{w}}" for c, w in widths.items())
    click.echo(f"{'score':>8}{head}  {'path':<{width}}")
    for r in records:
        value = f"{r.score:8.2f}" if r.ok else f"{'FAILED':>8}"
        if families:
            cells = {**family_cells(r, families), "top_family": row(r, families)["top_family"]}
            value += "".join(f"  {cells[c] or '-':>{w}}" for c, w in widths.items())
        click.echo(f"{value}  {r.source}")


COMMANDS = [score_cmd]
