"""Accuracy side by side: LPF, its ablations and the baselines on the same splits by photo.

Every method is trained and tested on exactly the same n random splits of the synthetic set
by photo (validation photos carved from each training part choose epochs and hyper-parameters),
from one extraction of the VGG16 token grids (LPF-Lite's row from a second one, of MobileNetV2's, swapped
in by image name). Writes bench/results/accuracy.json and the
protocol's Markdown/PNG report under bench/results/accuracy/.

Usage:
    python -m bench.accuracy                  # 10 splits, every baseline, the issue's ablations and LPF-Lite (~21 min)
    python -m bench.accuracy --quick          # 2 splits, fewer methods
    python -m bench.accuracy --per-photo 0 --epochs 4   # every image of every photo (~45 min on 2 cores)
    python -m bench.accuracy --extras         # also the variants kept for the record (first design, ...)
    # a decision about the default, on the default model's training photos only:
    python -m bench.accuracy --photos train --only LPF --only "LPF w/o category task" --name decide_category
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from lpfiqa.backbones import STAGES
from lpfiqa.models import LPFConfig
from lpfiqa.protocol.baselines import OtherEncoder, StageSubset
from lpfiqa.protocol.data import feature_cache, load_set
from lpfiqa.protocol.methods import LPFMethod, make_method
from lpfiqa.protocol.within import run_within
from lpfiqa.training import TrainConfig

from ._common import (
    MANIFEST,
    RESULTS,
    Benchmark,
    add_subset_args,
    header,
    info_line,
    load,
    parser,
    subset_manifest,
    write_json,
)

# Every method reads one superset of token channels; each LPF variant takes its stages' slice,
# so a change of stages is compared on the very same cached features.
ALL_STAGES = ("conv3_3", "conv4_3", "conv5_3")
# LPF-Lite's row: the LPF row's recipe on lpf-lite-v1's encoder and stages, from a second extraction
# of the same images (OtherEncoder swaps the grids by image name, so the splits are the same).
LITE_ENCODER, LITE_STAGES = "mobilenet_v2", ("block3", "block6", "block13")
LITE_ROW = "LPF-Lite (MobileNetV2 block3+block6+block13)"


def _channels(stages: tuple[str, ...]) -> slice:
    offsets, start = {}, 0
    for s in ALL_STAGES:
        offsets[s] = (start, start + STAGES[s][0])
        start += STAGES[s][0]
    lo, hi = offsets[stages[0]][0], offsets[stages[-1]][1]
    if hi - lo != sum(STAGES[s][0] for s in stages):
        raise ValueError(f"stages {stages} are not contiguous in {ALL_STAGES}")
    return slice(lo, hi)


def methods(tcfg: TrainConfig, quick: bool, extras: bool = False) -> list:
    base = LPFConfig()

    def lpf(name: str, train: TrainConfig | None = None, **kw) -> StageSubset:
        cfg = replace(base, **kw)
        return StageSubset(LPFMethod(cfg, train or tcfg, name), _channels(cfg.stages), name)

    paper = {"stages": ALL_STAGES, "token_transform": "none"}  # the issue's starting point
    # The four combinations of the auxiliary tasks, named after what they drop from the paper's
    # design; the default's combination is the row "LPF".
    aux = {(True, True): "LPF with both auxiliary tasks (as in the paper)", (False, True): "LPF w/o category task",
           (True, False): "LPF w/o comparison task", (False, False): "LPF w/o both auxiliary tasks"}
    out = [lpf("LPF")]
    out += [lpf(name, use_category=cat, use_comparison=cmp) for (cat, cmp), name in aux.items()
            if (cat, cmp) != (base.use_category, base.use_comparison)]
    out.append(lpf("LPF w/o weight stream (mean of scores)", use_weight_stream=False))
    if not quick:
        lite = replace(base, encoder=LITE_ENCODER, stages=LITE_STAGES)
        out.append(OtherEncoder(LPFMethod(lite, tcfg, LITE_ROW), {}, LITE_ROW, LITE_ENCODER))  # grids: main()
        out += [lpf("LPF, one stage (conv4_3)", stages=("conv4_3",)),
                *[lpf(f"LPF{'' if base.use_category else ' + category task'} K={k}", num_classes=k, use_category=True)
                  for k in (2, 8)],
                lpf("LPF latent 128", latent_dim=128), lpf("LPF latent 512", latent_dim=512)]
    if extras:  # settings tried and not adopted, kept re-runnable
        if any(getattr(base, k) != v for k, v in paper.items()):
            out.append(lpf("LPF as first specified (conv3_3..conv5_3, raw tokens)", **paper))
        out += [lpf("LPF grouped batches (4 photos per batch)", replace(tcfg, groups_per_batch=4)),
                lpf("LPF + within-photo ranking (4 photos per batch)",
                    replace(tcfg, groups_per_batch=4, lambda_rank=1.0))]
    # the baselines as `lpfiqa protocol --method KEY` builds them (the heads take tcfg's epochs,
    # batch size, lr and window: 32 and 1e-3 here, as before they moved into the package)
    out += [make_method(k, tcfg=tcfg) for k in ("gap-ridge", "brisque-svr", "bilinear")]
    if not quick:
        out += [make_method(k, tcfg=tcfg) for k in ("gap-svr", "niqe", "hyper")]
    return out


def main(argv: list[str] | None = None) -> None:
    p = parser("accuracy", __doc__)
    add_subset_args(p)
    p.add_argument("--splits", type=int, default=10)
    p.add_argument("--epochs", type=int, default=3, help="per fit; validation picks the best (it peaks by 2-4)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quick", action="store_true",
                   help="2 splits, the auxiliary-task/stream ablations and 3 baselines only")
    p.add_argument("--photos", choices=["all", "train"], default="all",
                   help="train: only the default model's training photos (for decisions about the default)")
    p.add_argument("--extras", action="store_true", help="also the variants tried and not adopted")
    p.add_argument("--only", action="append", default=[], metavar="METHOD",
                   help="run only this method (repeatable; the table's row names)")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                   help="fits at once, each in a forked 1-thread process (same results as 1; default: the cores)")
    p.add_argument("--name", default="accuracy", help="results: bench/results/<name>.json and <name>/")
    p.add_argument("--out", type=Path, default=RESULTS)
    args = p.parse_args(argv)
    n_splits, epochs = (2, args.epochs) if args.quick else (args.splits, args.epochs)
    tcfg = TrainConfig(epochs=epochs, batch_size=32)
    t0 = time.perf_counter()
    if args.only:  # any row of the full table, extras included
        every = methods(tcfg, False, True)
        unknown = [n for n in args.only if n not in {m.name for m in every}]
        if unknown:
            sys.exit(f"--only: unknown method(s) {unknown}; choose among {[m.name for m in every]}")
        ms = [m for m in every if m.name in args.only]
    else:
        ms = methods(tcfg, args.quick, args.extras)
    manifest = subset_manifest(args.manifest, args.max_view, "train" if args.photos == "train" else None,
                               args.per_photo)
    data = load_set(manifest, feature_cache(LPFConfig(stages=ALL_STAGES)))
    other = [m for m in ms if isinstance(m, OtherEncoder)]
    lite_seconds = None
    if other:
        lite = load_set(manifest, feature_cache(LPFConfig(encoder=LITE_ENCODER, stages=LITE_STAGES)))
        lite_seconds = lite.seconds
        for m in other:
            m.grids.update(zip(lite.features.names, lite.features.grids, strict=True))
    result = run_within(data.features, data.groups, ms, n_splits=n_splits, seed=args.seed, scale=data.scale,
                        name="synthetic (by photo)", workers=args.workers)
    result.timing.update({"features_seconds": data.seconds, "images": len(data.rows),  # keys the report reads
                          "cache_hits": data.cache_hits, "cache_misses": data.cache_misses,
                          "lite_features_seconds": lite_seconds})  # the second (MobileNetV2) extraction
    result.save(args.out / args.name)
    out = {**header("bench.accuracy", args), "splits": n_splits, "epochs": epochs,
           "images": len(data.rows), "per_photo": args.per_photo, "photos": args.photos, "summary": result.summary(),
           "target_margin": TARGET_MARGIN}
    out.update(derive(out))
    out.update(task_comparison(result.to_dict()))
    out["seconds"] = time.perf_counter() - t0
    write_json(args.out / f"{args.name}.json", out)
    print(result.to_markdown())
    for name, m in out["lpf_margin_over_baselines"].items():
        ok = out["target_met"][name]
        print(f"LPF - {name}: SRCC {m['srcc']:+.3f}, PLCC {m['plcc']:+.3f} ({'meets' if ok else 'misses'} "
              f"+{TARGET_MARGIN}); PLCC after a logistic map {m['plcc_l4']:+.3f}")
    print(f"wrote {args.out / args.name}.json in {out['seconds']:.0f}s")


# ---------------------------------------------------------------------------------------- figures
TARGET_MARGIN = 0.03  # LPF's median SRCC and PLCC above every baseline's by at least this much
# Baselines that train a head on the token grids like LPF does (the rest regress fixed features).
LEARNED_BASELINES = ("DBCNN-style bilinear head", "HyperIQA-style hyper-network")


def _median(row: dict, k: str) -> float:
    return row["metrics"][k]["median"]


def derive(d: dict) -> dict:
    """What the table reads off its summary: LPF's margin over each baseline (median SRCC, PLCC, and
    PLCC after the 4-parameter logistic map of VQEG, fitted per split), whether each margin meets
    the target, and the LPF variants whose median SRCC is above the default's.

    Example:
        >>> row = lambda m, v: {"method": m, "metrics": {k: {"median": v} for k in ("srcc", "plcc", "plcc_l4")}}
        >>> x = derive({"summary": [row("LPF", 0.7), row("LPF x", 0.75), row("ridge", 0.6)], "target_margin": 0.03})
        >>> x["target_met"], x["lpf_variants_above_default"][0]["method"]
        ({'ridge': True}, 'LPF x')
    """
    rows, target = d["summary"], d["target_margin"]
    lpf = next((r for r in rows if r["method"] == "LPF"), rows[0])
    margin = {r["method"]: {k: _median(lpf, k) - _median(r, k) for k in ("srcc", "plcc", "plcc_l4")}
              for r in rows if not r["method"].startswith("LPF")}
    above = []
    if lpf["method"] == "LPF":  # which parts help: every variant whose median beats the default's
        base = _median(lpf, "srcc")
        above = [{"method": r["method"], "srcc_minus_default": _median(r, "srcc") - base} for r in rows
                 if r["method"].startswith("LPF") and r is not lpf and _median(r, "srcc") > base]
    return {"lpf_margin_over_baselines": margin,
            "target_met": {m: v["srcc"] >= target and v["plcc"] >= target for m, v in margin.items()},
            "lpf_variants_above_default": above}


def task_comparison(protocol: dict) -> dict:
    """From a protocol run's results (``results.json``): the auxiliary tasks each method trained,
    and in how many splits its test SRCC beats the method that trains both (same split, paired)."""
    flags = {m["name"]: m.get("model", {}) for m in protocol["methods"]}
    per_split: dict[str, dict[int, float]] = {}
    for r in protocol["records"]:
        per_split.setdefault(r["method"], {})[r["split"]] = r["metrics"]["srcc"]
    both = next((n for n, m in flags.items() if m.get("use_category") and m.get("use_comparison")), None)
    tasks = {n: [t for t, k in (("category", "use_category"), ("comparison", "use_comparison")) if m.get(k)]
             if m else None for n, m in flags.items()}
    wins = {}
    for name in per_split:
        if both is not None and name != both:
            ref = per_split[both]
            wins[name] = {"wins": sum(per_split[name][k] > ref[k] for k in ref), "of": len(ref)}
    return {"auxiliary_tasks": tasks, "srcc_wins_over_both_tasks": wins}


def compare_budgets(d: dict, full: dict | None) -> dict | None:
    """The make-bench run (``d``) beside the full-budget one, method by method: both medians, what
    the larger budget gained, and LPF's smallest margins at the full budget. None: nothing to compare."""
    if not full or full.get("per_photo") == d.get("per_photo"):
        return None
    med = {r["method"]: r["metrics"] for r in full["summary"]}
    rows = [{"method": r["method"], "srcc": _median(r, "srcc"), "srcc_full": med[r["method"]]["srcc"]["median"],
             "plcc": _median(r, "plcc"), "plcc_full": med[r["method"]]["plcc"]["median"]}
            for r in d["summary"] if r["method"] in med]
    gain = {r["method"]: r["srcc_full"] - r["srcc"] for r in rows}
    learned = [g for m, g in gain.items() if m.startswith("LPF") or m in LEARNED_BASELINES]
    fixed = [g for m, g in gain.items() if not (m.startswith("LPF") or m in LEARNED_BASELINES)]
    gains = None
    if "LPF" in gain and learned and fixed:
        gains = {"lpf": gain["LPF"], "learned_heads_mean": sum(learned) / len(learned),
                 "fixed_features_mean": sum(fixed) / len(fixed),
                 "baselines": [{"method": m, "gain": g}
                               for g, m in sorted(((g, m) for m, g in gain.items() if not m.startswith("LPF")),
                                                  reverse=True)]}
    margins = full["lpf_margin_over_baselines"]
    worst = {k: min(margins.items(), key=lambda kv, k=k: kv[1][k]) for k in ("srcc", "plcc")}
    return {"rows": rows, "srcc_gain": gains, "smallest_margin": worst}


# ---------------------------------------------------------------------------------------- rendering
def _cells(r: dict, keys: tuple[str, ...]) -> str:
    return " | ".join(f"{r['metrics'][k]['median']:.3f} ({r['metrics'][k]['iqr']:.3f})" for k in keys)


def _per_photo(d: dict) -> str:
    n = d.get("per_photo", 0)
    return (f" (at most {n} of each photo: the clean one and a fixed choice of its distorted versions, so that the "
            f"table's {_lpf_fits(d)} LPF fits take minutes, not an hour; `--per-photo 0` uses them all)") if n else ""


def _lpf_fits(d: dict) -> int:
    return sum(r["splits"] for r in d["summary"] if r["method"].startswith("LPF"))


def _lite_note(d: dict) -> str:
    if not any(r["method"] == LITE_ROW for r in d["summary"]):
        return ""
    return (f"\n{LITE_ROW}: the LPF row's recipe and splits on `lpf-lite-v1`'s encoder and stages (MobileNetV2 tokens "
            "from a second extraction of the same images), not that model's own training recipe.\n")


def render_table(d: dict) -> str:
    """The accuracy table, LPF's margins and what helps, of one run."""
    x = {**derive(d), **d}  # results written before the figures were stored: the same function fills them in
    rows = "\n".join(f"| {r['method']} | {_cells(r, ('srcc', 'plcc', 'plcc_l4', 'krcc'))} | {r['splits']} |"
                     for r in d["summary"])
    margins = "\n".join(f"| {k} | {v['srcc']:+.3f} | {v['plcc']:+.3f} | "
                        + (f"{v['plcc_l4']:+.3f} | " if "plcc_l4" in v else "- | ")
                        + f"{'yes' if x['target_met'][k] else '**no**'} |"
                        for k, v in x["lpf_margin_over_baselines"].items())
    better = [f"{v['method']} ({v['srcc_minus_default']:+.3f})" for v in x["lpf_variants_above_default"]]
    helps = ("Variants of LPF whose median SRCC is above the default's (difference): " + "; ".join(better) + "."
             if better else "No variant of LPF beats the default's median SRCC.")
    return f"""{info_line(d)}

{d['images']} images{_per_photo(d)}; every method on the same splits, validation photos carved from each
training part choose epochs and hyper-parameters, the test photos are touched once. Median (IQR) over splits.
Training epochs per LPF fit: {d['epochs']}. Run time {d['seconds'] / 60:.0f} min with {d['args'].get('workers', 1)} worker
process(es). These splits draw from all {d['images']} images, the default model's held-out photos included, so
no default was chosen on this table (decisions use `--photos train`: the category decision in
[STUDIES.md](STUDIES.md)).

| method | SRCC | PLCC | PLCC, logistic | KRCC | splits |
| --- | --- | --- | --- | --- | --- |
{rows}

PLCC is on the raw predictions. "PLCC, logistic" is after the 4-parameter logistic map of VQEG, fitted
per split on the test predictions: the field's usual way to take a monotone bend of the score scale out
before measuring linearity, so a method whose raw PLCC trails its logistic PLCC ranks well but bends
the scale.
{_lite_note(d)}
{helps}

Target: LPF's median SRCC and PLCC above every baseline's by at least {x['target_margin']} ("target met" reads the
raw PLCC, the stricter of the two).

| LPF minus | SRCC | PLCC | PLCC, logistic | target met |
| --- | --- | --- | --- | --- |
{margins}

Per-split figures, box plots and pooled predictions: `bench/results/{d['args'].get('name', 'accuracy')}/`.
"""


def render_budgets(d: dict, full: dict | None) -> str:
    """The make-bench table beside the full-budget one (every image, more epochs), row by row."""
    c = compare_budgets(d, full)
    if c is None:
        return ""
    rows = "\n".join(f"| {r['method']} | {r['srcc']:.3f} | {r['srcc_full']:.3f} | {r['plcc']:.3f} | "
                     f"{r['plcc_full']:.3f} |" for r in c["rows"])
    g = c["srcc_gain"]
    gains = "" if g is None else (
        f"Why the margins differ: from this budget to the full one LPF's median SRCC moves by {g['lpf']:+.3f}, "
        "the baselines' by " + ", ".join(f"{b['gain']:+.3f} ({b['method']})" for b in g["baselines"])
        + f"; the heads trained on the token grids (every LPF row, the bilinear and hyper-network heads) by "
        f"{g['learned_heads_mean']:+.3f} on average, the regressors on fixed features by {g['fixed_features_mean']:+.3f}."
        + (" The learned heads profit more from the larger budget, so LPF's margins here are narrower."
           if g["learned_heads_mean"] > g["fixed_features_mean"] else ""))
    (s_name, s_m), (p_name, p_m) = c["smallest_margin"]["srcc"], c["smallest_margin"]["plcc"]
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


BEFORE_SKLEARN = "accuracy_handwritten_regressors"  # the same run made with the home-made SMO SVR / ridge / grid search


def compare_regressors(d: dict, before: dict | None) -> list[dict]:
    """Each method's median SRCC and PLCC in this run beside the run made with the hand-written regressors."""
    if not before or before.get("args", {}).get("splits") != d.get("args", {}).get("splits"):
        return []
    old = {r["method"]: r["metrics"] for r in before["summary"]}
    return [{"method": r["method"], **{f"{k}{tag}": m[k]["median"] for k in ("srcc", "plcc")
                                        for tag, m in (("", r["metrics"]), ("_before", old[r["method"]]))}}
            for r in d["summary"] if r["method"] in old]


REGRESSOR_ROWS = ("VGG16 GAP + ridge", "VGG16 GAP + svr", "BRISQUE + SVR")


def render_regressors(d: dict, before: dict | None) -> str:
    rows = compare_regressors(d, before)
    if not rows:
        return ""
    table = "\n".join(f"| {r['method']} | {r['srcc_before']:.3f} | {r['srcc']:.3f} | {r['plcc_before']:.3f} | "
                      f"{r['plcc']:.3f} |" for r in rows)
    others = [abs(r["srcc"] - r["srcc_before"]) for r in rows if r["method"] not in REGRESSOR_ROWS]
    return f"""
The run before scikit-learn replaced the hand-written regressors (an SMO support-vector regressor, ridge and
grid search written in the project), beside this one: `bench/results/{BEFORE_SKLEARN}.json`, {before['date'][:10]},
commit {str(before.get('git_commit'))[:10]}. The rows that use no regressor moved too (median SRCC by up to
{max(others, default=0.0):.3f}): that run predates later changes to the training code, and this one used the
synthetic set regenerated on this machine, so the regressor rows ({', '.join(REGRESSOR_ROWS)}) show the switch
to scikit-learn mixed with those changes, not alone.

| method | SRCC, before | SRCC, now (scikit-learn) | PLCC, before | PLCC, now (scikit-learn) |
| --- | --- | --- | --- | --- |
{table}
"""


def render(d: dict) -> str:
    """The make-bench accuracy section: its table, the run before scikit-learn, the full budget beside it."""
    return render_table(d) + render_regressors(d, load(BEFORE_SKLEARN)) + render_budgets(d, load("accuracy_full"))


def render_decision(d: dict) -> str:
    """A restricted run (``--photos train --only ...``) that decided a default: each row's tasks and paired wins."""
    # Row names are relative to the default of the day; the tasks each row trained say what it was.
    protocol = load(f"{d['args'].get('name', 'decide_category')}/results") or {"methods": [], "records": []}
    x = {**task_comparison(protocol), **d}

    def tasks(name: str) -> str:
        t = x["auxiliary_tasks"].get(name)
        return "?" if t is None else " + ".join(t) or "none"

    def wins(name: str) -> str:
        w = x["srcc_wins_over_both_tasks"].get(name)
        return "-" if w is None else f"{w['wins']} of {w['of']}"

    rows = "\n".join(f"| {r['method']} | {tasks(r['method'])} | {wins(r['method'])} | {_cells(r, ('srcc', 'plcc'))} | "
                     f"{r['splits']} |" for r in d["summary"])
    return f"""{info_line(d)}

{d['images']} images of the default model's **training photos only** (its held-out photos never enter a
decision about the default), {d['splits']} random splits by photo, {d['epochs']} epochs per fit. Median (IQR).

| method (as named in that run) | auxiliary tasks trained | beats both tasks (paired, SRCC) | SRCC | PLCC | splits |
| --- | --- | --- | --- | --- | --- |
{rows}
"""


def _title(name: str) -> Callable[[dict], str]:
    return lambda d: f"{name} (synthetic set, {d['splits']} random splits by photo)"


# The studies behind the default (docs/STUDIES.md), each at the budget it was decided on: every
# image of each photo and 4 epochs per fit, not the make-bench budget.
FULL_BUDGET = ("--per-photo", "0", "--epochs", "4")
ACCURACY = Benchmark("accuracy", "accuracy", _title("Accuracy"), render, ("accuracy.json", "accuracy/"),
                     full=("--manifest", MANIFEST), quick=("--manifest", MANIFEST, "--quick"), needs=(MANIFEST,))
ACCURACY_FULL = Benchmark(
    "accuracy_full", "accuracy", _title("Accuracy at the full training budget"), render_table,
    ("accuracy_full.json", "accuracy_full/"), full=(*FULL_BUDGET, "--name", "accuracy_full"),
    quick=(*FULL_BUDGET, "--name", "accuracy_full"), study=True, needs=(MANIFEST,))
_DECIDE = (*FULL_BUDGET, "--photos", "train", "--name", "decide_category", "--only", "LPF",
           "--only", "LPF with both auxiliary tasks (as in the paper)", "--only", "LPF w/o comparison task",
           "--only", "LPF w/o both auxiliary tasks")
DECIDE_CATEGORY = Benchmark(
    "decide_category", "accuracy", "Decision: the category task, on training photos only", render_decision,
    ("decide_category.json", "decide_category/"), full=_DECIDE, quick=_DECIDE, study=True, needs=(MANIFEST,))

if __name__ == "__main__":
    main()
