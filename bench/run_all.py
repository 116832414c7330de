"""Run every benchmark in order, then regenerate docs/BENCHMARKS.md from bench/results/*.json.

Usage:
    python bench/run_all.py            # every table of docs/BENCHMARKS.md: 10 splits, all ablations
                                       # (run time: the table at the end of docs/BENCHMARKS.md)
    python bench/run_all.py --quick    # ~15 min: 2 splits, fewer ablations, short timings
    python bench/run_all.py --studies  # also the studies behind the default model, docs/STUDIES.md (the
                                       # accuracy table at the full training budget, content curve,
                                       # category-task decision on training photos): ~1.5 h more
    python bench/run_all.py --report   # only regenerate docs/BENCHMARKS.md and docs/STUDIES.md

The accuracy and convergence benchmarks need the synthetic set of the default model
(`python tools/train_default_model.py`, which writes data/default/synth/manifest.csv).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from _common import write_json  # noqa: E402

MANIFEST = ROOT / "data" / "default" / "synth" / "manifest.csv"
MANIFEST_ARG = str(MANIFEST.relative_to(ROOT))  # the steps run in ROOT; a relative path reads better in the docs


# The studies behind the default (docs/STUDIES.md), each at the budget it was decided on: every
# image of each photo and 4 epochs per fit, not the make-bench budget.
FULL_BUDGET = ["--per-photo", "0", "--epochs", "4"]
V4_MANIFEST = "data/v4/synth/manifest.csv"  # the corpus model's set (tools/train_default_model.py --corpus ...)
STUDIES = [["bench/accuracy.py", *FULL_BUDGET, "--name", "accuracy_full"],
           ["bench/recipe_study.py", "--manifest", V4_MANIFEST],
           ["bench/content_curve.py", "--manifest", V4_MANIFEST, "--recipe", "v4", "--sizes", "35,70,140,280,478",
            "--repeats", "2", "--out", "content_curve_corpus.json"],
           ["bench/label_study.py", "--manifest", V4_MANIFEST],
           ["bench/content_curve.py"],
           ["bench/accuracy.py", *FULL_BUDGET, "--photos", "train", "--name", "decide_category", "--only", "LPF",
            "--only", "LPF with both auxiliary tasks (as in the paper)", "--only", "LPF w/o comparison task",
            "--only", "LPF w/o both auxiliary tasks"]]


def steps(quick: bool, studies: bool = False) -> list[list[str]]:
    q = ["--quick"] if quick else []
    out = [["bench/complexity.py", *q], ["bench/speed.py", *q], ["bench/ideas.py", "--quick"],
           ["bench/synth_speed.py", "--runs", "1" if quick else "3"], ["bench/cli_startup.py"],
           ["bench/serve_load.py"], ["bench/batch_throughput.py"]]
    peers = ROOT / ".venv-peers" / "bin" / "python"
    if peers.exists():
        out.append(["bench/peers_speed.py", *q])
    if MANIFEST.exists():
        out += [["bench/accuracy.py", "--manifest", MANIFEST_ARG, *q],
                ["bench/convergence.py", "--manifest", MANIFEST_ARG, *q],
                ["bench/cache_speedup.py", "--manifest", MANIFEST_ARG, "--limit", "100" if quick else "200"],
                ["bench/synthetic_eval.py", "--manifest", MANIFEST_ARG, "--from-cache", "--model", "lpf-synth-v3",
                 "--out", "bench/results/synthetic_eval_v3.json"]]
        if (ROOT / V4_MANIFEST).exists():  # the default model on its own held-out photos
            out.append(["bench/synthetic_eval.py", "--manifest", V4_MANIFEST, "--from-cache",
                        "--model", "lpf-synth-v4"])
        if peers.exists() and not quick:  # the out-of-the-box peer runs in its own environment
            # resumes: only images without a score are run (all 952 the first time: ~15 min)
            scores = "bench/results/peer_brisque_scores.csv"
            out += [[str(peers), "bench/peer_brisque.py", "--manifest", MANIFEST_ARG, "--out", scores],
                    ["bench/synthetic_eval.py", "--manifest", MANIFEST_ARG, "--scores", scores, "--lower-is-better",
                     "--out", "bench/results/peer_brisque.json"]]
        if studies:
            out += STUDIES
    else:
        print(f"note: {MANIFEST} is missing; run tools/train_default_model.py for the accuracy benchmarks")
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--studies", action="store_true", help="also the studies behind the default model (~1.5 h)")
    p.add_argument("--report", action="store_true", help="only regenerate docs/BENCHMARKS.md")
    args = p.parse_args()
    failed, done, start = [], [], time.perf_counter()
    if not args.report:
        for cmd in steps(args.quick, args.studies):
            t0 = time.perf_counter()
            print(f"\n=== {' '.join(cmd)}", flush=True)
            argv = cmd if cmd[0].endswith("python") else [sys.executable, *cmd]
            rc = subprocess.run(argv, cwd=ROOT).returncode
            print(f"=== {cmd[0]}: {'ok' if rc == 0 else f'FAILED ({rc})'} in {time.perf_counter() - t0:.0f}s")
            if rc:
                failed.append(cmd[0])
            command = " ".join(Path(c).name if c.endswith("python") else c.replace(str(ROOT) + "/", "") for c in cmd)
            done.append({"command": command, "seconds": time.perf_counter() - t0, "ok": rc == 0})
        # how long the whole run took, for docs/BENCHMARKS.md (the issue asks for "well under an hour")
        mode = "quick" if args.quick else "full"
        write_json("run_all_quick.json" if args.quick else "run_all.json",
                   {"date": time.strftime("%Y-%m-%d %H:%M"), "mode": mode, "steps": done,
                    "seconds": time.perf_counter() - start})
    subprocess.run([sys.executable, "bench/report.py"], cwd=ROOT, check=True)
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
