"""Scoring many files: decoding in worker processes while the model runs, a record per file as it is done.

``workers=0`` decodes in this process between predictions. ``workers=N`` decodes in N forked
processes (they run Pillow and numpy, never torch) and keeps at most ``2 N`` decoded images in
flight, so memory stays bounded on a folder of any size. Records come back in input order; a
file that cannot be read or scored gets an error on its record and the rest go on.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import numpy as np
import torch

from .errors import ImageReadError
from .imageio import MAX_PIXELS, to_rgb_array
from .inference import QualityModel, ScoreRecord
from .overlay import overlay_png

__all__ = ["decoded", "map_paths", "score_paths"]

_Decoded = tuple[str, np.ndarray | None, str | None]  # (source, RGB array, error)


def _decode(task: tuple[str, int]) -> _Decoded:
    source, max_pixels = task
    try:
        return source, to_rgb_array(source, max_pixels), None
    except ImageReadError as exc:
        return source, None, str(exc)
    except (MemoryError, OSError) as exc:  # never fatal: the file gets its own error row
        return source, None, f"{source}: cannot decode ({type(exc).__name__}: {exc}); check the file"


def decoded(sources: Iterable[str], workers: int = 0, max_pixels: int = MAX_PIXELS) -> Iterator[_Decoded]:
    """(source, RGB float32 array or None, error or None) per source, in order.

    Args:
        sources: image paths.
        workers: decoding processes (0: decode here, one at a time).
        max_pixels: refuse larger images.

    Example:
        >>> [err.split(":")[-1].strip() for _, _, err in decoded(["missing.png"])]
        ['no such file; check the path']
    """
    tasks = ((str(s), max_pixels) for s in sources)
    if workers <= 0:
        yield from map(_decode, tasks)
        return
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        pending: deque = deque()
        for task in tasks:
            pending.append(pool.apply_async(_decode, (task,)))
            if len(pending) >= 2 * workers:  # bounded look-ahead: at most 2 N images in memory
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()


def map_paths(sources: list[str], folder: Path, kind: str = "weight") -> dict[str, Path]:
    """Where ``--save-maps`` writes each source's overlay: its path under the inputs' common folder,
    with ``.<kind>.png`` for its suffix (so that files of the same name in sub-folders never collide).

    Example:
        >>> {k: str(v) for k, v in map_paths(["a/x.jpg", "a/b/x.jpg"], Path("maps")).items()}
        {'a/x.jpg': 'maps/x.weight.png', 'a/b/x.jpg': 'maps/b/x.weight.png'}
    """
    if not sources:
        return {}
    parents = [os.path.dirname(os.path.abspath(s)) for s in sources]
    root = os.path.commonpath(parents)
    out = {}
    for source in sources:
        rel = Path(os.path.relpath(os.path.abspath(source), root))
        out[source] = folder / rel.with_name(f"{rel.stem}.{kind}.png")
    return out


def score_paths(model: QualityModel, sources: list[str], workers: int = 0,
                on_record: Callable[[ScoreRecord], None] | None = None,
                maps: dict[str, Path] | None = None, map_kind: str = "weight") -> list[ScoreRecord]:
    """Score image files with decoding in ``workers`` processes; a failure is recorded and the rest go on.

    Args:
        model: the model (runs in this process).
        sources: image paths.
        workers: decoding processes (0: decode here).
        on_record: called with each record as soon as it exists (progress, streaming output).
        maps: source -> PNG path: write the ``map_kind`` overlay of each scored image there.
        map_kind: ``"weight"`` (where the model looks) or ``"score"`` (what it penalises).

    Returns:
        One :class:`~lpfiqa.inference.ScoreRecord` per source, in order; equal to
        :meth:`QualityModel.score_files`.
    """
    cfg = model.cfg
    records = []
    for source, rgb, error in decoded(sources, workers, model.max_pixels):
        rec = ScoreRecord(source=source, error=error)
        if rgb is not None:
            rec.height, rec.width = rgb.shape[:2]
            try:
                want_map = maps is not None and source in maps
                pred = model.predict(torch.from_numpy(rgb).permute(2, 0, 1), return_maps=want_map)
                rec.score, rec.diagnosis = pred.score, pred.diagnosis
                if want_map:
                    values = pred.weight_map if map_kind == "weight" else pred.score_map
                    png = overlay_png(rgb, values, map_kind, score_range=cfg.output_range,
                                      higher_is_better=cfg.higher_is_better, cell=cfg.cell)
                    maps[source].parent.mkdir(parents=True, exist_ok=True)
                    maps[source].write_bytes(png)
            except ImageReadError as exc:
                rec.error = str(exc)
            except (RuntimeError, MemoryError, OSError) as exc:  # out of memory on one image, a full disk
                rec.score = None
                rec.error = f"{source}: scoring failed ({type(exc).__name__}: {exc}); try a smaller image"
        records.append(rec)
        if on_record is not None:
            on_record(rec)
    return records
