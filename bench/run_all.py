"""Run every benchmark of bench/registry.py in order, then regenerate docs/BENCHMARKS.md and docs/STUDIES.md.

Usage:
    python -m bench.run_all            # every table of docs/BENCHMARKS.md: 10 splits, all ablations
                                       # (run time: the table at the end of docs/BENCHMARKS.md)
    python -m bench.run_all --quick    # ~15 min: 2 splits, fewer ablations, short timings
    python -m bench.run_all --studies  # also the studies behind the default model, docs/STUDIES.md (the
                                       # accuracy table at the full training budget, content curve,
                                       # category-task decision on training photos): ~1.5 h more
    python -m bench.run_all --report   # only regenerate docs/BENCHMARKS.md and docs/STUDIES.md
    python -m bench.run_all --only speed --only complexity   # some of them (no timing file written)

A benchmark whose inputs are missing is skipped with a note: the accuracy and convergence
benchmarks need the synthetic set of the default model (`python tools/train_default_model.py`,
which writes data/default/synth/manifest.csv), the peers a `.venv-peers` (bench/README.md).
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Sequence

from ._common import ROOT, Benchmark, load, parser, write_json


def steps(quick: bool, studies: bool = False, only: Sequence[str] = ()) -> list[tuple[Benchmark, tuple[str, ...]]]:
    """The (benchmark, argv) runs of ``make bench`` (``quick``: ``make bench-quick``), in order;
    those whose inputs are missing are left out with a note on stdout."""
    from .registry import BENCHMARKS, get

    chosen = [get(n) for n in only] if only else [b for b in BENCHMARKS if studies or not b.study]
    out = []
    for b in chosen:
        argv = b.argv(quick)
        missing = [n for n in b.needs if not (ROOT / n).exists()]
        if argv is None:
            continue
        if missing:
            print(f"note: skipping {b.name}: {', '.join(missing)} missing (data: python tools/train_default_model.py;"
                  f" peers: bench/README.md)")
            continue
        out.append((b, argv))
    return out


def main(argv: list[str] | None = None) -> None:
    from . import report

    p = parser("run_all", __doc__)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--studies", action="store_true", help="also the studies behind the default model (~1.5 h)")
    p.add_argument("--report", action="store_true", help="only regenerate docs/BENCHMARKS.md and docs/STUDIES.md")
    p.add_argument("--only", action="append", default=[], metavar="NAME",
                   help="run only this benchmark (repeatable; a name in bench/registry.py)")
    args = p.parse_args(argv)
    failed, done, start = [], [], time.perf_counter()
    if not args.report:
        for b, step in steps(args.quick, args.studies, args.only):
            t0 = time.perf_counter()
            print(f"\n=== {b.command(step)}", flush=True)
            python = str(ROOT / b.python) if b.python else sys.executable
            rc = subprocess.run([python, "-m", f"bench.{b.module}", *step], cwd=ROOT).returncode
            print(f"=== {b.name}: {'ok' if rc == 0 else f'FAILED ({rc})'} in {time.perf_counter() - t0:.0f}s")
            if rc:
                failed.append(b.name)
            done.append({"command": b.command(step), "seconds": time.perf_counter() - t0, "ok": rc == 0})
        if not args.only:  # how long the whole run took, for docs/BENCHMARKS.md
            timing = {"date": time.strftime("%Y-%m-%d %H:%M"), "mode": "quick" if args.quick else "full",
                      "steps": done, "seconds": time.perf_counter() - start}
            write_json("run_all_quick.json" if args.quick else "run_all.json", {**timing, **summary(timing)})
    report.main([])
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")


def summary(d: dict) -> dict:
    """How many steps of a run succeeded (stored with the run's timings)."""
    return {"steps_ok": sum(s["ok"] for s in d["steps"])}


def render(d: dict) -> str:
    rows = "\n".join(f"| `{s['command']}` | {s['seconds']:.0f} | {'ok' if s['ok'] else 'FAILED'} |" for s in d["steps"])
    quick = load("run_all_quick")
    quick = {**summary(quick), **quick} if quick else None
    quick_line = (f"\n`make bench-quick` ({quick['date']}): {quick['seconds'] / 60:.0f} min as one run, "
                  f"{quick['steps_ok']} of {len(quick['steps'])} steps ok.\n" if quick else "")
    return f"""*{d['date']} · {d.get('mode', '')}*

| step | seconds | result |
| --- | --- | --- |
{rows}

Total: {d['seconds'] / 60:.0f} min, with the synthetic set and its cached token grids already built
(`python tools/train_default_model.py`). `bench/peer_brisque.py` resumes from
`bench/results/peer_brisque_scores.csv` (committed): only images without a score run, all 952 the first
time (~15 min more).
{quick_line}"""


BENCHMARK = Benchmark("run_all", "run_all", "How long `make bench` took", render, ("run_all.json", "run_all_quick.json"),
                      full=None, quick=None)


if __name__ == "__main__":
    main()
