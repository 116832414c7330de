"""``lpfiqa score --shard K/N``, ``lpfiqa merge`` and torchrun: the parts merge into one run's rows, in its order."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import photos

from lpfiqa.cli import cli
from lpfiqa.errors import ShardError
from lpfiqa.models import LPFConfig, LPFHeads
from lpfiqa.models.io import save_heads
from lpfiqa.shard import Shard, find_parts, merge_parts, parse_shard, torchrun_shard


@pytest.fixture(autouse=True)
def _not_under_torchrun(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A tiny random-weight model, 11 small photos in two folders (+ one broken file), and their single run."""
    root = tmp_path_factory.mktemp("shard")
    save_heads(LPFHeads(LPFConfig(latent_dim=16, hidden_dim=32)).eval(), root / "model")
    imgs = root / "imgs"
    for i, img in enumerate(photos(8, (64, 64)) + photos(3, (96, 64))):
        folder = imgs / "sub" if i % 4 == 0 else imgs  # sub/ sorts among the files: the order is by path parts
        folder.mkdir(parents=True, exist_ok=True)
        img.save(folder / f"p{i:02d}.png")
    (imgs / "broken.png").write_bytes(b"\x89PNG not really")
    single = root / "single.csv"
    res = _score(root, imgs, single)
    assert res.exit_code == 1 and "scored 11 of 12 images" in res.stderr, res.output
    return {"root": root, "imgs": imgs, "model": root / "model", "single": single}


@pytest.fixture(scope="module")
def parts(run: dict[str, Path]) -> Path:
    """The same files scored in 3 shards: the folder holding out.part-{0,1,2}-of-3.csv."""
    folder = run["root"] / "sharded"
    for k in range(3):
        res = _score(run["root"], run["imgs"], folder / "out.csv", "--shard", f"{k}/3")
        assert res.exit_code in (0, 1), res.output  # 1: the shard with broken.png
        assert f"shard {k}/3 done" in res.stderr and Shard(k, 3).part(folder / "out.csv").is_file()
    return folder


def _score(root: Path, imgs: Path, out: Path, *extra: str):  # noqa: ANN202 - click's Result
    return CliRunner().invoke(cli, ["score", str(imgs), "-r", "--model", str(root / "model"), "-o", str(out), *extra])


def _copy(parts: Path, tmp_path: Path) -> Path:
    shutil.copytree(parts, tmp_path / "sharded")
    return tmp_path / "sharded" / "out.csv"


def _rows(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize("m", [0, 1, 5, 12, 100])
@pytest.mark.parametrize("n", [1, 3, 7, 16])
def test_shards_are_a_balanced_deterministic_partition(m: int, n: int) -> None:
    files = [f"d/{i:04d}.jpg" for i in range(m)]
    shards = [Shard(k, n).select(files) for k in range(n)]
    assert sorted(f for s in shards for f in s) == files  # every file once
    assert max(map(len, shards)) - min(map(len, shards)) <= 1  # balanced to one file
    assert shards == [Shard(k, n).select(list(files)) for k in range(n)]  # deterministic
    moved = [f"/mnt/other/{f}" for f in files]  # another machine's mount point: the same split
    assert [[f.removeprefix("/mnt/other/") for f in Shard(k, n).select(moved)] for k in range(n)] == shards


def test_shard_specs_and_environments() -> None:
    assert parse_shard(" 0/1 ") == Shard(0, 1) and str(parse_shard("15/16")) == "15/16"
    slurm = {"SLURM_ARRAY_TASK_ID": "14", "SLURM_ARRAY_TASK_MIN": "0", "SLURM_ARRAY_TASK_STEP": "2",
             "SLURM_ARRAY_TASK_COUNT": "8"}
    assert parse_shard("auto", slurm) == Shard(7, 8)  # --array=0-14:2
    for spec, message in [("4/4", r"K must be in 0\.\.3"), ("0/0", "N must be at least 1"), ("x", "write K/N"),
                          ("-1/4", "write K/N"), ("1/2/3", "write K/N"), ("auto", "SLURM_ARRAY_TASK_ID")]:
        with pytest.raises(ShardError, match=message):
            parse_shard(spec, {})
    with pytest.raises(ShardError, match="not on the array's range"):
        parse_shard("auto", {**slurm, "SLURM_ARRAY_TASK_ID": "3"})
    assert torchrun_shard({"RANK": "0", "WORLD_SIZE": "1"}) is None  # one process: a plain run


def test_shard_runs_then_merge_equal_one_run_row_for_row(run: dict[str, Path], parts: Path, tmp_path: Path) -> None:
    out = _copy(parts, tmp_path)
    assert [len(_rows(Shard(k, 3).part(out))) for k in range(3)] == [4, 4, 4]
    res = CliRunner().invoke(cli, ["merge", str(Shard(2, 3).part(out)), str(Shard(0, 3).part(out)),
                                   str(Shard(1, 3).part(out)), "-o", str(out)])  # any order of the parts
    assert res.exit_code == 0, res.output
    assert f"merged 3 parts: 12 rows, 1 failed; wrote {out}" in res.stderr
    assert out.read_bytes() == run["single"].read_bytes()  # same rows, same order, same bytes
    paths = [r["path"] for r in _rows(out)]
    assert paths.index(str(run["imgs"] / "p03.png")) < paths.index(str(run["imgs"] / "sub" / "p00.png"))


@pytest.mark.parametrize("m", [1, 7])
def test_jsonl_and_empty_parts_merge_back(tmp_path: Path, m: int) -> None:
    lines = [json.dumps({"path": f"d/{i}.png", "score": i + 0.5, "error": None if i % 3 else "bad"}) + "\n"
             for i in range(m)]
    out = tmp_path / "out.jsonl"
    for k in range(4):  # m = 1: shards 1-3 are empty files
        Shard(k, 4).part(out).write_text("".join(Shard(k, 4).select(lines)))
    summary = merge_parts(find_parts(out), out)
    assert (summary.count, summary.rows, summary.failed) == (4, m, len(range(0, m, 3)))
    assert out.read_text() == "".join(lines)


def test_missing_duplicate_and_mismatched_parts_are_named(run: dict[str, Path], parts: Path,
                                                          tmp_path: Path) -> None:
    out = _copy(parts, tmp_path)
    parts = find_parts(out)
    one = parts[1]
    one.rename(f"{one}.partial")  # shard 1 never finished
    res = CliRunner().invoke(cli, ["merge", "-o", str(out)])
    assert res.exit_code == 1 and not out.exists()
    message = res.output.strip()
    assert "\n" not in message and message.startswith("Error: missing shard 1 of 3 (no ")
    assert "1 unfinished: only a .partial" in message and "--shard K/3 --resume" in message
    Path(f"{one}.partial").rename(one)
    with pytest.raises(ShardError, match=r"missing shards 1-2 of 3"):
        merge_parts(parts[:1], out)
    with pytest.raises(ShardError, match="given twice"):
        merge_parts([*parts, tmp_path / "copy" / parts[0].name], out)
    with pytest.raises(ShardError, match="not a part file"):
        merge_parts([run["single"]], out)
    with pytest.raises(ShardError, match="one of 3 shards, the others of 4"):
        merge_parts(parts, out, count=4)
    rows = one.read_text().splitlines(keepends=True)
    one.write_text("".join(rows[:-1]))  # a row short: it does not fit a split of the others
    with pytest.raises(ShardError, match=r"part-2-of-3.csv has more rows .*part-1-of-3.csv ends after 3"):
        merge_parts(parts, out)
    one.write_text("".join([rows[0], parts[0].read_text().splitlines(keepends=True)[1], *rows[2:]]))  # shard 0's
    with pytest.raises(ShardError, match=r"is in .*part-0-of-3.csv and .*part-1-of-3.csv"):
        merge_parts(parts, out)
    one.write_text("path,score\n")
    with pytest.raises(ShardError, match="score every shard with the same options"):
        merge_parts(parts, out)
    assert not out.exists()  # nothing written by a failed merge


def test_bad_shard_options_are_one_line(run: dict[str, Path], tmp_path: Path) -> None:
    for extra, message in [(["--shard", "5/4"], "5/4: K must be in 0..3"), (["--shard", "x"], "write K/N"),
                           (["--shard", "auto"], "SLURM_ARRAY_TASK_ID")]:
        res = _score(run["root"], run["imgs"], tmp_path / "o.csv", *extra)
        assert res.exit_code == 2 and message in res.output.splitlines()[-1], res.output
    res = CliRunner().invoke(cli, ["score", str(run["imgs"]), "--shard", "1/2"])
    assert res.exit_code == 2 and "writes OUT.part-1-of-2.csv; add -o OUT.csv" in res.output
    res = CliRunner().invoke(cli, ["score", str(run["imgs"]), "-o", "o.csv", "--shard", "0/2"],
                             env={"RANK": "0", "WORLD_SIZE": "2"})
    assert res.exit_code == 2 and "torchrun already splits the files" in res.output


def test_resume_continues_one_shard(run: dict[str, Path], parts: Path, tmp_path: Path) -> None:
    out = _copy(parts, tmp_path)
    part = Shard(1, 3).part(out)
    data = part.read_bytes()
    torn = data[: data.index(b"\n", data.index(b"\n") + 1) + 1] + data.splitlines(keepends=True)[2][:9]
    part.unlink()
    Path(f"{part}.partial").write_bytes(torn)  # killed after one row, half-way through the second
    res = _score(run["root"], run["imgs"], out, "--shard", "1/3", "--resume")
    assert res.exit_code in (0, 1) and "scored 3 of 3 images" in res.stderr and "1 already done" in res.stderr
    assert part.read_bytes() == data
    merge_parts(find_parts(out), out)
    assert out.read_bytes() == run["single"].read_bytes()


def test_torchrun_two_processes_merge_into_one_run(run: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE")}
    argv = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
            "-m", "lpfiqa", "score", str(run["imgs"]), "-r", "--model", str(run["model"]), "-o", str(out)]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=180, env=env, cwd=tmp_path)
    assert "merged 2 parts: 12 rows, 1 failed" in proc.stderr, proc.stderr[-3000:]
    assert proc.returncode == 0  # broken.png is a row with an error: a rank exiting 1 would read as a crash
    assert Shard(0, 2).part(out).is_file() and Shard(1, 2).part(out).is_file()
    got, want = _rows(out), _rows(run["single"])
    assert [{**r, "score": None} for r in got] == [{**r, "score": None} for r in want]  # paths, sizes, errors
    for a, b in zip(got, want, strict=True):  # scores: one per image, whatever the process (threads may differ)
        assert (a["score"] == b["score"] == "") or float(a["score"]) == pytest.approx(float(b["score"]), abs=1e-3)


def test_merge_help_needs_no_torch() -> None:
    code = ("import sys; from lpfiqa.cli import cli\ntry:\n    cli(['merge', '--help'])\nexcept SystemExit:\n"
            "    pass\nprint('TORCH', 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.rstrip().endswith("TORCH False") and "in the row order of one" in out
