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

from _common import header  # noqa: E402
from methods import BilinearHead, BrisqueSVR, GAPRegressor, HyperHead, NIQEMethod, StageSubset  # noqa: E402

from lpfiqa.models import LPFConfig  # noqa: E402
from lpfiqa.protocol.data import feature_cache, load_set  # noqa: E402
from lpfiqa.protocol.methods import LPFMethod  # noqa: E402
from lpfiqa.protocol.within import run_within  # noqa: E402
from lpfiqa.training import TrainConfig  # noqa: E402
from lpfiqa.utils import atomic_write_text  # noqa: E402


def methods(tcfg: TrainConfig, quick: bool) -> list:
    base = LPFConfig()
    lpf = lambda name, **kw: LPFMethod(replace(base, **kw), tcfg, name)  # noqa: E731
    out = [
        lpf("LPF"),
        lpf("LPF w/o category task", use_category=False),
        lpf("LPF w/o comparison task", use_comparison=False),
        lpf("LPF w/o both auxiliary tasks", use_category=False, use_comparison=False),
        lpf("LPF w/o weight stream (mean of scores)", use_weight_stream=False),
    ]
    if not quick:
        out += [StageSubset(LPFMethod(replace(base, stages=("conv5_3",)), tcfg), slice(768, 1280),
                            "LPF, one stage (conv5_3)"),
                lpf("LPF K=2", num_classes=2), lpf("LPF K=8", num_classes=8),
                lpf("LPF latent 128", latent_dim=128), lpf("LPF latent 512", latent_dim=512)]
    out += [GAPRegressor("ridge"), BrisqueSVR(), BilinearHead(epochs=tcfg.epochs, window=tcfg.window)]
    if not quick:
        out += [GAPRegressor("svr"), NIQEMethod(), HyperHead(epochs=tcfg.epochs, window=tcfg.window)]
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--manifest", type=Path, default=ROOT / "data" / "default" / "synth" / "manifest.csv")
    p.add_argument("--splits", type=int, default=10)
    p.add_argument("--epochs", type=int, default=15)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quick", action="store_true",
                   help="2 splits, 4 epochs, the auxiliary-task/stream ablations and 3 baselines only")
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = p.parse_args()
    n_splits, epochs = (2, 4) if args.quick else (args.splits, args.epochs)
    tcfg = TrainConfig(epochs=epochs, batch_size=32)
    t0 = time.perf_counter()
    data = load_set(args.manifest, feature_cache())
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
