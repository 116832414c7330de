"""Accuracy side by side: LPF, its ablations and the baselines on the same splits by photo.

Every method is trained and tested on exactly the same n random splits of the synthetic set
by photo (validation photos carved from each training part choose epochs and hyper-parameters),
from one extraction of the VGG16 token grids. Writes bench/results/accuracy.json and the
protocol's Markdown/PNG report under bench/results/accuracy/.

Usage:
    python bench/accuracy.py --manifest data/default/synth/manifest.csv            # 10 splits
    python bench/accuracy.py --manifest data/default/synth/manifest.csv --quick    # 2 splits, fewer methods
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from _common import first_views, header  # noqa: E402
from methods import BilinearHead, BrisqueSVR, GAPRegressor, HyperHead, NIQEMethod, StageSubset  # noqa: E402

from lpfiqa.backbones import STAGES  # noqa: E402
from lpfiqa.models import LPFConfig  # noqa: E402
from lpfiqa.protocol.data import feature_cache, load_set  # noqa: E402
from lpfiqa.protocol.methods import LPFMethod  # noqa: E402
from lpfiqa.protocol.within import run_within  # noqa: E402
from lpfiqa.training import TrainConfig  # noqa: E402
from lpfiqa.utils import atomic_write_text  # noqa: E402

# Every method reads one superset of token channels; each LPF variant takes its stages' slice,
# so a change of stages is compared on the very same cached features.
ALL_STAGES = ("conv3_3", "conv4_3", "conv5_3")


def _channels(stages: tuple[str, ...]) -> slice:
    offsets, start = {}, 0
    for s in ALL_STAGES:
        offsets[s] = (start, start + STAGES[s][0])
        start += STAGES[s][0]
    lo, hi = offsets[stages[0]][0], offsets[stages[-1]][1]
    if hi - lo != sum(STAGES[s][0] for s in stages):
        raise ValueError(f"stages {stages} are not contiguous in {ALL_STAGES}")
    return slice(lo, hi)


def methods(tcfg: TrainConfig, quick: bool) -> list:
    base = LPFConfig()

    def lpf(name: str, train: TrainConfig | None = None, **kw) -> StageSubset:
        cfg = replace(base, **kw)
        return StageSubset(LPFMethod(cfg, train or tcfg, name), _channels(cfg.stages), name)

    paper = {"stages": ALL_STAGES, "token_transform": "none"}  # the starting point
    out = [
        lpf("LPF"),
        lpf("LPF w/o category task", use_category=False),
        lpf("LPF w/o comparison task", use_comparison=False),
        lpf("LPF w/o both auxiliary tasks", use_category=False, use_comparison=False),
        lpf("LPF w/o weight stream (mean of scores)", use_weight_stream=False),
    ]
    if any(getattr(base, k) != v for k, v in paper.items()):
        out.append(lpf("LPF as first specified (conv3_3..conv5_3, raw tokens)", **paper))
    if not quick:
        out += [lpf("LPF, one stage (conv4_3)", stages=("conv4_3",)),
                lpf("LPF K=2", num_classes=2), lpf("LPF K=8", num_classes=8),
                lpf("LPF latent 128", latent_dim=128), lpf("LPF latent 512", latent_dim=512),
                lpf("LPF grouped batches (4 photos per batch)", replace(tcfg, groups_per_batch=4))]
    out += [GAPRegressor("ridge"), BrisqueSVR(), BilinearHead(epochs=tcfg.epochs, window=tcfg.window)]
    if not quick:
        out += [GAPRegressor("svr"), NIQEMethod(), HyperHead(epochs=tcfg.epochs, window=tcfg.window)]
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--manifest", type=Path, default=ROOT / "data" / "default" / "synth" / "manifest.csv")
    p.add_argument("--max-view", type=int, default=0,
                   help="use content views up to this one (0: whole photos only, as every method sees them)")
    p.add_argument("--splits", type=int, default=10)
    p.add_argument("--epochs", type=int, default=4, help="per fit; validation picks the best (it peaks by 2-4)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quick", action="store_true",
                   help="2 splits, 4 epochs, the auxiliary-task/stream ablations and 3 baselines only")
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = p.parse_args()
    n_splits, epochs = (2, 4) if args.quick else (args.splits, args.epochs)
    tcfg = TrainConfig(epochs=epochs, batch_size=32)
    t0 = time.perf_counter()
    data = load_set(first_views(args.manifest, args.max_view), feature_cache(LPFConfig(stages=ALL_STAGES)))
    ms = methods(tcfg, args.quick)
    result = run_within(data.features, data.groups, ms, n_splits=n_splits, seed=args.seed, scale=data.scale,
                        name="synthetic (by photo)")
    result.timing.update({"features_seconds": data.seconds, "images": len(data.rows),  # keys the report reads
                          "cache_hits": data.cache_hits, "cache_misses": data.cache_misses})
    result.save(args.out / "accuracy")
    rows = result.summary()
    lpf = next(r for r in rows if r["method"] == "LPF")
    baselines = [r for r in rows if not r["method"].startswith("LPF")]
    med = lambda r, k: r["metrics"][k]["median"]  # noqa: E731
    margin = {r["method"]: {"srcc": med(lpf, "srcc") - med(r, "srcc"), "plcc": med(lpf, "plcc") - med(r, "plcc")}
              for r in baselines}
    out = {**header("bench/accuracy.py", args), "splits": n_splits, "epochs": epochs,
           "images": len(data.rows), "summary": rows, "lpf_margin_over_baselines": margin,
           "target_margin": 0.03, "seconds": time.perf_counter() - t0}
    atomic_write_text(args.out / "accuracy.json", json.dumps(out, indent=2, default=str))
    print(result.to_markdown())
    for name, m in margin.items():
        ok = m["srcc"] >= 0.03 and m["plcc"] >= 0.03
        print(f"LPF - {name}: SRCC {m['srcc']:+.3f}, PLCC {m['plcc']:+.3f} ({'meets' if ok else 'misses'} +0.03)")
    print(f"wrote {args.out / 'accuracy.json'} in {out['seconds']:.0f}s")


if __name__ == "__main__":
    main()
