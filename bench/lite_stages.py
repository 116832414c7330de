"""Which MobileNetV2 stages LPF-Lite pools into tokens, decided on training photos only.

The same set-up as the recipe study (``bench/recipe_study.py``): the training photos of the
synthetic set, a validation fold of 20% of them carved by photo, the default model's recipe
(level-order loss, 4 photos per batch, detached diagnosis head), one run per candidate on the
same split; the held-out photos choose nothing. Candidates go from the VGG16 default's analogue
(strides 8 and 16) to every block output, and the token cell stays 32 px.

The encoder runs once per image: the grid of the union of the candidates' stages is computed and
each candidate's grid is its channel slice (pooling is per stage, so a slice equals pooling the
subset), written into that candidate's cache entry.

The rule, fixed before the first run: LPF-Lite takes the candidate with the best mean of level
ordering and label SRCC on the validation fold, unless a candidate that stops at an earlier block
(fewer FLOPs) is within 0.01 of it, in which case the earliest-stopping such candidate.

Usage::

    python -m bench.lite_stages [--manifest data/v4/synth/manifest.csv] [--epochs 8] [--workers 2]
"""

from __future__ import annotations

import time
from pathlib import Path

from ._common import ROOT, V4_MANIFEST, Benchmark, header, info_line, log, parser, write_json
from .recipe_study import train_and_score, training_only

CANDIDATES: dict[str, tuple[str, ...]] = {
    "block6+block13": ("block6", "block13"),
    "block3+block6+block13": ("block3", "block6", "block13"),
    "block6+block13+block17": ("block6", "block13", "block17"),
    "all six blocks": ("block3", "block6", "block10", "block13", "block16", "block17"),
}
RECIPE = {"model": {"use_diagnosis": True, "diagnosis_detach": True},
          "train": {"lambda_order": 1.0, "groups_per_batch": 4}}


def precompute(manifest: Path, split: str | None = "train", show_progress: bool = True) -> dict[str, int]:
    """Every candidate's cache entry for the images of ``split`` (None: all), from one encoder pass per image.

    Decoding runs one image ahead in a thread (PIL releases the GIL), so the encoder never waits for it.
    """
    from concurrent.futures import ThreadPoolExecutor

    from safetensors.torch import save_file
    from tqdm import tqdm

    from lpfiqa.datasets.manifest import read_manifest
    from lpfiqa.features import FeatureCache, TokenEncoder
    from lpfiqa.imageio import load_image
    from lpfiqa.utils import atomic_write, file_digest

    spec_order = ("block1", "block3", "block6", "block10", "block13", "block16", "block17", "conv18")
    union = tuple(s for s in spec_order if any(s in c for c in CANDIDATES.values()))
    whole = TokenEncoder(union, 32, backbone="mobilenet_v2")
    caches = {n: FeatureCache(TokenEncoder(st, 32, backbone="mobilenet_v2", encoder=whole.encoder))
              for n, st in CANDIDATES.items()}
    channels = dict(zip(union, whole.encoder.channels, strict=True))
    offsets, start = {}, 0
    for s in union:
        offsets[s], start = start, start + channels[s]
    counts = {"computed": 0, "cached": 0}
    todo: list[tuple[str, dict[str, Path]]] = []
    for row in read_manifest(manifest).rows:
        if split is not None and row.split != split:
            continue
        digest = file_digest(Path(row.path))
        missing = {n: c.path_for(digest) for n, c in caches.items() if not c.path_for(digest).exists()}
        if missing:
            todo.append((str(row.path), missing))
        else:
            counts["cached"] += 1
    with ThreadPoolExecutor(1) as pool:
        ahead = pool.submit(load_image, todo[0][0]) if todo else None
        for i, (_, paths) in enumerate(tqdm(todo, desc="MobileNetV2 features", disable=not show_progress)):
            img = ahead.result()
            ahead = pool.submit(load_image, todo[i + 1][0]) if i + 1 < len(todo) else None
            grid = whole.grid(img)[0]
            for name, path in paths.items():
                part = grid[[k for s in CANDIDATES[name] for k in range(offsets[s], offsets[s] + channels[s])]]
                half = part.clamp(-65000, 65000).half().contiguous()
                atomic_write(path, lambda t, h=half: save_file({"tokens": h}, str(t)))
            counts["computed"] += 1
    return counts


def run_candidate(name: str, manifest: Path, work: Path, epochs: int, seed: int) -> dict:
    """Train LPF-Lite with one candidate's stages on the training photos; its figures on the validation fold."""
    from lpfiqa.models import LPFConfig
    from lpfiqa.training import TrainConfig

    mcfg = LPFConfig(encoder="mobilenet_v2", stages=CANDIDATES[name], **RECIPE["model"])
    tcfg = TrainConfig(epochs=epochs, batch_size=32, seed=seed, val_fraction=0.15, test_fraction=0.2,
                       **RECIPE["train"])
    out = train_and_score(mcfg, tcfg, manifest, work / name.replace("+", "_").replace(" ", "_"))
    return out | {"stages": list(CANDIDATES[name])}


def choose(table: dict[str, dict]) -> str:
    """The rule of the module docstring, applied to the study's results."""
    from lpfiqa.backbones.stages import MOBILENET_V2_STAGES

    order = list(MOBILENET_V2_STAGES)

    def merit(r: dict) -> float:
        return (r["level_srcc_mean"] + r["label_srcc"]) / 2

    def depth(n: str) -> int:
        return order.index(CANDIDATES[n][-1])

    best = max(table, key=lambda n: merit(table[n]))
    close = [n for n in table if merit(table[n]) >= merit(table[best]) - 0.01 and depth(n) < depth(best)]
    return min(close, key=lambda n: (depth(n), -merit(table[n]))) if close else best


def main(argv: list[str] | None = None) -> None:
    p = parser("lite_stages", __doc__)
    p.add_argument("--manifest", type=Path, default=ROOT / V4_MANIFEST)
    p.add_argument("--work", type=Path, default=ROOT / "data" / "v4" / "lite_stages")
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, default=2, help="candidates trained at once (one thread each)")
    p.add_argument("--features-only", action="store_true", help="fill the feature caches and stop")
    p.add_argument("--split", default="train", help="whose features to fill: train (the study's), or all")
    p.add_argument("--out", default="lite_stages.json")
    args = p.parse_args(argv)
    from lpfiqa.parallel import fork_map

    t0 = time.perf_counter()
    counts = precompute(args.manifest, None if args.split == "all" else args.split)
    t_features = time.perf_counter() - t0
    log(f"features: {counts} in {t_features:.0f} s")
    if args.features_only:
        return
    manifest = training_only(args.manifest, args.work / "training_photos.csv")
    names = list(CANDIDATES)
    results = list(fork_map(lambda n: run_candidate(n, manifest, args.work, args.epochs, args.seed), names,
                            workers=args.workers, ordered=True))
    table = dict(zip(names, results, strict=True))
    for n, r in table.items():
        log(f"{n:<24} level order {r['level_srcc_mean']:.3f} (worst {r['level_srcc_per_type_min']:.3f})  "
            f"labels SRCC {r['label_srcc']:.3f} PLCC {r['label_plcc']:.3f}  clean median {r['clean_median']:.1f}")
    data = header("bench.lite_stages", args)
    data.update({"candidates": {n: list(s) for n, s in CANDIDATES.items()}, "recipe": RECIPE, "results": table,
                 "features": counts, "seconds_features": round(t_features, 1),
                 "seconds": round(time.perf_counter() - t0, 1)})
    data["chosen"] = choose(table)
    log(f"chosen by the rule: {data['chosen']}")
    write_json(args.out, data)


def render(d: dict) -> str:
    rows = "\n".join(
        f"| {n} | {r['token_dim']} | {r['level_srcc_mean']:.3f} | {r['level_srcc_per_type_min']:.3f} | "
        f"{r['label_srcc']:.3f} | {r['label_plcc']:.3f} | {r['clean_beats_level3plus']:.3f} | {r['clean_median']:.1f} |"
        for n, r in d["results"].items())
    photos = next(iter(d["results"].values()))["photos"]
    return f"""{info_line(d)}

MobileNetV2 stages for LPF-Lite, each trained with the default model's recipe on the training photos only and scored
on a validation fold of {photos} of them (the held-out photos chose nothing). Chosen by the rule fixed in the script
before it ran: **{d['chosen']}**.

| stages | token dim | level ordering | worst type | SRCC labels | PLCC labels | clean beats L>=3 | clean median |
| --- | --- | --- | --- | --- | --- | --- | --- |
{rows}
"""


_ARGV = ("--manifest", V4_MANIFEST)
BENCHMARK = Benchmark("lite_stages", "lite_stages", "Decision: LPF-Lite's MobileNetV2 stages, on training photos only",
                      render, ("lite_stages.json",), full=_ARGV, quick=_ARGV, study=True, needs=(V4_MANIFEST,))


if __name__ == "__main__":
    main()
