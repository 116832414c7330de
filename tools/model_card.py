"""Write the default model's MODEL_CARD.md from the figures the pipeline produced.

Every number in the card comes from `evaluation.json` (written by tools/train_default_model.py)
or is computed here from the synthetic manifest (the labeller's own checks).

Usage: python tools/model_card.py [--work data/default] [--name lpf-synth-v3] [--baseline lpf-synth-v2]
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
from lpfiqa.synth.labels import METRICS, agreement  # noqa: E402
from lpfiqa.utils import atomic_write_text  # noqa: E402

WEIGHTS = ROOT / "src" / "lpfiqa" / "weights"


def labeller_checks(manifest_path: Path) -> dict:
    """Does the weak label fall with the level? Do the four metrics agree?"""
    m = read_manifest(manifest_path)
    labels = [r.score for r in m.rows]
    by_level = level_ordering_report(m, labels, split=None)
    distorted = [r for r in m.rows if (r.dist_level or 0) > 0]
    metrics = {k: np.array([float(r.extra[k]) for r in distorted]) for k in METRICS}
    return {"label_level_srcc_mean": by_level["level_srcc_mean"],
            "label_level_srcc_per_type": by_level["level_srcc_per_type"],
            "metric_agreement": agreement(metrics), "n_distorted": len(distorted)}


RECIPE = ("stages", "token_transform", "use_category", "use_comparison", "latent_dim")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--work", type=Path, default=ROOT / "data" / "default")
    p.add_argument("--name", default="lpf-synth-v3", help="model folder under src/lpfiqa/weights/")
    p.add_argument("--baseline", default="lpf-synth-v2",
                   help="an earlier bundled model to score on the same held-out images ('' for none)")
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

        base = {"name": args.baseline, **evaluate_heldout(manifest, WEIGHTS / args.baseline)}
        atomic_write_text(target / "baseline_evaluation.json", json.dumps(base, indent=2, default=float))
    curve_path = ROOT / "bench" / "results" / "content_curve.json"
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
    return (f" and for the previous model `{base['name']}`, scored by this script on the same images against "
            "the same labels")


def _floor_rows(ev: dict, base: dict | None = None) -> str:
    names = {"level_srcc_mean": "level ordering, mean SRCC over (photo, type) groups",
             "level_srcc_per_type_min": "level ordering, worst single type",
             "label_srcc": "agreement with weak labels, SRCC", "label_plcc": "agreement with weak labels, PLCC",
             "clean_beats_level3plus": "clean photo above every level>=3 version"}
    return "\n".join(f"| {names[k]} | {v['value']:.3f} | {v['floor']} | {'yes' if v['pass'] else '**no**'} |"
                     + (f" {base['floors'][k]['value']:.3f} |" if base else "") for k, v in ev["floors"].items())


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
four points, not a measurement). More, and more varied, pristine content is what this model needs most.

"""


def render(name: str, ev: dict, cfg: dict, checks: dict, base: dict | None = None,
           curve: dict | None = None) -> str:
    sc, tc = ev["synth_config"], ev["train_config"]
    bt = (base or {}).get("level_srcc_per_type", {})
    per_type = "\n".join(f"| {t} | {v:.3f} | {checks['label_level_srcc_per_type'].get(t, float('nan')):.3f} |"
                         + (f" {bt.get(t, float('nan')):.3f} |" if base else "")
                         for t, v in ev["level_srcc_per_type"].items())
    agree = checks["metric_agreement"]
    agree_rows = "\n".join(f"| {a} | " + " | ".join(f"{agree[a][b]:.3f}" for b in METRICS) + " |" for a in METRICS)
    secs = ev["seconds"]
    return f"""# Model card: `{name}`

Generated by `tools/model_card.py` from `evaluation.json` and the synthetic manifest; every
figure below was produced by `tools/train_default_model.py` on this repository's code.

## What it is
LPF (frozen ImageNet VGG16 -> FEN -> DaQRN; {_aux_heads(cfg)} trained alongside and not used at
test time). Output: **0-100, higher is better**; 100 is what an
undistorted photo gets from the labeller. Size: the VGG16 encoder (14.7M parameters, bundled)
plus {_n_params(cfg)} trained head parameters.

## Training data
- {ev['counts']['train'] + ev['counts']['val']} images from {ev['photos_train']} photos of `../shared/pristine`
  (see its SOURCES.md), distorted at {sc['size'][0]}x{sc['size'][1]} by the 25 KADID-10k distortion types
  ({sc['levels_per_type'] or 5} random levels of 5 per type and photo) plus {sc['chains']} random chains of 1-3
  types per photo, with the clean photos themselves (label 100).{_views_line(sc)}
- Validation: {ev['counts']['val']} images of photos carved from the training photos; they chose the epoch
  ({ev['best_epoch']} of {tc['epochs']}).
- Held out: {ev['photos']} photos ({ev['counts']['test']} images: every type at every level), never used for any
  choice. They are the test set of the figures below.

## Labels (weak, not human)
Each distorted image is scored by four full-reference metrics against its clean reference
(MS-SSIM, GMSD, VIF, MDSI, `lpfiqa.fr`), each mapped onto a common 0-100 scale by a monotone
logistic fitted to their rank consensus on the training photos, then averaged
(`lpfiqa.synth.labels`; calibration in `label_calibration.json`).

Labeller checks (all {checks['n_distorted']} distorted images): within each (photo, type) group the label falls
with the level with mean Spearman correlation **{checks['label_level_srcc_mean']:.3f}**. Spearman agreement
between the metrics across all types:

| | {' | '.join(METRICS)} |
| --- | {' | '.join('---' for _ in METRICS)} |
{agree_rows}

## How it was evaluated (held-out photos)

| figure | value | floor | pass |{f" `{base['name']}` |" if base else ""}
| --- | --- | --- | --- |{" --- |" if base else ""}
{_floor_rows(ev, base)}

Level ordering per type (model) next to the same figure for the weak label itself{_base_note(base)}:

| type | model | label |{f" `{base['name']}` |" if base else ""}
| --- | --- | --- |{" --- |" if base else ""}
{per_type}

Types where the model misses the 0.8 floor: {', '.join(t for t, v in ev['level_srcc_per_type'].items() if v < 0.8) or 'none'}.

Settings of this model: tokens from {', '.join(cfg['stages'])} (transform: {cfg.get('token_transform', 'none')}),
crop windows of {tc['window']}x{tc['window']} tokens ({tc['window'] * cfg['cell']} px),
{_aux_settings(cfg)}, latent {cfg['latent_dim']},
batch {tc['batch_size']} ({tc['batch_size'] * (tc['batch_size'] - 1) // 2} pairs), lr {tc['lr']}, {tc['epochs']} epochs.
Time of the last `tools/train_default_model.py` run on this 2-core machine (shared with other jobs, so
approximate; a step resumed from an earlier, interrupted run counts only what was left): synthesis
{secs['synthesis']:.0f} s, encoder features {secs['features']:.0f} s, training {secs['training']:.0f} s.

{_curve_section(curve)}## What it is not
- It was **not trained on human opinion scores**. It predicts what four full-reference metrics
  would say about 25 synthetic distortion types; it knows nothing of aesthetics, composition,
  or authentic camera artefacts beyond what those distortions resemble. On authentic-distortion
  sets (KonIQ-10k, SPAQ, LIVEC) expect far weaker agreement with MOS than a model trained on them.
- The label scale is relative to the synthetic set's mix of distortions (50 = a median
  degradation of that set), not a MOS.
- Trained on {sc['size'][0]}x{sc['size'][1]} images: very different resolutions change how strong a distortion
  looks per 32-px region.

To train on human ratings: `lpfiqa data prepare koniq10k ROOT -o koniq.csv && lpfiqa train koniq.csv --out runs/koniq`
(any rated set: a CSV with `path,score[,group]`), then `--model runs/koniq`.
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
