"""Batch scoring throughput: decoding workers (0, 1, 2) and engines (PyTorch, ONNX Runtime), side by side.

For each size, ``--images`` photo-like JPEGs are written to a temp folder and scored the way
``lpfiqa score DIR --workers N`` does (:func:`lpfiqa.batch.score_paths`), with the default
model (unless --model) in this process, one warm-up image first. The engines are compared on
the same files with ``--workers 0``; ONNX Runtime uses the graph ``lpfiqa export`` writes
(exported once into the cache). Results -> bench/results/batch_throughput.json.

    .venv/bin/python -m bench.batch_throughput                 # 512x384 and 1024x768, 12 images each
    .venv/bin/python -m bench.batch_throughput --quick         # 4 images each
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from ._common import Benchmark, CpuMeter, header, info_line, log, make_image, parse_size, parser, write_json


def main(argv: list[str] | None = None) -> None:
    ap = parser("batch_throughput", __doc__)
    ap.add_argument("--sizes", default="512x384,1024x768")
    ap.add_argument("--images", type=int, default=12)
    ap.add_argument("--workers", default="0,1,2")
    ap.add_argument("--model", default=None, help="default: lpfiqa.registry.DEFAULT_MODEL")
    ap.add_argument("--no-onnx", action="store_true", help="skip the ONNX Runtime engine")
    ap.add_argument("--quick", action="store_true", help="4 images per size")
    args = ap.parse_args(argv)
    if args.quick:
        args.images = 4
    from lpfiqa.batch import score_paths
    from lpfiqa.registry import create_model

    result = header("bench.batch_throughput", args)
    result["loadavg_before"] = os.getloadavg()
    qm = create_model(args.model)
    engines = {"torch": qm}
    if not args.no_onnx:
        from lpfiqa.export import OnnxQualityModel, onnx_for

        t0 = time.perf_counter()
        engines["onnx"] = OnnxQualityModel(onnx_for(qm))
        result["onnx_export_or_load_s"] = round(time.perf_counter() - t0, 1)
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for size in args.sizes.split(","):
            width, height = parse_size(size)
            paths = [str(make_image(Path(folder) / f"{size}_{i:03d}.jpg", width, height, seed=i))
                     for i in range(args.images)]
            runs = [("torch", int(w)) for w in args.workers.split(",")] + [(e, 0) for e in engines if e != "torch"]
            for engine, workers in runs:
                model = engines[engine]
                score_paths(model, paths[:1], workers=0)  # warm-up: first-call allocations, NNPACK pool
                with CpuMeter() as meter:
                    t0 = time.perf_counter()
                    records = score_paths(model, paths, workers=workers)
                    wall = time.perf_counter() - t0
                assert all(r.ok for r in records), [r.error for r in records if not r.ok]
                row = {"size": size, "engine": engine, "workers": workers, "images": len(paths),
                       "seconds": round(wall, 2), "images_per_s": round(len(paths) / wall, 3),
                       "mean_score": round(sum(r.score for r in records) / len(records), 3), **meter.record(),
                       "loadavg": os.getloadavg()}
                rows.append(row)
                log(f"{size} {engine:5s} workers={workers}: {row['images_per_s']:.3f} img/s "
                    f"(others used {row['other_procs_cores']} cores)")
    busy = any(r["contended"] for r in rows)
    result.update({"model": qm.name, "rows": rows, "loadavg_after": os.getloadavg(),
                   "note": ("other processes used the CPU during some rows (see other_procs_cores per row): "
                            "compare rows, not absolute speeds" if busy else "")})
    log(f"wrote {write_json('batch_throughput.json', result)}")


def render(d: dict) -> str:
    rows = "\n".join(f"| {r['size']} | {r['engine']} | {r['workers']} | {r['images_per_s']:.3f} |" for r in d["rows"])
    return f"""{info_line(d)}

`lpfiqa score` throughput ({d['model']}; decoding workers; PyTorch vs ONNX Runtime). {d.get('note', '')}

| size | engine | workers | images/s |
| --- | --- | --- | --- |
{rows}
"""


BENCHMARK = Benchmark("batch_throughput", "batch_throughput", "Batch scoring throughput", render,
                      ("batch_throughput.json",))

if __name__ == "__main__":
    main()
