"""Speed and memory of LPF on this machine's CPU: end to end, against a bare VGG16.

Why: LPF's cost is its frozen VGG16, so the fair yardstick is a bare VGG16 forward timed in
the same process on the same input size. Target: LPF end to end (decode a JPEG from disk +
preprocessing + encoder + heads, through the public ``QualityModel.score_files``) within 1.10x
of the bare VGG16 (torchvision layout, PyTorch's default convolution path).

Measured at each size, round-robin in one process (2 threads, inference mode, warm-ups, median):
  lpf_e2e               QualityModel.score_files([jpeg]), as shipped (NNPACK convs where they win)
  lpf_e2e_default_conv  the same with ``encoder.fast_conv = False`` (PyTorch's default convs: "before")
  lpf_encoder           TokenEncoder.grid(tensor): VGG16 + token pooling, no decode, no heads
  vgg16_bare            torchvision-layout VGG16 convs on a (1, 3, H, W) tensor
  decode                lpfiqa.imageio.load_image(jpeg)
plus the machine's fp32 matmul peak (the encoder's GFLOP/s is given against it), the peak RSS of
each configuration in a fresh subprocess (VmHWM), and one huge image (4000x3000, a 12-MP phone photo, by default)
scored through the tiled path in a fresh subprocess: its peak RSS and time.

Usage::

    .venv/bin/python -m bench.speed --quick     # ~2 min on a quiet 2-core machine
    .venv/bin/python -m bench.speed             # full: more runs, 4000x3000 huge image
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import torch

from ._common import (
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
    parse_size,
    parser,
    proc_status_mb,
    reset_peak_rss,
    run_child,
    set_threads,
    untrained_quality_model,
    vgg16_conv_flops,
    write_json,
)

TARGET = 1.10


def matmul_peak(n: int, runs: int) -> dict:
    """fp32 GFLOP/s of an n x n matmul with the current threads: the machine's practical peak."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    res = interleaved({"matmul": lambda: torch.matmul(a, b)}, warmup=1, runs=runs)["matmul"]
    return {"n": n, "gflops_per_s": 2 * n**3 / res["median_s"] / 1e9, **res}


def child(spec: dict) -> dict:
    """Run one configuration once in this fresh process; report its time and peak RSS."""
    set_threads(spec["threads"])
    if spec["what"] == "vgg16_bare":
        net = bare_vgg16()
        x = torch.rand(1, 3, spec["height"], spec["width"])
        fn = lambda: net(x)  # noqa: E731
    else:
        qm = untrained_quality_model(fast_conv=spec["what"] != "lpf_e2e_default_conv")

        def fn() -> None:
            rec = qm.score_files([spec["path"]])[0]
            if not rec.ok:
                raise RuntimeError(rec.error)
    rss0 = proc_status_mb("VmRSS")
    reset_peak_rss()
    t0 = time.perf_counter()
    with torch.inference_mode():
        fn()
    return {"time_s": time.perf_counter() - t0, "rss_before_mb": rss0, "peak_rss_mb": proc_status_mb("VmHWM"),
            "peak_above_loaded_mb": proc_status_mb("VmHWM") - rss0}


def in_subprocess(spec: dict, timeout: float) -> dict:
    """``child(spec)`` in a fresh interpreter, with the CPU other processes used meanwhile."""
    with CpuMeter() as meter:
        out = run_child("speed", spec, timeout)
    return {**out, **meter.record()}


def time_size(width: int, height: int, path: Path, qm, qm_default, bare, warmup: int, runs: int) -> dict:
    from lpfiqa.imageio import load_image

    x = torch.rand(1, 3, height, width, generator=torch.Generator().manual_seed(0))

    def e2e(model) -> None:
        rec = model.score_files([path])[0]
        if not rec.ok:
            raise RuntimeError(rec.error)

    def vgg() -> None:
        with torch.inference_mode():
            bare(x)

    fns = {"lpf_e2e": lambda: e2e(qm), "lpf_e2e_default_conv": lambda: e2e(qm_default), "vgg16_bare": vgg,
           "lpf_encoder": lambda: qm.encoder.grid(x), "decode": lambda: load_image(path)}
    return interleaved(fns, warmup, runs)


def derive(r: dict, width: int, height: int, peak: float) -> dict:
    med = {k: v["median_s"] for k, v in r.items()}
    enc_gflops = vgg16_conv_flops(height, width) / med["lpf_encoder"] / 1e9
    return {
        "images_per_s": {k: 1 / v for k, v in med.items() if k != "decode"},
        "ratio_lpf_e2e_over_vgg16": med["lpf_e2e"] / med["vgg16_bare"],
        "ratio_lpf_e2e_default_conv_over_vgg16": med["lpf_e2e_default_conv"] / med["vgg16_bare"],
        "meets_target": med["lpf_e2e"] / med["vgg16_bare"] <= TARGET,
        "speedup_fast_conv": med["lpf_e2e_default_conv"] / med["lpf_e2e"],
        "decode_share_of_e2e": med["decode"] / med["lpf_e2e"],
        "encoder_effective_gflops_per_s": enc_gflops,
        "encoder_fraction_of_matmul_peak": enc_gflops / peak,
        "vgg16_bare_gflops_per_s": vgg16_conv_flops(height, width) / med["vgg16_bare"] / 1e9,
    }


def main(argv: list[str] | None = None) -> None:
    ap = parser("speed", __doc__)
    ap.add_argument("--quick", action="store_true", help="fewer runs and a 3000x2000 huge image (~2 min)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--sizes", default="512x384,1024x768", help="comma-separated WIDTHxHEIGHT")
    ap.add_argument("--warmup", type=int, help="warm-up rounds (default 2, quick 1)")
    ap.add_argument("--runs", type=int, help="timed rounds (default 7, quick 3)")
    ap.add_argument("--huge", help="huge image WIDTHxHEIGHT for the tiled path (default 4000x3000, quick "
                                   "3000x2000); 'none' skips it")
    ap.add_argument("--no-memory", action="store_true", help="skip the fresh-subprocess peak-RSS runs")
    add_timing_args(ap, "speed.json")
    args = ap.parse_args(argv)
    if apply_timing_args(args, child):
        return
    warmup = args.warmup if args.warmup is not None else (1 if args.quick else 2)
    runs = args.runs or (3 if args.quick else 7)
    huge = args.huge or ("3000x2000" if args.quick else "4000x3000")
    set_threads(args.threads)
    result = {**header("bench.speed", args), "target_ratio": TARGET, "warmup": warmup, "runs": runs}

    log("matmul peak (4096 x 4096 fp32)")
    peak = matmul_peak(4096, max(3, runs // 2))
    result["matmul_peak"] = peak
    log(f"  {peak['gflops_per_s']:.1f} GFLOP/s (other processes {peak['other_procs_cores']} cores)")
    qm, qm_default, bare = untrained_quality_model(True), untrained_quality_model(False), bare_vgg16()
    result["sizes"] = {}
    with tempfile.TemporaryDirectory(prefix="lpfiqa-bench-") as tmp:
        for size in args.sizes.split(","):
            w, h = parse_size(size)
            path = make_image(Path(tmp) / f"img_{w}x{h}.jpg", w, h)
            log(f"{w}x{h}: timing {warmup} warm-up + {runs} rounds of 5 configurations")
            r = time_size(w, h, path, qm, qm_default, bare, warmup, runs)
            entry = {"timings": r, **derive(r, w, h, peak["gflops_per_s"])}
            if not args.no_memory:
                entry["memory"] = {}
                for what in ("lpf_e2e", "lpf_e2e_default_conv", "vgg16_bare"):
                    log(f"{w}x{h}: peak RSS of {what} in a fresh process")
                    spec = {"what": what, "path": str(path), "width": w, "height": h, "threads": args.threads}
                    entry["memory"][what] = in_subprocess(spec, timeout=600)
            result["sizes"][f"{w}x{h}"] = entry
            log(f"  LPF e2e {r['lpf_e2e']['median_s']:.3f} s, bare VGG16 {r['vgg16_bare']['median_s']:.3f} s,"
                f" ratio {entry['ratio_lpf_e2e_over_vgg16']:.3f} (other processes "
                f"{r['lpf_e2e']['other_procs_cores']} cores)")
        if huge != "none":
            w, h = parse_size(huge)
            log(f"huge {w}x{h}: writing the JPEG, then scoring it once in a fresh process (tiled path)")
            path = make_image(Path(tmp) / f"huge_{w}x{h}.jpg", w, h)
            spec = {"what": "lpf_e2e", "path": str(path), "width": w, "height": h, "threads": args.threads}
            result["huge"] = {"size": f"{w}x{h}", "tile": qm.encoder.tile,
                              **in_subprocess(spec, timeout=3600)}
            log(f"  {result['huge']}")
    result["contended"] = any(v["contended"] for e in result["sizes"].values() for v in e["timings"].values())
    path = write_json(args.out, result)

    print(f"\n{'size':>10} {'LPF e2e s':>10} {'before s':>9} {'VGG16 s':>8} {'ratio':>6} {'img/s':>6} "
          f"{'enc GF/s':>9} {'%peak':>6} {'peak RSS MB':>12} {'other cores':>11}")
    for k, e in result["sizes"].items():
        t = e["timings"]
        mem = e.get("memory", {}).get("lpf_e2e", {}).get("peak_rss_mb", float("nan"))
        print(f"{k:>10} {t['lpf_e2e']['median_s']:10.3f} {t['lpf_e2e_default_conv']['median_s']:9.3f} "
              f"{t['vgg16_bare']['median_s']:8.3f} {e['ratio_lpf_e2e_over_vgg16']:6.3f} "
              f"{e['images_per_s']['lpf_e2e']:6.2f} {e['encoder_effective_gflops_per_s']:9.1f} "
              f"{100 * e['encoder_fraction_of_matmul_peak']:5.0f}% {mem:12.0f} "
              f"{t['lpf_e2e']['other_procs_cores']:11.2f}")
    if "huge" in result and "time_s" in result["huge"]:
        hg = result["huge"]
        print(f"huge {hg['size']}: {hg['time_s']:.1f} s, peak RSS {hg['peak_rss_mb']:.0f} MB "
              f"(other processes {hg['other_procs_cores']} cores)")
    print(f"matmul peak {peak['gflops_per_s']:.1f} GFLOP/s; target ratio <= {TARGET}; "
          f"{'CONTENDED: re-run on a quiet machine' if result['contended'] else 'machine quiet'}")
    print(f"wrote {path}")


def render(d: dict) -> str:
    rows = []
    for size, e in d.get("sizes", {}).items():
        t = e["timings"]
        mem = e.get("memory", {}).get("lpf_e2e", {})
        rows.append(f"| {size} | {t['lpf_e2e']['median_s']:.3f} | {t['vgg16_bare']['median_s']:.3f} | "
                    f"{e['ratio_lpf_e2e_over_vgg16']:.3f} | {e['images_per_s']['lpf_e2e']:.2f} | "
                    f"{e['encoder_effective_gflops_per_s']:.1f} | {mem.get('peak_rss_mb', float('nan')):.0f} | "
                    f"{t['lpf_e2e']['other_procs_cores']} |")
    huge = d.get("huge")
    tail = (f"\nHuge image {huge['size']} (tiled, tile {huge['tile']}): {huge['time_s']:.1f} s, peak RSS "
            f"{huge['peak_rss_mb']:.0f} MB ({huge['peak_above_loaded_mb']:.0f} MB above the loaded process; "
            f"other processes used {huge['other_procs_cores']} cores).\n") if huge and "time_s" in huge else ""
    return f"""{info_line(d)}

Matmul peak measured in the same run: {d['matmul_peak']['gflops_per_s']:.1f} GFLOP/s (fp32, 4096^2). Target: LPF end to
end (JPEG decode + preprocessing + encoder + heads) / bare VGG16 convs on the same tensor <= {d['target_ratio']}.

| size | LPF e2e (s) | bare VGG16 (s) | ratio | LPF img/s | encoder GFLOP/s | LPF peak RSS (MB) | other procs (cores) |
| --- | --- | --- | --- | --- | --- | --- | --- |
{chr(10).join(rows)}
{tail}"""


BENCHMARK = Benchmark("speed", "speed", "Speed and memory", render, ("speed.json",), full=(), quick=("--quick",))


if __name__ == "__main__":
    main()
