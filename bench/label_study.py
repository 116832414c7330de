"""What CIEDE2000 changes in the weak labels: the four structural metrics alone vs with delta_e.

Why: lpf-synth-v3's labels moved only 7-19 points over the 5 levels of the colour types
(desaturation, colour diffusion), so a model fitted to them learnt that colour damage is
nearly harmless. This study re-labels one synthetic set both ways from the metric values its
manifest already holds (no image is re-read): each calibration is fitted on the training
photos' distorted images, as the builder does, and the mean label at level 1 and level 5 of
every type is reported with the within-(photo, type) level ordering of the labels.

Usage::

    python -m bench.label_study [--manifest data/v4/synth/manifest.csv]   # -> bench/results/label_study.json
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from lpfiqa.datasets.manifest import read_manifest
from lpfiqa.synth.evaluate import level_ordering_report
from lpfiqa.synth.labels import ALL_METRICS, METRICS, fit_calibration, weak_label

from ._common import ROOT, V4_MANIFEST, Benchmark, header, info_line, log, parser, write_json

SCHEMES = {"4 structural metrics (v1-v3)": METRICS, "with CIEDE2000 (v4)": ALL_METRICS}


def main(argv: list[str] | None = None) -> None:
    p = parser("label_study", __doc__)
    p.add_argument("--manifest", type=Path, default=ROOT / V4_MANIFEST)
    p.add_argument("--out", default="label_study.json")
    args = p.parse_args(argv)
    m = read_manifest(args.manifest)
    rows = m.rows
    missing = [k for k in ALL_METRICS if k not in rows[0].extra]
    if missing:
        sys.exit(f"{args.manifest}: no {missing} column; build the set with label_metrics including them")
    metrics = {k: np.array([float(r.extra[k]) for r in rows]) for k in ALL_METRICS}
    levels = np.array([r.dist_level or 0 for r in rows])
    types = np.array([r.dist_type for r in rows])
    fit_rows = np.array([r.split == "train" for r in rows]) & (levels > 0)
    results = {}
    for scheme, names in SCHEMES.items():
        cal = fit_calibration({k: metrics[k][fit_rows] for k in names})
        labels = weak_label({k: metrics[k] for k in names}, cal)
        order = level_ordering_report(m, labels, split=None)
        per_type = {t: {"level1": float(labels[(types == t) & (levels == 1)].mean()),
                        "level5": float(labels[(types == t) & (levels == 5)].mean()),
                        "level_srcc": order["level_srcc_per_type"].get(t)}
                    for t in sorted(set(types) - {"", "chain"})}
        results[scheme] = {"metrics": list(names), "level_srcc_mean": order["level_srcc_mean"], "per_type": per_type}
    a, b = (results[s]["per_type"] for s in SCHEMES)
    log(f"{'type':<28} {'L1 -> L5, ' + list(SCHEMES)[0]:>36} | {list(SCHEMES)[1]}")
    for t in a:
        log(f"{t:<28} {a[t]['level1']:>30.0f} -> {a[t]['level5']:<3.0f} | {b[t]['level1']:.0f} -> {b[t]['level5']:.0f}")
    write_json(args.out, {**header("bench.label_study", args), "results": results, "images": len(rows)})
    log(f"-> bench/results/{args.out}")



def render(d: dict) -> str:
    schemes = list(d["results"])
    a, b = (d["results"][s]["per_type"] for s in schemes)
    rows = "\n".join(f"| {t} | {a[t]['level1']:.0f} -> {a[t]['level5']:.0f} | {b[t]['level1']:.0f} -> {b[t]['level5']:.0f} |"
                      for t in a)
    return f"""{info_line(d)}

Mean weak label at level 1 -> level 5 of each type, for the same {d['images']:,} images labelled two ways
(`bench/label_study.py`; calibrations fitted on the training photos). Level ordering of the labels within
(photo, type): {', '.join(f"{s} {d['results'][s]['level_srcc_mean']:.3f}" for s in schemes)}.

| type | {schemes[0]} | {schemes[1]} |
| --- | --- | --- |
{rows}
"""


_ARGV = ("--manifest", V4_MANIFEST)
BENCHMARK = Benchmark("label_study", "label_study", "Weak labels with and without CIEDE2000", render,
                      ("label_study.json",), full=_ARGV, quick=_ARGV, study=True, needs=(V4_MANIFEST,))


if __name__ == "__main__":
    main()
