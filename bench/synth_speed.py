"""Time each of the 25 synthetic distortions at level 5 on a 512x384 image (KADID-10k's size).

Why: building a weakly-labelled set distorts thousands of images; a slow type dominates the
synthesis time. Target: < 0.3 s per distortion on one core (level 5 is the slowest level for
most types). Usage::

    .venv/bin/python -m bench.synth_speed [--runs 3]     # -> bench/results/synth_speed.json
"""

from __future__ import annotations

import time

import numpy as np

from ._common import Benchmark, header, info_line, log, parser, set_threads, write_json

TARGET_S = 0.3


def main(argv: list[str] | None = None) -> None:
    p = parser("synth_speed", __doc__)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--out", default="synth_speed.json")
    args = p.parse_args(argv)
    set_threads(1)
    from lpfiqa.synth import distort, list_distortions
    from lpfiqa.synth.distortions.compression import jpeg2000_available

    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:384, 0:512]  # smooth gradients + texture: no type hits a trivial fast path
    img = np.stack([(xx / 2) % 256, (yy / 1.5) % 256, 128 + 60 * np.sin(xx / 9.0) * np.cos(yy / 7.0)], -1)
    img = np.clip(img + rng.normal(0, 8, img.shape), 0, 255).astype(np.uint8)
    rows = {}
    for name in list_distortions():
        if name == "jpeg2000" and not jpeg2000_available():
            log(f"{name}: skipped (no JPEG 2000 codec in this Pillow)")
            continue
        times = []
        for r in range(args.runs):
            t = time.perf_counter()
            distort(img, name, 5, np.random.default_rng(r))
            times.append(time.perf_counter() - t)
        rows[name] = {"median_s": float(np.median(times)), "max_s": float(np.max(times))}
        log(f"{name:28s} {rows[name]['median_s']:.3f} s")
    slow = {k: v["median_s"] for k, v in rows.items() if v["median_s"] > TARGET_S}
    total = sum(v["median_s"] for v in rows.values())
    print(f"{len(rows)} types, {total:.2f} s for one image of each at level 5; over {TARGET_S} s: {slow or 'none'}")
    write_json(args.out, {**header("bench.synth_speed", args), "target_s": TARGET_S, "per_type": rows,
                          "total_s": total, "over_target": slow})


def render(d: dict) -> str:
    rows = "\n".join(f"| {k} | {v['median_s']:.3f} |" for k, v in d["per_type"].items())
    over = ", ".join(d["over_target"]) or "none"
    return f"""{info_line(d)}

One 512x384 image per type at level 5, one thread, median of runs. Target < {d['target_s']} s per type;
over it: {over}. All types: {d['total_s']:.2f} s.

| type | s |
| --- | --- |
{rows}
"""


BENCHMARK = Benchmark("synth_speed", "synth_speed", "Synthetic distortions: seconds per image", render,
                      ("synth_speed.json",), full=("--runs", "3"), quick=("--runs", "1"))

if __name__ == "__main__":
    main()
