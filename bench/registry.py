"""The one list of benchmarks: what ``make bench`` runs, in order, and what the docs render.

Each entry is declared next to its code (a :class:`~bench._common.Benchmark` in its module:
name, how to run it in full and quick, the files it writes, how its results render). The
order here is the order of ``make bench`` (``python -m bench.run_all``) and of the sections of
docs/BENCHMARKS.md; the ``study`` entries run with ``--studies`` and fill docs/STUDIES.md.

Add a benchmark: write ``bench/NAME.py`` with ``main(argv)`` and a ``BENCHMARK``, and list it here.
"""

from __future__ import annotations

from . import (
    accuracy,
    batch_throughput,
    cache_speedup,
    cli_startup,
    complexity,
    content_curve,
    convergence,
    ideas,
    label_study,
    lite_speed,
    lite_stages,
    ort_check,
    peer_brisque,
    peers_speed,
    recipe_study,
    run_all,
    serve_load,
    speed,
    synth_speed,
    synthetic_eval,
)
from ._common import Benchmark

BENCHMARKS: tuple[Benchmark, ...] = (
    # docs/BENCHMARKS.md
    accuracy.ACCURACY,
    convergence.BENCHMARK,
    cache_speedup.BENCHMARK,
    synthetic_eval.DEFAULT_MODEL,
    synthetic_eval.PREVIOUS_MODEL,
    peer_brisque.BENCHMARK,  # the out-of-the-box peer's scores, then its figures: columns of the two above
    synthetic_eval.PEER_BRISQUE,
    complexity.BENCHMARK,
    speed.BENCHMARK,
    ideas.BENCHMARK,
    peers_speed.BENCHMARK,
    lite_speed.BENCHMARK,
    synth_speed.BENCHMARK,
    cli_startup.BENCHMARK,
    serve_load.BENCHMARK,
    batch_throughput.BENCHMARK,
    ort_check.BENCHMARK,  # by hand only (it needs onnxruntime from a throwaway venv)
    run_all.BENCHMARK,  # how long the run took: written by run_all itself
    # docs/STUDIES.md: the studies behind the default model (`python -m bench.run_all --studies`)
    accuracy.ACCURACY_FULL,
    recipe_study.BENCHMARK,
    lite_stages.BENCHMARK,
    content_curve.CORPUS,
    label_study.BENCHMARK,
    content_curve.BENCHMARK,
    accuracy.DECIDE_CATEGORY,
)


def get(name: str) -> Benchmark:
    """The benchmark called ``name``.

    Example:
        >>> get("speed").command(get("speed").quick)
        'python -m bench.speed --quick'
    """
    for b in BENCHMARKS:
        if b.name == name:
            return b
    raise KeyError(f"no benchmark {name!r}; choose among {[b.name for b in BENCHMARKS]}")
