"""``lpfiqa train``: manifest in, run folder out.

A run folder holds::

    model.safetensors   best-validation weights (config embedded)   config.json
    train_config.json   metrics.csv (one row per epoch)             curves.png
    splits.csv          summary.json (timings, val/test figures)    checkpoint.safetensors
    failures.csv        (only when some images could not be read)

Under torchrun (several processes, one or more machines) the images are encoded in shards into
the shared feature cache, each process trains on its slice of every batch (``distributed.py``)
and only rank 0 writes the run folder.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from ..datasets.manifest import read_manifest
from ..errors import ConfigError, ImageReadError, ManifestError
from ..features import FeatureCache, TokenEncoder
from ..metrics import evaluate
from ..models.config import LPFConfig
from ..models.io import save_heads
from ..shard import threads_per_process
from ..utils import atomic_write_text
from .checkpoint import CHECKPOINT_FILE, load_checkpoint, save_checkpoint
from .config import TrainConfig
from .diagnosis import diagnosis_accuracy, families_in, family_targets, registry_families
from .distributed import World, session
from .fit import FeatureSet, fit, predict_diagnosis, predict_unit
from .splits import split_by_group

__all__ = ["MIN_IMAGES", "TrainReport", "extract_features", "readable", "train_run"]

MIN_IMAGES = 6  # fewer readable images than this cannot be split into train, validation and test


@dataclass
class TrainReport:
    """What a training run did and reached."""

    run_dir: Path
    best_epoch: int
    counts: dict[str, int]
    seconds_features: float
    seconds_train: float
    cache_hits: int
    cache_misses: int
    val: dict[str, float] = field(default_factory=dict)
    test: dict[str, float] = field(default_factory=dict)
    failures: list[tuple[str, str]] = field(default_factory=list)
    diagnosis: dict[str, Any] = field(default_factory=dict)  # split -> diagnosis_accuracy(), when there is a head
    config: LPFConfig | None = None  # the config trained (score range, families filled in); also config.json

    def to_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["run_dir"] = str(self.run_dir)
        del d["config"]  # config.json holds it
        return d


def readable(rows: list, grids: list, label: str) -> tuple[list, list]:
    """The rows whose image was read and their grids; a clear error below :data:`MIN_IMAGES` (train and protocols)."""
    keep = [i for i, g in enumerate(grids) if g is not None]
    if len(keep) < MIN_IMAGES:
        raise ManifestError(f"{label}: only {len(keep)} readable image(s) of {len(grids)}; need at least "
                            f"{MIN_IMAGES} (check the paths with `lpfiqa data summary`)")
    return [rows[i] for i in keep], [grids[i] for i in keep]


def extract_features(paths: list[Path], cache: FeatureCache, show: bool = True,
                     desc: str = "encoder features") -> tuple[list[torch.Tensor | None], list[tuple[str, str]]]:
    """Token grids of every image (from the cache when present); failures are recorded, not fatal."""
    grids: list[torch.Tensor | None] = []
    failures: list[tuple[str, str]] = []
    for p in tqdm(paths, desc=desc, unit="img", disable=not show, file=sys.stderr):
        try:
            grids.append(cache.get(p).half())
        except ImageReadError as exc:
            grids.append(None)
            failures.append((str(p), str(exc)))
            tqdm.write(f"skipped: {exc}", file=sys.stderr)
    return grids, failures


def _extract_sharded(paths: list[Path], cache: FeatureCache, world: World,
                     show: bool) -> tuple[list[torch.Tensor | None], list[tuple[str, str]], int, int]:
    """:func:`extract_features` on several processes: each encodes its share into the cache first.

    After a barrier every rank reads all grids; one a rank does not find (a cache not shared
    between machines) it computes itself. A failure is recorded by that read pass, on every rank.
    Returns the grids, the failures, and the cache hits and misses summed over ranks: with a
    shared cache each image is counted once, as in one process.
    """
    for p in tqdm(world.shard(paths), desc=f"encoder features (1/{world.size} per process)", unit="img",
                  disable=not show, file=sys.stderr):
        try:
            cache.get(p)
        except ImageReadError:
            pass
    world.barrier()  # every grid is on disk before any rank reads them all
    shard_hits = cache.hits
    grids, failures = extract_features(paths, cache, show)
    hits, misses = world.sum([shard_hits, cache.misses])
    return grids, failures, int(hits), int(misses)


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    keys = list(dict.fromkeys(k for r in rows for k in r))
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=keys)
    w.writeheader()
    w.writerows(rows)
    atomic_write_text(path, buf.getvalue())


def train_run(manifest_path: Path, run_dir: Path, model_cfg: LPFConfig | None = None,
              train_cfg: TrainConfig | None = None, resume: bool = False, cache_root: Path | None = None,
              encoder_weights: str | None = None, show_progress: bool = True) -> TrainReport:
    """Train LPF on a manifest and write a run folder.

    Args:
        manifest_path: CSV with ``path,score`` and optionally ``group``, ``split``, ``higher_is_better``,
            ``dist_type``/``dist_level`` (and ``chain``, ``view``: what the diagnosis and order terms use).
        run_dir: output folder (created).
        model_cfg: architecture and loss settings (score range is filled in from the data).
        train_cfg: optimisation and split settings.
        resume: continue from ``run_dir/checkpoint.safetensors`` (same settings and data).
        cache_root: feature cache folder (default ``~/.cache/lpfiqa``).
        encoder_weights: path of other VGG16 weights (default: the bundled ImageNet ones).
        show_progress: progress bars on stderr.

    Returns:
        The report; ``report.config`` is the config trained (a copy: ``model_cfg`` is not changed).

    Under torchrun (``RANK``/``WORLD_SIZE`` set, see :mod:`lpfiqa.training.distributed`) every
    process calls this with the same arguments: each encodes its share of the images into the
    cache (which should be on a disk they share; a grid a process does not find there it computes
    itself), trains on its slice of every batch, and only rank 0 writes the run folder and
    measures the final val/test figures (the other ranks' reports have none). ``resume`` loads rank
    0's checkpoint on every rank.

    Raises:
        ManifestError: unreadable manifest or too few usable images.
        ConfigError: settings that cannot work with this data (e.g. too few groups to split).
    """
    # a copy: the score range, families and provenance filled in below are this run's, not the caller's
    model_cfg = copy.deepcopy(model_cfg) if model_cfg is not None else LPFConfig()
    with session() as world:
        return _train_run(manifest_path, Path(run_dir), model_cfg, train_cfg or TrainConfig(), resume,
                          cache_root, encoder_weights, show_progress, world)


def _train_run(manifest_path: Path, run_dir: Path, model_cfg: LPFConfig, train_cfg: TrainConfig, resume: bool,
               cache_root: Path | None, encoder_weights: str | None, show_progress: bool,
               world: World) -> TrainReport:
    show_progress = show_progress and world.is_main
    held = world.broadcast((run_dir / CHECKPOINT_FILE).exists())  # rank 0's folder is the run
    if held and not resume:
        raise ConfigError(f"{run_dir} already holds a run; pass --resume to continue it or choose a new folder")
    if train_cfg.threads:
        torch.set_num_threads(train_cfg.threads)
    elif world.size > 1:  # torchrun sets OMP_NUM_THREADS=1: give each process its share of the CPUs instead
        torch.set_num_threads(threads_per_process())
    manifest = read_manifest(manifest_path)
    rows = manifest.rows
    directions = {r.higher_is_better for r in rows}
    if len(directions) > 1:
        raise ManifestError(f"{manifest_path}: mixes higher_is_better 1 and 0; one scale per manifest")

    encoder = TokenEncoder(model_cfg.stages, model_cfg.cell, weights=encoder_weights, backbone=model_cfg.encoder)
    cache = FeatureCache(encoder, cache_root, max_side=train_cfg.max_side)
    t0 = time.perf_counter()
    paths = [r.path for r in rows]
    if world.size > 1:
        grids, failures, hits, misses = _extract_sharded(paths, cache, world, show_progress)
    else:
        grids, failures = extract_features(paths, cache, show_progress)
        hits, misses = cache.hits, cache.misses
    seconds_features = time.perf_counter() - t0
    rows, grids = readable(rows, grids, str(manifest_path))

    with_split = sum(1 for r in rows if r.split)
    if 0 < with_split < len(rows):
        raise ManifestError(f"{manifest_path}: {with_split} of {len(rows)} rows have a split; fill the split "
                            "column for every row or leave it empty for a random split by group")
    official = [r.split for r in rows] if with_split else None
    splits = split_by_group([r.group or str(r.path) for r in rows], train_cfg.test_fraction,
                            train_cfg.val_fraction, train_cfg.seed, official)
    scores = np.array([r.score for r in rows], dtype=np.float64)
    train_scores = scores[splits == "train"]
    model_cfg.score_min, model_cfg.score_max = float(train_scores.min()), float(train_scores.max())
    model_cfg.higher_is_better = directions.pop()
    model_cfg.encoder_weights = encoder_weights or "bundled"
    model_cfg.extra = {**model_cfg.extra, "manifest": str(manifest_path), "images": len(rows)}
    data = FeatureSet.from_rows(rows, grids, np.asarray(model_cfg.to_unit(scores)))
    if model_cfg.use_diagnosis:
        data.families = _diagnosis_targets(model_cfg, rows, splits == "train", manifest_path)
    parts = {s: data.subset(np.flatnonzero(splits == s)) for s in ("train", "val", "test")}

    if world.is_main:
        run_dir.mkdir(parents=True, exist_ok=True)
        train_cfg.save(run_dir / "train_config.json")
        _write_csv(run_dir / "splits.csv", [{"path": str(r.path), "group": r.group, "split": s}
                                            for r, s in zip(rows, splits, strict=True)])
        if failures:
            _write_csv(run_dir / "failures.csv", [{"path": p, "error": e} for p, e in failures])

    # rank 0 reads the checkpoint and sends it to the others: their disks need not hold the run folder
    state = world.broadcast(load_checkpoint(run_dir) if resume and held and world.is_main else None)
    bar = tqdm(total=train_cfg.epochs, initial=state.epoch if state else 0, desc="training", unit="epoch",
               disable=not show_progress, file=sys.stderr)

    def on_epoch(s: Any) -> None:
        if world.is_main:
            save_checkpoint(s, run_dir)
            _write_csv(run_dir / "metrics.csv", s.history)

    def progress(row: dict[str, float]) -> None:
        bar.update(1)
        bar.set_postfix({k: f"{v:.3f}" for k, v in row.items() if k in ("loss_total", "val_srcc")})

    result = fit(model_cfg, train_cfg, parts["train"], parts["val"] if len(parts["val"]) else None,
                 resume=state, on_epoch=on_epoch, progress=progress, world=world)
    bar.close()
    report = TrainReport(run_dir, result.best_epoch, {k: len(v) for k, v in parts.items()}, seconds_features,
                         result.seconds, hits, misses, failures=failures, config=model_cfg)
    if not world.is_main:
        return report
    save_heads(result.heads, run_dir)
    for name in ("val", "test"):  # the test part is touched here, once, after every choice is made
        part = parts[name]
        if len(part) >= 3:
            pred = model_cfg.from_unit(predict_unit(result.heads, part.grids))
            setattr(report, name, evaluate(pred, model_cfg.from_unit(part.y)))
        if result.heads.diagnosis is not None and len(part):
            report.diagnosis[name] = diagnosis_accuracy(predict_diagnosis(result.heads, part.grids), part.families,
                                                        part.dist_levels.tolist(), model_cfg.diagnosis_families)
    atomic_write_text(run_dir / "summary.json", json.dumps(report.to_dict(), indent=2, default=float))
    _plot(result.history, run_dir / "curves.png")
    return report


def _diagnosis_targets(cfg: LPFConfig, rows: list[Any], train: np.ndarray, manifest_path: Path) -> np.ndarray | None:
    """Family targets of every row; fills in ``cfg.diagnosis_families`` or switches the head off.

    The families are those some training row has (registry order), unless the config names them.
    """
    types = [r.dist_type for r in rows]
    levels = [r.dist_level for r in rows]
    chains = [r.extra.get("chain", "") for r in rows]
    if not cfg.diagnosis_families:
        idx = np.flatnonzero(train)
        cfg.diagnosis_families = families_in([types[i] for i in idx], [levels[i] for i in idx],
                                             [chains[i] for i in idx])
    targets = family_targets(types, levels, chains, cfg.diagnosis_families) if cfg.diagnosis_families else None
    if targets is None or not (np.nan_to_num(targets[train]).sum(0) > 0).any():
        tqdm.write(f"diagnosis: off -- no training image in {manifest_path} has a known distortion family "
                   f"(dist_type empty or not one of lpfiqa.synth.list_distortions() or {list(registry_families())}); "
                   "training the score alone", file=sys.stderr)
        cfg.use_diagnosis, cfg.diagnosis_families = False, ()
        cfg.extra = {**cfg.extra, "diagnosis": "off: no training image has a known distortion family"}
        return None
    unknown = int(np.isnan(targets[:, 0]).sum()) if targets.shape[1] else 0
    if unknown:
        tqdm.write(f"diagnosis: {unknown} of {len(rows)} images have no known distortion family; they are left "
                   "out of the diagnosis loss", file=sys.stderr)
    return targets


def _plot(history: list[dict[str, float]], path: Path) -> None:
    from ..plots import training_curves

    training_curves(history, path)
