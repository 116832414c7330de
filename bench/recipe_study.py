"""Which training recipe for the corpus-trained default model, decided on training photos only.

The default model's held-out photos (one whole source plus a random fifth of the rest) must
never choose anything, so this study keeps only the *training* photos of the synthetic set,
carves a validation fold of photos out of them (by photo, 20%; plus 15% of the rest to pick
each run's epoch) and trains each candidate recipe on the same split and the same cached
token grids. It reports, on that fold, the figures the issue sets floors for: level ordering
within (photo, type), agreement with the weak labels, clean above every level >= 3 version,
the clean photos' median score, and the diagnosis head's top-1 family accuracy.

Recipes (each adds one thing to the one before, so the table reads as an ablation):

* ``v3 recipe``: regression + comparison task, the lpf-synth-v3 settings;
* ``+ level order``: a logistic loss on every same-scene pair whose order is known (same type
  at two levels, or clean vs distorted), batches of 4 photos so such pairs exist;
* ``+ diagnosis (detached)``: the family head trained on detached latents (the score path is
  the one above, so this shows the head's own accuracy at no cost to the score);
* ``+ diagnosis (in parallel)``: the family loss also trains the FEN, the paper's one-stage way.

The rule, fixed before the first run: the default takes the recipe with the best mean of level
ordering and label SRCC on the validation fold; the diagnosis trains in parallel with the score
only if that beats the detached head on both of those figures (it ships either way).

Usage::

    python -m bench.recipe_study [--manifest data/v4/synth/manifest.csv] [--epochs 8] [--workers 2]
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ._common import ROOT, V4_MANIFEST, Benchmark, header, info_line, log, parser, read_csv, write_csv, write_json

RECIPES: dict[str, tuple[dict, dict]] = {  # name -> (LPFConfig overrides, TrainConfig overrides)
    "v3 recipe": ({}, {}),
    "+ level order": ({}, {"lambda_order": 1.0, "groups_per_batch": 4}),
    "+ diagnosis (detached)": ({"use_diagnosis": True, "diagnosis_detach": True},
                               {"lambda_order": 1.0, "groups_per_batch": 4}),
    "+ diagnosis (in parallel)": ({"use_diagnosis": True, "diagnosis_detach": False},
                                  {"lambda_order": 1.0, "groups_per_batch": 4}),
}
FIGURES = ("level_srcc_mean", "level_srcc_per_type_min", "label_srcc", "label_plcc", "clean_beats_level3plus",
           "clean_median")


def training_only(manifest: Path, out: Path) -> Path:
    """A copy of the manifest with only the training photos and no split (the run carves its own)."""
    every = read_csv(manifest)
    rows = [r for r in every if r["split"] == "train"]
    for r in rows:
        r["split"] = ""
        r["path"] = str((manifest.parent / r["path"]).resolve())
    return write_csv(out.resolve(), rows, list(every[0]))


def run_recipe(name: str, manifest: Path, work: Path, epochs: int, seed: int) -> dict:
    """Train one recipe on the training photos; its figures on the validation fold of photos."""
    from lpfiqa.models import LPFConfig
    from lpfiqa.training import TrainConfig

    mover, tover = RECIPES[name]
    mcfg = LPFConfig(stages=("conv3_3", "conv4_3"), token_transform="log1p", use_category=False, **mover)
    tcfg = TrainConfig(epochs=epochs, batch_size=32, seed=seed, val_fraction=0.15, test_fraction=0.2, **tover)
    run = work / name.replace(" ", "_").replace("+", "plus").replace("(", "").replace(")", "")
    return train_and_score(mcfg, tcfg, manifest, run)


def train_and_score(mcfg, tcfg, manifest: Path, run: Path) -> dict:  # noqa: ANN001 (lpfiqa imported lazily)
    """Train ``mcfg``/``tcfg`` on ``manifest`` (one thread) and score the run's own test fold of photos.

    The figures the issue sets floors for, on the validation fold carved by the run (its ``test``
    split here is a fold of training photos); also used by ``bench.lite_stages``.
    """
    import torch

    from lpfiqa.datasets.manifest import read_manifest
    from lpfiqa.features import FeatureCache, TokenEncoder
    from lpfiqa.models.io import load_heads
    from lpfiqa.synth.evaluate import level_ordering_report
    from lpfiqa.training import predict_unit, train_run

    torch.set_num_threads(1)
    t0 = time.perf_counter()
    report = train_run(manifest, run, mcfg, tcfg, resume=(run / "checkpoint.safetensors").exists(),
                       show_progress=False)
    seconds = time.perf_counter() - t0
    split_of = {r["path"]: r["split"] for r in read_csv(run / "splits.csv")}
    m = read_manifest(manifest)
    for r in m.rows:  # the run's own split: "test" here is the validation fold of training photos
        r.split = split_of.get(str(r.path), "")
    heads = load_heads(run)
    cache = FeatureCache(TokenEncoder.from_config(heads.cfg))
    idx = [i for i, r in enumerate(m.rows) if r.split == "test"]
    scores = np.full(len(m.rows), np.nan)
    scores[idx] = heads.cfg.from_unit(predict_unit(heads, [cache.get(m.rows[i].path) for i in idx]))
    figures = level_ordering_report(m, scores, split="test")
    out = {k: figures.get(k) for k in FIGURES}
    out["level_srcc_per_type"] = figures["level_srcc_per_type"]
    out["diagnosis"] = report.diagnosis.get("test") if getattr(report, "diagnosis", None) else None
    out.update({"photos": figures["photos"], "best_epoch": report.best_epoch, "seconds": round(seconds, 1),
                "token_dim": heads.cfg.token_dim})
    return out


def choose(table: dict[str, dict]) -> str:
    """The rule of the module docstring, applied to the study's results."""
    def merit(r: dict) -> float:
        return (r["level_srcc_mean"] + r["label_srcc"]) / 2

    best = max(table, key=lambda n: merit(table[n]))
    par, det = table.get("+ diagnosis (in parallel)"), table.get("+ diagnosis (detached)")
    if best == "+ diagnosis (in parallel)" and det is not None and not (
            par["level_srcc_mean"] > det["level_srcc_mean"] and par["label_srcc"] > det["label_srcc"]):
        best = "+ diagnosis (detached)"
    return best


def main(argv: list[str] | None = None) -> None:
    p = parser("recipe_study", __doc__)
    p.add_argument("--manifest", type=Path, default=ROOT / V4_MANIFEST)
    p.add_argument("--work", type=Path, default=ROOT / "data" / "v4" / "recipe_study")
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, default=2, help="recipes trained at once (one thread each)")
    p.add_argument("--only", action="append", default=None, help="a recipe name (repeatable)")
    p.add_argument("--out", default="recipe_study.json")
    args = p.parse_args(argv)
    from lpfiqa.parallel import fork_map

    names = args.only or list(RECIPES)
    manifest = training_only(args.manifest, args.work / "training_photos.csv")
    log(f"{len(names)} recipes on the training photos of {args.manifest} ({args.epochs} epochs)")
    t0 = time.perf_counter()
    results = list(fork_map(lambda n: run_recipe(n, manifest, args.work, args.epochs, args.seed), names,
                            workers=args.workers, ordered=True))
    table = dict(zip(names, results, strict=True))
    for n, r in table.items():
        diag = (r["diagnosis"] or {}).get("top1") if isinstance(r["diagnosis"], dict) else None
        log(f"{n:<28} level order {r['level_srcc_mean']:.3f} (worst type {r['level_srcc_per_type_min']:.3f})  "
            f"labels SRCC {r['label_srcc']:.3f} PLCC {r['label_plcc']:.3f}  clean>L3+ {r['clean_beats_level3plus']:.3f}"
            f"  clean median {r['clean_median']:.1f}" + (f"  diagnosis top-1 {diag:.3f}" if diag is not None else ""))
    data = header("bench.recipe_study", args)
    data.update({"recipes": {n: {"model": RECIPES[n][0], "train": RECIPES[n][1]} for n in names},
                 "results": table, "seconds": round(time.perf_counter() - t0, 1)})
    data["chosen"] = choose(table)
    log(f"chosen by the rule: {data['chosen']}")
    write_json(args.out, data)
    log(f"done in {time.perf_counter() - t0:.0f} s -> bench/results/{args.out}")



def render(d: dict) -> str:
    res = d["results"]

    def diag(r: dict) -> str:
        x = r.get("diagnosis") or {}
        return f"{x['top1']:.3f}" if x.get("top1") is not None else "-"

    rows = "\n".join(f"| {n} | {r['level_srcc_mean']:.3f} | {r['level_srcc_per_type_min']:.3f} | {r['label_srcc']:.3f} | "
                      f"{r['label_plcc']:.3f} | {r['clean_beats_level3plus']:.3f} | {r['clean_median']:.1f} | {diag(r)} |"
                      for n, r in res.items())
    photos = next(iter(res.values()))["photos"]
    return f"""{info_line(d)}

Candidate recipes for the corpus model, trained on its training photos only and scored on a validation fold of
{photos} of them (`bench/recipe_study.py`; the held-out photos chose nothing). Chosen by the rule fixed in the
script before it ran: **{d.get('chosen', '?')}**.

| recipe | level ordering | worst type | SRCC labels | PLCC labels | clean beats L>=3 | clean median | diagnosis top-1 |
| --- | --- | --- | --- | --- | --- | --- | --- |
{rows}
"""


_ARGV = ("--manifest", V4_MANIFEST)
BENCHMARK = Benchmark("recipe_study", "recipe_study", "Decision: the corpus model's recipe, on training photos only",
                      render, ("recipe_study.json",), full=_ARGV, quick=_ARGV, study=True, needs=(V4_MANIFEST,))


if __name__ == "__main__":
    main()
