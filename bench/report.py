"""Generate docs/BENCHMARKS.md from bench/results/*.json (no number is typed by hand).

Usage: python bench/report.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
DOC = ROOT / "docs" / "BENCHMARKS.md"
STUDIES_DOC = ROOT / "docs" / "STUDIES.md"
sys.path.insert(0, str(ROOT / "src"))

from lpfiqa.utils import atomic_write_text  # noqa: E402


def load(name: str) -> dict | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def _info_line(d: dict) -> str:
    info = d.get("info") or {}
    bits = [info.get(k) for k in ("date", "commit", "cpu", "torch", "threads") if info.get(k)]
    cmd = d.get("command", "")
    return f"*{' · '.join(str(b) for b in bits)}*  \n`{cmd}`" if bits or cmd else ""


def _per_photo(d: dict) -> str:
    n = d.get("per_photo", 0)
    return (f" (at most {n} of each photo: the clean one and a fixed choice of its distorted versions, so that the "
            f"table's 100 LPF fits take minutes, not an hour; `--per-photo 0` uses them all)") if n else ""


# Baselines that train a head on the token grids like LPF does (the rest regress fixed features).
LEARNED_BASELINES = ("DBCNN-style bilinear head", "HyperIQA-style hyper-network")


def _budgets(d: dict, full: dict | None) -> str:
    """The make-bench table beside the full-budget one (every image, more epochs), row by row."""
    if not full or full.get("per_photo") == d.get("per_photo"):
        return ""
    med = {r["method"]: r["metrics"] for r in full["summary"]}
    rows = "\n".join(f"| {r['method']} | {r['metrics']['srcc']['median']:.3f} | {med[r['method']]['srcc']['median']:.3f} | "
                     f"{r['metrics']['plcc']['median']:.3f} | {med[r['method']]['plcc']['median']:.3f} |"
                     for r in d["summary"] if r["method"] in med)
    worst = lambda k: min(full["lpf_margin_over_baselines"].items(), key=lambda kv: kv[1][k])  # noqa: E731
    gain = {r["method"]: med[r["method"]]["srcc"]["median"] - r["metrics"]["srcc"]["median"]
            for r in d["summary"] if r["method"] in med}
    base_gains = sorted(((g, m) for m, g in gain.items() if not m.startswith("LPF")), reverse=True)
    learned = [g for m, g in gain.items() if m.startswith("LPF") or m in LEARNED_BASELINES]
    fixed = [g for m, g in gain.items() if not (m.startswith("LPF") or m in LEARNED_BASELINES)]
    gains = ""
    if "LPF" in gain and learned and fixed:
        mean_l, mean_f = sum(learned) / len(learned), sum(fixed) / len(fixed)
        gains = (f"Why the margins differ: from this budget to the full one LPF's median SRCC moves by "
                 f"{gain['LPF']:+.3f}, the baselines' by " + ", ".join(f"{g:+.3f} ({m})" for g, m in base_gains)
                 + f"; the heads trained on the token grids (every LPF row, the bilinear and hyper-network heads) by "
                 f"{mean_l:+.3f} on average, the regressors on fixed features by {mean_f:+.3f}."
                 + (" The learned heads profit more from the larger budget, so LPF's margins here are narrower."
                    if mean_l > mean_f else ""))
    (s_name, s_m), (p_name, p_m) = worst("srcc"), worst("plcc")
    return f"""
The same table at the full training budget ({full['images']} images, every one of each photo, {full['epochs']} epochs per
fit; `{full['command']}`, {full['seconds'] / 60:.0f} min here; its own section in [STUDIES.md](STUDIES.md)), median
over the same {full['splits']} splits by photo:

| method | SRCC here | SRCC, full budget | PLCC here | PLCC, full budget |
| --- | --- | --- | --- | --- |
{rows}

{gains}

At the full budget LPF's smallest margins over a baseline are SRCC {s_m['srcc']:+.3f} ({s_name}) and PLCC
{p_m['plcc']:+.3f} ({p_name}); PLCC after the logistic map {p_m.get('plcc_l4', float('nan')):+.3f} against the latter.
"""


def accuracy(d: dict, full: dict | None = None, title: str = "Accuracy") -> str:
    rows = []
    for r in d["summary"]:
        cells = " | ".join(f"{r['metrics'][k]['median']:.3f} ({r['metrics'][k]['iqr']:.3f})"
                           for k in ("srcc", "plcc", "plcc_l4", "krcc"))
        rows.append(f"| {r['method']} | {cells} | {r['splits']} |")
    margins = "\n".join(f"| {k} | {v['srcc']:+.3f} | {v['plcc']:+.3f} | "
                        + (f"{v['plcc_l4']:+.3f} | " if "plcc_l4" in v else "- | ") +
                        f"{'yes' if v['srcc'] >= d['target_margin'] and v['plcc'] >= d['target_margin'] else '**no**'} |"
                        for k, v in d["lpf_margin_over_baselines"].items())
    lpf = next((r for r in d["summary"] if r["method"] == "LPF"), None)
    better = []
    if lpf is not None:  # which parts help: every variant whose median beats the default's
        base = lpf["metrics"]["srcc"]["median"]
        better = [f"{r['method']} ({r['metrics']['srcc']['median'] - base:+.3f})" for r in d["summary"]
                  if r["method"].startswith("LPF") and r is not lpf and r["metrics"]["srcc"]["median"] > base]
    helps = ("Variants of LPF whose median SRCC is above the default's (difference): " + "; ".join(better) + "."
             if better else "No variant of LPF beats the default's median SRCC.")
    return f"""## {title} (synthetic set, {d['splits']} random splits by photo)

{_info_line(d)}

{d['images']} images{_per_photo(d)}; every method on the same splits, validation photos carved from each
training part choose epochs and hyper-parameters, the test photos are touched once. Median (IQR) over splits.
Training epochs per LPF fit: {d['epochs']}. Run time {d['seconds'] / 60:.0f} min with {d['args'].get('workers', 1)} worker
process(es). These splits draw from all {d['images']} images, the default model's held-out photos included, so
no default was chosen on this table (decisions use `--photos train`: the category decision in
[STUDIES.md](STUDIES.md)).

| method | SRCC | PLCC | PLCC, logistic | KRCC | splits |
| --- | --- | --- | --- | --- | --- |
{chr(10).join(rows)}

PLCC is on the raw predictions. "PLCC, logistic" is after the 4-parameter logistic map of VQEG, fitted
per split on the test predictions: the field's usual way to take a monotone bend of the score scale out
before measuring linearity, so a method whose raw PLCC trails its logistic PLCC ranks well but bends
the scale.

{helps}

Target: LPF's median SRCC and PLCC above every baseline's by at least 0.03 ("target met" reads the
raw PLCC, the stricter of the two).

| LPF minus | SRCC | PLCC | PLCC, logistic | target met |
| --- | --- | --- | --- | --- |
{margins}

Per-split figures, box plots and pooled predictions: `bench/results/{d['args'].get('name', 'accuracy')}/`.
{_budgets(d, full)}"""


def decision(d: dict) -> str:
    """A restricted accuracy run (e.g. ``--photos train --only ...``) that decided a default."""
    # Row names are relative to the default of the day; the tasks each row trained say what it was.
    path = RESULTS / "decide_category" / "results.json"
    full = json.loads(path.read_text()) if path.exists() else {"methods": [], "records": []}
    flags = {m["name"]: m.get("model", {}) for m in full["methods"]}
    per_split: dict[str, dict[int, float]] = {}
    for r in full["records"]:
        per_split.setdefault(r["method"], {})[r["split"]] = r["metrics"]["srcc"]
    paper = next((n for n, m in flags.items() if m.get("use_category") and m.get("use_comparison")), None)

    def wins(name: str) -> str:
        """Splits in which the row's test SRCC beats the row with both tasks (same split, paired)."""
        if paper is None or name == paper or name not in per_split:
            return "-"
        ref = per_split[paper]
        return f"{sum(per_split[name][k] > ref[k] for k in ref)} of {len(ref)}"

    def tasks(name: str) -> str:
        m = flags.get(name)
        if not m:
            return "?"
        on = [t for t, k in (("category", "use_category"), ("comparison", "use_comparison")) if m.get(k)]
        return " + ".join(on) or "none"

    rows = "\n".join(f"| {r['method']} | {tasks(r['method'])} | {wins(r['method'])} | "
                     + " | ".join(f"{r['metrics'][k]['median']:.3f} ({r['metrics'][k]['iqr']:.3f})"
                                  for k in ("srcc", "plcc")) + f" | {r['splits']} |"
                     for r in d["summary"])
    return f"""{_info_line(d)}

{d['images']} images of the default model's **training photos only** (its held-out photos never enter a
decision about the default), {d['splits']} random splits by photo, {d['epochs']} epochs per fit. Median (IQR).

| method (as named in that run) | auxiliary tasks trained | beats both tasks (paired, SRCC) | SRCC | PLCC | splits |
| --- | --- | --- | --- | --- | --- |
{rows}
"""


def content_curve(d: dict) -> str:
    names = {"label_srcc": "SRCC with labels", "label_plcc": "PLCC with labels",
             "level_srcc_mean": "level ordering", "clean_beats_level3plus": "clean beats L>=3"}
    rows = "\n".join(f"| {m['photos']} | " + " | ".join(f"{m[k]:.3f}" for k in names) + " |" for m in d["medians"])
    trend = "\n".join(f"| {names[k]} | {t['slope_per_doubling']:+.3f} | {t['floor']} | "
                       f"{t['photos_to_floor_extrapolated']:,.0f} |" for k, t in d["trend"].items())
    return f"""{_info_line(d)}

The {d.get('recipe', 'v3')} recipe ({d['epochs']} epochs, validation photos carved from each subset) trained on random subsets of
the training photos, scored on the same {d['test_images']} images of {d['test_photos']} held-out photos; median of
{d['repeats']} subsets per size (one for the full set).

| training photos | {' | '.join(names.values())} |
| --- | --- | --- | --- | --- |
{rows}

| figure | change per doubling of the photos | floor | photos where the line meets the floor (extrapolated) |
| --- | --- | --- | --- |
{trend}

The last column extends a straight line in log2(photos) through {len(d['medians'])} points: an order of magnitude, not a
measurement.
"""


def run_all_timing(d: dict) -> str:
    rows = "\n".join(f"| `{s['command']}` | {s['seconds']:.0f} | {'ok' if s['ok'] else 'FAILED'} |" for s in d["steps"])
    quick = load("run_all_quick")
    quick_line = (f"\n`make bench-quick` ({quick['date']}): {quick['seconds'] / 60:.0f} min as one run, "
                  f"{sum(s['ok'] for s in quick['steps'])} of {len(quick['steps'])} steps ok.\n" if quick else "")
    return f"""*{d['date']} · {d.get('mode', '')}*

| step | seconds | result |
| --- | --- | --- |
{rows}

Total: {d['seconds'] / 60:.0f} min, with the synthetic set and its cached token grids already built
(`python tools/train_default_model.py`). `bench/peer_brisque.py` resumes from
`bench/results/peer_brisque_scores.csv` (committed): only images without a score run, all 952 the first
time (~15 min more).
{quick_line}"""


def _conv_data(d: dict) -> str:
    if "images" not in d:
        return ""
    out = f", on {d['images']} images"
    if d.get("per_photo"):
        out += f" (at most {d['per_photo']} per photo, as in the accuracy table)"
    if d.get("workers", 1) > 1:
        out += f"; {d['workers']} fits at a time in one-thread processes, so seconds are per process"
    return out


def convergence(d: dict) -> str:
    s = d["summary"]
    rows = "\n".join(f"| {k} | {v['final_median']:.4f} | {v['epochs_to_95_median']:.0f} | {v['seconds_to_95_median']:.0f} |"
                     for k, v in s.items())
    return f"""## Convergence: one-stage parallel (LPF) vs two-stage training

{_info_line(d)}

Same heads, same total epochs ({d['epochs']}); two-stage = the FEN with the auxiliary tasks for the
first half, then DaQRN on the frozen FEN. Medians over {d['seeds']} seeds (each its own split by photo){_conv_data(d)}.

| schedule | final val SRCC | epochs to 95% of final | seconds to 95% of final |
| --- | --- | --- | --- |
{rows}

![convergence](../bench/results/convergence.png)
"""


def cache(d: dict) -> str:
    rss = lambda r: f"{r['peak_rss_mb']:.0f}" if "peak_rss_mb" in r else "-"  # noqa: E731
    rows = "\n".join(f"| {r['run']} | {r['images']} | {r['features_s']:.1f} | {r['training_s']:.1f} | "
                     f"{r['computed']} / {r['from_cache']} | {rss(r)} |" for r in d["runs"])
    parent = (f" Each run in a forked process of its own; its peak RSS includes the parent's "
              f"{d['parent_rss_mb']:.0f} MB of imported libraries." if "parent_rss_mb" in d else "")
    return f"""## Training cost: first run vs cached run

{_info_line(d)}

`lpfiqa.training.train_run` on the same images twice with a fresh feature cache, {d['epochs']} epochs per run.{parent}

| run | images | encoder features (s) | training (s) | computed / cached | peak RSS (MB) |
| --- | --- | --- | --- | --- | --- |
{rows}

Feature step {d['speedup_features']:.0f}x faster from the cache; whole run {d['speedup_total']:.1f}x.
"""


def synthetic(d: dict, title: str = "Default model on held-out photos") -> str:
    peer = load("peer_brisque")  # the out-of-the-box peer on the same images, if it was run
    if peer and (peer.get("images") != d.get("images") or Path(str(peer.get("args", {}).get("manifest", ""))).name
                 and str(peer.get("args", {}).get("manifest")) != str(d.get("args", {}).get("manifest"))):
        peer = None  # run on another set of images: not a column of this table

    def cell(src: dict, k: str) -> str:
        v = src["floors"].get(k, {}).get("value")
        return "n/a" if v is None else f"{v:.4f}"

    floors = "\n".join(f"| {k} | {cell(d, k)} | {v['floor']} | {'yes' if v['pass'] else '**no**'} |"
                       + (f" {cell(peer, k)} |" if peer else "") for k, v in d["floors"].items())
    head = "| figure | value | floor | pass |" + (" PyPI `image-quality` BRISQUE |" if peer else "")
    rule = "| --- | --- | --- | --- |" + (" --- |" if peer else "")
    note = (f"\nThe last column is the out-of-the-box peer a user would `pip install` (`image-quality` 1.2.7, "
            f"BRISQUE trained on LIVE, run as is by `bench/peer_brisque.py` in `.venv-peers`; lower BRISQUE is "
            f"better, so it is negated) on the same {peer['images']} images ({peer['failed']} failed).\n"
            if peer else "")
    how = ("from their cached token grids (`--from-cache`: the grid that scoring computes for these images, whose "
           "sides are multiples of the 32-px cell, stored in fp16; `bench/synthetic_eval.py` without the flag "
           "re-scores the files through `lpfiqa.create_model().score_files`, ~9 min, and gave the same figures to "
           "4 decimals when both were run)" if d.get("from_cache") else
           f"through `lpfiqa.create_model('{d['model']}').score_files`, from the image files")
    return f"""## {title}

{_info_line(d) if "info" in d else ""}

`bench/synthetic_eval.py` scored {d['images']} images of {d['photos']} held-out photos {how}
in {d['seconds']:.0f} s ({d['failed']} failed). Model: {d['model']}.

{head}
{rule}
{floors}
{note}"""


def synth_speed(d: dict) -> str:
    rows = "\n".join(f"| {k} | {v['median_s']:.3f} |" for k, v in d["per_type"].items())
    over = ", ".join(d["over_target"]) or "none"
    return f"""{_info_line(d)}

One 512x384 image per type at level 5, one thread, median of runs. Target < {d['target_s']} s per type;
over it: {over}. All types: {d['total_s']:.2f} s.

| type | s |
| --- | --- |
{rows}
"""


def speed(d: dict) -> str:
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
    return f"""{_info_line(d)}

Matmul peak measured in the same run: {d['matmul_peak']['gflops_per_s']:.1f} GFLOP/s (fp32, 4096^2). Target: LPF end to
end (JPEG decode + preprocessing + encoder + heads) / bare VGG16 convs on the same tensor <= {d['target_ratio']}.

| size | LPF e2e (s) | bare VGG16 (s) | ratio | LPF img/s | encoder GFLOP/s | LPF peak RSS (MB) | other procs (cores) |
| --- | --- | --- | --- | --- | --- | --- | --- |
{chr(10).join(rows)}
{tail}"""


def complexity(d: dict) -> str:
    p, rows = d["params"], []
    for size, f in d["flops"].items():
        rows.append(f"| {size} | {f['lpf_gflops']:.1f} | {f['vgg16_convs_gflops']:.1f} | {f['lpf_heads_gflops']:.2f} | "
                    f"{f['tokens']} |")
    return f"""{_info_line(d)}

Parameters: LPF {p['lpf']['total']:,} in total, of which {p['lpf']['trainable']:,} trainable (heads; {p['lpf']['heads_used_at_test_time']:,}
used at test time) and {p['lpf']['encoder']:,} in the frozen VGG16 convs.

| size | LPF GFLOP | bare VGG16 GFLOP | heads GFLOP | tokens |
| --- | --- | --- | --- | --- |
{chr(10).join(rows)}
"""


def peers(d: dict) -> str:
    rows = []
    for name, m in d.get("table", {}).items():
        if name.startswith("_"):
            continue
        cells = " | ".join(f"{m[s]['s_per_img']:.3f} | {m[s]['lpf_over_peer']:.2f}" if s in m else "- | -"
                           for s in ("384x512", "768x1024"))
        rows.append(f"| {name} | {m.get('params', 0):,} | {cells} |")
    return f"""{_info_line(d)}

s/img of each pyiqa peer (random weights, `.venv-peers`) and LPF/peer time, both normalised by a bare VGG16
timed in the same process (ratios < 1: LPF is faster).

| peer | params | s/img 384x512 | LPF/peer | s/img 768x1024 | LPF/peer |
| --- | --- | --- | --- | --- | --- |
{chr(10).join(rows)}
"""


def ideas(d: dict) -> str:
    """One row per variant of every A/B experiment of bench/ideas.py (medians, seconds)."""
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
    return f"""{_info_line(d)}

Each speed idea timed against its baseline in the same process, round-robin ({d['runs']} timed rounds after
{d['warmup']} warm-up; median seconds; 512x384 unless the variant names a size). What each experiment is, and
which ideas were kept, is in the docstring of `bench/ideas.py`.

| experiment | variant | s |
| --- | --- | --- |
{chr(10).join(rows)}
"""


def cli_startup(d: dict) -> str:
    runs = d["runs"]
    labels = list(runs)
    commands = list(next(iter(runs.values()))["commands"])
    rows = "\n".join(f"| `{c}` | " + " | ".join(f"{runs[k]['commands'][c]['median_s']:.2f} s "
                                                f"({runs[k]['commands'][c]['cpu_median_s']:.2f} s CPU)" for k in labels)
                      + " |" for c in commands)
    loads = ", ".join(f"{k}: {runs[k]['load_avg_1min']}" for k in labels)
    return f"""{_info_line(d)}

Median wall time of a fresh `python -m lpfiqa ...` process ({next(iter(runs.values()))['commands'][commands[0]]['runs']}
runs after a warm-up; target < {runs[labels[-1]]['target_s']} s). Load average while measured: {loads} (on 2 cores,
above ~1 the wall times are inflated; the CPU times are not).

| command | {' | '.join(labels)} |
| --- | {' | '.join('---' for _ in labels)} |
{rows}
"""


def serve_load(d: dict) -> str:
    lat, rss = d["latency_ms"], d["server_rss_mb"]
    return f"""{_info_line(d)}

`lpfiqa serve` on 127.0.0.1, {d['requests']} requests of a {d['image']}, {d['concurrency']} at once:
**{d['errors']} errors**, {d['throughput_rps']} requests/s, latency p50 {lat['p50']:.0f} ms, p95 {lat['p95']:.0f} ms,
max {lat['max']:.0f} ms; server memory {rss['before']} -> {rss['after']} MiB (after each third:
{', '.join(str(v) for v in rss['after_each_third'])}). {d.get('note', '')}
"""


def batch_throughput(d: dict) -> str:
    rows = "\n".join(f"| {r['size']} | {r['engine']} | {r['workers']} | {r['images_per_s']:.3f} |" for r in d["rows"])
    return f"""{_info_line(d)}

`lpfiqa score` throughput ({d['model']}; decoding workers; PyTorch vs ONNX Runtime). {d.get('note', '')}

| size | engine | workers | images/s |
| --- | --- | --- | --- |
{rows}
"""


def label_study(d: dict) -> str:
    schemes = list(d["results"])
    a, b = (d["results"][s]["per_type"] for s in schemes)
    rows = "\n".join(f"| {t} | {a[t]['level1']:.0f} -> {a[t]['level5']:.0f} | {b[t]['level1']:.0f} -> {b[t]['level5']:.0f} |"
                      for t in a)
    return f"""{_info_line(d)}

Mean weak label at level 1 -> level 5 of each type, for the same {d['images']:,} images labelled two ways
(`bench/label_study.py`; calibrations fitted on the training photos). Level ordering of the labels within
(photo, type): {', '.join(f"{s} {d['results'][s]['level_srcc_mean']:.3f}" for s in schemes)}.

| type | {schemes[0]} | {schemes[1]} |
| --- | --- | --- |
{rows}
"""


def recipe_study(d: dict) -> str:
    res = d["results"]
    def diag(r: dict) -> str:
        x = r.get("diagnosis") or {}
        return f"{x['top1']:.3f}" if x.get("top1") is not None else "-"

    rows = "\n".join(f"| {n} | {r['level_srcc_mean']:.3f} | {r['level_srcc_per_type_min']:.3f} | {r['label_srcc']:.3f} | "
                      f"{r['label_plcc']:.3f} | {r['clean_beats_level3plus']:.3f} | {r['clean_median']:.1f} | {diag(r)} |"
                      for n, r in res.items())
    photos = next(iter(res.values()))["photos"]
    return f"""{_info_line(d)}

Candidate recipes for the corpus model, trained on its training photos only and scored on a validation fold of
{photos} of them (`bench/recipe_study.py`; the held-out photos chose nothing). Chosen by the rule fixed in the
script before it ran: **{d.get('chosen', '?')}**.

| recipe | level ordering | worst type | SRCC labels | PLCC labels | clean beats L>=3 | clean median | diagnosis top-1 |
| --- | --- | --- | --- | --- | --- | --- | --- |
{rows}
"""


BENCH_SECTIONS = (("complexity", "Parameters and FLOPs", complexity),
                  ("speed", "Speed and memory", speed),
                  ("ideas", "Speed ideas, A/B", ideas),
                  ("peers_speed", "Speed against the peers (pyiqa, random weights)", peers),
                  ("synth_speed", "Synthetic distortions: seconds per image", synth_speed),
                  ("cli_startup", "CLI start-up", cli_startup),
                  ("serve_load", "The HTTP service under load", serve_load),
                  ("batch_throughput", "Batch scoring throughput", batch_throughput),
                  ("run_all", "How long `make bench` took", run_all_timing))
STUDY_SECTIONS = (("recipe_study", "Decision: the corpus model's recipe, on training photos only", recipe_study),
                  ("content_curve_corpus", "Corpus model: held-out figures against the number of training photos",
                   content_curve),
                  ("label_study", "Weak labels with and without CIEDE2000", label_study),
                  ("content_curve", "Held-out figures against the number of training photos", content_curve),
                  ("decide_category", "Decision: the category task, on training photos only", decision))


def _titled(sections: tuple) -> list[str]:
    out = []
    for name, title, render in sections:
        d = load(name)
        script = {"decide_category": "accuracy", "run_all": "run_all", "content_curve_corpus": "content_curve"}.get(
            name, name)
        out.append(f"## {title}\n\n{render(d)}" if d else f"## {title}\n\nNot run yet (`bench/{script}.py`).\n")
    return out


def main() -> None:
    parts = ["# Benchmarks\n\nGenerated by `bench/report.py` from `bench/results/*.json`; re-run every table with "
             "`make bench` (or `make bench-quick`). Machine: 2 CPU cores, 24 GB; figures taken while other jobs ran "
             "on the same machine are approximate (each script records the CPU other processes used). The studies "
             "behind the default model's design are in [STUDIES.md](STUDIES.md).\n"]
    sections = [("accuracy", lambda d: accuracy(d, load("accuracy_full"))), ("convergence", convergence),
                ("cache_speedup", cache), ("synthetic_eval", synthetic),
                ("synthetic_eval_v3", lambda d: synthetic(d, "The previous default (lpf-synth-v3) on its held-out photos"))]
    for name, render in sections:
        d = load(name)
        parts.append(render(d) if d else f"## {name}\n\nNot run yet (`bench/{name}.py`).\n")
    parts += _titled(BENCH_SECTIONS)
    studies = ["# Studies behind the default model\n\nGenerated by `bench/report.py` from `bench/results/*.json`; "
               "re-run with `python bench/run_all.py --studies` (about 1.5 h on 2 cores). They choose and explain "
               "the default model (`lpf-synth-v3`, see its model card) on its own training photos; the side-by-side "
               "benchmarks are in [BENCHMARKS.md](BENCHMARKS.md).\n"]
    full = load("accuracy_full")
    if full:
        studies.append(accuracy(full, title="Accuracy at the full training budget"))
    studies += _titled(STUDY_SECTIONS)
    DOC.parent.mkdir(exist_ok=True)
    atomic_write_text(DOC, "\n".join(parts))
    atomic_write_text(STUDIES_DOC, "\n".join(studies))
    print(f"wrote {DOC} and {STUDIES_DOC}")


if __name__ == "__main__":
    main()
