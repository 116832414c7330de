"""``lpfiqa serve`` as a user runs it: a real process on a free port, one or two workers, SIGTERM stops it cleanly."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

import pytest
from _service_fixtures import encode
from click.testing import CliRunner

from lpfiqa.cli import cli
from lpfiqa.models import LPFConfig, LPFHeads
from lpfiqa.models.io import save_heads


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("model")
    save_heads(LPFHeads(LPFConfig(latent_dim=16, hidden_dim=32)).eval(), folder)
    return folder


def _first_line(proc: subprocess.Popen, timeout: float) -> str:
    line: list[str] = []
    reader = threading.Thread(target=lambda: line.append(proc.stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    if not line or not line[0]:
        proc.kill()
        raise AssertionError(f"no URL on stdout within {timeout}s: {proc.stderr.read()[-2000:]}")
    return line[0].strip()


# onnx with 2 workers: the parent exports the model once and each worker loads that file
@pytest.mark.parametrize(("workers", "engine"), [(1, "torch"), (2, "torch"), (2, "onnx")])
def test_serve_process_answers_then_stops_on_sigterm(model_dir: Path, workers: int, engine: str) -> None:
    if engine == "onnx":
        pytest.importorskip("onnxruntime", reason="the ONNX engine needs the onnx extra: pip install 'lpfiqa[onnx]'")
    proc = subprocess.Popen([sys.executable, "-m", "lpfiqa", "serve", "--port", "0", "--model", str(model_dir),
                             "--workers", str(workers), "--threads", "1", "--quiet", "--engine", engine],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = _first_line(proc, timeout=120)
        assert url.startswith("http://127.0.0.1:")
        png = encode("PNG")
        for _ in range(3 * workers):  # at once: the socket listens before the URL is printed, so nothing is refused
            request = urllib.request.Request(url + "/v1/score", data=png, headers={"Content-Type": "image/png"})
            with urllib.request.urlopen(request, timeout=120) as resp:
                out = json.loads(resp.read())
            assert out["results"][0]["width"] == 64 and out["model"] == str(model_dir)
        with urllib.request.urlopen(url + "/v1/model", timeout=30) as resp:
            assert json.loads(resp.read())["engine"] == engine
        with urllib.request.urlopen(url + "/", timeout=30) as resp:
            assert b'id="drop"' in resp.read()
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            _, err = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    assert proc.returncode == 0, err[-2000:]
    assert f"stopped {model_dir}" in err and "Traceback" not in err


def test_help_bad_port_and_port_in_use(model_dir: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["serve", "--help"])
    assert result.exit_code == 0 and "--workers" in result.output and "/v1/score" in result.output
    for bad in ("70000", "http"):
        result = runner.invoke(cli, ["serve", "--port", bad])
        assert result.exit_code == 2 and "Invalid value for '-p' / '--port'" in result.output
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        result = runner.invoke(cli, ["serve", "--model", str(model_dir), "--port", str(busy.getsockname()[1])])
    assert result.exit_code == 1 and "cannot listen on 127.0.0.1" in result.output
    assert "Traceback" not in result.output


def test_bounded_load_test_has_no_errors(model_dir: Path, tmp_path: Path) -> None:
    """python -m bench.serve_load --quick in CI: 60 requests, 4 at once, against a real server; 0 errors, no leak."""
    import json

    root = Path(__file__).resolve().parents[1]
    out = tmp_path / "load.json"
    res = subprocess.run([sys.executable, "-m", "bench.serve_load", "--quick", "--model", str(model_dir), "--size",
                          "96x64", "--out", str(out), "--deadline", "300"], cwd=root, capture_output=True, text=True,
                         timeout=400)
    assert res.returncode == 0, res.stderr[-2000:]
    data = json.loads(out.read_text())
    assert data["requests"] == 60 and data["concurrency"] == 4 and data["errors"] == 0
    assert data["server_rss_mb"]["growth"] < 100  # MiB: no leak beyond noise over the run
