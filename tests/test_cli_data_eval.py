"""`lpfiqa data`, `lpfiqa eval` and `lpfiqa protocol` through the real click group.

Library errors must come out as one `Error: ...` line with exit status 1, bad flags as click's
usage error with status 2, and never as a traceback.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from conftest import make_graded_set

from lpfiqa.cli import cli
from lpfiqa.models import LPFConfig, LPFHeads
from lpfiqa.models.io import save_heads

QUICK = ["--epochs", "1", "--batch-size", "8", "--stages", "conv3_3", "--latent-dim", "8", "--threads", "1"]


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def run(*args: str):
    return CliRunner().invoke(cli, [str(a) for a in args])


def one_line_error(result, exit_code: int = 1) -> str:
    """The single `Error: ...` line of a clean failure."""
    assert result.exit_code == exit_code, result.output
    assert "Traceback" not in result.output
    errors = [ln for ln in result.output.splitlines() if ln.startswith("Error:")]
    assert len(errors) == 1, result.output
    return errors[0]


@pytest.fixture(scope="module")
def sets(tmp_path_factory):
    """5 photos x 4 images (64x64) as manifests A (MOS), B (DMOS) and official (a split column)."""
    root = tmp_path_factory.mktemp("cli")
    full = make_graded_set(root / "imgs", n_photos=5, levels=1, size=(64, 64))
    with open(full) as f:
        rows = list(csv.DictReader(f))

    def write(name: str, keep, dmos: bool = False, split=None) -> Path:
        path = full.parent / f"{name}.csv"
        with open(path, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["path", "score", "higher_is_better", "group", "split"])
            for r in filter(keep, rows):
                score = 100 - float(r["score"]) if dmos else float(r["score"])
                w.writerow([r["path"], score, 0 if dmos else 1, r["group"], split(r) if split else ""])
        return path

    a = write("A", lambda r: True)
    b = write("B", lambda r: r["group"] in ("photo3", "photo4"), dmos=True)
    off = write("official", lambda r: True, split=lambda r: "test" if r["group"] == "photo0" else "train")
    model = root / "model"
    torch.manual_seed(0)
    save_heads(LPFHeads(LPFConfig(stages=("conv3_3",), latent_dim=8, hidden_dim=16, head_hidden=8,
                                  compare_hidden=8)).eval(), model)
    return {"root": root, "A": a, "B": b, "official": off, "model": model, "cache": root / "cache"}


# ---------------------------------------------------------------------------------------- data


@pytest.fixture
def kadid(tmp_path) -> Path:
    d = tmp_path / "kadid10k"
    (d / "images").mkdir(parents=True)
    (d / "dmos.csv").write_text("dist_img,ref_img,dmos,var\nI01_01_01.png,I01.png,4.57,0.5\n"
                                "I01_01_02.png,I01.png,3.2,0.4\nI02_01_01.png,I02.png,2.1,0.4\n")
    for name in ("I01_01_01.png", "I02_01_01.png"):
        (d / "images" / name).write_bytes(b"")
    return d


def test_data_list() -> None:
    r = run("data", "list")
    assert r.exit_code == 0 and "koniq10k" in r.output and "--size" in r.output and "--dmos" in r.output
    rows = json.loads(run("data", "list", "--json").output)
    assert {x["name"] for x in rows} >= {"live", "koniq10k", "kadid10k", "csv"}


def test_data_prepare_and_summary(kadid, tmp_path) -> None:
    out = tmp_path / "kadid.csv"
    r = run("data", "prepare", "KADID-10k", kadid, "-o", out)
    assert r.exit_code == 0, r.output
    assert "kadid10k: 2 images, 2 groups" in r.output and "1 missing file(s):" in r.output
    assert "I01_01_02.png" in r.output and "scores 2.1 .. 4.57 (higher is better)" in r.output
    assert out.is_file() and len(out.read_text().splitlines()) == 3
    s = run("data", "summary", out)
    assert s.exit_code == 0 and "2 images" in s.output and "splits (none)=2" in s.output
    d = json.loads(run("data", "summary", out, "--json").stdout)
    assert d["images"] == 2 and d["score_max"] == 4.57


def test_data_prepare_errors(kadid, tmp_path) -> None:
    strict = run("data", "prepare", "kadid10k", kadid, "--strict", "-o", tmp_path / "k.csv")
    assert "--strict" in one_line_error(strict)
    assert not (tmp_path / "k.csv").exists()
    assert "unknown dataset 'nosuch'; known: live" in one_line_error(run("data", "prepare", "nosuch", kadid))
    assert "folder not found" in one_line_error(run("data", "prepare", "live", tmp_path / "absent"))
    wrong = run("data", "prepare", "kadid", kadid, "--size", "512x384")
    assert "--size does not apply to kadid10k" in one_line_error(wrong, exit_code=2)
    assert "No such option" in run("data", "prepare", "kadid", kadid, "--bogus").output
    assert "manifest not found" in one_line_error(run("data", "summary", tmp_path / "absent.csv"))


def test_data_prepare_malformed_label_file(tmp_path) -> None:
    d = tmp_path / "koniq"
    (d / "512x384").mkdir(parents=True)
    (d / "512x384" / "1.jpg").write_bytes(b"")
    (d / "koniq10k_scores_and_distributions.csv").write_text("image_name,MOS\n1.jpg,not-a-number\n")
    line = one_line_error(run("data", "prepare", "koniq10k", d, "--size", "512x384"))
    assert "MOS must be a number" in line and "line 2" in line


# ---------------------------------------------------------------------------------------- eval


def test_eval_writes_report_and_records_failures(sets, tmp_path) -> None:
    broken = sets["A"].parent / "with_broken.csv"
    lines = sets["A"].read_text().splitlines()
    broken.write_text("\n".join(lines[:9] + ["missing.png,50,1,photoX,"]) + "\n")  # 8 images + 1 absent
    out = tmp_path / "ev"
    r = run("eval", "--model", sets["model"], "--data", broken, "--out", out, "--threads", "1")
    assert r.exit_code == 0, r.output
    assert "srcc" in r.stdout and "plcc_l4" in r.stdout
    assert "evaluated" in r.output and "missing.png" in r.output
    report = json.loads((out / "eval.json").read_text())
    assert report["n_images"] == 9 and report["n_scored"] == 8 and len(report["failures"]) == 1
    assert set(report["metrics"]) >= {"srcc", "krcc", "plcc", "rmse", "plcc_l4", "rmse_l4", "plcc_l5",
                                      "rmse_l5"}
    assert report["logistic"]["logistic4"]["kind"] in ("logistic4", "linear")
    rows = list(csv.DictReader(open(out / "predictions.csv")))
    assert len(rows) == 9 and rows[-1]["error"] and not rows[-1]["prediction"]
    assert (out / "scatter.png").stat().st_size > 0


def test_eval_orients_dmos(sets, tmp_path) -> None:
    from lpfiqa.protocol import evaluate_model

    mos = evaluate_model(sets["model"], sets["A"], progress=False)
    dmos_file = tmp_path / "dmos.csv"
    with open(sets["A"]) as f:
        rows = list(csv.DictReader(f))
    with open(dmos_file, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["path", "dmos", "group"])
        w.writerows([[str(sets["A"].parent / r["path"]), 100 - float(r["score"]), r["group"]] for r in rows])
    dmos = evaluate_model(sets["model"], dmos_file, progress=False)
    assert dmos.metrics["srcc"] == pytest.approx(mos.metrics["srcc"])
    assert dmos.metrics["rmse"] != dmos.metrics["rmse"]  # NaN: opposite directions, raw RMSE meaningless
    assert dmos.metrics["rmse_l4"] == pytest.approx(mos.metrics["rmse_l4"], rel=1e-3)


def test_eval_errors(sets) -> None:
    model = ("--model", sets["model"])
    no_split = run("eval", *model, "--data", sets["A"], "--split", "test")
    assert "no rows in split 'test'" in one_line_error(no_split)
    assert "neither a registered model" in one_line_error(run("eval", "-m", "nosuch", "--data", sets["A"]))
    assert "manifest not found" in one_line_error(run("eval", *model, "--data", "absent.csv"))
    assert run("eval", "--model", sets["model"]).exit_code == 2  # --data is required


# ---------------------------------------------------------------------------------------- protocol


def test_protocol_within(sets, tmp_path) -> None:
    out = tmp_path / "within"
    r = run("protocol", "--data", sets["A"], "--splits", "2", "--seed", "1", "--cache-dir", sets["cache"],
            "-o", out, "--workers", "2", *QUICK)
    assert r.exit_code == 0, r.output
    assert "| Method | SRCC | PLCC |" in r.stdout and "| LPF |" in r.stdout
    assert "Encoder features:" in r.stdout
    res = json.loads((out / "results.json").read_text())
    settings = res["settings"]
    assert settings["n_splits"] == 2 and settings["seed"] == 1 and not settings["official"]
    assert settings["workers"] == 2  # forked fits (tests/test_protocol.py checks they change no figure)
    assert res["timing"]["images"] == 20 and res["timing"]["features_seconds"] >= 0
    for name in ("results.md", "splits.csv", "predictions.csv", "box.png", "scatter.png"):
        assert (out / name).exists(), name


def test_protocol_official(sets, tmp_path) -> None:
    out = tmp_path / "official"
    cache = ("--cache-dir", sets["cache"])
    r = run("protocol", "--data", sets["official"], "--official", *cache, "-o", out, *QUICK)
    assert r.exit_code == 0, r.output
    res = json.loads((out / "results.json").read_text())
    assert res["settings"]["official"] and res["settings"]["n_splits"] == 1
    rows = list(csv.DictReader(open(out / "splits.csv")))
    assert {r["group"] for r in rows if r["split0"] == "test"} == {"photo0"}
    assert "drop --official" in one_line_error(run("protocol", "--data", sets["A"], "--official",
                                                   "--cache-dir", sets["cache"], *QUICK))


def test_protocol_cross(sets, tmp_path) -> None:
    out = tmp_path / "cross"
    cache = ("--cache-dir", sets["cache"])
    r = run("protocol", "--train", sets["A"], "--test", sets["B"], *cache, "-o", out, *QUICK)
    assert r.exit_code == 0, r.output
    assert "| LPF | B |" in r.stdout and "B: DMOS, negated" in r.stdout
    res = json.loads((out / "results.json").read_text())
    assert res["protocol"] == "cross" and res["test_sets"] == ["B"]
    assert res["settings"]["test_higher_is_better"] == {"B": False}
    assert res["timing"]["images"] == 20 + 8 == res["timing"]["cache_hits"] + res["timing"]["cache_misses"]
    assert "8 image(s) of B are also in the training set" in (out / "results.md").read_text()


def test_protocol_flag_errors(sets) -> None:
    assert "either --data" in one_line_error(run("protocol", *QUICK), exit_code=2)
    assert "either --data" in one_line_error(run("protocol", "--data", sets["A"], "--train", sets["A"]), 2)
    assert "needs at least one --test" in one_line_error(run("protocol", "--train", sets["A"]), exit_code=2)
    assert one_line_error(run("protocol", "--data", sets["A"], "--splits", "0"), exit_code=2)
    assert "manifest not found" in one_line_error(run("protocol", "--data", "absent.csv", *QUICK))


def test_protocol_lists_methods() -> None:
    from lpfiqa.cli.evaluate import METHOD_KEYS
    from lpfiqa.protocol.methods import METHODS

    assert list(METHOD_KEYS) == list(METHODS)  # the help text's copy of the registry
    r = run("protocol", "--method", "list")
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert [ln.split()[0] for ln in lines] == list(METHODS)
    assert any("BRISQUE + SVR:" in ln for ln in lines) and any("VGG16 GAP + ridge:" in ln for ln in lines)
    helptext = run("protocol", "--help").stdout
    assert "--method NAME" in helptext and "brisque-svr" in helptext and "--method list" in helptext
    err = one_line_error(run("protocol", "--data", "absent.csv", "--method", "svm"), exit_code=2)
    assert "unknown method(s) svm; choose among lpf, gap-ridge" in err


def test_protocol_runs_baselines_on_the_same_splits(sets, tmp_path) -> None:
    out = tmp_path / "baselines"
    r = run("protocol", "--data", sets["A"], "--splits", "2", "--cache-dir", sets["cache"], "-o", out,
            "--method", "lpf", "--method", "gap-ridge", "--method", "brisque-svr", "--method", "gap-ridge", *QUICK)
    assert r.exit_code == 0, r.output
    for row in ("| LPF |", "| VGG16 GAP + ridge |", "| BRISQUE + SVR |"):
        assert row in r.stdout, row
    res = json.loads((out / "results.json").read_text())
    assert [m["name"] for m in res["methods"]] == ["LPF", "VGG16 GAP + ridge", "BRISQUE + SVR"]  # repeat dropped
    tests = {}
    for p in csv.DictReader(open(out / "predictions.csv")):
        tests.setdefault((p["split"], p["method"]), set()).add(p["path"])
    for k in ("0", "1"):  # one test part per split, whatever the method
        assert tests[(k, "LPF")] == tests[(k, "VGG16 GAP + ridge")] == tests[(k, "BRISQUE + SVR")]
    r = run("protocol", "--train", sets["A"], "--test", sets["B"], "--cache-dir", sets["cache"],
            "--method", "gap-svr", *QUICK)
    assert r.exit_code == 0, r.output
    assert "| VGG16 GAP + svr | B |" in r.stdout and "| LPF |" not in r.stdout
