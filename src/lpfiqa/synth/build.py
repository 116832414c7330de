"""Build a weakly-labelled synthetic IQA set from pristine photos (``lpfiqa synth``).

Like KADID-10k / KADIS-700k: every pristine photo is distorted by the 25 KADID types at graded
levels (and optionally by random chains of 1-3 types); every distorted image gets a pseudo
quality score from full-reference metrics against its reference (:mod:`lpfiqa.synth.labels`).

Output folder::

    refs/<photo>.png                       the pristine photo at the working size (score 100)
    images/<photo>/<photo>__<type>__<level>.png, images/<photo>/<photo>__chain<k>.png
    records/<photo>.jsonl                  one JSON line per image: type, level, metrics (resume marker)
    refs/<photo>@v<k>.png, images/<photo>/<photo>@v<k>__...   extra views (``views`` > 1), same group
    calibration.json                       the weak-label calibration, fitted on training photos only
    manifest.csv                           path,score,higher_is_better,group,dist_type,dist_level,split,...

Work is parallel over photos, resumable (a photo whose records file exists is skipped) and
deterministic for a seed (each image's random generator is derived from seed, photo, type, level).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from ..errors import ConfigError
from ..utils import atomic_write, atomic_write_text

__all__ = ["SynthConfig", "build_synthetic_set", "fit_size", "list_pristine", "photo_splits"]

PRISTINE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")


@dataclass
class SynthConfig:
    """What to synthesise.

    Example:
        >>> SynthConfig(size=(384, 288)).levels
        (1, 2, 3, 4, 5)
    """

    size: tuple[int, int] = (512, 384)     # (width, height): photos are resized to cover it, then centre-cropped
    types: tuple[str, ...] | None = None   # None: all 25 KADID types this Pillow can run
    levels: tuple[int, ...] = (1, 2, 3, 4, 5)
    levels_per_type: int = 0               # train photos: a random subset of this many levels per type (0: all)
    chains: int = 0                        # random chains of 1-3 distortions per photo
    test_fraction: float = 0.2             # photos held out as the test split (all levels kept for them)
    test_photos: tuple[str, ...] = ()      # explicit held-out photo names (stems); overrides test_fraction
    seed: int = 0
    workers: int = 0                       # processes (0: one per CPU core)
    views: int = 1                         # scenes per training photo: the whole photo + (views - 1) zoomed crops
    zoom: tuple[float, float] = (1.3, 2.0)  # extra views: crop the photo resized this much larger than view 0
    types_per_photo: int = 0               # train photos: a random subset of this many types each (0: all)
    test_types_per_photo: int = 0          # test photos: a random subset of types, every level kept (0: all)
    # FR metrics in the weak-label consensus (lpfiqa.synth.labels); delta_e makes labels see colour damage.
    # Old sets (lpf-synth-v1..v3) used the first four only.
    label_metrics: tuple[str, ...] = ("ms_ssim", "gmsd", "vif", "mdsi", "delta_e")
    # An existing calibration.json to label with instead of fitting one on this set's training photos:
    # a new test set then gets labels on the scale of the set a model was trained on.
    calibration: str | None = None

    def __post_init__(self) -> None:
        if min(self.size) < 64:
            raise ConfigError(f"--size {self.size[0]}x{self.size[1]} is too small; use at least 64x64")
        bad = [lv for lv in self.levels if lv not in (1, 2, 3, 4, 5)]
        if bad or not self.levels:
            raise ConfigError(f"--levels {list(self.levels)}: levels are 1..5")
        if self.views < 1:
            raise ConfigError(f"--views {self.views}: need at least 1 (the whole photo)")
        self.zoom = (float(self.zoom[0]), float(self.zoom[1]))
        self.label_metrics = tuple(self.label_metrics)
        from .metric_names import ALL_METRICS

        unknown = [m for m in self.label_metrics if m not in ALL_METRICS]
        if unknown or not self.label_metrics:
            raise ConfigError(f"--label-metrics {list(self.label_metrics)}: choose among {list(ALL_METRICS)}")
        if self.types_per_photo < 0 or self.test_types_per_photo < 0:
            raise ConfigError("types per photo must be >= 0 (0: all types)")
        if not 1.0 <= self.zoom[0] <= self.zoom[1]:
            raise ConfigError(f"zoom range {self.zoom}: need 1 <= low <= high")


def list_pristine(folder: Path) -> list[Path]:
    """Image files directly in ``folder``, sorted by name.

    Raises:
        ConfigError: not a folder, or no images in it.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ConfigError(f"{folder}: not a folder; pass --pristine DIR holding clean photos")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in PRISTINE_EXTENSIONS)
    if not files:
        raise ConfigError(f"{folder}: no images ({', '.join(PRISTINE_EXTENSIONS)}) found")
    return files


def photo_splits(stems: list[str], cfg: SynthConfig) -> dict[str, str]:
    """``train`` or ``test`` per photo: split by content, never by distorted image.

    Example:
        >>> s = photo_splits([f"p{i}" for i in range(10)], SynthConfig(test_fraction=0.2))
        >>> sorted(s.values()).count("test")
        2
    """
    if cfg.test_photos:
        unknown = sorted(set(cfg.test_photos) - set(stems))
        if unknown:
            raise ConfigError(f"--test-photos {unknown} are not among the pristine photos")
        return {s: "test" if s in cfg.test_photos else "train" for s in stems}
    rng = np.random.default_rng(cfg.seed)
    n_test = int(round(cfg.test_fraction * len(stems)))
    test = set(rng.permutation(sorted(stems))[:n_test].tolist())
    return {s: "test" if s in test else "train" for s in stems}


def _rng(seed: int, *parts: object) -> np.random.Generator:
    digest = hashlib.sha256(json.dumps([seed, *map(str, parts)]).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def fit_size(img: Image.Image, size: tuple[int, int], zoom: float = 1.0,
             rng: np.random.Generator | None = None) -> np.ndarray:
    """Resize (Lanczos) to ``zoom`` times what covers ``size`` keeping the aspect ratio, then crop
    ``size`` from it: at the centre, or at a random place when ``rng`` is given."""
    w, h = size
    s = zoom * max(w / img.width, h / img.height)
    nw, nh = max(w, round(img.width * s)), max(h, round(img.height * s))
    img = img.convert("RGB").resize((nw, nh), Image.LANCZOS)
    if rng is None:
        left, top = (nw - w) // 2, (nh - h) // 2
    else:
        left, top = int(rng.integers(0, nw - w + 1)), int(rng.integers(0, nh - h + 1))
    return np.array(img.crop((left, top, left + w, top + h)))  # writable: torch.from_numpy needs it


def _view(img: Image.Image, size: tuple[int, int], view: int, cfg: SynthConfig, stem: str) -> np.ndarray:
    """View 0: the whole photo fitted to ``size``. View k > 0: a random ``size`` crop of the photo
    resized ``zoom`` times larger than view 0 -- another scene for a data-hungry model, made
    from the same photo, so it stays in that photo's group (and split).

    Example:
        >>> im = Image.new("RGB", (200, 150), (9, 9, 9))
        >>> _view(im, (96, 64), 1, SynthConfig(size=(96, 64)), "p").shape
        (64, 96, 3)
    """
    if view == 0:
        return fit_size(img, size)
    rng = _rng(cfg.seed, stem, "view", view)
    return fit_size(img, size, float(rng.uniform(*cfg.zoom)), rng)


def _view_stem(stem: str, view: int) -> str:
    return stem if view == 0 else f"{stem}@v{view}"


def _jobs(stem: str, split: str, cfg: SynthConfig, types: list[str]) -> list[tuple[str, list[tuple[str, int]]]]:
    """(file stem, [(type, level), ...]) for one photo."""
    jobs = []
    rng = _rng(cfg.seed, stem, "plan")
    k = cfg.types_per_photo if split == "train" else cfg.test_types_per_photo
    if k and k < len(types):  # many scenes with a few distortions each, rather than few with all
        types = [types[i] for i in sorted(rng.choice(len(types), k, replace=False).tolist())]
    for t in types:
        levels = list(cfg.levels)
        if split == "train" and cfg.levels_per_type and cfg.levels_per_type < len(levels):
            levels = sorted(rng.choice(levels, cfg.levels_per_type, replace=False).tolist())
        jobs += [(f"{stem}__{t}__{lv}", [(t, lv)]) for lv in levels]
    return jobs


def _photo_worker(src: str, out: str, split: str, cfg_dict: dict, view: int = 0) -> str:
    """Distort one view of a photo in every planned way, label it, write images + its records file."""
    import torch

    from . import distort, random_chain
    from .chain import available_types
    from .labels import compute_metrics

    torch.set_num_threads(1)
    cfg = SynthConfig(**{**cfg_dict, "size": tuple(cfg_dict["size"])})
    types = available_types(cfg.types)
    out_dir, photo = Path(out), Path(src).stem
    stem = _view_stem(photo, view)
    ref = _view(Image.open(src), cfg.size, view, cfg, photo)
    atomic_write(out_dir / "refs" / f"{stem}.png", lambda t: Image.fromarray(ref).save(t, format="PNG"))
    records = [{"path": f"refs/{stem}.png", "dist_type": "", "dist_level": 0, "chain": "", "view": view}]
    images = [ref]
    plan = _jobs(stem, split, cfg, types)
    for k in range(cfg.chains):
        plan.append((f"{stem}__chain{k}", []))
    for name, steps in plan:
        rng = _rng(cfg.seed, name)
        if steps:
            (t, lv), = steps
            img = distort(ref, t, lv, rng)
        else:
            img, steps = random_chain(ref, rng, max_len=3, levels=cfg.levels, types=types)
        rel = f"images/{photo}/{name}.png"
        atomic_write(out_dir / rel, lambda t, img=img: Image.fromarray(img).save(t, format="PNG"))
        chain = "+".join(f"{t}:{lv}" for t, lv in steps)
        records.append({"path": rel, "dist_type": steps[0][0] if len(steps) == 1 else "chain",
                        "dist_level": steps[0][1] if len(steps) == 1 else max(lv for _, lv in steps),
                        "chain": chain if len(steps) > 1 else "", "view": view})
        images.append(img)
    metrics = _metrics_batched(ref, images, lambda r, d: compute_metrics(r, d, cfg.label_metrics))
    lines = []
    for i, rec in enumerate(records):
        rec.update({"group": photo, "split": split, **{m: float(v[i]) for m, v in metrics.items()}})
        lines.append(json.dumps(rec))
    atomic_write_text(out_dir / "records" / f"{stem}.jsonl", "\n".join(lines) + "\n")
    return stem


def _metrics_batched(ref: np.ndarray, images: list[np.ndarray], compute, batch: int = 8) -> dict[str, np.ndarray]:
    import torch

    r = torch.from_numpy(ref).permute(2, 0, 1).float().div(255)
    out: dict[str, list[float]] = {}
    for k in range(0, len(images), batch):
        d = torch.stack([torch.from_numpy(x).permute(2, 0, 1).float().div(255) for x in images[k:k + batch]])
        for name, v in compute(r.expand_as(d), d).items():
            out.setdefault(name, []).extend(v.tolist())
    return {k: np.asarray(v) for k, v in out.items()}


@dataclass
class SynthReport:
    out: Path
    photos: dict[str, int] = field(default_factory=dict)   # split -> photos
    images: int = 0
    skipped_photos: int = 0
    calibration: dict = field(default_factory=dict)


def build_synthetic_set(pristine: Path, out: Path, cfg: SynthConfig | None = None,
                        show_progress: bool = True) -> SynthReport:
    """Synthesise, label and write a manifest (see the module docstring for the layout).

    Args:
        pristine: folder of clean photos (one content group each).
        out: output folder (re-running resumes: finished photos are skipped).
        cfg: what to synthesise.
        show_progress: progress bar on stderr.

    Returns:
        A report with counts and the label calibration summary.
    """
    from tqdm.auto import tqdm

    cfg = cfg or SynthConfig()
    out = Path(out)
    photos = list_pristine(pristine)
    stems = [p.stem for p in photos]
    if len(set(stems)) != len(stems):
        raise ConfigError(f"{pristine}: two photos share a name stem; rename them")
    splits = photo_splits(stems, cfg)
    if not cfg.calibration and "train" not in splits.values():  # fail before minutes of synthesis, not after
        raise ConfigError("every photo is held out, so no training image can fit the label calibration; "
                          "label with an existing one (--calibration FILE, SynthConfig.calibration)")
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "synth_config.json", json.dumps(asdict(cfg), indent=2))
    units = _units(photos, splits, cfg)  # (photo, view): test photos are scored whole, so view 0 only
    todo = [(p, v) for p, v in units if not (out / "records" / f"{_view_stem(p.stem, v)}.jsonl").exists()]
    report = SynthReport(out, skipped_photos=len(units) - len(todo))
    workers = cfg.workers or os.cpu_count() or 1
    bar = tqdm(total=len(units), initial=report.skipped_photos, desc="synthesising", unit="view",
               disable=not show_progress, file=sys.stderr)
    if todo:
        import multiprocessing as mp

        with ProcessPoolExecutor(max_workers=min(workers, len(todo)), mp_context=mp.get_context("spawn")) as pool:
            futures = [pool.submit(_photo_worker, str(p), str(out), splits[p.stem], asdict(cfg), v) for p, v in todo]
            for fut in as_completed(futures):
                fut.result()
                bar.update(1)
    bar.close()
    report.photos = {s: sum(1 for v in splits.values() if v == s) for s in ("train", "test")}
    report.images, report.calibration = _write_manifest(out, [_view_stem(p.stem, v) for p, v in units],
                                                        cfg.label_metrics, cfg.calibration)
    return report


def _units(photos: list[Path], splits: dict[str, str], cfg: SynthConfig) -> list[tuple[Path, int]]:
    return [(p, v) for p in photos for v in range(cfg.views if splits[p.stem] == "train" else 1)]


def _write_manifest(out: Path, stems: list[str], metric_names: tuple[str, ...],
                    calibration_file: str | None = None) -> tuple[int, dict]:
    """Fit the label calibration on training photos only (or load a given one), label everything, write manifest.csv."""
    import csv
    import io

    from .labels import LabelCalibration, fit_calibration, weak_label

    records = []
    for stem in stems:
        with open(out / "records" / f"{stem}.jsonl") as f:
            records += [json.loads(line) for line in f if line.strip()]
    metrics = {m: np.array([r[m] for r in records]) for m in metric_names}
    if calibration_file:
        calibration = LabelCalibration.load(calibration_file)
        missing = [m for m in calibration.metrics if m not in metric_names]
        if missing:
            raise ConfigError(f"{calibration_file} uses metrics {missing} this set did not compute; "
                              f"add them to label_metrics")
    else:
        train = np.array([r["split"] == "train" and r["dist_level"] > 0 for r in records])
        if not train.any():
            raise ConfigError("no distorted training image to fit the label calibration on; lower the test fraction, "
                              "or label with an existing calibration (--calibration FILE, SynthConfig.calibration)")
        calibration = fit_calibration({m: v[train] for m, v in metrics.items()})
    calibration.save(out / "calibration.json")
    scores = weak_label(metrics, calibration)
    buf = io.StringIO()
    cols = ["path", "score", "higher_is_better", "group", "dist_type", "dist_level", "split", "chain", "view",
            *metric_names]
    w = csv.DictWriter(buf, fieldnames=cols, extrasaction="ignore")
    w.writeheader()
    for r, s in zip(records, scores, strict=True):
        w.writerow({**r, "score": f"{float(s):.4f}", "higher_is_better": 1, "view": r.get("view", 0),
                    **{m: f"{r[m]:.6g}" for m in metric_names}})
    atomic_write_text(out / "manifest.csv", buf.getvalue())
    return len(records), calibration.to_dict()
