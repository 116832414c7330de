"""LPF's speed against the pyiqa no-reference peers, normalised by a VGG16 timed in each process.

Why: peers live in their own benchmark-only venv (``.venv-peers``: pyiqa needs torchvision and
another torch), so their timings come from another process, on another torch, at another
moment on a machine that drifts ~20% between processes. Each side therefore times a bare VGG16
(torchvision's ``vgg16().features``, default conv path) at the start and end of its own process,
and the comparison is ``(LPF / VGG16_ours) / (peer / VGG16_theirs)``: below 1, LPF is faster.

The peers side is ``/work/shared/peers/bench.py`` (not copied here), run with the peers venv's
python: random weights, 2 threads, inference mode, 2 warm-ups, 5 runs, median, on random
(1, 3, 384, 512) and (1, 3, 768, 1024) tensors. This side repeats that protocol for LPF (the
full test-time ``LPF`` module on the same tensors) and, for information, LPF end to end from a
JPEG. If the peers venv is missing, the LPF side still runs and the file says what to install.

Usage::

    .venv/bin/python -m bench.peers_speed --quick            # cnniqa paq2piq nima dbcnn
    .venv/bin/python -m bench.peers_speed --models dbcnn musiq
"""

from __future__ import annotations

import functools
import json
import os
import statistics
import subprocess
import tempfile
from pathlib import Path

import torch

from ._common import (
    PEERS_PYTHON,
    ROOT,
    Benchmark,
    CpuMeter,
    add_timing_args,
    apply_timing_args,
    bare_vgg16,
    header,
    info_line,
    interleaved,
    log,
    make_image,
    parser,
    set_threads,
    write_json,
)

SIZES = [(384, 512), (768, 1024)]  # (height, width), as the shared bench
# maniqa (ViT-B/8 on 20 crops) takes ~40 s per image here, longer than the rest together: run it
# on its own with `--models maniqa` rather than inside `make bench`.
FULL = ["dbcnn", "hyperiqa", "musiq", "topiq_nr", "cnniqa", "paq2piq", "nima"]
QUICK = ["cnniqa", "paq2piq", "nima", "dbcnn"]
INSTALL = ("python3 -m venv .venv-peers && .venv-peers/bin/pip install torch==2.14.1 torchvision==0.29.1 && "
           ".venv-peers/bin/pip install pyiqa==0.1.16 'setuptools<81'   (run in the repository root)")


def time_ours(warmup: int, runs: int) -> dict:
    """This process: VGG16 reference (start), LPF on tensors, LPF end to end, VGG16 reference (end)."""
    from lpfiqa.backbones import load_vgg16
    from lpfiqa.features import TokenEncoder
    from lpfiqa.inference import QualityModel
    from lpfiqa.models import LPF, LPFConfig

    torch.manual_seed(0)
    cfg = LPFConfig()
    lpf = LPF(cfg, load_vgg16(out_stages=cfg.stages)).eval()
    qm = QualityModel(lpf.heads, TokenEncoder(cfg.stages, cfg.cell, encoder=lpf.encoder), name="untrained")
    vgg = bare_vgg16()
    out: dict = {"params_lpf": sum(p.numel() for p in lpf.parameters())}
    g = torch.Generator().manual_seed(0)
    xs = {(h, w): torch.rand(1, 3, h, w, generator=g) for h, w in SIZES}
    with tempfile.TemporaryDirectory(prefix="lpfiqa-peers-") as tmp, torch.inference_mode():
        for tag in ("vgg16_ref_start", "lpf", "lpf_e2e", "vgg16_ref_end"):
            for (h, w), x in xs.items():
                log(f"ours: {tag} at {h}x{w}")
                if tag.startswith("vgg16"):
                    fn = functools.partial(vgg, x)
                elif tag == "lpf":
                    fn = functools.partial(lpf, x)
                else:
                    fn = functools.partial(qm.score_files, [make_image(Path(tmp) / f"{w}x{h}.jpg", w, h)])
                out.setdefault(tag, {})[f"{h}x{w}"] = interleaved({tag: fn}, warmup, runs)[tag]
    return out


def peers_python(path: str) -> tuple[str | None, str]:
    """The peers venv's python if it imports torch, torchvision and pyiqa; else (None, why)."""
    if not Path(path).exists():
        return None, f"no peers venv at {path}; create it with: {INSTALL}"
    code = ("import torch, torchvision, pyiqa; "
            "print(torch.__version__, torchvision.__version__, pyiqa.__version__)")
    try:
        p = subprocess.run([path, "-c", code], capture_output=True, text=True, timeout=600)
    except subprocess.TimeoutExpired:
        return None, f"{path}: importing pyiqa timed out"
    if p.returncode != 0:
        why = p.stderr.strip()[-300:]
        return None, f"{path} cannot import torch/torchvision/pyiqa ({why}); reinstall: {INSTALL}"
    return path, p.stdout.strip()


def run_peers(python: str, peers_dir: Path, models: list[str], timeout: float) -> list[dict]:
    """Run the shared bench.py, echoing its progress; return its JSONL records."""
    with tempfile.TemporaryDirectory(prefix="lpfiqa-peers-") as tmp:
        out = Path(tmp) / "peers.jsonl"
        env = {**os.environ, "PEERS_CACHE": os.environ.get("PEERS_CACHE", str(Path(tmp) / "cache"))}
        proc = subprocess.Popen([python, str(peers_dir / "bench.py"), str(out), *models], cwd=peers_dir,
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            for line in proc.stdout:  # type: ignore[union-attr]
                if line.startswith("{"):
                    rec = json.loads(line)
                    times = [f"{k} {v['median_s']:.3f} s" for k, v in rec.items()
                             if isinstance(v, dict) and "median_s" in v]
                    err = f" ERROR {rec['error']}" if "error" in rec else ""
                    log(f"peers: {rec['model']}: {', '.join(times)}{err}")
            proc.wait(timeout=timeout)
        finally:
            if proc.poll() is None:
                proc.kill()
        return [json.loads(s) for s in out.read_text().splitlines() if s.strip()] if out.exists() else []


def combine(ours: dict, recs: list[dict]) -> dict:
    """Per model: s/img, VGG16-normalised time, and LPF / peer with each side's own VGG16."""
    by = {r["model"]: r for r in recs}
    table: dict = {}
    for h, w in SIZES:
        k = f"{h}x{w}"
        ref_ours = statistics.mean(ours[t][k]["median_s"] for t in ("vgg16_ref_start", "vgg16_ref_end"))
        refs = [by[t][k]["median_s"] for t in ("vgg16_features_ref_start", "vgg16_features_ref_end")
                if k in by.get(t, {}) and "median_s" in by[t][k]]
        ref_theirs = statistics.mean(refs) if refs else None
        lpf_norm = ours["lpf"][k]["median_s"] / ref_ours
        for name, r in by.items():
            if name.startswith("vgg16_features_ref"):
                continue
            if not r.get("builds"):
                table[name] = {"params": None, "error": r.get("error")}
                continue
            e = table.setdefault(name, {"params": r.get("params")})
            t = r.get(k, {})
            if "median_s" not in t or not ref_theirs:
                e[k] = {"error": t.get("error", "no time")}
                continue
            norm = t["median_s"] / ref_theirs
            e[k] = {"s_per_img": t["median_s"], "over_vgg16": norm, "lpf_over_peer": lpf_norm / norm,
                    "peak_rss_mb": t.get("peak_rss_mb"), "other_procs_cores": t.get("other_procs_cores")}
        lpf_s = ours["lpf"][k]["median_s"]
        table.setdefault("_vgg16_ref", {})[k] = {"ours_s": ref_ours, "theirs_s": ref_theirs,
                                                 "lpf_over_vgg16": lpf_norm, "lpf_s": lpf_s}
    return table


def main(argv: list[str] | None = None) -> None:
    ap = parser("peers_speed", __doc__)
    ap.add_argument("--quick", action="store_true", help=f"only {' '.join(QUICK)}")
    ap.add_argument("--models", nargs="+", help=f"pyiqa names (default: {' '.join(FULL)})")
    ap.add_argument("--peers-python", default=str(ROOT / PEERS_PYTHON))
    ap.add_argument("--peers-dir", default=os.environ.get("PEERS_DIR", str(ROOT.parent / "shared" / "peers")))
    ap.add_argument("--skip-peers", action="store_true", help="LPF side only")
    ap.add_argument("--timeout", type=float, default=4 * 3600, help="seconds for the peers run")
    add_timing_args(ap, "peers_speed.json", child=False)
    args = ap.parse_args(argv)
    apply_timing_args(args)
    models = args.models or (QUICK if args.quick else FULL)
    set_threads(2)  # the shared bench's protocol
    result = {**header("bench.peers_speed", args), "models": models, "protocol":
              "2 threads, inference mode, 2 warm-ups, 5 runs, median; random (1,3,H,W) input, random weights"}
    # Both checks before our side's minutes of timing: a missing peers folder or venv is reported, not raised.
    bench_py = Path(args.peers_dir) / "bench.py"
    if args.skip_peers:
        python, info = None, "skipped (--skip-peers)"
    elif not bench_py.is_file():
        python, info = None, (f"{bench_py} not found: pass --peers-dir DIR (or set PEERS_DIR) to the shared "
                              f"peers folder that holds bench.py")
    else:
        python, info = peers_python(args.peers_python)
    with CpuMeter() as meter:
        ours = time_ours(warmup=2, runs=5)
    result["ours"] = {**ours, "cpu": meter.record()}
    recs: list[dict] = []
    result["peers_env"] = {"python": python, "info": info}
    if python is None:
        log(f"PEERS NOT RUN: {info}")
    else:
        log(f"peers venv: torch/torchvision/pyiqa {info}")
        log(f"running {args.peers_dir}/bench.py {' '.join(models)}")
        recs = run_peers(python, Path(args.peers_dir), models, args.timeout)
    result["peers_raw"] = recs
    result["table"] = combine(ours, recs)
    others = [v.get("other_procs_cores", 0) for r in recs for v in r.values() if isinstance(v, dict)]
    others += [v["other_procs_cores"] for t in ours.values() if isinstance(t, dict) for v in t.values()]
    result["max_other_procs_cores"] = max(others, default=0.0)
    result["contended"] = result["max_other_procs_cores"] > 0.2
    path = write_json(args.out, result)

    cols = [f"{h}x{w}" for h, w in SIZES]
    print(f"\n{'model':<12} {'params':>11} " + " ".join(f"{c + ' s':>12} {'LPF/peer':>9}" for c in cols))
    ref = result["table"]["_vgg16_ref"]
    print(f"{'LPF':<12} {ours['params_lpf']:>11,} " + " ".join(f"{ref[c]['lpf_s']:12.3f} {'-':>9}"
                                                                 for c in cols))
    for name, e in result["table"].items():
        if name.startswith("_"):
            continue
        cells = [(e.get(c, {}).get("s_per_img"), e.get(c, {}).get("lpf_over_peer")) for c in cols]
        print(f"{name:<12} {e.get('params') or 0:>11,} " + " ".join(
            f"{s:12.3f} {r:9.2f}" if s is not None else f"{'error':>12} {'':>9}" for s, r in cells))
    for c in cols:
        print(f"VGG16 reference {c}: ours {ref[c]['ours_s']:.3f} s, theirs "
              f"{ref[c]['theirs_s'] if ref[c]['theirs_s'] is None else round(ref[c]['theirs_s'], 3)} s")
    if python is None:
        print(f"PEERS NOT RUN: {info}")
    print(("CONTENDED: re-run on a quiet machine. " if result["contended"] else "") + f"wrote {path}")


def render(d: dict) -> str:
    rows = []
    for name, m in d.get("table", {}).items():
        if name.startswith("_"):
            continue
        cells = " | ".join(f"{m[s]['s_per_img']:.3f} | {m[s]['lpf_over_peer']:.2f}" if s in m else "- | -"
                           for s in ("384x512", "768x1024"))
        rows.append(f"| {name} | {m.get('params', 0):,} | {cells} |")
    return f"""{info_line(d)}

s/img of each pyiqa peer (random weights, `.venv-peers`) and LPF/peer time, both normalised by a bare VGG16
timed in the same process (ratios < 1: LPF is faster).

| peer | params | s/img 384x512 | LPF/peer | s/img 768x1024 | LPF/peer |
| --- | --- | --- | --- | --- | --- |
{chr(10).join(rows)}
"""


BENCHMARK = Benchmark("peers_speed", "peers_speed", "Speed against the peers (pyiqa, random weights)", render,
                      ("peers_speed.json",), full=(), quick=("--quick",), needs=(PEERS_PYTHON,))

if __name__ == "__main__":
    main()
