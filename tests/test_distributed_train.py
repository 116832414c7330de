"""``torchrun ... -m lpfiqa train`` on 2 and 3 CPU processes (gloo) reaches what one process reaches.

The same tiny run (80 graded 64x64 images, conv3_3 tokens, small heads, every loss term on: score,
comparison, category, diagnosis, within-photo ranking, level order; grouped batches of 9, 7, 5 and 4
images, which split unevenly) is trained by one process, here, and by torchrun in a subprocess.

Tolerance (``TOL_*``): the largest difference of any weight under 1e-4 (weights reach ~7), of any
logged loss under 1e-5, of any validation or test figure under 1e-4, and the same chosen epoch. The
processes see the same batches, windows and pairs, so only float rounding differs: the FEN runs on
slices instead of the whole batch, and DDP sums per-process gradient sums instead of one sum.
Measured when this was written: 8.8e-7 for a weight, 3.4e-8 for a loss, 2.8e-7 for a validation
figure (2 processes); 7.7e-7 for a weight after resuming on 3. For contrast, forming pairs only
within each process's slice differed by 7.7e-3 in a weight and 0.19 in the first epoch's loss, and
dropout 0.1 (each process draws its own masks) by 8.7e-3: hence ``--dropout 0`` here. The two-stage
test has looser tolerances, explained there.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from conftest import make_graded_set
from safetensors.torch import load_file

from lpfiqa.cli import cli
from lpfiqa.training.checkpoint import load_checkpoint

TOL_WEIGHT, TOL_LOSS, TOL_METRIC = 1e-4, 1e-5, 1e-4
TOL_WEIGHT_TWO_STAGE, TOL_LOSS_TWO_STAGE, TOL_METRIC_TWO_STAGE = 2e-3, 5e-4, 5e-4  # see the two-stage test
PROBE = Path(__file__).resolve().parent / "_write_probe.py"
TINY = ["--stages", "conv3_3", "--latent-dim", "16", "--hidden-dim", "32", "--dropout", "0", "--window", "0",
        "--category", "--diagnosis", "--lambda-order", "1", "--lambda-rank", "0.5", "--test-fraction", "0.25",
        "--val-fraction", "0.2", "--threads", "1"]
# grouped batches of 9, 7, 5 and 4 images here: uneven slices on 2 and on 3 processes
PARALLEL = [*TINY, "--batch-size", "9", "--groups-per-batch", "3", "--epochs", "3"]
# batches of 6 and one of 2 an epoch: the third of 3 processes gets an empty slice
TWO_STAGE = [*TINY, "--batch-size", "7", "--groups-per-batch", "3", "--epochs", "4", "--schedule", "two_stage"]


def _torchrun(nproc: int, args: list[str], script: Path | None = None,
              env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(nproc),
           *([str(script)] if script else ["-m", "lpfiqa"]), "train", *args]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env={**os.environ, **(env or {})})
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-6000:]
    return res


def _train_here(args: list[str]) -> None:
    res = CliRunner().invoke(cli, ["train", *args])
    assert res.exit_code == 0, res.output


def _differences(a: Path, b: Path) -> tuple[float, dict[str, float]]:
    """Largest weight difference, and the largest difference of each metrics.csv column, of two runs."""
    wa, wb = load_file(str(a / "model.safetensors")), load_file(str(b / "model.safetensors"))
    assert wa.keys() == wb.keys()
    weight = max(float((wa[k] - wb[k]).abs().max()) for k in wa)
    with open(a / "metrics.csv") as f, open(b / "metrics.csv") as g:
        ra, rb = list(csv.DictReader(f)), list(csv.DictReader(g))
    assert len(ra) == len(rb) and ra[0].keys() == rb[0].keys()
    columns = {k: max(abs(float(x[k]) - float(y[k])) for x, y in zip(ra, rb, strict=True))
               for k in ra[0] if k not in ("epoch", "seconds")}
    return weight, columns


def _assert_same_run(a: Path, b: Path, tol_weight: float, tol_loss: float, tol_metric: float) -> None:
    weight, columns = _differences(a, b)
    print(f"\n{a.name} vs {b.name}: max |weight difference| {weight:.2e}; per column "
          + ", ".join(f"{k} {d:.1e}" for k, d in columns.items()))
    assert weight < tol_weight, weight
    for k, d in columns.items():
        assert d < (tol_loss if k.startswith("loss_") else tol_metric), (k, d)
    sa, sb = (json.loads((r / "summary.json").read_text()) for r in (a, b))
    assert sa["best_epoch"] == sb["best_epoch"] and sa["counts"] == sb["counts"]
    for split in ("val", "test"):  # rmse is in score units (25-100)
        for k, scale in (("srcc", 1.0), ("plcc", 1.0), ("rmse", 100.0)):
            assert sa[split][k] == pytest.approx(sb[split][k], abs=tol_metric * scale), (split, k)


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    return ["--data", str(make_graded_set(tmp_path_factory.mktemp("set"), n_photos=8, levels=3, size=(64, 64)))]


@pytest.fixture(scope="module")
def parallel_runs(data, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One process here (the CLI in this process): a whole run and one killed after epoch 1; then torchrun
    (subprocesses) on 2 processes for the whole run and on 3 to resume the killed one, every file write
    logged per rank. Each has its own feature cache, so the torchrun runs encode in shards."""
    tmp = tmp_path_factory.mktemp("parallel")
    out = {name: tmp / name for name in ("one", "two", "resumed", "logs", "cache_two")}
    threads = torch.get_num_threads()
    try:
        _train_here([*data, *PARALLEL, "-o", str(out["one"]), "--cache-dir", str(tmp / "cache_one")])
        import lpfiqa.training.run as run_module

        real_save = run_module.save_checkpoint

        def killed_after_epoch_1(state, folder):  # noqa: ANN001, ANN202 - the process dies after epoch 1
            real_save(state, folder)
            if state.epoch == 1:
                raise KeyboardInterrupt

        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(run_module, "save_checkpoint", killed_after_epoch_1)
            res = CliRunner().invoke(cli, ["train", *data, *PARALLEL, "-o", str(out["resumed"]),
                                           "--cache-dir", str(tmp / "cache_one")])
        assert res.exit_code == 1 and load_checkpoint(out["resumed"]).epoch == 1
    finally:
        torch.set_num_threads(threads)
    res = _torchrun(2, [*data, *PARALLEL, "-o", str(out["two"]), "--cache-dir", str(out["cache_two"])])
    out["two_stdout"] = tmp / "two_stdout.txt"
    out["two_stdout"].write_text(res.stdout)
    out["logs"].mkdir()
    _torchrun(3, [*data, *PARALLEL, "-o", str(out["resumed"]), "--resume", "--cache-dir", str(tmp / "cache_three")],
              script=PROBE, env={"LPFIQA_WRITE_LOG": str(out["logs"])})
    return out


def test_two_processes_train_what_one_process_trains(parallel_runs) -> None:
    _assert_same_run(parallel_runs["one"], parallel_runs["two"], TOL_WEIGHT, TOL_LOSS, TOL_METRIC)


def test_features_are_encoded_once_across_processes(parallel_runs) -> None:
    """Each image is encoded by one rank into the shared cache; the report counts it once; rank 0 alone prints."""
    summary = json.loads((parallel_runs["two"] / "summary.json").read_text())
    assert (summary["cache_misses"], summary["cache_hits"]) == (80, 0)
    assert len(list(parallel_runs["cache_two"].rglob("*.safetensors"))) == 80
    stdout = parallel_runs["two_stdout"].read_text()
    assert stdout.count("wrote ") == 1 and "(80 computed, 0 from cache)" in stdout


def test_resume_on_three_processes_continues_a_one_process_run(parallel_runs) -> None:
    """Killed after epoch 1 of 3 in one process, resumed on three (rank 0 reads the checkpoint and sends it):
    the weights are the uninterrupted one-process run's."""
    _assert_same_run(parallel_runs["one"], parallel_runs["resumed"], TOL_WEIGHT, TOL_LOSS, TOL_METRIC)


def test_only_rank_0_writes_the_run_folder(parallel_runs) -> None:
    run = str(parallel_runs["resumed"].resolve()) + os.sep
    logs = {r: (parallel_runs["logs"] / f"rank{r}.txt").read_text().splitlines() for r in range(3)}
    in_run = {r: [p for p in lines if p.startswith(run)] for r, lines in logs.items()}
    assert not in_run[1] and not in_run[2], in_run
    names = {Path(p).name for p in in_run[0]}
    assert {"model.safetensors", "checkpoint.safetensors", "metrics.csv", "summary.json", "config.json"} <= names
    for r in (1, 2):  # the hook does see those ranks' writes: they encode their share of the images into the cache
        assert any(f"{os.sep}features{os.sep}" in p for p in logs[r]), r


def test_two_stage_schedule_on_three_processes(data, tmp_path) -> None:
    """Epochs 1-2 train only the auxiliary tasks, 3-4 only DaQRN on the frozen FEN: heads out of the loss
    must get no gradient (None, as in one process), or AdamW moves them anyway (momentum, weight decay).

    Looser tolerances (``TOL_*_TWO_STAGE``): DaQRN starts training at epoch 3 with a fresh Adam state
    and a high learning rate, and where an L1 gradient cancels exactly (a bias of a unit active on every
    token gets W * sum(+-1/B) from the score loss and nothing from the pair terms) Adam takes the float
    residue for a full step. Rounding then grows: one process on 2 threads instead of 1 differed by
    6.5e-5 in a weight and 7e-6 in a loss, three processes by 2.5e-4 and 2.5e-5; both only in the same
    10 of DaQRN's 128 score-stream biases and its output bias (every other weight within 1e-5). Giving
    the unused heads zero gradients instead of none differed by 0.04 in the loss (a similar run).
    """
    threads = torch.get_num_threads()
    try:
        _train_here([*data, *TWO_STAGE, "-o", str(tmp_path / "one"), "--cache-dir", str(tmp_path / "cache")])
    finally:
        torch.set_num_threads(threads)
    _torchrun(3, [*data, *TWO_STAGE, "-o", str(tmp_path / "two"), "--cache-dir", str(tmp_path / "cache")])
    _assert_same_run(tmp_path / "one", tmp_path / "two", TOL_WEIGHT_TWO_STAGE, TOL_LOSS_TWO_STAGE,
                     TOL_METRIC_TWO_STAGE)
