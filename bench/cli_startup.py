"""Time how fast the CLI answers the commands that need no model: --help, score --help, data list, models.

Why: a user's first contact is ``lpfiqa --help``; a second of CPU spent importing torch
before printing help makes the tool feel broken. Target: < 0.5 s wall for each of the four
commands (a fresh Python process each time, the way a shell runs it). Usage::

    .venv/bin/python -m bench.cli_startup                     # this checkout -> bench/results/cli_startup.json
    .venv/bin/python -m bench.cli_startup --src OLD/src --label before   # another checkout's code, same venv

Each command runs ``python -m lpfiqa ...`` in a new process (``--runs`` times, after one
warm-up that fills the OS file cache); the figure is the median wall time, with the
children's CPU time beside it. ``--src`` puts another source tree first on PYTHONPATH, so
an older commit can be timed with the same interpreter and packages.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from ._common import RESULTS, Benchmark, header, info_line, log, parser, write_json

COMMANDS = [["--help"], ["score", "--help"], ["data", "list"], ["models"]]
TARGET_S = 0.5


def time_command(argv: list[str], runs: int, env: dict[str, str]) -> dict:
    """Median wall and CPU seconds of ``python -m lpfiqa ARGV`` over ``runs`` fresh processes."""
    walls, cpus = [], []
    for i in range(runs + 1):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "lpfiqa", *argv], env=env, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if proc.returncode != 0:
            raise SystemExit(f"`lpfiqa {' '.join(argv)}` failed ({proc.returncode}): {proc.stderr.strip()[-300:]}")
        if i == 0:
            continue  # warm-up: the first run also reads the files from disk
        walls.append(wall)
        cpus.append((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))
    return {"median_s": round(statistics.median(walls), 4), "max_s": round(max(walls), 4),
            "cpu_median_s": round(statistics.median(cpus), 4), "runs": runs}


def main(argv: list[str] | None = None) -> None:
    p = parser("cli_startup", __doc__)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--src", type=Path, default=None, help="Source tree to time instead of the installed package.")
    p.add_argument("--label", default="after", help="Key under which this run is stored (e.g. before/after).")
    p.add_argument("--out", default="cli_startup.json")
    args = p.parse_args(argv)
    env = dict(os.environ)
    if args.src:
        env["PYTHONPATH"] = os.pathsep.join([str(args.src.resolve()), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    rows = {}
    for argv in COMMANDS:
        name = "lpfiqa " + " ".join(argv)
        rows[name] = time_command(argv, args.runs, env)
        ok = "ok" if rows[name]["median_s"] < TARGET_S else "MISSES"
        log(f"{name:<22} {rows[name]['median_s']:.3f} s wall, {rows[name]['cpu_median_s']:.3f} s CPU  "
            f"(target < {TARGET_S} s: {ok})")
    out = RESULTS / args.out  # earlier labels (e.g. "before") stay beside this one
    data = json.loads(out.read_text()) if out.exists() else {}
    data.update(header("bench.cli_startup", args))  # provenance of the latest run
    data.setdefault("runs", {})[args.label] = {"src": str(args.src or "installed"), "commands": rows,
                                               "target_s": TARGET_S,
                                               "load_avg_1min": round(os.getloadavg()[0], 2)}  # > 0.5: contended
    write_json(args.out, data)
    worst = max(r["median_s"] for r in rows.values())
    log(f"{args.label}: slowest command {worst:.3f} s (target < {TARGET_S} s) -> bench/results/{args.out}")


def render(d: dict) -> str:
    runs = d["runs"]
    labels = list(runs)
    commands = list(next(iter(runs.values()))["commands"])
    rows = "\n".join(f"| `{c}` | " + " | ".join(f"{runs[k]['commands'][c]['median_s']:.2f} s "
                                                f"({runs[k]['commands'][c]['cpu_median_s']:.2f} s CPU)" for k in labels)
                      + " |" for c in commands)
    loads = ", ".join(f"{k}: {runs[k]['load_avg_1min']}" for k in labels)
    return f"""{info_line(d)}

Median wall time of a fresh `python -m lpfiqa ...` process ({next(iter(runs.values()))['commands'][commands[0]]['runs']}
runs after a warm-up; target < {runs[labels[-1]]['target_s']} s). Load average while measured: {loads} (on 2 cores,
above ~1 the wall times are inflated; the CPU times are not).

| command | {' | '.join(labels)} |
| --- | {' | '.join('---' for _ in labels)} |
{rows}
"""


BENCHMARK = Benchmark("cli_startup", "cli_startup", "CLI start-up", render, ("cli_startup.json",))

if __name__ == "__main__":
    main()
