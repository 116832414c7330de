"""Shared helpers of the benchmarks, and :class:`Benchmark`, what each benchmark module declares.

Every benchmark is a module of this package, run as ``python -m bench.NAME`` from the
repository root; it declares one :class:`Benchmark` per results file it writes (how
``make bench`` and ``make bench-quick`` run it, and how its section of docs/BENCHMARKS.md or
docs/STUDIES.md renders), and ``bench/registry.py`` lists them all in one place.

What every result file records, so that a figure can be judged later: the machine (CPU model,
cores, torch version and threads), the git commit, the date, and how busy the rest of the
machine was while we measured (``other_procs_cores``: CPU used by other processes, in cores,
from /proc/stat; above ``CONTENDED`` the timing is not trustworthy and should be re-run on a
quiet machine). Results are written atomically (temp file + rename), so a killed run never
leaves a half-written JSON behind.
"""

from __future__ import annotations

import argparse
import csv
import datetime as _dt
import io
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
CONTENDED = 0.2  # other processes using more than this many cores: the figure is contended
# What the accuracy, convergence and default-model benchmarks read (relative to ROOT; build them with
# `python tools/train_default_model.py`), and the benchmark-only venv of the peers (bench/README.md).
MANIFEST = "data/default/synth/manifest.csv"
V4_MANIFEST = "data/v4/synth/manifest.csv"  # the corpus model's set (tools/train_default_model.py --corpus ...)
PEERS_PYTHON = ".venv-peers/bin/python"

# torchvision's vgg16().features: 13 convs (name, in, out) and a 2x2 max-pool after each block.
VGG16_CONVS = [
    ("conv1_1", 3, 64), ("conv1_2", 64, 64), ("conv2_1", 64, 128), ("conv2_2", 128, 128),
    ("conv3_1", 128, 256), ("conv3_2", 256, 256), ("conv3_3", 256, 256),
    ("conv4_1", 256, 512), ("conv4_2", 512, 512), ("conv4_3", 512, 512),
    ("conv5_1", 512, 512), ("conv5_2", 512, 512), ("conv5_3", 512, 512),
]


@dataclass(frozen=True)
class Benchmark:
    """One benchmark: how ``make bench`` runs it, what it writes, and how its results render.

    ``python -m bench.<module> <argv>`` writes ``bench/results/<name>.json`` (and the other
    files in ``results``); ``render`` turns that JSON into the Markdown of its section (below the
    heading ``## <title>``), so a figure reaches the docs without being typed by hand.
    """

    name: str  # bench/results/<name>.json; unique
    module: str  # python -m bench.<module>
    title: str | Callable[[dict], str]  # the section heading (a function of the results where it names a figure)
    render: Callable[[dict], str] | None  # the section's Markdown; None: no section of its own
    results: tuple[str, ...]  # the files under bench/results it writes
    full: tuple[str, ...] | None = ()  # argv in `make bench`; None: run_all does not run it
    quick: tuple[str, ...] | None = ()  # argv in `make bench-quick`; None: skipped there
    study: bool = False  # a study behind the default model: docs/STUDIES.md, run with --studies
    needs: tuple[str, ...] = ()  # files (relative to ROOT) it reads: without them run_all skips it
    python: str = ""  # another interpreter (relative to ROOT); default: the one running run_all

    def argv(self, quick: bool) -> tuple[str, ...] | None:
        """The arguments of this run in ``make bench`` (or ``bench-quick``); None: not run there."""
        return self.quick if quick else self.full

    def command(self, argv: Iterable[str] = ()) -> str:
        """The command line, as the docs show it."""
        return " ".join([self.python or "python", "-m", f"bench.{self.module}", *argv])

    def heading(self, d: dict | None) -> str:
        """The section's heading for results ``d`` (None: not run yet)."""
        if isinstance(self.title, str):
            return self.title
        return self.title(d) if d is not None else self.name


def load(name: str) -> dict | None:
    """``bench/results/<name>.json``, or None where that benchmark has not run."""
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def info_line(d: dict) -> str:
    """The provenance line under a section's heading: date, commit, CPU, torch, threads, command."""
    info = d.get("info") or {}
    bits = [info.get(k) for k in ("date", "commit", "cpu", "torch", "threads") if info.get(k)]
    cmd = d.get("command", "")
    return f"*{' · '.join(str(b) for b in bits)}*  \n`{cmd}`" if bits or cmd else ""


def log(msg: str) -> None:
    """Progress line on stderr (stdout stays free for child-process JSON)."""
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def set_threads(n: int) -> None:
    """Fix torch's intra-op threads; call before the first convolution (NNPACK sizes its pool then)."""
    import torch

    torch.set_num_threads(n)


def git_commit() -> str | None:
    """HEAD of the work tree (read-only git use); None outside a checkout."""
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None


def machine_info() -> dict:
    """CPU model, cores, memory, Python and torch versions, and the thread settings in force."""
    import torch

    cpu = "unknown"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {"cpu": cpu, "logical_cores": os.cpu_count(), "usable_cores": len(os.sched_getaffinity(0)),
            "memory_gb": round(mem_gb, 1), "platform": platform.platform(),
            "python": platform.python_version(), "torch": torch.__version__,
            "torch_threads": torch.get_num_threads(), "mkldnn": torch.backends.mkldnn.is_available(),
            "cpu_capability": torch.backends.cpu.get_cpu_capability(), "loadavg_at_start": os.getloadavg()}


def header(module: str, args: object) -> dict:
    """The provenance block every result file starts with (``module``: ``bench.NAME``)."""
    date = _dt.datetime.now().astimezone().isoformat(timespec="seconds")
    commit, machine = git_commit(), machine_info()
    return {"script": module, "date": date, "git_commit": commit, "argv": sys.argv[1:], "args": vars(args),
            "machine": machine, "command": " ".join(["python", "-m", module, *sys.argv[1:]]),
            "info": {"date": date, "commit": (commit or "")[:10], "cpu": machine["cpu"],  # short form for
                     "torch": machine["torch"], "threads": machine["torch_threads"]}}  # docs/BENCHMARKS.md


def _write_text(name: str | Path, text: str) -> Path:
    """Write ``bench/results/<name>`` (or ``name`` itself when absolute) atomically: temp file + rename.

    Standard library only (not lpfiqa.utils): bench/peer_brisque.py runs where lpfiqa is not installed.
    """
    path = RESULTS / name  # an absolute `name` (a test's tmp file) replaces RESULTS
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_json(name: str | Path, data: dict) -> Path:
    """Write ``bench/results/<name>`` (or ``name`` itself when absolute) atomically."""
    return _write_text(name, json.dumps(data, indent=2, default=str) + "\n")  # Paths in args, numpy scalars


def write_csv(name: str | Path, rows: list[dict], fields: list[str] | None = None) -> Path:
    """Write ``rows`` as a CSV with a header (``fields``, default the first row's keys) atomically,
    at ``bench/results/<name>`` or at ``name`` itself when absolute."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=fields or list(rows[0]))
    w.writeheader()
    w.writerows(rows)
    return _write_text(name, buf.getvalue())


def read_csv(path: Path) -> list[dict]:
    """The rows of a CSV with a header, as dicts."""
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _busy_s() -> float:
    v = [int(t) for t in open("/proc/stat").readline().split()[1:]]
    return (sum(v[:8]) - v[3] - v[4]) / os.sysconf("SC_CLK_TCK")  # all but idle + iowait


def _own_cpu_s() -> float:
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


class CpuMeter:
    """Measures, over a ``with`` block, the CPU other processes used (in cores) and our own."""

    def __enter__(self) -> CpuMeter:
        self.b0, self.o0, self.w0 = _busy_s(), _own_cpu_s(), time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.w0
        self.own = _own_cpu_s() - self.o0
        self.other_cores = max(0.0, (_busy_s() - self.b0 - self.own) / max(self.wall, 1e-9))

    def record(self) -> dict:
        return {"other_procs_cores": round(self.other_cores, 2), "own_cores": round(self.own / self.wall, 2),
                "contended": self.other_cores > CONTENDED}


def parser(module: str, doc: str | None) -> argparse.ArgumentParser:
    """The argument parser of ``python -m bench.<module>``: its usage line names that command, its
    description is the first paragraph of the module's docstring; unknown flags are errors."""
    return argparse.ArgumentParser(prog=f"python -m bench.{module}", description=(doc or "").split("\n\n")[0])


def add_subset_args(ap: argparse.ArgumentParser, manifest: str = MANIFEST) -> None:
    """The flags of the benchmarks that train on a synthetic set: --manifest, --max-view, --per-photo."""
    ap.add_argument("--manifest", type=Path, default=ROOT / manifest)
    ap.add_argument("--max-view", type=int, default=0,
                    help="use content views up to this one (0: whole photos only, as every method sees them)")
    ap.add_argument("--per-photo", type=int, default=48,
                    help="at most this many images of each photo: the clean one and a fixed choice of its "
                         "distorted versions (0: all; the accuracy table needs 100 LPF fits, so this sets its run time)")


def add_timing_args(ap: argparse.ArgumentParser, out: str, child: bool = True) -> None:
    """The flags every timing script shares: --wait-quiet, --out and (for fresh-process runs) --child."""
    ap.add_argument("--wait-quiet", type=float, default=0.0, metavar="S",
                    help="before each timed round wait up to S seconds for a quiet second (shared machines)")
    ap.add_argument("--out", default=out)
    if child:
        ap.add_argument("--child", help=argparse.SUPPRESS)


def apply_timing_args(args: argparse.Namespace, child: Callable[[dict], object] | None = None) -> bool:
    """Set the quiet-wait from --wait-quiet; in a --child process, run ``child`` on its JSON spec,
    print the result as JSON and return True (the caller then returns)."""
    global WAIT_QUIET_S
    WAIT_QUIET_S = args.wait_quiet
    if child is not None and getattr(args, "child", None):
        print(json.dumps(child(json.loads(args.child))))
        return True
    return False


def run_child(module: str, spec: dict, timeout: float) -> dict:
    """``python -m bench.<module> --child SPEC`` in a fresh interpreter: the JSON it prints last,
    or ``{"error": its last stderr line}`` (see :func:`apply_timing_args`)."""
    p = subprocess.run([sys.executable, "-m", f"bench.{module}", "--child", json.dumps(spec)], cwd=ROOT,
                       capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        return {"error": (p.stderr.strip().splitlines() or ["?"])[-1]}
    return json.loads(p.stdout.strip().splitlines()[-1])


def untrained_quality_model(fast_conv: bool = True):
    """The public scorer with untrained default heads (speed does not depend on their weights);
    ``fast_conv=False``: PyTorch's default convolutions (the "before" of the NNPACK path)."""
    import torch

    from lpfiqa.inference import QualityModel
    from lpfiqa.models import LPFConfig, LPFHeads

    torch.manual_seed(0)
    qm = QualityModel(LPFHeads(LPFConfig()).eval())
    qm.encoder.encoder.fast_conv = fast_conv
    return qm


def summarize(times: list[float]) -> dict:
    return {"median_s": statistics.median(times), "min_s": min(times), "max_s": max(times),
            "runs": len(times), "all_s": [round(t, 4) for t in times]}


WAIT_QUIET_S = float(os.environ.get("BENCH_WAIT_QUIET", "0"))  # set by --wait-quiet


def wait_quiet(max_wait: float, threshold: float = CONTENDED) -> float:
    """Wait (up to ``max_wait`` s) for a 1-s window in which other processes use < ``threshold`` cores."""
    t_end, other = time.perf_counter() + max_wait, float("inf")
    while True:
        with CpuMeter() as m:
            time.sleep(1.0)
        other = m.other_cores
        if other < threshold or time.perf_counter() >= t_end:
            return other


def interleaved(fns: dict[str, Callable[[], object]], warmup: int, runs: int) -> dict[str, dict]:
    """Time several functions round-robin (so machine drift hits all alike): median and spread.

    Each call's own "other processes" load is kept too: ``quiet_median_s`` is the median over the
    calls during which others used < CONTENDED cores (None if there was none). With
    ``BENCH_WAIT_QUIET`` (``--wait-quiet``) seconds > 0, each round first waits for a quiet second.
    """
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    times: dict[str, list[float]] = {k: [] for k in fns}
    cpu: dict[str, list[float]] = {k: [] for k in fns}
    others: dict[str, list[float]] = {k: [] for k in fns}
    with CpuMeter() as meter:
        for r in range(runs):
            if WAIT_QUIET_S > 0:
                wait_quiet(WAIT_QUIET_S)
            for k in (list(fns) if r % 2 == 0 else list(fns)[::-1]):
                t0, c0 = time.perf_counter(), time.process_time()
                with CpuMeter() as m:
                    fns[k]()
                times[k].append(time.perf_counter() - t0)
                cpu[k].append(time.process_time() - c0)
                others[k].append(round(m.other_cores, 2))
    out = {}
    for k in fns:
        quiet = [t for t, o in zip(times[k], others[k], strict=True) if o < CONTENDED]
        out[k] = {**summarize(times[k]), "cpu_median_s": statistics.median(cpu[k]), **meter.record(),
                  "other_procs_cores_per_run": others[k], "quiet_runs": len(quiet),
                  "quiet_median_s": statistics.median(quiet) if quiet else None}
    return out


def make_image(path: Path, width: int, height: int, seed: int = 0) -> Path:
    """A photo-like test image (smooth shading, edges, texture, noise), saved as JPEG q90 or PNG."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    img = np.empty((height, width, 3), np.float32)
    for c in range(3):
        fx, fy, ph = rng.uniform(1, 6, 3)
        wave = np.sin(2 * np.pi * (fx * x / width + ph)) * np.cos(2 * np.pi * fy * y / height)
        img[..., c] = 0.5 + 0.25 * wave
    img[(x // 97 + y // 61) % 5 == 0] *= 0.6  # hard edges
    img += rng.normal(0, 0.04, img.shape).astype(np.float32)  # sensor-like noise
    arr = (np.clip(img, 0, 1) * 255).astype(np.uint8)
    kw = {"quality": 90} if path.suffix.lower() in (".jpg", ".jpeg") else {}
    Image.fromarray(arr).save(path, **kw)
    return path


def bare_vgg16():
    """torchvision's ``vgg16().features`` rebuilt without torchvision (random init, eval): 13 convs
    + ReLU + 5 max-pools, PyTorch's default conv path. The speed reference that the shared peers
    bench also times (there with torchvision), so ratios to it cancel machine drift."""
    from torch import nn

    layers: list[nn.Module] = []
    for name, cin, cout in VGG16_CONVS:
        layers += [nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU(inplace=True)]
        if name in ("conv1_2", "conv2_2", "conv3_3", "conv4_3", "conv5_3"):
            layers.append(nn.MaxPool2d(2, 2))
    return nn.Sequential(*layers).eval().requires_grad_(False)


def vgg16_conv_flops(height: int, width: int) -> int:
    """FLOPs (2 per multiply-add, as torch's FlopCounterMode counts) of VGG16's 13 convs."""
    flops, h, w = 0, height, width
    for name, cin, cout in VGG16_CONVS:
        flops += 2 * cin * cout * 9 * h * w
        if name in ("conv1_2", "conv2_2", "conv3_3", "conv4_3"):
            h, w = h // 2, w // 2
    return flops


def proc_status_mb(field: str) -> float:
    """VmRSS / VmHWM / ... of this process, in MiB."""
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def reset_peak_rss() -> None:
    """Reset VmHWM to the current RSS (Linux clear_refs 5), so the next peak is this step's."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def parse_size(s: str) -> tuple[int, int]:
    """'512x384' (width x height) -> (512, 384)."""
    w, h = s.lower().split("x")
    return int(w), int(h)


def subset_rows(rows: list[dict], per_photo: int) -> list[dict]:
    """At most ``per_photo`` manifest rows of each photo (``group``), in their order: the clean one
    (``dist_level`` 0) first, then the distorted ones ordered by a hash of their path, so the choice
    depends neither on row order nor on the other photos.

    Example:
        >>> rows = [{"group": "a", "path": f"a{k}.png", "dist_level": str(k)} for k in range(5)]
        >>> [r["dist_level"] for r in subset_rows(rows, 2)][0] == "0"
        True
    """
    import hashlib

    by_photo: dict[str, list[dict]] = {}
    for r in rows:
        by_photo.setdefault(r["group"], []).append(r)
    rank = lambda r: (int(r.get("dist_level") or 0) != 0, hashlib.sha1(r["path"].encode()).hexdigest())  # noqa: E731
    chosen = {id(r) for members in by_photo.values() for r in sorted(members, key=rank)[:per_photo]}
    return [r for r in rows if id(r) in chosen]


def subset_manifest(manifest: Path, max_view: int, split: str | None = None, per_photo: int = 0) -> Path:
    """The manifest restricted to content views <= ``max_view`` (``lpfiqa synth --views``),
    given ``split`` to the photos of that split (e.g. ``train``: never the default model's
    held-out photos, for decisions about the default), and given ``per_photo`` to at most that
    many images of each photo.

    View 0 is the whole photo; the extra zoomed views multiply training time, and the
    method comparisons only need every method to see the same images. The ``per_photo`` images
    are the clean photo plus a fixed pseudo-random choice of its distorted versions (ordered by a
    hash of the path, so the choice does not depend on row order or on the other photos): every
    photo stays in, which is what the splits by photo draw on. Written next to the manifest (its
    relative paths stay valid), atomically; the manifest itself if nothing is left out.
    """
    rows = read_csv(manifest)
    keep = [r for r in rows if int(r.get("view") or 0) <= max_view and (split is None or r.get("split") == split)]
    if per_photo > 0:
        keep = subset_rows(keep, per_photo)
    if len(keep) == len(rows):
        return manifest
    name = (f"{manifest.stem}.view{max_view}{'.' + split if split else ''}"
            f"{f'.{per_photo}per' if per_photo else ''}.csv")
    out = write_csv(manifest.resolve().with_name(name), keep, list(rows[0]))
    log(f"{manifest.name}: {len(keep)} of {len(rows)} images (views <= {max_view}"
        f"{', split ' + split if split else ''}{f', <= {per_photo} per photo' if per_photo else ''}) -> {out.name}")
    return out
