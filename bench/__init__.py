"""The benchmarks and studies of lpfiqa: each a module run from the repository root as ``python -m bench.NAME``.

``bench/registry.py`` lists them (what ``make bench`` runs and the docs render),
``python -m bench.run_all`` runs them and ``python -m bench.report`` writes docs/BENCHMARKS.md and
docs/STUDIES.md from ``bench/results/``. Nothing is imported here: ``bench.peer_brisque`` runs in
another venv, where lpfiqa and torch are not installed.
"""
