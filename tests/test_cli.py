"""The CLI through its real entry points: score, train, synth, models."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from lpfiqa.cli import cli
from lpfiqa.models import LPFConfig, LPFHeads
from lpfiqa.models.io import save_heads


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("model")
    save_heads(LPFHeads(LPFConfig(latent_dim=16, hidden_dim=32, score_min=1, score_max=5)).eval(), folder)
    return folder


@pytest.fixture()
def images(tmp_path):
    rng = np.random.default_rng(0)
    folder = tmp_path / "imgs"
    (folder / "sub").mkdir(parents=True)
    for name in ("a.png", "b.jpg", "sub/c.png"):
        Image.fromarray(rng.integers(0, 255, (64, 80, 3), dtype=np.uint8)).save(folder / name)
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 definitely not a jpeg")
    return folder


def test_score_folder_table_and_exit_status(model_dir, images) -> None:
    res = CliRunner().invoke(cli, ["score", str(images), "--model", str(model_dir)])
    assert res.exit_code == 1, res.output  # one broken file -> status 1, the others scored
    assert "FAILED" in res.stdout and "a.png" in res.stdout and "b.jpg" in res.stdout
    assert "sub/c.png" not in res.stdout  # not recursive by default
    assert "broken.jpg: corrupt or truncated image" in res.stderr
    assert "scored 2 of 3 images" in res.stderr


def test_score_recursive_jsonl_output(model_dir, images, tmp_path) -> None:
    out = tmp_path / "r.jsonl"
    ok = [str(images / "a.png"), str(images / "sub")]
    res = CliRunner().invoke(cli, ["score", *ok, "-r", "--model", str(model_dir), "-o", str(out), "--json"])
    assert res.exit_code == 0, res.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["path"].split("/")[-1] for r in rows] == ["a.png", "c.png"]
    assert all(1 <= r["score"] <= 5 or r["score"] is not None for r in rows)
    assert not (tmp_path / "r.jsonl.partial").exists()


def test_score_csv_glob_and_missing_file(model_dir, images, tmp_path) -> None:
    out = tmp_path / "r.csv"
    res = CliRunner().invoke(cli, ["score", str(images / "*.png"), str(images / "nope.png"), "--model",
                                   str(model_dir), "-o", str(out)])
    assert res.exit_code == 1
    with open(out) as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2 and rows[0]["score"] and "no such file" in rows[1]["error"]


def test_score_same_as_library(model_dir, images) -> None:
    from lpfiqa import create_model

    res = CliRunner().invoke(cli, ["score", str(images / "a.png"), "--model", str(model_dir), "--json"])
    row = json.loads(res.stdout.strip())
    assert abs(row["score"] - create_model(model_dir).score(str(images / "a.png"))) < 1e-3


def test_score_bad_inputs_are_one_line_errors(model_dir, images, tmp_path) -> None:
    r = CliRunner().invoke(cli, ["score", str(images), "--model", "lpf-synth-v9"])
    assert r.exit_code == 1 and "did you mean lpf-synth-v" in r.output
    r = CliRunner().invoke(cli, ["score", str(images), "--model", str(model_dir), "-o", str(tmp_path / "x.txt")])
    assert r.exit_code == 2 and "use a .csv or .jsonl" in r.output
    r = CliRunner().invoke(cli, ["score", str(tmp_path / "empty_dir_that_is_missing")])
    assert r.exit_code == 1
    r = CliRunner().invoke(cli, ["score", "--frobnicate", str(images)])
    assert r.exit_code == 2 and "No such option" in r.output


@pytest.fixture(scope="module")
def diag_run(graded_set, tmp_path_factory):
    """A tiny trained run with the diagnosis head (families from the graded set: blur, compression, noise)."""
    from lpfiqa.training import TrainConfig, train_run

    run = tmp_path_factory.mktemp("diag_run")
    train_run(graded_set, run, LPFConfig(latent_dim=16, hidden_dim=32, use_diagnosis=True),
              TrainConfig(epochs=2, batch_size=8, test_fraction=0.25, val_fraction=0.17), show_progress=False)
    return run


FAMILIES = ["blur", "compression", "noise"]


def test_score_explain_table_csv_and_json(diag_run, graded_set, images, tmp_path) -> None:
    """--explain: a probability column per family (2 decimals) and top_family in the table and CSV,
    a diagnosis object in JSON/JSONL; a failed row stays a failed row."""
    from lpfiqa import create_model

    files = [str(graded_set.parent / "p0_noise_3.png"), str(graded_set.parent / "p1_blur_0.png"),
             str(images / "broken.jpg")]
    expected = create_model(diag_run).predict(files[0]).diagnosis
    res = CliRunner().invoke(cli, ["score", *files, "--model", str(diag_run), "--explain"])
    assert res.exit_code == 1  # the broken file
    head, first, _, failed = res.stdout.splitlines()
    assert head.split() == ["score", *FAMILIES, "top_family", "path"]
    cells = first.split()
    assert cells[1:4] == [f"{expected[f]:.2f}" for f in FAMILIES] and cells[-1].endswith("p0_noise_3.png")
    assert cells[4] in [*FAMILIES, "none"] and "FAILED" in failed

    out = tmp_path / "r.csv"
    CliRunner().invoke(cli, ["score", *files, "--model", str(diag_run), "--explain", "-o", str(out)])
    with open(out) as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["path", "score", *FAMILIES, "top_family", "width", "height", "error"]
    assert [rows[0][f] for f in FAMILIES] == [f"{expected[f]:.2f}" for f in FAMILIES]
    assert rows[2]["error"] and rows[2]["blur"] == "" and rows[2]["top_family"] == ""

    out = tmp_path / "r.jsonl"
    res = CliRunner().invoke(cli, ["score", *files[:2], "--model", str(diag_run), "--explain", "--json",
                                   "-o", str(out)])
    assert res.exit_code == 0, res.output
    for text in (res.stdout, out.read_text()):
        rows = [json.loads(line) for line in text.splitlines()]
        assert list(rows[0]["diagnosis"]) == FAMILIES and all(0 <= p <= 1 for p in rows[0]["diagnosis"].values())
        assert rows[0]["diagnosis"] == {f: round(expected[f], 4) for f in FAMILIES}
        assert rows[0]["top_family"] in [*FAMILIES, "none"]
    plain = json.loads(CliRunner().invoke(cli, ["score", files[0], "--model", str(diag_run), "--json"]).stdout)
    assert "diagnosis" not in plain  # without --explain the output is as before


def test_score_explain_without_a_diagnosis_head_is_one_clear_line(model_dir, images) -> None:
    res = CliRunner().invoke(cli, ["score", str(images / "a.png"), "--model", str(model_dir), "--explain"])
    assert res.exit_code == 1 and res.output.count("\n") == 1
    assert str(model_dir) in res.output and "no diagnosis head" in res.output and "drop --explain" in res.output


def test_train_then_score_end_to_end(graded_set, tmp_path) -> None:
    run = tmp_path / "run"
    res = CliRunner().invoke(cli, ["train", "--data", str(graded_set), "-o", str(run), "--epochs", "2",
                                   "--batch-size", "8", "--test-fraction", "0.25", "--val-fraction", "0.17",
                                   "--category", "--groups-per-batch", "2", "--lambda-rank", "0.5"])
    assert res.exit_code == 0, res.output
    assert "test: SRCC" in res.output and (run / "model.safetensors").exists()
    assert json.loads((run / "config.json").read_text())["use_category"]  # the paper's task, asked for
    assert json.loads((run / "train_config.json").read_text())["lambda_rank"] == 0.5
    res = CliRunner().invoke(cli, ["score", str(graded_set.parent), "--model", str(run), "--sort"])
    assert res.exit_code == 0 and res.stdout.count(".png") == 80


def test_train_rejects_bad_manifest(tmp_path) -> None:
    bad = tmp_path / "m.csv"
    bad.write_text("path,score\na.png,not-a-number\n")
    res = CliRunner().invoke(cli, ["train", str(bad), "-o", str(tmp_path / "run")])
    assert res.exit_code == 1 and "line 2" in res.output and "\n" == res.output[-1] and res.output.count("\n") == 1


def test_train_takes_the_manifest_as_data_option_or_argument(tmp_path) -> None:
    """One spelling across train/eval/protocol (--data), the positional MANIFEST kept as an alias."""
    bad = tmp_path / "m.csv"
    bad.write_text("path,score\na.png,not-a-number\n")
    res = CliRunner().invoke(cli, ["train", "-d", str(bad), "-o", str(tmp_path / "run")])
    assert res.exit_code == 1 and "line 2" in res.output  # reached the manifest reader, as the argument does
    res = CliRunner().invoke(cli, ["train", "-o", str(tmp_path / "run")])
    assert res.exit_code == 2 and "--data MANIFEST" in res.output
    other = tmp_path / "n.csv"
    other.write_text("path,score\n")
    res = CliRunner().invoke(cli, ["train", str(bad), "--data", str(other), "-o", str(tmp_path / "run")])
    assert res.exit_code == 2 and "two manifests" in res.output
    for command in ("train", "eval", "protocol"):
        assert "--data" in CliRunner().invoke(cli, [command, "--help"]).output


def test_synth_small_set_and_preview(tmp_path) -> None:
    pristine = tmp_path / "pristine"
    pristine.mkdir()
    rng = np.random.default_rng(1)
    for i in range(3):
        base = rng.integers(0, 255, (12, 16, 3), dtype=np.uint8)
        Image.fromarray(base).resize((160, 120), Image.BICUBIC).save(pristine / f"p{i}.png")
    out = tmp_path / "set"
    args = ["synth", "--pristine", str(pristine), "--out", str(out), "--size", "96x64", "--types",
            "gaussian_blur,jpeg", "--levels", "1,3,5", "--test-photos", "p2", "--workers", "1"]
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 0, res.output
    with open(out / "manifest.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 3 * (1 + 2 * 3)
    assert {r["split"] for r in rows if r["group"] == "p2"} == {"test"}
    refs = [float(r["score"]) for r in rows if r["dist_level"] == "0"]
    assert refs == [100.0] * 3
    for p in ("p0", "p1", "p2"):  # weak labels fall with the level within each (photo, type)
        for t in ("gaussian_blur", "jpeg"):
            s = [float(r["score"]) for r in sorted(rows, key=lambda r: int(r["dist_level"]))
                 if r["group"] == p and r["dist_type"] == t]
            assert s == sorted(s, reverse=True), (p, t, s)
    again = CliRunner().invoke(cli, args)  # resumes: nothing to redo
    assert "(3 photo views already done)" in again.output
    more = CliRunner().invoke(cli, [*args, "--views", "2"])  # adds a zoomed view of each training photo
    assert more.exit_code == 0 and "(3 photo views already done)" in more.output, more.output
    with open(out / "manifest.csv") as f:
        rows2 = list(csv.DictReader(f))
    assert len(rows2) == 5 * (1 + 2 * 3)
    added = [r for r in rows2 if r["view"] == "1"]
    assert {r["group"] for r in added} == {"p0", "p1"} and {r["split"] for r in added} == {"train"}
    assert all("@v1" in r["path"] for r in added)
    old_scores = {r["path"]: r["score"] for r in rows}
    assert all(r["path"] in old_scores for r in rows2 if r["view"] == "0")  # view 0 files are untouched
    v0, v1 = (np.asarray(Image.open(out / "refs" / n)) for n in ("p0.png", "p0@v1.png"))
    assert v0.shape == v1.shape and not np.array_equal(v0, v1)
    res = CliRunner().invoke(cli, ["synth", "--preview", str(pristine / "p0.png"), "--out", str(tmp_path / "s.png"),
                                   "--size", "96x64", "--types", "jpeg,darken"])
    assert res.exit_code == 0 and Image.open(tmp_path / "s.png").size[0] == 6 * 160

    # A test set of held-out photos only, labelled on the first set's scale; a few types per photo.
    test_set = tmp_path / "test_set"
    res = CliRunner().invoke(cli, ["synth", "--pristine", str(pristine), "--out", str(test_set), "--size", "96x64",
                                   "--types", "gaussian_blur,jpeg,darken", "--test-types-per-photo", "2",
                                   "--test-photos", "p0,p1,p2", "--calibration", str(out / "calibration.json"),
                                   "--workers", "1"])
    assert res.exit_code == 0, res.output
    with open(test_set / "manifest.csv") as f:
        rows3 = list(csv.DictReader(f))
    assert {r["split"] for r in rows3} == {"test"} and len(rows3) == 3 * (1 + 2 * 5)
    assert all(len({r["dist_type"] for r in rows3 if r["group"] == p} - {""}) == 2 for p in ("p0", "p1", "p2"))
    assert (test_set / "calibration.json").read_text() == (out / "calibration.json").read_text()
    same = {r["path"]: r["score"] for r in rows3}  # the same image gets the same label as in the first set
    assert all(same[r["path"]] == r["score"] for r in rows2 if r["path"] in same and r["group"] == "p2")
    res = CliRunner().invoke(cli, ["synth", "--pristine", str(pristine), "--out", str(tmp_path / "x"),
                                   "--size", "96x64", "--test-photos", "p0,p1,p2", "--workers", "1"])
    assert res.exit_code == 1 and "--calibration FILE" in res.output and not (tmp_path / "x" / "records").exists()


def test_models_list_and_module_entry_point() -> None:
    res = CliRunner().invoke(cli, ["models", "--json"])
    rows = json.loads(res.output)
    assert [r["name"] for r in rows if r["default"]] == ["lpf-synth-v4"]
    assert {r["name"] for r in rows} == {"lpf-synth-v4", "lpf-synth-v3", "lpf-synth-v2", "lpf-synth-v1", "lpf-lite-v1"}
    proc = subprocess.run([sys.executable, "-m", "lpfiqa", "--version"], capture_output=True, text=True, check=True)
    assert "lpfiqa" in proc.stdout


@pytest.mark.parametrize("argv", [["--help"], ["score", "--help"], ["train", "--help"], ["data", "list"], ["models"]])
def test_cli_answers_without_importing_torch(argv) -> None:
    """Start-up cost guard (the timing itself is python -m bench.cli_startup): these commands need no torch."""
    import subprocess
    import sys

    code = ("import sys; from lpfiqa.cli import cli\n"
            "try:\n    cli(sys.argv[1:])\nexcept SystemExit as e:\n    assert e.code in (0, None), e.code\n"
            "print('\\nHEAVY', ','.join(m for m in ('torch', 'matplotlib') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, check=True).stdout
    assert out.rstrip().endswith("HEAVY"), out[-200:]  # nothing after it: neither torch nor matplotlib loaded
