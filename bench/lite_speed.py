"""LPF-Lite against LPF-VGG16: images per second in both engines, and peak memory.

Why: LPF's cost is its encoder. LPF-Lite swaps VGG16 for MobileNetV2 (``lpfiqa.backbones``);
the issue's target is at least 5x the VGG16 model's images per second at 1024x768 on this CPU.

Measured in one process, round-robin (2 threads, inference mode, warm-ups, median), at each size:
  lpf_e2e, lite_e2e             ``QualityModel.score_files([jpeg])`` of the bundled models (decode + encoder + heads)
  lpf_onnx_e2e, lite_onnx_e2e   the same through ONNX Runtime (``lpfiqa score --engine onnx``: the exported graph)
  lpf, lite                     the ``LPF`` module on a (1, 3, H, W) tensor
plus each model's peak RSS scoring one JPEG in a fresh subprocess (PyTorch engine).

Against the pyiqa peers, timed in the same run as they are: ``bench.peers_speed``.

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
    header,
    info_line,
    interleaved,
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


def child(spec: dict) -> dict:
    """Fresh process: peak RSS of scoring one JPEG of the given size with the given bundled model."""
    import lpfiqa

    set_threads(spec["threads"])
    model = lpfiqa.create_model(spec["model"])
    with tempfile.TemporaryDirectory() as tmp:
        path = make_image(Path(tmp) / "x.jpg", spec["width"], spec["height"])
        model.score_files([path])
    return {"peak_rss_mb": proc_status_mb("VmHWM")}


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
    onnx = onnx_scorers(args.threads)
    g = torch.Generator().manual_seed(0)
    res: dict = {}
    with tempfile.TemporaryDirectory(prefix="lpfiqa-lite-") as tmp, torch.inference_mode():
        for h, w in SIZES:
            x = torch.rand(1, 3, h, w, generator=g)
            jpeg = make_image(Path(tmp) / f"{w}x{h}.jpg", w, h)
            fns = {}
            for tag in MODELS:
                fns[tag] = functools.partial(modules[tag], x)
                fns[tag + "_e2e"] = functools.partial(scorers[tag].score_files, [jpeg])
                if tag in onnx:
                    fns[tag + "_onnx_e2e"] = functools.partial(onnx[tag].score_files, [jpeg])
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
    speedup = {engine: {size: res[f"lpf{sfx}_e2e"][size]["median_s"] / res[f"lite{sfx}_e2e"][size]["median_s"]
                        for size in res["lpf_e2e"]}
               for engine, sfx in (("torch", ""), ("onnx", "_onnx")) if f"lite{sfx}_e2e" in res}
    at = f"{SIZES[-1][0]}x{SIZES[-1][1]}"
    data = {**header("bench.lite_speed", args), "models": MODELS, "times": res, "peak_rss_mb": memory,
            "params": params, "speedup_e2e": speedup["torch"], "speedup_e2e_by_engine": speedup,
            "onnx": "onnxruntime " + onnx_version() if onnx else "not installed",
            "target_speedup": TARGET_SPEEDUP, "target_met": speedup["torch"][at] >= TARGET_SPEEDUP}
    path = write_json(args.out, data)
    for engine, by_size in speedup.items():
        for size, x in by_size.items():
            sfx = "" if engine == "torch" else "_onnx"
            log(f"{engine} {size}: LPF-VGG16 {res[f'lpf{sfx}_e2e'][size]['median_s']:.3f} s/img, LPF-Lite "
                f"{res[f'lite{sfx}_e2e'][size]['median_s']:.3f} s/img end to end: {x:.1f}x")
    log(f"wrote {path}")


def onnx_scorers(threads: int) -> dict:
    """Each model in ONNX Runtime (exported once into the cache), or {} without onnxruntime and onnx."""
    import lpfiqa
    from lpfiqa.errors import ConfigError

    try:
        return {tag: lpfiqa.create_model(name, engine="onnx", threads=threads) for tag, name in MODELS.items()}
    except ConfigError as e:  # the dev extras install both; a bare install times PyTorch only
        log(f"timing the PyTorch engine only: {e}")
        return {}


def onnx_version() -> str:
    import onnxruntime

    return onnxruntime.__version__


def render(d: dict) -> str:
    t, m = d["times"], d["peak_rss_mb"]
    by_engine = d.get("speedup_e2e_by_engine", {"torch": d["speedup_e2e"]})
    rows = []
    for engine, speedup in by_engine.items():
        sfx = "" if engine == "torch" else "_onnx"
        name = "PyTorch" if engine == "torch" else "ONNX Runtime"
        for size, x in speedup.items():
            lpf, lite = t[f"lpf{sfx}_e2e"][size]["median_s"], t[f"lite{sfx}_e2e"][size]["median_s"]
            mem = f"{m['lpf'][size]:.0f} | {m['lite'][size]:.0f}" if engine == "torch" else "- | -"
            rows.append(f"| {name} | {size} | {lpf:.3f} | {lite:.3f} | {x:.1f}x | {1 / lite:.1f} | {mem} |")
    p = d["params"]
    return f"""{info_line(d)}

LPF-Lite (`{d['models']['lite']}`, MobileNetV2) against LPF (`{d['models']['lpf']}`, VGG16), end to end from a JPEG
(median s per image) in each engine: PyTorch (`QualityModel.score_files`) and ONNX Runtime (`--engine onnx`,
{d.get('onnx', 'not timed')}); peak RSS scoring one JPEG in a fresh process (PyTorch).
Parameters: LPF {p['lpf']['total']:,} ({p['lpf']['encoder']:,} in the encoder), LPF-Lite {p['lite']['total']:,}
({p['lite']['encoder']:,}). Target: {d['target_speedup']:.0f}x at 1024x768 in PyTorch: **{'met' if d['target_met'] else 'not met'}**.
Against the pyiqa peers, timed in the same run as they are: "Speed against the peers" above.

| engine | size (HxW) | LPF s/img | LPF-Lite s/img | speed-up | LPF-Lite img/s | LPF peak MB | LPF-Lite peak MB |
| --- | --- | --- | --- | --- | --- | --- | --- |
{chr(10).join(rows)}
"""


BENCHMARK = Benchmark("lite_speed", "lite_speed", "LPF-Lite: speed, memory and the peers", render,
                      ("lite_speed.json",), full=(), quick=("--quick",),
                      needs=("src/lpfiqa/weights/lpf-lite-v1/model.safetensors",))

if __name__ == "__main__":
    main()
