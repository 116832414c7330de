"""The benchmark harness: the image subset the tables train on, the one list, the report."""

from __future__ import annotations

import csv
import importlib
from pathlib import Path

import pytest
from bench import _common, report, run_all
from bench.registry import BENCHMARKS

BENCH = Path(__file__).resolve().parents[1] / "bench"


def _manifest(path: Path, rows: list[dict]) -> Path:
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return path


def _rows(photos: int = 3, distorted: int = 10) -> list[dict]:
    rows = []
    for p in range(photos):
        rows.append({"path": f"refs/p{p}.png", "score": "100", "group": f"p{p}", "dist_level": "0", "view": "0",
                     "split": "train"})
        rows += [{"path": f"images/p{p}_{k}.png", "score": str(90 - k), "group": f"p{p}", "dist_level": str(1 + k % 5),
                  "view": str(k % 2), "split": "train" if p else "test"} for k in range(distorted)]
    return rows


def _read(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_per_photo_subset_keeps_every_photo_and_its_clean_image(tmp_path: Path) -> None:
    rows = _rows()
    out = _read(_common.subset_manifest(_manifest(tmp_path / "m.csv", rows), max_view=1, per_photo=4))
    by_photo: dict[str, list[dict]] = {}
    for r in out:
        by_photo.setdefault(r["group"], []).append(r)
    assert sorted(by_photo) == ["p0", "p1", "p2"]
    assert all(len(v) == 4 for v in by_photo.values())
    assert all(any(r["dist_level"] == "0" for r in v) for v in by_photo.values())  # the clean photo stays


def test_per_photo_subset_does_not_depend_on_row_order_or_other_photos(tmp_path: Path) -> None:
    rows = _rows()
    a = _read(_common.subset_manifest(_manifest(tmp_path / "a.csv", rows), max_view=1, per_photo=5))
    (tmp_path / "b").mkdir()
    others = [r for r in reversed(rows) if r["group"] != "p2"]  # reversed, one photo fewer
    b = _read(_common.subset_manifest(_manifest(tmp_path / "b" / "a.csv", others), max_view=1, per_photo=5))
    assert {r["path"] for r in a if r["group"] != "p2"} == {r["path"] for r in b}


def test_subset_filters_views_and_split_and_returns_the_manifest_when_nothing_is_cut(tmp_path: Path) -> None:
    m = _manifest(tmp_path / "m.csv", _rows())
    assert _common.subset_manifest(m, max_view=1) == m
    out = _read(_common.subset_manifest(m, max_view=0, split="train"))
    assert out and all(r["view"] == "0" and r["split"] == "train" for r in out)


def test_every_benchmark_is_a_module_with_a_main_and_one_results_file_of_its_own() -> None:
    names = [b.name for b in BENCHMARKS]
    assert len(set(names)) == len(names), names
    for b in BENCHMARKS:
        module = importlib.import_module(f"bench.{b.module}")
        assert callable(module.main), b.module
        assert b.render is None or b.results[0] == f"{b.name}.json", b  # the file its section renders
    written = [f for b in BENCHMARKS for f in b.results]
    assert len(set(written)) == len(written), written


def test_make_bench_runs_what_the_list_says_and_skips_what_lacks_its_inputs(tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(run_all, "ROOT", tmp_path)  # no data, no peers venv
    bare = [b.name for b, _ in run_all.steps(quick=True)]
    assert bare == [b.name for b in BENCHMARKS if not b.study and not b.needs and b.quick is not None]
    for b in BENCHMARKS:
        for need in b.needs:
            (tmp_path / need).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / need).touch()
    for quick in (False, True):
        got = run_all.steps(quick, studies=True)
        want = [b for b in BENCHMARKS if b.argv(quick) is not None]
        assert [b for b, _ in got] == want
        assert all(argv == b.argv(quick) for b, argv in got)
    assert [b.name for b, _ in run_all.steps(False, only=["speed"])] == ["speed"]
    with pytest.raises(KeyError, match="no benchmark 'nope'"):
        run_all.steps(False, only=["nope"])


@pytest.mark.skipif(not (BENCH / "results" / "accuracy.json").exists(), reason="no committed results")
def test_report_renders_the_committed_results(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(report, "DOC", tmp_path / "BENCHMARKS.md")
    monkeypatch.setattr(report, "STUDIES_DOC", tmp_path / "STUDIES.md")
    report.main([])
    doc = (tmp_path / "BENCHMARKS.md").read_text()
    assert "## Accuracy" in doc and "| LPF |" in doc
    assert "STUDIES.md" in doc and (tmp_path / "STUDIES.md").read_text().startswith("# Studies")


def test_external_scores_match_by_path_and_only_unambiguous_names(tmp_path: Path) -> None:
    import types

    import numpy as np
    from bench import synthetic_eval

    # two photos whose distorted versions share a file name in different folders
    rows = [types.SimpleNamespace(path=tmp_path / d / "jpeg__3.png") for d in ("a", "b")]
    manifest = types.SimpleNamespace(rows=rows)
    by_path = tmp_path / "by_path.csv"
    by_path.write_text("path,score\na/jpeg__3.png,10\nb/jpeg__3.png,20\n")
    scores = np.full(2, np.nan)
    assert synthetic_eval._read_scores(by_path, tmp_path / "m.csv", manifest, [0, 1], scores, -1.0) == []
    assert scores.tolist() == [-10.0, -20.0]
    by_name = tmp_path / "by_name.csv"
    by_name.write_text("path,score\njpeg__3.png,10\n")
    scores = np.full(2, np.nan)
    missing = synthetic_eval._read_scores(by_name, tmp_path / "m.csv", manifest, [0, 1], scores, 1.0)
    assert len(missing) == 2 and np.isnan(scores).all()  # ambiguous: never guessed
    assert synthetic_eval._read_scores(by_name, tmp_path / "m.csv", manifest, [0], scores, 1.0) == []


@pytest.mark.skipif(not (BENCH / "results" / "decide_category" / "results.json").exists(),
                    reason="no committed results")
def test_figures_stored_with_the_results_render_as_those_computed_from_older_files() -> None:
    from bench import accuracy

    for name, render in (("accuracy", accuracy.render_table), ("decide_category", accuracy.render_decision)):
        old = _common.load(name)
        stored = {**old, **accuracy.derive(old), **accuracy.task_comparison(_common.load(f"{name}/results"))}
        assert render(stored) == render(old)
    old = _common.load("run_all")
    assert run_all.render({**old, **run_all.summary(old)}) == run_all.render(old)
