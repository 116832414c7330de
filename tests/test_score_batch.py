"""``lpfiqa score`` at scale: decoding workers, streamed rows, ``--resume`` after ``kill -9``, summary, maps."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from lpfiqa.cli import cli
from lpfiqa.models import LPFConfig, LPFHeads
from lpfiqa.models.io import save_heads


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("model")
    save_heads(LPFHeads(LPFConfig(latent_dim=16, hidden_dim=32)).eval(), folder)
    return folder


def _images(folder: Path, n: int, size: tuple[int, int] = (96, 64)) -> list[Path]:
    rng = np.random.default_rng(n)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        small = rng.integers(0, 255, (size[1] // 8, size[0] // 8, 3), dtype=np.uint8)
        path = folder / f"img{i:03d}.png"
        Image.fromarray(small).resize(size, Image.BICUBIC).save(path)
        paths.append(path)
    return paths


def _csv(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize("workers", [0, 2])
def test_workers_give_the_library_scores_and_errors_are_rows(model_dir: Path, tmp_path: Path, workers: int) -> None:
    from lpfiqa import create_model

    paths = _images(tmp_path / "imgs", 6)
    (tmp_path / "imgs" / "broken.png").write_bytes(b"\x89PNG not really")
    out = tmp_path / "out.jsonl"
    res = CliRunner().invoke(cli, ["score", str(tmp_path / "imgs"), "--model", str(model_dir), "-o", str(out),
                                   "--workers", str(workers)])
    assert res.exit_code == 1, res.output  # the broken file
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    expected = create_model(model_dir).score([str(p) for p in paths])
    by_path = {r["path"]: r for r in rows}
    assert len(rows) == 7 and by_path[str(tmp_path / "imgs" / "broken.png")]["error"]
    for p, s in zip(paths, expected, strict=True):
        assert by_path[str(p)]["score"] == pytest.approx(s, abs=1e-3)
    assert "scored 6 of 7 images" in res.stderr and f"{workers} decoding workers" in res.stderr
    assert "img/s" in res.stderr and " .. " in res.stderr  # throughput and the histogram


def test_sigkill_mid_run_then_resume_loses_and_duplicates_nothing(model_dir: Path, tmp_path: Path) -> None:
    paths = _images(tmp_path / "imgs", 120, size=(128, 96))
    out = tmp_path / "out.csv"
    partial = tmp_path / "out.csv.partial"
    argv = [sys.executable, "-m", "lpfiqa", "score", str(tmp_path / "imgs"), "--model", str(model_dir),
            "-o", str(out), "--threads", "1", "--workers", "1"]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            if partial.exists() and partial.read_bytes().count(b"\n") >= 12:
                break
            time.sleep(0.02)
        assert proc.poll() is None, "the run ended before it could be killed"
        os.killpg(proc.pid, signal.SIGKILL)  # the scorer and its decoding worker, nothing else
    finally:
        proc.wait(timeout=30)
    assert not out.exists() and partial.exists()
    data = partial.read_bytes()
    partial.write_bytes(data[: data.rfind(b"\n") + 1] + str(paths[-1]).encode() + b",12.3")  # a torn last row
    before = len(_csv(partial)) - 1  # the complete rows, kept by --resume (the torn one is redone)
    assert 11 <= before < 120
    res = subprocess.run([*argv, "--resume"], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    assert f"{before} already done (--resume)" in res.stderr
    assert f"scored {120 - before} of {120 - before}" in res.stderr
    rows = _csv(out)
    assert sorted(r["path"] for r in rows) == sorted(str(p) for p in paths)  # each once, none lost
    assert all(r["score"] and not r["error"] for r in rows)
    from lpfiqa import create_model

    qm = create_model(model_dir)
    for r in rows[before - 2:before + 2]:  # both sides of the kill
        assert float(r["score"]) == pytest.approx(qm.score(r["path"]), abs=1e-3)


def test_resume_a_finished_run_adds_new_files_only_and_checks_columns(model_dir: Path, tmp_path: Path) -> None:
    _images(tmp_path / "imgs", 3)
    out = tmp_path / "out.csv"
    args = ["score", str(tmp_path / "imgs"), "--model", str(model_dir), "-o", str(out)]
    assert CliRunner().invoke(cli, args).exit_code == 0
    first = _csv(out)
    Image.new("RGB", (64, 64), "gray").save(tmp_path / "imgs" / "new.png")
    res = CliRunner().invoke(cli, [*args, "--resume"])
    assert res.exit_code == 0, res.output
    rows = _csv(out)
    assert rows[:3] == first and [r["path"].split("/")[-1] for r in rows[3:]] == ["new.png"]
    assert "3 already done" in res.stderr
    res = CliRunner().invoke(cli, ["score", str(tmp_path / "imgs"), "--model", str(model_dir), "--resume"])
    assert res.exit_code == 2 and "add -o OUT.csv" in res.output
    (tmp_path / "other.csv.partial").write_text("path,score,blur,top_family,width,height,error\r\n")
    res = CliRunner().invoke(cli, [*args[:-1], str(tmp_path / "other.csv"), "--resume"])
    assert res.exit_code == 1 and "rerun with the same --explain" in res.output


def test_save_maps_writes_an_overlay_per_image_named_after_it(model_dir: Path, tmp_path: Path) -> None:
    _images(tmp_path / "imgs", 2)
    _images(tmp_path / "imgs" / "sub", 1)  # sub/img000.png: same name as imgs/img000.png
    maps = tmp_path / "maps"
    res = CliRunner().invoke(cli, ["score", str(tmp_path / "imgs"), "-r", "--model", str(model_dir),
                                   "--save-maps", str(maps), "--map", "score"])
    assert res.exit_code == 0, res.output
    written = sorted(str(p.relative_to(maps)) for p in maps.rglob("*.png"))
    assert written == ["img000.score.png", "img001.score.png", "sub/img000.score.png"]
    assert Image.open(maps / "img000.score.png").size == (96, 64)
