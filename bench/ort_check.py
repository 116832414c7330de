"""Would ONNX Runtime run LPF's VGG16 encoder faster than lpfiqa's own PyTorch path? (decision aid)

Why: the issue asks for "ONNX Runtime if it wins". ORT is *not* a dependency of lpfiqa and must
not become one just to find out, so this script builds the encoder graph (conv1_1..conv5_3 with
the bundled Keras weights, outputs conv3_3/conv4_3/conv5_3) directly with ``onnx.helper`` from
the safetensors file (no torch.onnx export needed), and times it with ORT (all graph
optimisations, 2 intra-op threads) round-robin against lpfiqa's encoder in the same process.

Run it with a python that has onnxruntime and onnx, e.g. a throwaway venv, plus lpfiqa's venv
on the path for the same-process comparison::

    python3 -m venv /tmp/ort-venv && /tmp/ort-venv/bin/pip install onnxruntime onnx numpy safetensors
    PYTHONPATH=/tmp/ort-venv/lib/python3.11/site-packages .venv/bin/python -m bench.ort_check --quick

Without torch/lpfiqa importable it times ORT alone. Results -> bench/results/ort_check.json.
"""

from __future__ import annotations

import functools
import statistics
import time

import numpy as np

from ._common import ROOT, VGG16_CONVS, Benchmark, header, interleaved, log, parse_size, parser, write_json

WEIGHTS = ROOT / "src" / "lpfiqa" / "weights" / "vgg16_imagenet_keras.safetensors"
OUTS = ("conv3_3", "conv4_3", "conv5_3")


def build_graph(threads: int):
    """An ORT session for VGG16 conv1_1..conv5_3 (+ReLU, 2x2 max-pools) on preprocessed BGR input."""
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper
    from safetensors.numpy import load_file

    state = load_file(str(WEIGHTS))
    nodes, inits, x = [], [], "input"
    for name, _, _ in VGG16_CONVS:
        inits += [numpy_helper.from_array(state[f"{name}.weight"].astype(np.float32), f"{name}.w"),
                  numpy_helper.from_array(state[f"{name}.bias"].astype(np.float32), f"{name}.b")]
        nodes += [helper.make_node("Conv", [x, f"{name}.w", f"{name}.b"], [f"{name}.c"], pads=[1, 1, 1, 1],
                                   kernel_shape=[3, 3]),
                  helper.make_node("Relu", [f"{name}.c"], [name])]
        x = name
        if name in ("conv1_2", "conv2_2", "conv3_3", "conv4_3"):
            nodes.append(helper.make_node("MaxPool", [x], [f"{name}.p"], kernel_shape=[2, 2], strides=[2, 2]))
            x = f"{name}.p"
    inp = helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, None, None])
    outs = [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in OUTS]
    model = helper.make_model(helper.make_graph(nodes, "vgg16_lpf_encoder", [inp], outs, inits),
                              opset_imports=[helper.make_opsetid("", 17)])
    opts = ort.SessionOptions()
    opts.intra_op_num_threads, opts.inter_op_num_threads = threads, 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    sess = ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    return sess, ort.__version__


def main(argv: list[str] | None = None) -> None:
    ap = parser("ort_check", __doc__)
    ap.add_argument("--quick", action="store_true", help="1 warm-up + 3 rounds (default 2 + 5)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--sizes", default="512x384,1024x768")
    ap.add_argument("--out", default="ort_check.json")
    args = ap.parse_args(argv)
    warmup, runs = (1, 3) if args.quick else (2, 5)
    try:
        import torch

        from lpfiqa.backbones import load_vgg16
        torch.set_num_threads(args.threads)
    except ImportError:
        torch = None  # type: ignore[assignment]
    log("building the ONNX graph and the ORT session")
    sess, ort_version = build_graph(args.threads)
    result = {**(header("bench.ort_check", args) if torch is not None else {"args": vars(args)}),
              "onnxruntime": ort_version, "sizes": {}}
    for size in args.sizes.split(","):
        w, h = parse_size(size)
        rgb = np.random.default_rng(0).random((1, 3, h, w), dtype=np.float32)
        bgr = np.ascontiguousarray(rgb[:, ::-1] * 255.0 - np.array([103.939, 116.779, 123.68],
                                                                    np.float32).reshape(1, 3, 1, 1))
        fns = {"onnxruntime": lambda bgr=bgr: sess.run(list(OUTS), {"input": bgr})}
        entry: dict = {}
        if torch is not None:
            nnp, default = load_vgg16(), load_vgg16()
            default.fast_conv = False
            x = torch.from_numpy(rgb)
            with torch.inference_mode():
                ref = {k: v.numpy() for k, v in nnp(x).items()}
            got = sess.run(list(OUTS), {"input": bgr})
            entry["max_rel_diff_vs_lpfiqa"] = max(float(np.abs(ref[k] - g).max() / np.abs(ref[k]).max())
                                                  for k, g in zip(OUTS, got, strict=True))

            def run(net, x=x):
                with torch.inference_mode():
                    net(x)
            fns.update({"lpfiqa_shipped": functools.partial(run, nnp),
                        "lpfiqa_default_conv": functools.partial(run, default)})
            log(f"{w}x{h}: ORT vs lpfiqa, {warmup} warm-up + {runs} rounds")
            entry["timings"] = interleaved(fns, warmup, runs)
        else:
            for _ in range(warmup):
                fns["onnxruntime"]()
            ts = []
            for _ in range(runs):
                t0 = time.perf_counter()
                fns["onnxruntime"]()
                ts.append(time.perf_counter() - t0)
            entry["timings"] = {"onnxruntime": {"median_s": statistics.median(ts)}}
        t = entry["timings"]
        if "lpfiqa_shipped" in t:
            entry["ort_over_lpfiqa_shipped"] = t["onnxruntime"]["median_s"] / t["lpfiqa_shipped"]["median_s"]
            entry["ort_over_lpfiqa_default_conv"] = (t["onnxruntime"]["median_s"]
                                                     / t["lpfiqa_default_conv"]["median_s"])
        result["sizes"][f"{w}x{h}"] = entry
        log("  " + ", ".join(f"{k} {v['median_s']:.3f} s" for k, v in t.items()))
    path = write_json(args.out, result)
    for k, e in result["sizes"].items():
        print(f"{k}: " + ", ".join(f"{n} {v['median_s']:.3f} s" for n, v in e["timings"].items())
              + (f"; ORT / lpfiqa shipped = {e['ort_over_lpfiqa_shipped']:.2f}, ORT / default conv = "
                 f"{e['ort_over_lpfiqa_default_conv']:.2f}, max rel diff {e['max_rel_diff_vs_lpfiqa']:.1e}"
                 if "ort_over_lpfiqa_shipped" in e else "")
              + (f" (other processes {e['timings']['onnxruntime'].get('other_procs_cores', '?')} cores)"))
    print(f"wrote {path}")


# A decision aid, not part of `make bench`: it needs onnxruntime from a throwaway venv (see above).
BENCHMARK = Benchmark("ort_check", "ort_check", "ONNX Runtime vs lpfiqa's encoder", None, ("ort_check.json",),
                      full=None, quick=None)

if __name__ == "__main__":
    main()
