"""Write the default model's MODEL_CARD.md from the figures the pipeline produced.

Every number in the card comes from `evaluation.json` (written by tools/train_default_model.py)
or is computed here from the synthetic manifest (the labeller's own checks).

Usage: python tools/model_card.py [--work data/v4] [--name lpf-synth-v4] [--baseline lpf-synth-v3]
       python tools/model_card.py --work data/default --name lpf-synth-v3 --baseline lpf-synth-v2 --curve content_curve.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from lpfiqa.datasets.manifest import read_manifest  # noqa: E402
from lpfiqa.synth.evaluate import level_ordering_report  # noqa: E402
from lpfiqa.synth.labels import ALL_METRICS, agreement  # noqa: E402
from lpfiqa.utils import atomic_write_text  # noqa: E402

WEIGHTS = ROOT / "src" / "lpfiqa" / "weights"


def labeller_checks(manifest_path: Path) -> dict:
    """Does the weak label fall with the level? Do the metrics (those the set was labelled with) agree?"""
    m = read_manifest(manifest_path)
    labels = [r.score for r in m.rows]
    by_level = level_ordering_report(m, labels, split=None)
    distorted = [r for r in m.rows if (r.dist_level or 0) > 0]
    names = [k for k in ALL_METRICS if distorted and k in distorted[0].extra]
    metrics = {k: np.array([float(r.extra[k]) for r in distorted]) for k in names}
    return {"label_level_srcc_mean": by_level["level_srcc_mean"],
            "label_level_srcc_per_type": by_level["level_srcc_per_type"],
            "metric_agreement": agreement(metrics), "metrics": names, "n_distorted": len(distorted)}


RECIPE = ("stages", "token_transform", "use_category", "use_comparison", "latent_dim")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--work", type=Path, default=ROOT / "data" / "v4")
    p.add_argument("--name", default="lpf-synth-v4", help="model folder under src/lpfiqa/weights/")
    p.add_argument("--baseline", default="lpf-synth-v3",
                   help="an earlier bundled model to score on the same held-out images ('' for none)")
    p.add_argument("--baseline-stored", action="store_true",
                   help="take the baseline's own evaluation.json instead of re-scoring it: only for a baseline built "
                        "on the same synthetic set (the same command and seed; labeller checks equal)")
    p.add_argument("--curve", default="content_curve_corpus.json", help="bench/results file of bench/content_curve.py")
    args = p.parse_args()
    target = WEIGHTS / args.name
    ev = json.loads((target / "evaluation.json").read_text())
    cfg = json.loads((target / "config.json").read_text())
    manifest = args.work / "synth" / "manifest.csv"
    checks = labeller_checks(manifest)
    atomic_write_text(target / "labeller_checks.json", json.dumps(checks, indent=2))
    base = None
    if args.baseline and args.baseline != args.name:
        from train_default_model import evaluate_heldout  # same figures, same images, same labels

        if args.baseline_stored:
            stored = json.loads((WEIGHTS / args.baseline / "evaluation.json").read_text())
            base = {"name": args.baseline, "stored": True, **{k: v for k, v in stored.items() if k in ev}}
        else:
            base = {"name": args.baseline, **evaluate_heldout(manifest, WEIGHTS / args.baseline)}
        base.pop("score_meaning", None)
        atomic_write_text(target / "baseline_evaluation.json", json.dumps(base, indent=2, default=float))
    curve_path = ROOT / "bench" / "results" / args.curve
    curve = json.loads(curve_path.read_text()) if curve_path.exists() else None
    if curve and {k: curve.get("lpf_config", {}).get(k) for k in RECIPE} != {k: cfg.get(k) for k in RECIPE}:
        curve = None  # measured with another recipe: it does not describe this model
    if curve:
        curve["this_label_srcc"] = ev["label_srcc"]
    atomic_write_text(target / "MODEL_CARD.md", render(args.name, ev, cfg, checks, base, curve))
    print(f"wrote {target / 'MODEL_CARD.md'}")


def _base_note(base: dict | None) -> str:
    if not base:
        return ""
    if base.get("stored"):
        return (f" and for `{base['name']}`, from its own evaluation.json: the same images and labels, regenerated "
                "by the same command (the labeller checks agree to 1e-7)")
    return (f" and for the previous model `{base['name']}`, scored by this script on the same images against "
            "the same labels")


def _floor_rows(ev: dict, base: dict | None = None) -> str:
    names = {"level_srcc_mean": "level ordering, mean SRCC over (photo, type) groups",
             "level_srcc_per_type_min": "level ordering, worst single type",
             "label_srcc": "agreement with weak labels, SRCC", "label_plcc": "agreement with weak labels, PLCC",
             "clean_beats_level3plus": "clean photo above every level>=3 version",
             "clean_median": "median score of the clean photos (0-100)"}
    def cell(d: dict | None, k: str) -> str:
        v = (d or {}).get("floors", {}).get(k, {}).get("value")
        return "n/a" if v is None else f"{v:.3f}"

    return "\n".join(f"| {names[k]} | {cell(ev, k)} | {v['floor']} | {'yes' if v['pass'] else '**no**'} |"
                     + (f" {cell(base, k)} |" if base else "") for k, v in ev["floors"].items())


def _aux_heads(cfg: dict) -> str:
    heads = [n for n, on in (("category", cfg.get("use_category", True)), ("comparison", cfg.get("use_comparison", True)))
             if on]
    if not heads:
        return "no auxiliary head"
    return f"the {' and '.join(heads)} head{'s were' if len(heads) > 1 else ' was'}"


def _aux_settings(cfg: dict) -> str:
    cat = (f"category task on (K = {cfg['num_classes']}, lambda_cat = {cfg['lambda_cat']})"
           if cfg.get("use_category", True) else "category task off")
    cmp = f"lambda_cmp = {cfg['lambda_cmp']}" if cfg.get("use_comparison", True) else "comparison task off"
    return f"{cat}, {cmp}"


def _curve_section(curve: dict | None) -> str:
    """What limits the model: held-out figures against the number of training photos (bench/content_curve.py)."""
    if not curve:
        return ""
    def spread(n: int) -> str:
        v = [r["label_srcc"] for r in curve["runs"] if r["photos"] == n]
        return f"{min(v):.3f}-{max(v):.3f}" if len(v) > 1 else "one run"

    rows = "\n".join(f"| {m['photos']} | {m['label_srcc']:.3f} | {spread(m['photos'])} | {m['level_srcc_mean']:.3f} | "
                      f"{m['clean_beats_level3plus']:.3f} |" for m in curve["medians"])
    t = curve["trend"]["label_srcc"]
    this = f"{curve['this_label_srcc']:.3f}" if "this_label_srcc" in curve else "?"
    return f"""## What limits it
The same recipe trained on random subsets of the training photos (`bench/content_curve.py`, median of
{curve['repeats']} subsets per size, one run on all of them; the same held-out photos each time):

| training photos | SRCC with labels | its range | level ordering | clean beats L>=3 |
| --- | --- | --- | --- | --- |
{rows}

One run's spread is wide: this model, trained on all the photos with its own validation photos, reached
{this} where the curve's single run on all of them reached {curve['medians'][-1]['label_srcc']:.3f}.

Agreement with the labels grows by {t['slope_per_doubling']:+.3f} SRCC per doubling of the photos; a straight line
in log2(photos) reaches the 0.85 floor at about {t['photos_to_floor_extrapolated']:,.0f} photos (an extrapolation from
{len(curve['medians'])} points, not a measurement).

"""


def render(name: str, ev: dict, cfg: dict, checks: dict, base: dict | None = None,
           curve: dict | None = None) -> str:
    sc, tc = ev["synth_config"], ev["train_config"]
    bt = (base or {}).get("level_srcc_per_type", {})
    per_type = "\n".join(f"| {t} | {v:.3f} | {checks['label_level_srcc_per_type'].get(t, float('nan')):.3f} |"
                         + (f" {bt.get(t, float('nan')):.3f} |" if base else "")
                         for t, v in ev["level_srcc_per_type"].items())
    agree = checks["metric_agreement"]
    metrics = checks.get("metrics") or list(agree)
    agree_rows = "\n".join(f"| {a} | " + " | ".join(f"{agree[a][b]:.3f}" for b in metrics) + " |" for a in metrics)
    secs = ev["seconds"]
    per_type_floor = ev["floors"]["level_srcc_per_type_min"]["floor"]
    return f"""# Model card: `{name}`

Generated by `tools/model_card.py` from `evaluation.json` and the synthetic manifest; every
figure below was produced by `tools/train_default_model.py` on this repository's code.

## What it is
LPF{_lite(cfg)} (frozen ImageNet {_encoder_name(cfg)} -> FEN -> DaQRN; {_aux_heads(cfg)} trained alongside and not used at
test time){_diag_line(cfg)}. Output: **0-100, higher is better**; 100 is what an
undistorted photo gets from the labeller. Size: the {_encoder_name(cfg)} encoder ({_encoder_params(cfg)} parameters
used, bundled) plus {_n_params(cfg)} trained head parameters.

## Training data
{_data_section(ev, sc, tc)}

## Labels (weak, not human)
Each distorted image is scored by {len(metrics)} full-reference metrics against its clean reference
({', '.join(metrics)}; `lpfiqa.fr`), each mapped onto a common 0-100 scale by a monotone
logistic fitted to their rank consensus on the training photos, then averaged
(`lpfiqa.synth.labels`; calibration in `label_calibration.json`).

Labeller checks (all {checks['n_distorted']} distorted images): within each (photo, type) group the label falls
with the level with mean Spearman correlation **{checks['label_level_srcc_mean']:.3f}**. Spearman agreement
between the metrics across all types:

| | {' | '.join(metrics)} |
| --- | {' | '.join('---' for _ in metrics)} |
{agree_rows}

## How it was evaluated (held-out photos)

| figure | value | floor | pass |{f" `{base['name']}` |" if base else ""}
| --- | --- | --- | --- |{" --- |" if base else ""}
{_floor_rows(ev, base)}

Level ordering per type (model) next to the same figure for the weak label itself{_base_note(base)}:

| type | model | label |{f" `{base['name']}` |" if base else ""}
| --- | --- | --- |{" --- |" if base else ""}
{per_type}

Types where the model misses the {per_type_floor} floor: {', '.join(t for t, v in ev['level_srcc_per_type'].items() if v < per_type_floor) or 'none'}.
{_per_source_section(ev)}{_meaning_section(ev)}{_diagnosis_section(ev)}
Settings of this model: tokens from {', '.join(cfg['stages'])} (transform: {cfg.get('token_transform', 'none')}),
crop windows of {tc['window']}x{tc['window']} tokens ({tc['window'] * cfg['cell']} px),
{_aux_settings(cfg)}, latent {cfg['latent_dim']},
batch {tc['batch_size']} ({tc['batch_size'] * (tc['batch_size'] - 1) // 2} pairs), lr {tc['lr']}, {tc['epochs']} epochs.
Time of the last `tools/train_default_model.py` run on this 2-core machine (shared with other jobs, so
approximate; a step resumed from an earlier, interrupted run counts only what was left):
{', '.join(f"{k} {v:.0f} s" for k, v in secs.items())}.

{_curve_section(curve)}## What it is not
- It was **not trained on human opinion scores**. It predicts what four full-reference metrics
  would say about 25 synthetic distortion types; it knows nothing of aesthetics, composition,
  or authentic camera artefacts beyond what those distortions resemble. On authentic-distortion
  sets (KonIQ-10k, SPAQ, LIVEC) expect far weaker agreement with MOS than a model trained on them.
- The label scale is relative to the synthetic set's mix of distortions (50 = a median
  degradation of that set), not a MOS.
- Trained on {sc['size'][0]}x{sc['size'][1]} images: very different resolutions change how strong a distortion
  looks per 32-px region.

To train on human ratings: `lpfiqa data prepare koniq10k ROOT -o koniq.csv && lpfiqa train --data koniq.csv --out runs/koniq`
(any rated set: a CSV with `path,score[,group]`), then `--model runs/koniq`.
"""


def _diag_line(cfg: dict) -> str:
    if not cfg.get("use_diagnosis"):
        return ""
    how = "on detached latents (it does not train the FEN)" if cfg.get("diagnosis_detach", True) else \
        "in parallel with the score (its loss also trains the FEN)"
    return (f"; a diagnosis head, trained {how} and used at test time, gives one probability per distortion "
            f"family ({', '.join(cfg['diagnosis_families'])})")


def _encoder_name(cfg: dict) -> str:
    return {"vgg16": "VGG16", "mobilenet_v2": "MobileNetV2"}.get(cfg.get("encoder", "vgg16"), cfg.get("encoder"))


def _lite(cfg: dict) -> str:
    return "-Lite" if cfg.get("encoder", "vgg16") != "vgg16" else ""


def _encoder_params(cfg: dict) -> str:
    """Parameters of the encoder up to its deepest used stage (what scoring runs)."""
    from lpfiqa.backbones import load_encoder

    net = load_encoder(cfg.get("encoder", "vgg16"), out_stages=tuple(cfg["stages"]))
    return f"{sum(p.numel() for p in net.parameters()) / 1e6:.2f}M"


def _data_section(ev: dict, sc: dict, tc: dict) -> str:
    n_train = ev["counts"]["train"] + ev["counts"]["val"]
    types = (f"{sc['types_per_photo']} random types of the 25" if sc.get("types_per_photo") else "the 25 types")
    test_types = (f"{sc['test_types_per_photo']} random types of the 25, every level"
                  if sc.get("test_types_per_photo") else "every type at every level")
    corpus = ev.get("corpus")
    if corpus:
        per = corpus["photos"]
        table = "\n".join(f"| {s} | {c['train']} | {c['test']} |" for s, c in sorted(per.items()))
        where = (f"photos of the registry-package corpus (`tools/build_corpus.py`; provenance and licence per "
                 f"photo in its manifest), held out by source and by photo: all of `{corpus['holdout_source']}` "
                 "plus a random fifth of the others")
        src = f"\n\n| source | training photos | held-out photos |\n| --- | --- | --- |\n{table}\n"
    else:
        where, src = "photos of `../shared/pristine` (see its SOURCES.md)", ""
    return (f"- {n_train} images from {ev['photos_train']} {where}, distorted at {sc['size'][0]}x{sc['size'][1]} by "
            f"{types} of KADID-10k per photo ({sc['levels_per_type'] or 5} random levels of 5 per type) plus "
            f"{sc['chains']} random chains of 1-3 types per photo, with the clean photos themselves (label 100)."
            f"{_views_line(sc)}\n"
            f"- Validation: {ev['counts']['val']} images of photos carved from the training photos; they chose the "
            f"epoch ({ev['best_epoch']} of {tc['epochs']}).\n"
            f"- Held out: {ev['photos']} photos ({ev['counts']['test']} images: {test_types}), never used for any "
            f"choice. They are the test set of the figures below.{src}")


def _per_source_section(ev: dict) -> str:
    per = ev.get("per_source")
    if not per:
        return ""
    rows = "\n".join(f"| {s} | {r['photos']} | {r['level_srcc_mean']:.3f} | {r.get('label_srcc') or float('nan'):.3f} | "
                      f"{r['clean_beats_level3plus']:.3f} | {r['clean_median']:.1f} |" for s, r in per.items())
    return f"""
By source of the held-out photos:

| source | photos | level ordering | SRCC with labels | clean beats L>=3 | clean median |
| --- | --- | --- | --- | --- | --- |
{rows}
"""


def _meaning_section(ev: dict) -> str:
    m = ev.get("score_meaning")
    if not m:
        return ""
    per_level = " | ".join(f"{v:.0f}" for v in m["median_score_per_level"].values())
    heads = " | ".join(str(k) for k in m["median_score_per_level"])
    lines = []
    for s, a in m["near_anchor"].items():
        if not a["n"]:
            lines.append(f"- **{s}**: no held-out image scored within 5 of it.")
            continue
        share = ", ".join(f"level {lv} {100 * v:.0f}%" for lv, v in a["level_share"].items() if v >= 0.05)
        lines.append(f"- **{s}** (the {a['n']} held-out images scoring {int(s) - 5}-{int(s) + 5}): {share}.")
    return f"""
## What a score means (held-out photos)
Median score per distortion level (0 = the clean photo; single distortions):

| level | {heads} |
| --- | {' | '.join('---' for _ in m['median_score_per_level'])} |
| median score | {per_level} |

Which damage lies behind a score (levels of the images scoring near it; 5 is KADID-10k's strongest):

{chr(10).join(lines)}
"""


def _diagnosis_section(ev: dict) -> str:
    d = ev.get("diagnosis")
    if not d or d.get("top1") is None:
        return ""
    rows = "\n".join(f"| {f} | {v['top1']:.3f} | {v['n']} |" for f, v in d["per_family"].items())
    return f"""
## Diagnosis ("what is wrong"), held-out photos
Top-1 family on single-distortion images at level >= 3: **{d['top1']:.3f}** ({d['n']} images; floor 0.80).

| family | top-1 | images |
| --- | --- | --- |
{rows}
"""


def _views_line(sc: dict) -> str:
    extra = sc.get("views", 1) - 1
    if extra < 1:
        return ""
    lo, hi = sc.get("zoom", (1.3, 2.0))
    return (f"\n- Each training photo also gives {extra} more scene(s): a random crop of the photo enlarged "
            f"{lo}-{hi}x, distorted the same way; it keeps the photo's group, so splits stay by photo.")


def _n_params(cfg: dict) -> str:
    from lpfiqa.models import LPFConfig, LPFHeads

    heads = LPFHeads(LPFConfig.from_dict(cfg))
    test_time = sum(p.numel() for n, p in heads.named_parameters() if n.split(".")[0] in ("fen", "daqrn"))
    return f"{test_time:,}"


if __name__ == "__main__":
    main()
