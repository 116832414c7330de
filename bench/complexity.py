"""Parameters and FLOPs of LPF (VGG16 encoder + heads) and of the bare VGG16 convs.

Why: the paper sells LPF as *lightweight*; this is the static half of that claim (the speed
half is ``bench/speed.py``). FLOPs are counted by ``torch.utils.flop_counter.FlopCounterMode``
(2 FLOPs per multiply-add; convolutions and matmuls only: ReLU, pooling and LayerNorm are not
counted) on meta tensors, so nothing is computed and the count is exact for the shapes. They
are *direct-convolution* FLOPs: the NNPACK path of ``lpfiqa.backbones.vgg16`` reaches the same
outputs with fewer multiplications (Winograd), which speed.py's "effective GFLOP/s" shows.

Heads are untrained (their size, not their weights, sets the cost). Usage::

    .venv/bin/python -m bench.complexity            # -> bench/results/complexity.json
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

from ._common import (
    Benchmark,
    bare_vgg16,
    header,
    info_line,
    log,
    parse_size,
    parser,
    set_threads,
    vgg16_conv_flops,
    write_json,
)


def count_params(module: torch.nn.Module) -> dict:
    ps = list(module.parameters())
    return {"total": sum(p.numel() for p in ps), "trainable": sum(p.numel() for p in ps if p.requires_grad)}


def count_flops(model: torch.nn.Module, width: int, height: int) -> tuple[int, dict[str, int]]:
    """Total FLOPs of one forward on a (1, 3, height, width) input, and FLOPs per top-level child."""
    model = model.to("meta")
    x = torch.empty(1, 3, height, width, device="meta")
    with torch.inference_mode(), FlopCounterMode(display=False, depth=2) as fc:
        model(x)
    name = type(model).__name__
    per = {k.split(".", 1)[1]: sum(v.values()) for k, v in fc.get_flop_counts().items()
           if k.startswith(name + ".") and k.count(".") == 1}
    return fc.get_total_flops(), per


LITE = "lpf-lite-v1"  # the bundled LPF-Lite: its config (encoder, stages) sets the Lite rows


def build_lpf(encoder: str = "vgg16") -> torch.nn.Module:
    """LPF with untrained default heads: on VGG16, or LPF-Lite with the bundled Lite model's stages."""
    from lpfiqa.models import LPF, LPFConfig

    cfg = LPFConfig()
    if encoder != "vgg16":
        cfg = lite_config()
    return LPF(cfg).eval()


def lite_config():  # noqa: ANN201 (lpfiqa imported lazily)
    """The bundled LPF-Lite's config (its encoder and stages), or MobileNetV2's defaults before it is built."""
    from importlib import resources

    from lpfiqa.models import LPFConfig

    path = resources.files("lpfiqa") / "weights" / LITE / "config.json"
    if path.is_file():
        c = LPFConfig.load(Path(str(path)))
        return LPFConfig(encoder=c.encoder, stages=c.stages, cell=c.cell)
    return LPFConfig(encoder="mobilenet_v2")


def main(argv: list[str] | None = None) -> None:
    ap = parser("complexity", __doc__)
    ap.add_argument("--quick", action="store_true", help="accepted for symmetry: this script is always quick")
    ap.add_argument("--sizes", default="512x384,1024x768", help="comma-separated WIDTHxHEIGHT")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default="complexity.json")
    args = ap.parse_args(argv)
    set_threads(args.threads)
    sizes = [parse_size(s) for s in args.sizes.split(",")]

    log("building LPF (bundled VGG16 weights, untrained default heads) and the bare VGG16")
    lpf, lite = build_lpf(), build_lpf("mobilenet_v2")
    heads = lpf.heads
    test_heads = sum(p.numel() for m in (heads.fen, heads.daqrn) for p in m.parameters())
    params = {
        "lpf": {**count_params(lpf), "encoder": count_params(lpf.encoder)["total"],
                "heads": count_params(heads)["total"], "heads_used_at_test_time": test_heads},
        "vgg16_convs": count_params(bare_vgg16())["total"],
        "lite": {**count_params(lite), "encoder": count_params(lite.encoder)["total"],
                 "heads": count_params(lite.heads)["total"], "stages": list(lite.cfg.stages)},
    }
    flops: dict[str, dict] = {}
    for w, h in sizes:
        log(f"counting FLOPs at {w}x{h}")
        lpf_total, lpf_per = count_flops(build_lpf(), w, h)
        vgg_total, _ = count_flops(bare_vgg16(), w, h)
        lite_total, lite_per = count_flops(build_lpf("mobilenet_v2"), w, h)
        analytic = vgg16_conv_flops(h, w)
        if vgg_total != analytic:
            log(f"warning: counted VGG16 FLOPs {vgg_total} != analytic {analytic}")
        tokens = (h // 32) * (w // 32)
        flops[f"{w}x{h}"] = {
            "lpf_gflops": lpf_total / 1e9, "lpf_encoder_gflops": lpf_per.get("encoder", 0) / 1e9,
            "lpf_heads_gflops": lpf_per.get("heads", 0) / 1e9, "vgg16_convs_gflops": vgg_total / 1e9,
            "vgg16_convs_gflops_analytic": analytic / 1e9, "tokens": tokens,
            "lpf_over_vgg16": lpf_total / vgg_total, "gmacs_lpf": lpf_total / 2e9,
            "lite_gflops": lite_total / 1e9, "lite_encoder_gflops": lite_per.get("encoder", 0) / 1e9,
            "lpf_over_lite": lpf_total / lite_total,
        }
    result = {**header("bench.complexity", args), "params": params, "flops": flops,
              "notes": ["FLOPs = 2 x multiply-adds of convolutions and matmuls (FlopCounterMode); "
                        "pooling, ReLU, LayerNorm and softplus are not counted.",
                        "LPF's VGG16 stops at conv5_3 (no pool5); the bare VGG16 includes pool5 (0 FLOPs).",
                        "heads = FEN + DaQRN + the training-only category and comparison heads."]}
    path = write_json(args.out, result)

    print(f"\nParameters: LPF {params['lpf']['total']:,} (trainable {params['lpf']['trainable']:,}; "
          f"encoder {params['lpf']['encoder']:,}, heads {params['lpf']['heads']:,}, "
          f"of which used at test time {test_heads:,}); bare VGG16 convs {params['vgg16_convs']:,}")
    print(f"{'size':>10} {'LPF GFLOPs':>11} {'encoder':>9} {'heads':>7} {'VGG16':>9} {'LPF/VGG16':>10}")
    for k, f in flops.items():
        print(f"{k:>10} {f['lpf_gflops']:11.2f} {f['lpf_encoder_gflops']:9.2f} {f['lpf_heads_gflops']:7.3f} "
              f"{f['vgg16_convs_gflops']:9.2f} {f['lpf_over_vgg16']:10.4f}")
    print(f"wrote {path}")


def render(d: dict) -> str:
    p = d["params"]
    rows = "\n".join(f"| {size} | {f['lpf_gflops']:.1f} | {f['vgg16_convs_gflops']:.1f} | {f['lpf_heads_gflops']:.2f} | "
                     f"{f['tokens']} | {lite_cell(f)} |" for size, f in d["flops"].items())
    lite = p.get("lite")
    lite_line = (f"LPF-Lite (MobileNetV2 {'+'.join(lite['stages'])}): {lite['total']:,} parameters, "
                 f"{lite['encoder']:,} in the frozen encoder.\n" if lite else "")
    return f"""{info_line(d)}

Parameters: LPF {p['lpf']['total']:,} in total, of which {p['lpf']['trainable']:,} trainable (heads; {p['lpf']['heads_used_at_test_time']:,}
used at test time) and {p['lpf']['encoder']:,} in the frozen VGG16 convs.
{lite_line}
| size | LPF GFLOP | bare VGG16 GFLOP | heads GFLOP | tokens | LPF-Lite GFLOP |
| --- | --- | --- | --- | --- | --- |
{rows}
"""


def lite_cell(f: dict) -> str:
    return f"{f['lite_gflops']:.2f} ({f['lpf_over_lite']:.0f}x fewer)" if "lite_gflops" in f else "-"


BENCHMARK = Benchmark("complexity", "complexity", "Parameters and FLOPs", render, ("complexity.json",),
                      full=(), quick=("--quick",))

if __name__ == "__main__":
    main()
