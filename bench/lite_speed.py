"""LPF-Lite against LPF-VGG16: images per second, peak memory, and where it stands among the pyiqa peers.

Why: LPF's cost is its encoder. LPF-Lite swaps VGG16 for MobileNetV2 (``lpfiqa.backbones``);
the issue's targets are at least 5x the VGG16 model's images per second at 1024x768 on this CPU,
and faster than every pyiqa deep NR peer above 5M parameters.

Measured in one process, round-robin (2 threads, inference mode, warm-ups, median), at each size:
  lpf_e2e, lite_e2e   ``QualityModel.score_files([jpeg])`` of the bundled models (decode + encoder + heads)
  lpf, lite           the ``LPF`` module on a (1, 3, H, W) tensor (the peers' protocol)
  vgg16_ref           a bare torchvision-layout VGG16 on the same tensor (the peers' yardstick)
plus each model's peak RSS scoring one JPEG in a fresh subprocess.

The peers run in their own venv (``bench.peers_speed``; their figures are in
``bench/results/peers_speed.json``): each side is normalised by the VGG16 timed in its own
process, as ``bench.peers_speed`` does, so ``lite_over_peer = (lite / vgg16_ours) / (peer / vgg16_theirs)``
compares LPF-Lite with the peers from the stored peer run (below 1: LPF-Lite is faster).

Usage::

    .venv/bin/python -m bench.lite_speed --quick     # fewer runs
    .venv/bin/python -m bench.lite_speed
"""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path

import torch

from ._common import (
    Benchmark,
    add_timing_args,
    apply_timing_args,
    bare_vgg16,
    header,
    info_line,
    interleaved,
    load,
    log,
    make_image,
    parser,
    proc_status_mb,
    run_child,
    set_threads,
    write_json,
)

SIZES = ((384, 512), (768, 1024))  # (H, W): the peers' sizes
MODELS = {"lpf": "lpf-synth-v4", "lite": "lpf-lite-v1"}
TARGET_SPEEDUP = 5.0
PEER_MIN_PARAMS = 5_000_000


def child(spec: dict) -> dict:
    """Fresh process: peak RSS of scoring one JPEG of the given size with the given bundled model."""
    import lpfiqa

    set_threads(spec["threads"])
    model = lpfiqa.create_model(spec["model"])
    with tempfile.TemporaryDirectory() as tmp:
        path = make_image(Path(tmp) / "x.jpg", spec["width"], spec["height"])
        model.score_files([path])
    return {"peak_rss_mb": proc_status_mb("VmHWM")}


def peer_comparison(ours: dict, peers: dict | None) -> dict:
    """LPF-Lite (and LPF) over each stored peer, both normalised by their own process's VGG16."""
    out: dict = {}
    if not peers:
        return out
    for name, rec in peers.get("table", {}).items():
        if name.startswith("_"):  # the stored run's own reference rows
            continue
        e = {"params": rec.get("params")}
        for size, t in rec.items():
            if not isinstance(t, dict) or size not in ours["vgg16_ref"] or not t.get("over_vgg16"):
                continue  # another field, or a size the peer did not run
            ref = ours["vgg16_ref"][size]["median_s"]
            e[size] = {tag + "_over_peer": (ours[tag][size]["median_s"] / ref) / t["over_vgg16"] for tag in MODELS}
        out[name] = e
    return out


def main(argv: list[str] | None = None) -> None:
    ap = parser("lite_speed", __doc__)
    ap.add_argument("--quick", action="store_true", help="3 runs instead of 7")
    ap.add_argument("--threads", type=int, default=2)
    add_timing_args(ap, "lite_speed.json")
    args = ap.parse_args(argv)
    if apply_timing_args(args, child):
        return
    import lpfiqa

    set_threads(args.threads)
    runs, warmup = (3, 1) if args.quick else (7, 2)
    torch.manual_seed(0)
    scorers = {tag: lpfiqa.create_model(name) for tag, name in MODELS.items()}
    modules = {tag: m.model for tag, m in scorers.items()}  # the LPF module each scorer wraps
    vgg = bare_vgg16()
    g = torch.Generator().manual_seed(0)
    res: dict = {}
    with tempfile.TemporaryDirectory(prefix="lpfiqa-lite-") as tmp, torch.inference_mode():
        for h, w in SIZES:
            x = torch.rand(1, 3, h, w, generator=g)
            jpeg = make_image(Path(tmp) / f"{w}x{h}.jpg", w, h)
            fns = {"vgg16_ref": functools.partial(vgg, x)}
            for tag in MODELS:
                fns[tag] = functools.partial(modules[tag], x)
                fns[tag + "_e2e"] = functools.partial(scorers[tag].score_files, [jpeg])
            log(f"timing at {w}x{h}: {', '.join(fns)}")
            for tag, t in interleaved(fns, warmup, runs).items():
                res.setdefault(tag, {})[f"{h}x{w}"] = t
    memory = {}
    for tag, name in MODELS.items():
        for h, w in SIZES:
            spec = {"model": name, "width": w, "height": h, "threads": args.threads}
            memory.setdefault(tag, {})[f"{h}x{w}"] = run_child("lite_speed", spec, timeout=600).get("peak_rss_mb")
    params = {tag: {"total": sum(p.numel() for p in m.parameters()),
                    "encoder": sum(p.numel() for p in m.encoder.parameters())} for tag, m in modules.items()}
    speedup = {size: res["lpf_e2e"][size]["median_s"] / res["lite_e2e"][size]["median_s"] for size in res["lpf_e2e"]}
    peers = peer_comparison(res, load("peers_speed"))
    big = [n for n, e in peers.items() if (e.get("params") or 0) > PEER_MIN_PARAMS]
    at = f"{SIZES[-1][0]}x{SIZES[-1][1]}"
    slower_than = [n for n in big if at in peers[n] and peers[n][at]["lite_over_peer"] >= 1]
    data = {**header("bench.lite_speed", args), "models": MODELS, "times": res, "peak_rss_mb": memory,
            "params": params, "speedup_e2e": speedup, "target_speedup": TARGET_SPEEDUP,
            "target_met": speedup[at] >= TARGET_SPEEDUP, "peers": peers, "peers_above_5m": big,
            "lite_slower_than_peers_above_5m_at_1024x768": slower_than,
            "peers_source": "bench/results/peers_speed.json (their own run, normalised by its VGG16)"}
    path = write_json(args.out, data)
    for size in speedup:
        log(f"{size}: LPF-VGG16 {res['lpf_e2e'][size]['median_s']:.3f} s/img, LPF-Lite "
            f"{res['lite_e2e'][size]['median_s']:.3f} s/img end to end: {speedup[size]:.1f}x")
    log(f"peers above 5M parameters LPF-Lite is not faster than at {at}: {slower_than or 'none'}; wrote {path}")


def render(d: dict) -> str:
    t, m = d["times"], d["peak_rss_mb"]
    rows = "\n".join(
        f"| {size} | {t['lpf_e2e'][size]['median_s']:.3f} | {t['lite_e2e'][size]['median_s']:.3f} | "
        f"{d['speedup_e2e'][size]:.1f}x | {1 / t['lite_e2e'][size]['median_s']:.1f} | "
        f"{m['lpf'][size]:.0f} | {m['lite'][size]:.0f} |" for size in d["speedup_e2e"])
    peer_rows = "\n".join(
        f"| {n} | {e['params'] / 1e6:.1f}M | " + " | ".join(
            f"{e[s]['lpf_over_peer']:.2f} | {e[s]['lite_over_peer']:.2f}" if s in e else "- | -"
            for s in d["speedup_e2e"]) + " |" for n, e in d["peers"].items())
    p = d["params"]
    return f"""{info_line(d)}

LPF-Lite (`{d['models']['lite']}`, MobileNetV2) against LPF (`{d['models']['lpf']}`, VGG16), end to end from a JPEG
through `QualityModel.score_files` (median s per image), and each one's peak RSS scoring one JPEG in a fresh process.
Parameters: LPF {p['lpf']['total']:,} ({p['lpf']['encoder']:,} in the encoder), LPF-Lite {p['lite']['total']:,}
({p['lite']['encoder']:,}). Target: {d['target_speedup']:.0f}x at 1024x768: **{'met' if d['target_met'] else 'not met'}**.

| size (HxW) | LPF s/img | LPF-Lite s/img | speed-up | LPF-Lite img/s | LPF peak MB | LPF-Lite peak MB |
| --- | --- | --- | --- | --- | --- | --- |
{rows}

Against the pyiqa peers (random weights; their times from `bench/results/peers_speed.json`, each side normalised by
the VGG16 timed in its own process; below 1 = ours is faster). Peers above 5M parameters that LPF-Lite is not faster
than at 1024x768: **{', '.join(d['lite_slower_than_peers_above_5m_at_1024x768']) or 'none'}**.

| peer | params | LPF / peer 384x512 | LPF-Lite / peer 384x512 | LPF / peer 768x1024 | LPF-Lite / peer 768x1024 |
| --- | --- | --- | --- | --- | --- |
{peer_rows}
"""


BENCHMARK = Benchmark("lite_speed", "lite_speed", "LPF-Lite: speed, memory and the peers", render,
                      ("lite_speed.json",), full=(), quick=("--quick",),
                      needs=("src/lpfiqa/weights/lpf-lite-v1/model.safetensors",))

if __name__ == "__main__":
    main()
