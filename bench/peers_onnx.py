"""pyiqa peers in ONNX Runtime, for ``bench.peers_speed``: runs in ``.venv-peers``, not in lpfiqa's venv.

Why: LPF-Lite has an ONNX Runtime engine (``lpfiqa score --engine onnx``) and pyiqa has none, so
a table of LPF-Lite in ORT against the peers in PyTorch mixes the model's lead with the runtime's.
This script gives the peers the same runtime: each peer's network (``metric.net``) is exported
with ``torch.onnx`` (TorchScript tracer, opset 17) at each input size and timed in ONNX Runtime
with the shared bench's protocol (2 intra-op threads, 2 warm-ups, 5 runs, median, the same seeded
random tensors), with a bare VGG16 in PyTorch at the start and end as the yardstick
(``_common.bare_vgg16``: the layout ``../shared/peers/bench.py`` times with torchvision). Its JSON
lines have that script's format, so ``bench.peers_speed.combine`` reads both.

What is and is not exported:
- A traced graph freezes whatever the Python code chose for that input (HyperIQA's crop positions,
  the shapes): the same work as in PyTorch for that size, one export per size.
- NIMA's resize to 299 and centre crop are Python on the tensor's shape, which the tracer cannot
  follow; they stay in PyTorch (pyiqa's own ``preprocess``, timed with the rest) and the graph starts
  at the normalised 299x299 crop.
- MUSIQ's multi-scale patching fails to trace for the same reason and is reported as an error.
Each record also holds the largest difference between the graph's output and PyTorch's.

Usage, from the repository root (``bench.peers_speed`` runs it when ``.venv-peers`` has onnxruntime)::

    .venv-peers/bin/pip install onnxruntime==1.31.1 onnx==1.23.2
    PEERS_CACHE=/tmp/peers-cache .venv-peers/bin/python -m bench.peers_onnx OUT.jsonl \\
        --peers-dir ../shared/peers nima paq2piq
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import time

from ._common import bare_vgg16

SIZES = ((384, 512), (768, 1024))
WARM, REPS = 2, 5
DEFAULT = ("nima", "paq2piq", "topiq_nr", "dbcnn", "hyperiqa", "musiq")


def busy_s() -> float:
    """CPU seconds every process has used so far (all but idle and iowait)."""
    v = [int(t) for t in open("/proc/stat").readline().split()[1:]]
    return (sum(v[:8]) - v[3] - v[4]) / 100.0


def time_fn(fn) -> dict:
    """The shared bench's protocol: warm-ups, timed calls, median, and other processes' CPU meanwhile."""
    for _ in range(WARM):
        fn()
    ts = []
    b0, w0, p0 = busy_s(), time.perf_counter(), time.process_time()
    for _ in range(REPS):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    wall, own = time.perf_counter() - w0, time.process_time() - p0
    return {"median_s": statistics.median(ts), "min_s": min(ts), "max_s": max(ts),
            "other_procs_cores": round(max(0.0, busy_s() - b0 - own) / wall, 2)}


def graph_input(name: str, net, torch):
    """(module to export, tensor -> its input): NIMA's shape-dependent resize and crop stay outside."""
    if name != "nima":
        return net, lambda x: x
    from pyiqa.archs.nima_arch import dist_to_mos

    class Core(torch.nn.Module):  # NIMA.forward after its preprocess (resize, centre crop, normalisation)
        def __init__(self) -> None:
            super().__init__()
            self.net = net  # a submodule, so that its weights export as weights

        def forward(self, x):
            n = self.net
            return dist_to_mos(n.classifier(n.global_pool(n.base_model(x)[-1])))

    return Core().eval(), net.preprocess


def session(module, example, threads: int, ort, torch):
    buf = io.BytesIO()
    with torch.no_grad():
        torch.onnx.export(module, (example,), buf, dynamo=False, opset_version=17)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    return ort.InferenceSession(buf.getvalue(), opts, providers=["CPUExecutionProvider"])


def bench_peer(name: str, op, ort, torch) -> dict:
    rec: dict = {"model": name, "engine": f"onnxruntime {ort.__version__}"}
    try:
        metric = op.build(name)
    except Exception as e:  # noqa: BLE001 - a peer that does not build is a row, not a crash
        return {**rec, "builds": False, "error": f"{type(e).__name__}: {e}"}
    net = metric.net.eval()
    rec.update(builds=True, params=op.n_params(metric))
    module, prep = graph_input(name, net, torch)
    g = torch.Generator().manual_seed(0)
    for h, w in SIZES:
        x = torch.rand(1, 3, h, w, generator=g)
        try:
            with torch.inference_mode():
                example = prep(x)
                want = net(x)
            s = session(module, example, 2, ort, torch)
            feed = s.get_inputs()[0].name

            def run(x=x, s=s, feed=feed):
                with torch.inference_mode():
                    return s.run(None, {feed: prep(x).numpy()})

            got = run()[0]
            want = want[0] if isinstance(want, (list, tuple)) else want
            rec[f"{h}x{w}"] = {**time_fn(run),
                               "max_abs_diff": float(abs(got.reshape(-1) - want.numpy().reshape(-1)).max())}
        except Exception as e:  # noqa: BLE001 - e.g. a graph the tracer cannot follow
            rec[f"{h}x{w}"] = {"error": f"{type(e).__name__}: {str(e)[:300]}"}
    return rec


def bench_vgg(tag: str, torch) -> dict:
    vgg = bare_vgg16()
    rec: dict = {"model": tag, "builds": True, "params": sum(p.numel() for p in vgg.parameters())}
    g = torch.Generator().manual_seed(0)
    with torch.inference_mode():
        for h, w in SIZES:
            x = torch.rand(1, 3, h, w, generator=g)
            rec[f"{h}x{w}"] = time_fn(lambda x=x: vgg(x))
    return rec


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", help="JSON lines, one per model (appended)")
    ap.add_argument("models", nargs="*", default=list(DEFAULT))
    ap.add_argument("--peers-dir", required=True, help="the shared peers folder (offline_patches.py)")
    args = ap.parse_args(argv)
    sys.path.insert(0, args.peers_dir)
    import offline_patches as op  # before anything else touches torch or pyiqa
    import onnxruntime as ort
    import torch

    torch.set_num_threads(2)
    with open(args.out, "a") as out:
        def emit(rec: dict) -> None:
            print(json.dumps(rec), flush=True)
            out.write(json.dumps(rec) + "\n")
            out.flush()

        emit(bench_vgg("vgg16_features_ref_start", torch))
        for name in args.models:
            emit(bench_peer(name, op, ort, torch))
        emit(bench_vgg("vgg16_features_ref_end", torch))


if __name__ == "__main__":
    main()
