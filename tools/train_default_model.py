"""Build a bundled default model (``lpf-synth-v3``) from the pristine photos, end to end.

1. synthesise the weakly-labelled set (``lpfiqa synth``): 25 KADID types; held-out photos get
   every level, training photos a random subset of levels per type plus random chains, and
   ``--views`` scenes each (the whole photo + zoomed crops);
2. train LPF on it (``lpfiqa train``; validation photos carved from the training photos choose
   the epoch; the held-out photos are never used for any choice);
3. score the held-out photos and compute the issue's figures (level ordering, agreement with
   the weak labels, clean vs damaged);
4. copy the weights + config + figures into ``src/lpfiqa/weights/<name>/``.

Usage (the settings of the bundled ``lpf-synth-v3``)::

    python tools/train_default_model.py --pristine ../shared/pristine --work data/default

``lpf-synth-v2`` was built with ``--name lpf-synth-v2 --category`` (the same recipe with the
category task). ``lpf-synth-v1`` was built with ``--name lpf-synth-v1 --views 1 --stages conv3_3,conv4_3,conv5_3
--token-transform none --epochs 16 --category --run run`` (views 1: its set had no zoomed crops).

Re-running resumes: synthesis skips finished photos and features come from the cache.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from lpfiqa.datasets.manifest import read_manifest  # noqa: E402
from lpfiqa.features import FeatureCache, TokenEncoder  # noqa: E402
from lpfiqa.models import LPFConfig  # noqa: E402
from lpfiqa.models.io import load_heads  # noqa: E402
from lpfiqa.synth.build import SynthConfig, build_synthetic_set  # noqa: E402
from lpfiqa.synth.evaluate import level_ordering_report  # noqa: E402
from lpfiqa.training import TrainConfig, predict_unit, train_run  # noqa: E402
from lpfiqa.utils import atomic_write_text  # noqa: E402

WEIGHTS = ROOT / "src" / "lpfiqa" / "weights"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pristine", type=Path, default=ROOT.parent / "shared" / "pristine")
    p.add_argument("--work", type=Path, default=ROOT / "data" / "default")
    p.add_argument("--size", default="384x288", help="working size WxH of the synthetic set")
    p.add_argument("--levels-per-type", type=int, default=3)
    p.add_argument("--chains", type=int, default=10)
    p.add_argument("--views", type=int, default=2, help="scenes per training photo (whole photo + zoomed crops)")
    p.add_argument("--stages", default="conv3_3,conv4_3", help="VGG16 stages pooled into tokens")
    p.add_argument("--token-transform", default="log1p", choices=["none", "log1p"])
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--category", action=argparse.BooleanOptionalAction, default=LPFConfig.use_category,
                   help="the sample-level category task (off in v3; v1 and v2 had it)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--name", default="lpf-synth-v3", help="model name = folder under src/lpfiqa/weights/")
    p.add_argument("--run", default=None, help="run folder name under --work (default: the model name)")
    p.add_argument("--no-install", action="store_true", help="do not copy into the package")
    args = p.parse_args()
    w, h = (int(v) for v in args.size.split("x"))

    t0 = time.perf_counter()
    scfg = SynthConfig(size=(w, h), levels_per_type=args.levels_per_type, chains=args.chains,
                       test_fraction=0.2, seed=args.seed, views=args.views)
    synth = build_synthetic_set(args.pristine, args.work / "synth", scfg)
    t_synth = time.perf_counter() - t0
    print(f"synthesis: {synth.images} images in {t_synth:.0f}s", flush=True)

    manifest_path = args.work / "synth" / "manifest.csv"
    mcfg = LPFConfig(stages=tuple(args.stages.split(",")), token_transform=args.token_transform,
                     use_category=args.category,
                     score_name="weak label (0-100, full-reference consensus)", extra={"name": args.name})
    tcfg = TrainConfig(epochs=args.epochs, batch_size=32, seed=args.seed, val_fraction=0.15)
    run_dir = args.work / (args.run or args.name)
    resume = (run_dir / "checkpoint.safetensors").exists()
    report = train_run(manifest_path, run_dir, mcfg, tcfg, resume=resume)
    print(f"features {report.seconds_features:.0f}s, training {report.seconds_train:.0f}s, "
          f"best epoch {report.best_epoch}, val {report.val}", flush=True)

    evaluation = evaluate_heldout(manifest_path, run_dir)
    evaluation.update({"synth_config": scfg.__dict__ | {"size": list(scfg.size)}, "train_config": tcfg.to_dict(),
                       "counts": report.counts, "photos_train": synth.photos.get("train"),
                       "synth_photos_resumed": synth.skipped_photos, "best_epoch": report.best_epoch, "val": report.val,
                       "seconds": {"synthesis": t_synth, "features": report.seconds_features,
                                   "training": report.seconds_train}})
    atomic_write_text(run_dir / "evaluation.json", json.dumps(evaluation, indent=2, default=float))
    print(json.dumps({k: v for k, v in evaluation.items() if k != "level_srcc_per_type"}, indent=1, default=float))
    if not args.no_install:
        target = WEIGHTS / args.name
        target.mkdir(parents=True, exist_ok=True)
        for name in ("model.safetensors", "config.json", "evaluation.json", "metrics.csv", "curves.png"):
            if (run_dir / name).exists():
                shutil.copy2(run_dir / name, target / name)
        shutil.copy2(args.work / "synth" / "calibration.json", target / "label_calibration.json")
        print(f"installed into {target}; now run tools/model_card.py --name {args.name}")


def evaluate_heldout(manifest_path: Path, run_dir: Path) -> dict:
    """The issue's figures on the held-out photos, from the cached full-image token grids.

    The cache holds exactly the grid that scoring computes for these images (their sizes are
    multiples of the 32-px cell), stored in fp16; `bench/synthetic_eval.py` re-scores from
    the image files through the public API as a cross-check.
    """
    manifest = read_manifest(manifest_path)
    heads = load_heads(run_dir)
    cache = FeatureCache(TokenEncoder(heads.cfg.stages, heads.cfg.cell))
    test = [i for i, r in enumerate(manifest.rows) if r.split == "test"]
    grids = [cache.get(manifest.rows[i].path) for i in test]
    unit = predict_unit(heads, grids)
    scores = np.full(len(manifest.rows), np.nan)
    scores[test] = heads.cfg.from_unit(unit)
    return level_ordering_report(manifest, scores, split="test")


if __name__ == "__main__":
    main()
