"""``lpfiqa merge``: the parts of a sharded ``lpfiqa score --shard K/N -o OUT`` into OUT, as one run writes it."""

from __future__ import annotations

from pathlib import Path

import click

from ..shard import find_parts, merge_parts


@click.command("merge")
@click.argument("parts", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The merged .csv or .jsonl (the -o the shards were given).")
def merge_cmd(parts: tuple[Path, ...], output: Path) -> None:
    """Merge OUT.part-K-of-N.csv (K = 0..N-1) into OUT, in the row order of one unsharded run.

    With no PARTS, merges the parts found beside OUT. Checks that every shard is there and finished,
    that all have the same columns, no path twice and the row counts of one split, and says which
    shards to rerun if not. OUT is written atomically; the parts are kept.
    """
    summary = merge_parts(list(parts) or find_parts(output), output)
    click.echo(str(summary), err=True)


COMMANDS = [merge_cmd]
