"""A/B measurements of the speed ideas for LPF scoring on CPU: what each one is worth here.

Why: the issue lists "threads, channels_last, inference mode, batching of equal-size images,
fused pre-processing, ONNX Runtime if it wins"; we keep only what wins, so each idea is timed
against its baseline in the same process, round-robin, with the CPU use of other processes
recorded (contended figures are flagged). NNPACK vs PyTorch's default convolution, the idea we
kept, is in ``bench/speed.py`` (``speedup_fast_conv``); ONNX Runtime in ``bench/ort_check.py``.

Experiments (at 512x384 unless said; 2 threads; medians):
  channels_last   PyTorch's default conv path (bare VGG16), NCHW vs channels_last model and input
  mkldnn_off      default-conv encoder, oneDNN on vs off (``torch.backends.mkldnn.flags``)
  grad_mode       shipped encoder under torch.inference_mode vs no_grad vs grad enabled
  batching        4 equal-size images: one ``score([4 images])`` call vs 4 ``score`` calls, with
                  NNPACK (batches are split) and with the default conv path (truly batched)
  preprocess      share of the BGR reorder/scale/mean step and of the crop copy in the encoder time
  decode          ``load_image`` of JPEG and PNG vs the end-to-end time, at 512x384 and 1024x768
  threads         end to end with 1 vs 2 threads (fresh processes: NNPACK sizes its pool once)

Usage::

    .venv/bin/python -m bench.ideas --quick      # -> bench/results/ideas.json
"""

from __future__ import annotations

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
    log,
    make_image,
    parser,
    run_child,
    set_threads,
    untrained_quality_model,
    write_json,
)


def ab(fns: dict, warmup: int, runs: int) -> dict:
    """Time round-robin; add each entry's time relative to the first (the baseline)."""
    r = interleaved(fns, warmup, runs)
    base = next(iter(r.values()))["median_s"]
    for v in r.values():
        v["relative_to_baseline"] = v["median_s"] / base
    return r


def exp_channels_last(x, warmup, runs):
    """On PyTorch's default conv path (a bare VGG16: lpfiqa's fallback path is channels_last now)."""
    nchw, cl = bare_vgg16(), bare_vgg16().to(memory_format=torch.channels_last)
    xc = x.contiguous(memory_format=torch.channels_last)
    with torch.inference_mode():
        return ab({"nchw": lambda: nchw(x), "channels_last": lambda: cl(xc)}, warmup, runs)


def exp_mkldnn_off(x, warmup, runs):
    from lpfiqa.backbones import load_vgg16

    net = load_vgg16()
    net.fast_conv = False

    def off():
        with torch.backends.mkldnn.flags(enabled=False):
            net(x)
    with torch.inference_mode():
        return ab({"mkldnn_on": lambda: net(x), "mkldnn_off": off}, warmup, runs)


def exp_grad_mode(x, warmup, runs):
    net = untrained_quality_model().encoder.encoder

    def run(ctx):
        with ctx():
            net(x)
    return ab({"inference_mode": lambda: run(torch.inference_mode), "no_grad": lambda: run(torch.no_grad),
               "grad_enabled": lambda: run(torch.enable_grad)}, warmup, runs)


def exp_batching(x, warmup, runs):
    imgs = [x[0] * (0.9 + 0.02 * i) for i in range(4)]
    out = {}
    for fast in (True, False):
        qm = untrained_quality_model(fast)
        tag = "nnpack" if fast else "default_conv"
        out[tag] = ab({"one_at_a_time": lambda qm=qm: [qm.score(i) for i in imgs],
                       "batched_4": lambda qm=qm: qm.score(imgs)}, warmup, runs)
    return out


def exp_preprocess(x, warmup, runs):
    from lpfiqa.features import center_crop_to_cell

    qm = untrained_quality_model()
    net = qm.encoder.encoder
    odd = torch.rand(3, x.shape[-2] + 17, x.shape[-1] + 13)  # an image that needs cropping
    with torch.inference_mode():
        r = ab({"encoder_grid": lambda: qm.encoder.grid(x), "preprocess": lambda: net.preprocess(x),
                "crop_and_stack_copy": lambda: torch.stack([center_crop_to_cell(odd, 32)])}, warmup, runs)
    return r


def exp_decode(tmp: Path, sizes, warmup, runs):
    from lpfiqa.imageio import load_image

    qm, out = untrained_quality_model(), {}
    for w, h in sizes:
        jpg, png = make_image(tmp / f"{w}x{h}.jpg", w, h), make_image(tmp / f"{w}x{h}.png", w, h)
        out[f"{w}x{h}"] = ab({"e2e_jpeg": lambda jpg=jpg: qm.score_files([jpg]),
                              "decode_jpeg": lambda jpg=jpg: load_image(jpg),
                              "decode_png": lambda png=png: load_image(png)}, warmup, runs)
    return out


def exp_threads(path: Path, warmup: int, runs: int) -> dict:
    out = {}
    for n in (2, 1):
        log(f"threads: {n} (fresh process)")
        spec = {"threads": n, "path": str(path), "warmup": warmup, "runs": runs}
        out[f"threads_{n}"] = run_child("ideas", spec, timeout=1800)
    if all("median_s" in v for v in out.values()):
        out["speedup_2_over_1"] = out["threads_1"]["median_s"] / out["threads_2"]["median_s"]
    return out


def child(spec: dict) -> dict:
    set_threads(spec["threads"])
    qm = untrained_quality_model()
    return interleaved({"e2e": lambda: qm.score_files([spec["path"]])}, spec["warmup"], spec["runs"])["e2e"]


def main(argv: list[str] | None = None) -> None:
    ap = parser("ideas", __doc__)
    ap.add_argument("--quick", action="store_true", help="1 warm-up + 3 rounds (default 2 + 7)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--only", nargs="+", help="run only these experiments")
    add_timing_args(ap, "ideas.json")
    args = ap.parse_args(argv)
    if apply_timing_args(args, child):
        return
    set_threads(args.threads)
    warmup, runs = (1, 3) if args.quick else (2, 7)
    x = torch.rand(1, 3, 384, 512, generator=torch.Generator().manual_seed(0))
    result = {**header("bench.ideas", args), "warmup": warmup, "runs": runs, "experiments": {}}
    with tempfile.TemporaryDirectory(prefix="lpfiqa-ideas-") as tmp:
        exps = {"channels_last": lambda: exp_channels_last(x, warmup, runs),
                "mkldnn_off": lambda: exp_mkldnn_off(x, warmup, runs),
                "grad_mode": lambda: exp_grad_mode(x, warmup, runs),
                "batching": lambda: exp_batching(x, warmup, runs),
                "preprocess": lambda: exp_preprocess(x, warmup, runs),
                "decode": lambda: exp_decode(Path(tmp), [(512, 384), (1024, 768)], warmup, runs),
                "threads": lambda: exp_threads(make_image(Path(tmp) / "t.jpg", 512, 384), warmup, runs)}
        for name, fn in exps.items():
            if args.only and name not in args.only:
                continue
            log(f"experiment {name}")
            result["experiments"][name] = fn()
            write_json(args.out, result)  # keep what is done if a later experiment is interrupted
    path = write_json(args.out, result)

    def show(name: str, r: dict) -> None:
        timed = {k: v for k, v in r.items() if isinstance(v, dict) and "median_s" in v}
        if timed:
            print(f"{name}: " + ", ".join(
                f"{k} {v['median_s']:.4f} s (x{v.get('relative_to_baseline', 1):.2f}, "
                f"other {v['other_procs_cores']})" for k, v in timed.items()))
        for k, v in r.items():
            if isinstance(v, dict) and k not in timed:
                show(f"{name}/{k}", v)
            elif isinstance(v, float):
                print(f"{name}/{k}: {v:.3f}")
    for name, r in result["experiments"].items():
        show(name, r)
    print(f"wrote {path}")


def render(d: dict) -> str:
    """One row per variant of every A/B experiment (medians, seconds)."""
    rows = []

    def walk(prefix: str, node: object) -> None:
        if isinstance(node, dict) and "median_s" in node:
            flag = " (contended)" if node.get("contended") else ""
            rows.append(f"| {prefix.split(' / ')[0]} | {' / '.join(prefix.split(' / ')[1:])} | "
                        f"{node['median_s']:.3f}{flag} |")
        elif isinstance(node, dict):
            for k, v in node.items():
                walk(f"{prefix} / {k}" if prefix else k, v)

    walk("", d["experiments"])
    return f"""{info_line(d)}

Each speed idea timed against its baseline in the same process, round-robin ({d['runs']} timed rounds after
{d['warmup']} warm-up; median seconds; 512x384 unless the variant names a size). What each experiment is, and
which ideas were kept, is in the docstring of `bench/ideas.py`.

| experiment | variant | s |
| --- | --- | --- |
{chr(10).join(rows)}
"""


BENCHMARK = Benchmark("ideas", "ideas", "Speed ideas, A/B", render, ("ideas.json",), full=("--quick",), quick=("--quick",))


if __name__ == "__main__":
    main()
