"""LPF's speed against the pyiqa no-reference peers, normalised by a VGG16 timed in each process.

Why: peers live in their own benchmark-only venv (``.venv-peers``: pyiqa needs torchvision and
another torch), so their timings come from another process, on another torch, at another
moment on a machine that drifts ~20% between processes. Each side therefore times a bare VGG16
(torchvision's ``vgg16().features``, default conv path) at the start and end of its own process,
and the comparison is ``(LPF / VGG16_ours) / (peer / VGG16_theirs)``: below 1, LPF is faster.

The peers side is ``/work/shared/peers/bench.py`` (not copied here), run with the peers venv's
python: random weights, 2 threads, inference mode, 2 warm-ups, 5 runs, median, on random
(1, 3, 384, 512) and (1, 3, 768, 1024) tensors. This side repeats that protocol, in the same run, for
the bundled LPF (``lpf-synth-v4``, VGG16) and LPF-Lite (``lpf-lite-v1``, MobileNetV2) modules on the
same tensors (PyTorch, the peers' own runtime), for LPF-Lite's exported graph in ONNX Runtime (what
``lpfiqa score --engine onnx`` runs; pyiqa has no such engine, so that column is ours only), and,
for information, end to end from a JPEG. If the peers venv is missing, our side still runs and the
file says what to install.

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
# Peers also timed in ONNX Runtime (bench/peers_onnx.py), when the peers venv has it: all that export.
ONNX_PEERS = ("dbcnn", "hyperiqa", "musiq", "topiq_nr", "paq2piq", "nima")
ONNX_INSTALL = ".venv-peers/bin/pip install onnxruntime==1.31.1 onnx==1.23.2"
INSTALL = ("python3 -m venv .venv-peers && .venv-peers/bin/pip install torch==2.14.1 torchvision==0.29.1 && "
           ".venv-peers/bin/pip install pyiqa==0.1.16 'setuptools<81'   (run in the repository root)")


# Our rows: (tag, bundled model, engine). "onnx" runs the exported graph in ONNX Runtime.
OURS = (("lpf", "lpf-synth-v4", "torch"), ("lite", "lpf-lite-v1", "torch"), ("lite_onnx", "lpf-lite-v1", "onnx"))
LABELS = {"lpf": "LPF", "lite": "LPF-Lite", "lite_onnx": "LPF-Lite, ONNX Runtime",
          "lite_onnx_vs_peers_onnx": "LPF-Lite, ONNX Runtime, against the peers in ONNX Runtime"}
PEER_MIN_PARAMS = 5_000_000  # the issue's "deep NR peers above 5M parameters"


def time_ours(warmup: int, runs: int, threads: int = 2) -> dict:
    """This process: VGG16 reference (start), our rows on tensors and end to end, VGG16 reference (end)."""
    import lpfiqa
    from lpfiqa.errors import ConfigError

    torch.manual_seed(0)
    scorers: dict = {}
    out: dict = {"models": {tag: f"{name} ({engine})" for tag, name, engine in OURS}}
    for tag, name, engine in OURS:
        try:
            scorers[tag] = lpfiqa.create_model(name, engine=engine, threads=threads)
        except ConfigError as e:  # onnxruntime or onnx not installed: that row only is skipped
            log(f"ours: {tag} skipped: {e}")
            out.setdefault("skipped", {})[tag] = str(e)
    out["params"] = {tag: sum(p.numel() for p in scorers[tag].model.parameters())
                     for tag, _, engine in OURS if engine == "torch"}
    out["params_lpf"] = out["params"]["lpf"]
    vgg = bare_vgg16()
    g = torch.Generator().manual_seed(0)
    xs = {(h, w): torch.rand(1, 3, h, w, generator=g) for h, w in SIZES}
    tags = ["vgg16_ref_start", *scorers, *(f"{t}_e2e" for t in scorers), "vgg16_ref_end"]
    with tempfile.TemporaryDirectory(prefix="lpfiqa-peers-") as tmp, torch.inference_mode():
        for tag in tags:
            for (h, w), x in xs.items():
                log(f"ours: {tag} at {h}x{w}")
                if tag.startswith("vgg16"):
                    fn = functools.partial(vgg, x)
                elif tag.endswith("_e2e"):
                    fn = functools.partial(scorers[tag[:-4]].score_files, [make_image(Path(tmp) / f"{w}x{h}.jpg", w, h)])
                elif scorers[tag].engine == "onnx":  # the graph on the same tensor, no decoding
                    fn = functools.partial(scorers[tag].session.run, None, {"image": x.numpy()})
                else:
                    fn = functools.partial(scorers[tag].model, x)
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


def run_peers(python: str, peers_dir: Path, models: list[str], timeout: float,
              module: str | None = None) -> list[dict]:
    """Run the shared bench.py (or ``module`` from the repository root: bench.peers_onnx), echoing its progress;
    return its JSONL records."""
    with tempfile.TemporaryDirectory(prefix="lpfiqa-peers-") as tmp:
        out = Path(tmp) / "peers.jsonl"
        env = {**os.environ, "PEERS_CACHE": os.environ.get("PEERS_CACHE", str(Path(tmp) / "cache"))}
        cmd, cwd = (([python, str(peers_dir / "bench.py"), str(out), *models], peers_dir) if module is None else
                    ([python, "-m", module, str(out), *models, "--peers-dir", str(peers_dir)], ROOT))
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            for line in proc.stdout:  # type: ignore[union-attr]
                if line.startswith("{"):
                    rec = json.loads(line)
                    times = [f"{k} {v['median_s']:.3f} s" for k, v in rec.items()
                             if isinstance(v, dict) and "median_s" in v]
                    err = f" ERROR {rec['error']}" if "error" in rec else ""
                    log(f"peers{' (ONNX Runtime)' if module else ''}: {rec['model']}: {', '.join(times)}{err}")
            proc.wait(timeout=timeout)
        finally:
            if proc.poll() is None:
                proc.kill()
        return [json.loads(s) for s in out.read_text().splitlines() if s.strip()] if out.exists() else []


def has_onnxruntime(python: str) -> bool:
    """Whether the peers venv can run bench/peers_onnx.py (onnxruntime and onnx installed there)."""
    p = subprocess.run([python, "-c", "import onnxruntime, onnx"], capture_output=True, timeout=300)
    return p.returncode == 0


def combine(ours: dict, recs: list[dict]) -> dict:
    """Per model: s/img, VGG16-normalised time, and each of our rows / peer with each side's own VGG16."""
    by = {r["model"]: r for r in recs}
    mine = [tag for tag, _, _ in OURS if tag in ours]
    table: dict = {}
    for h, w in SIZES:
        k = f"{h}x{w}"
        ref_ours = statistics.mean(ours[t][k]["median_s"] for t in ("vgg16_ref_start", "vgg16_ref_end"))
        refs = [by[t][k]["median_s"] for t in ("vgg16_features_ref_start", "vgg16_features_ref_end")
                if k in by.get(t, {}) and "median_s" in by[t][k]]
        ref_theirs = statistics.mean(refs) if refs else None
        norm_ours = {tag: ours[tag][k]["median_s"] / ref_ours for tag in mine}
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
            e[k] = {"s_per_img": t["median_s"], "over_vgg16": norm,
                    **{f"{tag}_over_peer": v / norm for tag, v in norm_ours.items()},
                    "peak_rss_mb": t.get("peak_rss_mb"), "other_procs_cores": t.get("other_procs_cores")}
        table.setdefault("_vgg16_ref", {})[k] = {"ours_s": ref_ours, "theirs_s": ref_theirs,
                                                 **{f"{tag}_over_vgg16": v for tag, v in norm_ours.items()},
                                                 **{f"{tag}_s": ours[tag][k]["median_s"] for tag in mine}}
    return table


def slower_than(table: dict, tag: str, size: str = "768x1024") -> list[str] | None:
    """Peers above 5M parameters that our row ``tag`` is not faster than at ``size`` (None: not timed).

    Only peers timed at ``size`` count; one without a time there (e.g. not exported) is not listed.
    """
    rows = {n: e[size] for n, e in table.items() if not n.startswith("_") and isinstance(e.get(size), dict)
            and f"{tag}_over_peer" in e[size]}
    if not rows:
        return None
    return [n for n, r in rows.items() if (table[n].get("params") or 0) > PEER_MIN_PARAMS
            and r[f"{tag}_over_peer"] >= 1]


def main(argv: list[str] | None = None) -> None:
    ap = parser("peers_speed", __doc__)
    ap.add_argument("--quick", action="store_true", help=f"only {' '.join(QUICK)}")
    ap.add_argument("--models", nargs="+", help=f"pyiqa names (default: {' '.join(FULL)})")
    ap.add_argument("--peers-python", default=str(ROOT / PEERS_PYTHON))
    ap.add_argument("--peers-dir", default=os.environ.get("PEERS_DIR", str(ROOT.parent / "shared" / "peers")))
    ap.add_argument("--skip-peers", action="store_true", help="LPF side only")
    ap.add_argument("--no-peers-onnx", action="store_true", help="do not also time the peers in ONNX Runtime")
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
    onnx_recs: list[dict] = []
    if python is not None and not args.no_peers_onnx:
        if has_onnxruntime(python):
            onnx_models = [m for m in ONNX_PEERS if m in models]
            log(f"running bench.peers_onnx {' '.join(onnx_models)} (the peers in ONNX Runtime)")
            onnx_recs = run_peers(python, Path(args.peers_dir), onnx_models, args.timeout, "bench.peers_onnx")
        else:
            log(f"peers in ONNX Runtime not timed: {python} lacks onnxruntime ({ONNX_INSTALL})")
    result["peers_raw"] = recs
    result["peers_onnx_raw"] = onnx_recs
    result["table"] = table = combine(ours, recs)
    result["table_onnx"] = combine(ours, onnx_recs) if onnx_recs else {}
    result["slower_than_peers_above_5m_at_1024x768"] = {tag: slower_than(table, tag) for tag, _, _ in OURS}
    if onnx_recs:  # LPF-Lite in ONNX Runtime against the peers in ONNX Runtime
        result["slower_than_peers_above_5m_at_1024x768"]["lite_onnx_vs_peers_onnx"] = slower_than(
            result["table_onnx"], "lite_onnx")
    timed = [t for t in ours.values() if isinstance(t, dict) and all(isinstance(v, dict) for v in t.values())]
    others = [v.get("other_procs_cores", 0) for r in recs + onnx_recs for v in r.values() if isinstance(v, dict)]
    others += [v.get("other_procs_cores", 0) for t in timed for v in t.values()]
    result["max_other_procs_cores"] = max(others, default=0.0)
    result["contended"] = result["max_other_procs_cores"] > 0.2
    path = write_json(args.out, result)

    mine = [tag for tag, _, _ in OURS if tag in ours]
    cols = [f"{h}x{w}" for h, w in SIZES]
    print(f"\n{'model':<24} {'params':>11} " + " ".join(f"{c + ' s':>14}" for c in cols)
          + "   ours / peer at 768x1024: " + ", ".join(LABELS[t] for t in mine))
    ref = table["_vgg16_ref"]
    for tag in mine:
        print(f"{LABELS[tag]:<24} {ours['params'].get(tag.split('_')[0], 0):>11,} "
              + " ".join(f"{ref[c][tag + '_s']:14.3f}" for c in cols))
    for name, e in table.items():
        if name.startswith("_"):
            continue
        cells = [e.get(c, {}).get("s_per_img") for c in cols]
        ratios = [e.get(cols[-1], {}).get(f"{tag}_over_peer") for tag in mine]
        print(f"{name:<24} {e.get('params') or 0:>11,} "
              + " ".join(f"{s:14.3f}" if s is not None else f"{'error':>14}" for s in cells)
              + "   " + ", ".join("-" if r is None else f"{r:.2f}" for r in ratios))
    for c in cols:
        print(f"VGG16 reference {c}: ours {ref[c]['ours_s']:.3f} s, theirs "
              f"{ref[c]['theirs_s'] if ref[c]['theirs_s'] is None else round(ref[c]['theirs_s'], 3)} s")
    for tag, names in result["slower_than_peers_above_5m_at_1024x768"].items():
        if names is not None:
            print(f"{LABELS[tag]}: peers above 5M parameters it is not faster than at 1024x768: {names or 'none'}")
    if python is None:
        print(f"PEERS NOT RUN: {info}")
    print(("CONTENDED: re-run on a quiet machine. " if result["contended"] else "") + f"wrote {path}")


def render(d: dict) -> str:
    sizes = ("384x512", "768x1024")
    # Files written before LPF-Lite was timed in the same run hold only the LPF column.
    mine = [tag for tag, _, _ in OURS if any(f"{tag}_over_peer" in m.get(s, {}) for m in d.get("table", {}).values()
                                              if isinstance(m, dict) for s in sizes)]
    rows = []
    for name, m in d.get("table", {}).items():
        if name.startswith("_"):
            continue
        cells = " | ".join(f"{m[s]['s_per_img']:.3f} | " + " | ".join(f"{m[s][f'{t}_over_peer']:.2f}" for t in mine)
                           if "s_per_img" in m.get(s, {}) else " | ".join(["-"] * (1 + len(mine))) for s in sizes)
        rows.append(f"| {name} | {m.get('params') or 0:,} | {cells} |")
    ref = d.get("table", {}).get("_vgg16_ref", {})
    own = "\n".join(f"| {LABELS[t]} | " + " | ".join(f"{ref[s][t + '_s']:.3f}" if t + "_s" in ref.get(s, {}) else "-"
                                                       for s in sizes) + " |" for t in mine)
    heads = " | ".join(f"{LABELS[t]}/peer" for t in mine)
    ncols = 2 + 2 * (1 + len(mine))
    slow = d.get("slower_than_peers_above_5m_at_1024x768", {})
    verdict = "\n".join(f"- {LABELS[t]}: " + (", ".join(slow[t]) if slow[t] else "none")
                         for t in LABELS if slow.get(t) is not None)
    return f"""{info_line(d)}

s/img of each pyiqa peer (random weights, `.venv-peers`) and ours/peer time, both normalised by a bare VGG16
timed in the same process (ratios < 1: ours is faster). Ours, timed in the same run: LPF (`lpf-synth-v4`) and
LPF-Lite (`lpf-lite-v1`) in PyTorch, the peers' own runtime, and LPF-Lite's exported graph in ONNX Runtime
(`lpfiqa score --engine onnx`; pyiqa has no such engine, so that column compares runtimes as users get them).

| peer | params | s/img 384x512 | {heads} | s/img 768x1024 | {heads} |
| {' | '.join(['---'] * ncols)} |
{chr(10).join(rows)}

Our own s/img on the same tensors (median):

| model | 384x512 | 768x1024 |
| --- | --- | --- |
{own}

{render_onnx(d)}
Peers above 5M parameters each of ours is not faster than at 1024x768:
{verdict or '- (not recorded in this file)'}
"""


def render_onnx(d: dict) -> str:
    """The peers in ONNX Runtime (bench/peers_onnx.py) against LPF-Lite in ONNX Runtime; empty if not run."""
    table = d.get("table_onnx") or {}
    raw = {r["model"]: r for r in d.get("peers_onnx_raw", [])}
    rows = []
    for name, m in table.items():
        if name.startswith("_"):
            continue
        cells = []
        for s in ("384x512", "768x1024"):
            t = m.get(s, {})
            err = raw.get(name, {}).get(s, {}).get("error") or m.get("error")
            cells.append(f"{t['s_per_img']:.3f} | {t['lite_onnx_over_peer']:.2f}" if "s_per_img" in t
                         else f"not exported ({(err or 'no time').split(':')[0]}) | -")
        diffs = [raw.get(name, {}).get(s, {}).get("max_abs_diff") for s in ("384x512", "768x1024")]
        diffs = [x for x in diffs if x is not None]
        diff = f"{max(diffs):.1e}" if diffs else "-"
        rows.append(f"| {name} | {m.get('params') or 0:,} | {' | '.join(cells)} | {diff} |")
    if not rows:
        return ""
    return f"""
The peers in ONNX Runtime too (`bench/peers_onnx.py` in `.venv-peers`: each peer's network exported per size with
`torch.onnx`; NIMA's resize and centre crop stay in PyTorch), against LPF-Lite in ONNX Runtime, normalised the same way:

| peer | params | ORT s/img 384x512 | LPF-Lite ORT/peer ORT | ORT s/img 768x1024 | LPF-Lite ORT/peer ORT | graph vs PyTorch, max abs diff |
| --- | --- | --- | --- | --- | --- | --- |
{chr(10).join(rows)}
"""


BENCHMARK = Benchmark("peers_speed", "peers_speed", "Speed against the peers (pyiqa, random weights)", render,
                      ("peers_speed.json",), full=(), quick=("--quick",), needs=(PEERS_PYTHON,))

if __name__ == "__main__":
    main()
