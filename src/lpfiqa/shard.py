"""One scoring run split over processes, machines or array jobs, and its parts merged back.

The files of a run are the list a single ``lpfiqa score`` process scores, in its order: each input
in the order given, a folder's files sorted by path. That order depends only on the paths below
each input, not on where a machine mounts them, so every machine computes the same list.

Shard ``K`` of ``N`` is 0-based (like Slurm's ``SLURM_ARRAY_TASK_ID`` with ``--array=0-15``,
Kubernetes' ``JOB_COMPLETION_INDEX`` and torchrun's ``RANK``) and takes files ``K, K+N, K+2N, ...``
of that list: the shards differ by at most one file, and striding (rather than cutting the list in
blocks) spreads a sub-folder of large images over every shard instead of giving it to one. Each
shard writes ``OUT.part-K-of-N.csv``; the merge interleaves the parts back (row ``j`` of part ``K``
is file ``j N + K``), which is the single run's rows in its order.

The price of assigning by index: the file list must not change between the shard runs (a file added
half-way shifts the later files to other shards). The merge checks what it can (every shard there
and finished, one column set, no path twice, row counts that fit one split) and says what to rerun.

Under torchrun each rank scores shard ``RANK/WORLD_SIZE`` and :func:`torchrun_merge` waits for all
of them (a gloo barrier) before rank 0 merges.
"""

from __future__ import annotations

import csv
import glob
import json
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TextIO, TypeVar

from .errors import ShardError
from .utils import atomic_write

__all__ = ["MergeSummary", "Shard", "find_parts", "merge_parts", "parse_shard", "threads_per_process",
           "torchrun_merge", "torchrun_shard"]

T = TypeVar("T")
_Row = tuple[str, object, bool]  # (path, the row to write back: CSV cells or a JSON line, failed)
BARRIER_TIMEOUT = timedelta(days=7)  # ranks that finish first wait this long for the slowest one
_PART = re.compile(r"^(?P<stem>.*)\.part-(?P<index>\d+)-of-(?P<count>\d+)(?P<suffix>\.[^.]+)?$")


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` (0-based) of ``count``: files ``index, index + count, ...`` of the run's list.

    Example:
        >>> shard = Shard(1, 3)
        >>> shard.select(["a", "b", "c", "d", "e"])
        ['b', 'e']
        >>> str(shard.part(Path("out/scores.csv")))
        'out/scores.part-1-of-3.csv'
    """

    index: int
    count: int

    def __post_init__(self) -> None:
        if self.count < 1:
            raise ShardError(f"{self}: N must be at least 1")
        if not 0 <= self.index < self.count:
            raise ShardError(f"{self}: K must be in 0..{self.count - 1} (shards are 0-based: "
                             f"0/{self.count} .. {self.count - 1}/{self.count})")

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def select(self, items: Sequence[T]) -> list[T]:
        """This shard's items, in their order."""
        return list(items[self.index::self.count])

    def part(self, output: Path) -> Path:
        """The part file this shard writes for ``output``: ``NAME.part-K-of-N.EXT``."""
        output = Path(output)
        return output.with_name(f"{output.stem}.part-{self.index}-of-{self.count}{output.suffix}")


def parse_shard(spec: str, env: Mapping[str, str] | None = None) -> Shard:
    """``"K/N"`` (0-based), or ``"auto"``: the task of a Slurm job array (``SLURM_ARRAY_TASK_*``).

    ``auto`` maps the array's tasks to 0..N-1 whatever its first id and step (``--array=1-16`` and
    ``--array=0-30:2`` work too); a list of ids (``--array=1,5,9``) needs ``--shard K/N``.

    Example:
        >>> parse_shard("3/16")
        Shard(index=3, count=16)
        >>> parse_shard("auto", {"SLURM_ARRAY_TASK_ID": "5", "SLURM_ARRAY_TASK_MIN": "1",
        ...                      "SLURM_ARRAY_TASK_STEP": "1", "SLURM_ARRAY_TASK_COUNT": "16"})
        Shard(index=4, count=16)
        >>> parse_shard("5/4")
        Traceback (most recent call last):
        ...
        lpfiqa.errors.ShardError: 5/4: K must be in 0..3 (shards are 0-based: 0/4 .. 3/4)
    """
    env = os.environ if env is None else env
    if spec.strip().lower() == "auto":
        return _slurm_shard(env)
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", spec)
    if not match:
        raise ShardError(f"{spec!r}: write K/N with 0 <= K < N (e.g. 0/4), or auto in a Slurm job array")
    return Shard(int(match[1]), int(match[2]))


def _slurm_shard(env: Mapping[str, str]) -> Shard:
    try:
        task, count = int(env["SLURM_ARRAY_TASK_ID"]), int(env["SLURM_ARRAY_TASK_COUNT"])
        first, step = int(env.get("SLURM_ARRAY_TASK_MIN", "0")), int(env.get("SLURM_ARRAY_TASK_STEP", "1"))
    except (KeyError, ValueError) as exc:
        raise ShardError("--shard auto reads SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT (a Slurm job array, "
                         "sbatch --array=0-15); elsewhere write --shard K/N") from exc
    index, off = divmod(task - first, max(step, 1))
    if off or not 0 <= index < count:
        raise ShardError(f"--shard auto: Slurm task {task} is not on the array's range (min {first}, step {step}, "
                         f"{count} tasks); use --array=0-{count - 1}, or write --shard K/{count}")
    return Shard(index, count)


def torchrun_shard(env: Mapping[str, str] | None = None) -> Shard | None:
    """``RANK/WORLD_SIZE`` when launched by torchrun with more than one process, else None.

    Example:
        >>> torchrun_shard({"RANK": "1", "WORLD_SIZE": "2", "LOCAL_RANK": "1"})
        Shard(index=1, count=2)
        >>> torchrun_shard({}) is None
        True
    """
    env = os.environ if env is None else env
    if "RANK" not in env or "WORLD_SIZE" not in env:
        return None
    try:
        rank, world = int(env["RANK"]), int(env["WORLD_SIZE"])
    except ValueError as exc:
        raise ShardError(f"RANK={env['RANK']!r}, WORLD_SIZE={env['WORLD_SIZE']!r}: not integers; "
                         "launch with torchrun, or unset them") from exc
    return Shard(rank, world) if world > 1 else None


def threads_per_process(env: Mapping[str, str] | None = None, cpus: int | None = None) -> int:
    """Torch threads for one of the ``LOCAL_WORLD_SIZE`` processes on this machine: its share of the CPUs.

    (torchrun sets ``OMP_NUM_THREADS=1`` for every process, which would leave most cores idle.)

    Example:
        >>> threads_per_process({"LOCAL_WORLD_SIZE": "4"}, cpus=16)
        4
        >>> threads_per_process({"LOCAL_WORLD_SIZE": "32"}, cpus=16)
        1
    """
    env = os.environ if env is None else env
    if cpus is None:
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, cpus // max(1, int(env.get("LOCAL_WORLD_SIZE", "1"))))


@dataclass(frozen=True)
class MergeSummary:
    """What :func:`merge_parts` wrote."""

    output: Path
    count: int  # shards merged
    rows: int
    failed: int  # rows with an error

    def __str__(self) -> str:
        failed = f", {self.failed} failed" if self.failed else ""
        return f"merged {self.count} parts: {self.rows} rows{failed}; wrote {self.output}"


def find_parts(output: Path) -> list[Path]:
    """The finished parts beside ``output`` (``NAME.part-K-of-N.EXT``), sorted by shard.

    Raises:
        ShardError: none found.
    """
    output = Path(output)
    pattern = str(output.parent / f"{glob.escape(output.stem)}.part-*-of-*{glob.escape(output.suffix)}")
    parts = [Path(p) for p in glob.glob(pattern) if _PART.match(Path(p).name)]
    if not parts:
        raise ShardError(f"no parts of {output} ({output.stem}.part-K-of-N{output.suffix}) found; run "
                         f"`lpfiqa score INPUTS -o {output} --shard K/N` for each K first, or name the parts")
    return sorted(parts, key=lambda p: int(_PART.match(p.name)["index"]))


def merge_parts(parts: Sequence[Path], output: Path, count: int | None = None) -> MergeSummary:
    """Merge the parts of one sharded run into ``output``, in a single run's row order; atomically.

    Args:
        parts: the part files (``NAME.part-K-of-N.csv`` or ``.jsonl``), one per shard, any order.
        output: the merged file.
        count: the number of shards expected (default: the N in the parts' names).

    Returns:
        What was written.

    Raises:
        ShardError: a shard is missing or unfinished, given twice, of another split, or the parts do
            not fit together (columns, a path twice, row counts); the message says what to rerun.

    Example:
        >>> import tempfile
        >>> d = Path(tempfile.mkdtemp())
        >>> for k, lines in enumerate([["a", "c", "e"], ["b", "d"]]):
        ...     _ = Shard(k, 2).part(d / "s.csv").write_text("path,score\\n" + "".join(f"{x},1\\n" for x in lines))
        >>> print(merge_parts(find_parts(d / "s.csv"), d / "s.csv").rows)
        5
        >>> (d / "s.csv").read_text().split()
        ['path,score', 'a,1', 'b,1', 'c,1', 'd,1', 'e,1']
    """
    output = Path(output)
    by_index = _index_parts(parts, output, count)
    names = [by_index[k] for k in range(len(by_index))]
    stats = {"rows": 0, "failed": 0}

    def write(tmp: Path) -> None:  # streamed: a million rows need no more memory than their paths
        with ExitStack() as stack, open(tmp, "w", newline="") as f:
            opened = [_open_part(name, stack) for name in names]
            header = opened[0][0]
            for name, (part_header, _) in zip(names, opened, strict=True):
                if part_header != header:
                    raise ShardError(f"{name} has columns {','.join(part_header or [])}, not "
                                     f"{','.join(header or [])} like {names[0]}: score every shard with the same "
                                     "options")
            out = csv.writer(f) if header is not None else None  # lpfiqa score's dialect: one run's bytes
            if out is not None:
                out.writerow(header)
            for _, raw, failed in _interleave(names, [rows for _, rows in opened]):
                if out is not None:
                    out.writerow(raw)
                else:
                    f.write(raw)
                stats["rows"] += 1
                stats["failed"] += failed

    atomic_write(output, write)
    return MergeSummary(output, len(names), stats["rows"], stats["failed"])


def _interleave(names: list[Path], parts: list[Iterator[_Row]]) -> Iterator[_Row]:
    """Row j of part K, for j = 0, 1, ... and K = 0..N-1: one run's order; checks that the parts fit one split.

    Part K of a split of M files holds ``len(range(K, M, N))`` rows, so once a part ends, every later
    part ends in the same round and every part in the next; and no path is in two parts.
    """
    seen: dict[str, int] = {}
    ended: int | None = None  # the first part that ran out
    rounds = 0
    while ended is None:
        for k, rows in enumerate(parts):
            row = next(rows, None)
            if row is None:
                ended = k if ended is None else ended
                continue
            if ended is not None:
                raise _misfit(names[k], names[ended], rounds)
            if row[0] in seen:
                raise ShardError(f"{row[0]} is in {names[seen[row[0]]]} and {names[k]}: the parts come from "
                                 "different file lists; rerun the shards on the same inputs")
            seen[row[0]] = k
            yield row
        rounds += 1
    for k, rows in enumerate(parts):
        if next(rows, None) is not None:
            raise _misfit(names[k], names[ended], rounds - 1)


def _misfit(longer: Path, ended: Path, rows: int) -> ShardError:
    return ShardError(f"{longer} has more rows than one split of the files gives it ({ended} ends after {rows}): "
                      "the inputs changed between the shard runs, or a part is from another run; rerun every "
                      "shard on the same inputs")


def _index_parts(parts: Sequence[Path], output: Path, count: int | None) -> dict[int, Path]:
    """Shard index -> part, checking one split, no shard twice and none missing or unfinished."""
    by_index: dict[int, Path] = {}
    counts: set[int] = set() if count is None else {count}
    for part in map(Path, parts):
        match = _PART.match(part.name)
        if not match:
            raise ShardError(f"{part}: not a part file (NAME.part-K-of-N.csv, written by lpfiqa score --shard K/N)")
        index, counts_here = int(match["index"]), int(match["count"])
        counts.add(counts_here)
        if len(counts) > 1:
            raise ShardError(f"{part} is one of {counts_here} shards, the others of {min(counts - {counts_here})}: "
                             f"merge the parts of one split (e.g. {match['stem']}.part-*-of-{counts_here}"
                             f"{match['suffix'] or ''})")
        if index in by_index and by_index[index].resolve() != part.resolve():
            raise ShardError(f"shard {index}/{counts_here} given twice ({by_index[index]} and {part}); name each once")
        if not part.is_file():
            raise ShardError(f"{part}: no such part file; check the name, or run its shard")
        by_index[index] = part
    if not counts:
        raise ShardError(f"no parts given to merge into {output}")
    n = counts.pop()
    missing = [k for k in range(n) if k not in by_index]
    if missing:
        first = Shard(missing[0], n).part(output)
        unfinished = [k for k in missing if Path(f"{Shard(k, n).part(output)}.partial").exists()]
        state = f"; {_ranges(unfinished)} unfinished: only a .partial" if unfinished else ""
        raise ShardError(f"missing shard{'s' if len(missing) > 1 else ''} {_ranges(missing)} of {n} (no {first}"
                         f"{', ...' if len(missing) > 1 else ''}{state}): run `lpfiqa score INPUTS -o {output} "
                         f"--shard K/{n} --resume` for each, then merge again")
    return by_index


def _open_part(path: Path, stack: ExitStack) -> tuple[list[str] | None, Iterator[_Row]]:
    """(CSV header, or None for JSON lines; the rows as (path, row to write back, failed)), read as they are used."""
    f = stack.enter_context(open(path, newline="", encoding="utf-8"))  # newline="": quoted line breaks as written
    if path.suffix.lower() in (".jsonl", ".json"):
        return None, _json_rows(path, f)
    reader = csv.reader(f)
    header = next(reader, None)
    if not header or "path" not in header:
        raise ShardError(f"{path}: no header row with a path column; it is not a part written by lpfiqa score")
    return header, _csv_rows(path, reader, header)


def _json_rows(path: Path, f: TextIO) -> Iterator[_Row]:
    for n, line in enumerate(f, 1):
        try:
            rec = json.loads(line)
        except ValueError as exc:
            raise ShardError(f"{path}: line {n} is not JSON; rerun its shard with --resume") from exc
        yield str(rec["path"]), line if line.endswith("\n") else line + "\n", bool(rec.get("error"))


def _csv_rows(path: Path, reader: Iterator[list[str]], header: list[str]) -> Iterator[_Row]:
    at, err = header.index("path"), header.index("error") if "error" in header else None
    for n, cells in enumerate(reader, 2):
        if len(cells) != len(header):
            raise ShardError(f"{path}: row {n} has {len(cells)} cells, not {len(header)}; "
                             "rerun its shard with --resume")
        yield cells[at], cells, err is not None and bool(cells[err])


def _ranges(items: list[int]) -> str:
    """``[0, 1, 2, 5]`` -> ``"0-2, 5"``."""
    out, start = [], items[0]
    for a, b in zip(items, [*items[1:], None], strict=True):
        if b != a + 1:
            out.append(f"{start}-{a}" if a > start else str(a))
            start = b
    return ", ".join(out)


def torchrun_merge(shard: Shard, output: Path, timeout: timedelta = BARRIER_TIMEOUT) -> MergeSummary | None:
    """Under torchrun, once this rank has written its part: wait for every rank, then merge on rank 0.

    Joins the gloo process group through the ``env://`` rendezvous torchrun provides (so a rank that
    finishes first waits here for the others, up to ``timeout``), merges on rank 0, and waits again so
    that no rank exits (which makes torchrun stop the rest) before the merge is written. Across
    machines, ``output`` must be on a folder every machine sees.

    Returns:
        The merge on rank 0, None on the others.
    """
    import torch.distributed as dist

    dist.init_process_group("gloo", timeout=timeout)
    try:
        dist.barrier()  # every part is written
        summary = None
        try:
            if shard.index == 0:
                parts = [Shard(k, shard.count).part(output) for k in range(shard.count)]
                unseen = [k for k, p in enumerate(parts) if not p.is_file()]
                if unseen:
                    raise ShardError(f"rank 0 sees no part of shard {_ranges(unseen)} of {shard.count} (e.g. "
                                     f"{parts[unseen[0]]}): across machines, -o must be on a folder every machine "
                                     "sees; or copy the parts to one place and run lpfiqa merge")
                summary = merge_parts(parts, output, count=shard.count)
        finally:
            dist.barrier()  # the merge is written (or failed): now every rank may exit
    finally:
        dist.destroy_process_group()
    return summary
