"""HTTP service: endpoints, scores equal to the library's, every error status, concurrency, CLI.

Servers bind to 127.0.0.1 on a free port (port 0) and run in a background thread; every
client call has a timeout and every loop is bounded.
"""

from __future__ import annotations

import contextlib
import http.client
import io
import json
import socket
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from lpfiqa.cli import cli
from lpfiqa.errors import ConfigError
from lpfiqa.inference import QualityModel
from lpfiqa.models import LPFConfig, LPFHeads
from lpfiqa.server import LpfiqaServer, ServerConfig, ServerStats, make_server

TIMEOUT = 30  # seconds, for every client socket
W, H = 64, 32  # small and non-square: maps are (1, 2), a transposition would show


def _encode(fmt: str, seed: int = 0, size: tuple[int, int] = (W, H)) -> bytes:
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 255, (size[1] // 8, size[0] // 8, 3), dtype=np.uint8)
    img = Image.fromarray(small).resize(size, Image.BICUBIC)  # smooth: small files, real structure
    buf = io.BytesIO()
    img.save(buf, format=fmt, **({"quality": 85} if fmt == "JPEG" else {}))
    return buf.getvalue()


PNG, JPEG = _encode("PNG"), _encode("JPEG", seed=1)


@contextlib.contextmanager
def running(model: QualityModel, config: ServerConfig) -> Iterator[LpfiqaServer]:
    server = make_server(model, "127.0.0.1", 0, config)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        assert not thread.is_alive(), "server thread did not stop"


@pytest.fixture(scope="module")
def model() -> QualityModel:
    return QualityModel(LPFHeads(LPFConfig(latent_dim=16, hidden_dim=32)).eval(), name="test")


@pytest.fixture(scope="module")
def ref(model: QualityModel) -> dict[bytes, float]:
    """The library's scores of the test images (what every answer must equal)."""
    return {PNG: model.score(PNG), JPEG: model.score(JPEG)}


@pytest.fixture(scope="module")
def server(model: QualityModel) -> Iterator[LpfiqaServer]:
    with running(model, ServerConfig(max_body_bytes=1 << 20)) as srv:
        yield srv


def call(server: LpfiqaServer, method: str, path: str, body: bytes | None = None,
         headers: dict[str, str] | None = None) -> tuple[int, dict, http.client.HTTPResponse]:
    conn = http.client.HTTPConnection(*server.server_address, timeout=TIMEOUT)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read()
        assert resp.getheader("Content-Type") == "application/json"
        return resp.status, json.loads(data) if data else {}, resp
    finally:
        conn.close()


def raw(server: LpfiqaServer, request: bytes) -> bytes:
    """Send bytes as they are; read the answer until the server closes or goes quiet (bounded)."""
    with socket.create_connection(server.server_address, timeout=5) as s:
        s.sendall(request)
        chunks: list[bytes] = []
        with contextlib.suppress(TimeoutError):
            for _ in range(100):
                chunk = s.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
                if b"\r\n\r\n" in b"".join(chunks) and b"}" in chunk:
                    break
    return b"".join(chunks)


def multipart(files: list[tuple[str, bytes, str]], boundary: str = "lpfiqa-test") -> tuple[bytes, str]:
    body = b""
    for name, data, ctype in files:
        body += (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
                 f"Content-Type: {ctype}\r\n\r\n").encode() + data + b"\r\n"
    return body + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


# ------------------------------------------------------------------------------ endpoints
def test_health_and_model_info(server: LpfiqaServer, model: QualityModel) -> None:
    status, out, resp = call(server, "GET", "/health")
    assert (status, out) == (200, {"status": "ok", "model": "test"})
    assert resp.getheader("Server").startswith("lpfiqa/")
    status, info, _ = call(server, "GET", "/model")
    assert status == 200
    assert info["model"] == "test" and info["score_range"] == [model.cfg.score_min, model.cfg.score_max]
    assert info["higher_is_better"] is True and info["direction"] == "higher is better"
    assert info["stages"] == list(model.cfg.stages) and info["max_body_bytes"] == 1 << 20


@pytest.mark.parametrize("data,ctype", [(PNG, "image/png"), (JPEG, "image/jpeg"),
                                        (PNG, "application/octet-stream")])
def test_raw_score_equals_library(server: LpfiqaServer, ref: dict, data: bytes, ctype: str) -> None:
    status, out, _ = call(server, "POST", "/score", data, {"Content-Type": ctype})
    assert status == 200, out
    assert set(out) == {"score", "width", "height", "model"}
    assert (out["width"], out["height"], out["model"]) == (W, H, "test")
    assert abs(out["score"] - ref[data]) < 1e-5


def test_maps(server: LpfiqaServer, model: QualityModel, ref: dict) -> None:
    status, out, _ = call(server, "POST", "/score?maps=1", PNG, {"Content-Type": "image/png"})
    assert status == 200, out
    cell = model.cfg.cell
    for key in ("weight_map", "score_map"):
        arr = np.asarray(out[key])
        assert arr.shape == (H // cell, W // cell), key
    assert abs(np.sum(out["weight_map"]) - 1) < 1e-4
    assert abs(out["score"] - ref[PNG]) < 1e-5


def test_score_includes_the_diagnosis_when_the_model_has_one() -> None:
    cfg = LPFConfig(latent_dim=16, hidden_dim=32, use_diagnosis=True, diagnosis_families=("blur", "noise"))
    diag = QualityModel(LPFHeads(cfg).eval(), name="diag")
    expected = diag.predict(PNG)
    with running(diag, ServerConfig(log_requests=False)) as srv:
        status, out, _ = call(srv, "POST", "/score", PNG, {"Content-Type": "image/png"})
        assert status == 200, out
        assert set(out) == {"score", "width", "height", "model", "diagnosis", "top_family"}
        assert out["diagnosis"] == pytest.approx(expected.diagnosis, abs=1e-6)
        assert out["top_family"] == expected.top_family and abs(out["score"] - expected.score) < 1e-5
        body, ctype = multipart([("a.png", PNG, "image/png")])
        status, out, _ = call(srv, "POST", "/score", body, {"Content-Type": ctype})
        assert list(out["results"][0]["diagnosis"]) == ["blur", "noise"]
        _, info, _ = call(srv, "GET", "/model")
        assert info["diagnosis_families"] == ["blur", "noise"]


def test_multipart_one_bad_file_does_not_fail_the_others(server: LpfiqaServer, ref: dict) -> None:
    body, ctype = multipart([("good.png", PNG, "image/png"), ("broken.jpg", JPEG[:200], "image/jpeg"),
                             ("good.jpg", JPEG, "image/jpeg")])
    status, out, _ = call(server, "POST", "/score", body, {"Content-Type": ctype})
    assert status == 200, out
    assert out["failed"] == 1
    assert [r["filename"] for r in out["results"]] == ["good.png", "broken.jpg", "good.jpg"]
    good, bad, good2 = out["results"]
    assert abs(good["score"] - ref[PNG]) < 1e-5 and abs(good2["score"] - ref[JPEG]) < 1e-5
    assert "score" not in bad and bad["error"].startswith("broken.jpg: corrupt or truncated image")


# ------------------------------------------------------------------------------ errors
@pytest.mark.parametrize("method,path,body,headers,status,needle", [
    ("POST", "/score", b"", {"Content-Type": "image/png"}, 400, "empty body"),
    ("POST", "/score?maps=maybe", PNG, {"Content-Type": "image/png"}, 400, "use maps=1 or maps=0"),
    ("POST", "/score?mpas=1", PNG, {"Content-Type": "image/png"}, 400, "unknown query parameter 'mpas'"),
    ("POST", "/score", PNG, {"Content-Type": "multipart/form-data"}, 400, "without a boundary"),
    ("POST", "/score", b"--x\r\nno closing boundary", {"Content-Type": "multipart/form-data; boundary=y"},
     400, "malformed multipart body"),
    ("GET", "/nope", None, {}, 404, "no endpoint /nope; use GET /health"),
    ("GET", "/score", None, {}, 405, "/score takes POST, not GET"),
    ("POST", "/health", b"x", {}, 405, "/health takes GET, not POST"),
    ("DELETE", "/model", None, {}, 405, "/model takes GET"),
    ("POST", "/score", b"hello", {"Content-Type": "text/plain"}, 415, "Content-Type text/plain is not"),
    ("POST", "/score", b"x" * 5000, {"Content-Type": "application/x-www-form-urlencoded"}, 415, "multipart"),
    ("POST", "/score", b"this is not an image", {"Content-Type": "image/png"}, 422,
     "request body: not an image format Pillow can read"),
    ("POST", "/score", PNG[: len(PNG) // 2], {"Content-Type": "image/png"}, 422, "corrupt or truncated"),
    ("POST", "/score", _encode("PNG", size=(40, 20)), {"Content-Type": "image/png"}, 422, "too small"),
])
def test_error_statuses(server: LpfiqaServer, method: str, path: str, body: bytes | None, headers: dict,
                        status: int, needle: str) -> None:
    got, out, resp = call(server, method, path, body, headers)
    assert got == status, out
    assert list(out) == ["error"] and needle in out["error"]
    assert "\n" not in out["error"] and "Traceback" not in out["error"]
    if status == 405:
        assert resp.getheader("Allow") in ("GET, HEAD", "POST")


def test_multipart_text_field_is_rejected(server: LpfiqaServer) -> None:
    body = (b'--b\r\nContent-Disposition: form-data; name="maps"\r\n\r\n1\r\n--b--\r\n')
    status, out, _ = call(server, "POST", "/score", body, {"Content-Type": "multipart/form-data; boundary=b"})
    assert status == 400 and "field 'maps' is not a file" in out["error"]


def test_411_missing_length_and_chunked(server: LpfiqaServer) -> None:
    answer = raw(server, b"POST /score HTTP/1.1\r\nHost: t\r\nContent-Type: image/png\r\n"
                         b"Connection: close\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 411 ") and b"missing Content-Length" in answer
    answer = raw(server, b"POST /score HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                         b"5\r\nhello\r\n0\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 411 ") and b"chunked uploads are not supported" in answer


def test_413_is_decided_from_the_header_before_reading_the_body(server: LpfiqaServer) -> None:
    # A terabyte is announced and nothing is sent: the answer must come without waiting for it.
    answer = raw(server, b"POST /score HTTP/1.1\r\nHost: t\r\nContent-Type: image/png\r\n"
                         b"Content-Length: 1000000000000\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 413 ") and b"Connection: close" in answer
    assert b"--max-body-mb" in answer
    # With "Expect: 100-continue" the client is told before it uploads anything.
    answer = raw(server, b"POST /score HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n"
                         b"Content-Length: 5000000\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 413 ") and b"100 Continue" not in answer


def test_413_with_a_real_body_and_the_client_still_reads_it(model: QualityModel) -> None:
    with running(model, ServerConfig(max_body_bytes=1000, log_requests=False)) as small:
        status, out, _ = call(small, "POST", "/score", PNG, {"Content-Type": "image/png"})
        assert status == 413 and "1,000-byte limit" in out["error"]
        assert call(small, "GET", "/health")[0] == 200  # still serving
        assert small.stats.failures == 1


def test_expect_100_continue_then_score(server: LpfiqaServer, ref: dict[bytes, float]) -> None:
    with socket.create_connection(server.server_address, timeout=TIMEOUT) as s:
        s.sendall(b"POST /score HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Type: image/png\r\n"
                  b"Connection: close\r\nContent-Length: %d\r\n\r\n" % len(PNG))
        assert s.recv(100).startswith(b"HTTP/1.1 100 Continue")
        s.sendall(PNG)
        answer = b""
        for _ in range(100):
            chunk = s.recv(65536)
            if not chunk:
                break
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 ") and abs(json.loads(body)["score"] - ref[PNG]) < 1e-5


def test_malformed_request_line_and_unknown_method_are_json(server: LpfiqaServer) -> None:
    answer = raw(server, b"FROB /health HTTP/1.1\r\nHost: t\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 501 ") and b'{"error": "Unsupported method' in answer
    answer = raw(server, b"GET /health HTTP/9.9\r\nHost: t\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 505 ") and b'"error": "Invalid HTTP version' in answer
    answer = raw(server, b"GARBAGE\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 400 ") and b'"error": "Bad request syntax' in answer


def test_keep_alive_connection_serves_several_requests(server: LpfiqaServer) -> None:
    conn = http.client.HTTPConnection(*server.server_address, timeout=TIMEOUT)
    try:
        for path in ("/health", "/nope", "/model"):
            conn.request("GET", path)
            resp = conn.getresponse()
            assert json.loads(resp.read())
        conn.request("POST", "/score", body=PNG, headers={"Content-Type": "image/png"})
        resp = conn.getresponse()
        assert resp.status == 200 and "score" in json.loads(resp.read())
    finally:
        conn.close()


def test_one_log_line_per_request(server: LpfiqaServer, capsys: pytest.CaptureFixture[str]) -> None:
    call(server, "GET", "/health")
    call(server, "GET", "/missing")
    lines = capsys.readouterr().err.splitlines()
    assert any(" GET /health 200 " in line and line.endswith("ms") for line in lines)
    assert any(" GET /missing 404 " in line and "no endpoint" in line for line in lines)


# ------------------------------------------------------------------------------ concurrency, lifecycle
def test_concurrent_burst_gives_identical_scores(server: LpfiqaServer, ref: dict[bytes, float]) -> None:
    def two(_: int) -> list[float]:
        out = []
        for _ in range(2):
            status, res, _resp = call(server, "POST", "/score", PNG, {"Content-Type": "image/png"})
            assert status == 200, res
            out.append(res["score"])
        return out

    with ThreadPoolExecutor(8) as pool:
        scores = [s for pair in pool.map(two, range(8), timeout=120) for s in pair]
    assert len(scores) == 16 and len(set(scores)) == 1
    assert abs(scores[0] - ref[PNG]) < 1e-5


def test_stats_and_clean_shutdown(model: QualityModel) -> None:
    with running(model, ServerConfig(log_requests=False)) as srv:
        address = srv.server_address
        assert srv.url == f"http://127.0.0.1:{address[1]}"
        call(srv, "GET", "/health")
        call(srv, "POST", "/score", b"bad", {"Content-Type": "image/png"})
        call(srv, "POST", "/score", PNG, {"Content-Type": "image/png"})
        assert srv.stats == ServerStats(requests=3, failures=1, images_scored=1, images_failed=1)
    with pytest.raises(OSError), socket.create_connection(address, timeout=2):
        pass  # the port is closed after shutdown


def test_config_validation_and_port_in_use(model: QualityModel) -> None:
    with pytest.raises(ConfigError, match="`max_body_bytes` 0: must be at least 1"):
        ServerConfig(max_body_bytes=0)
    with running(model, ServerConfig(log_requests=False)) as srv:
        with pytest.raises(OSError, match="cannot listen on 127.0.0.1"):
            make_server(model, "127.0.0.1", srv.server_address[1])


# ------------------------------------------------------------------------------ CLI
def test_cli_help_and_bad_port() -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["serve", "--help"])
    assert result.exit_code == 0 and "--max-body-mb" in result.output and "curl" in result.output
    for bad in ("70000", "http"):
        result = runner.invoke(cli, ["serve", "--port", bad])
        assert result.exit_code == 2 and "Invalid value for '-p' / '--port'" in result.output
        assert "Traceback" not in result.output


def test_cli_serves_then_prints_summary(model: QualityModel, monkeypatch: pytest.MonkeyPatch) -> None:
    real = LpfiqaServer.serve_forever

    def serve_two_requests_then_stop(self: LpfiqaServer, poll_interval: float = 0.5) -> None:
        thread = threading.Thread(target=real, args=(self, 0.05), daemon=True)
        thread.start()
        try:
            assert call(self, "GET", "/health")[0] == 200
            assert call(self, "GET", "/nope")[0] == 404
        finally:
            self.shutdown()
            thread.join(timeout=10)
        raise KeyboardInterrupt  # what Ctrl+C does

    monkeypatch.setattr("lpfiqa.registry.create_model", lambda name, max_pixels=None: model)  # imported by the command
    monkeypatch.setattr(LpfiqaServer, "serve_forever", serve_two_requests_then_stop)
    result = CliRunner().invoke(cli, ["serve", "--port", "0", "--quiet"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("http://127.0.0.1:")
    assert "stopped test: served 2 requests (1 failed)" in result.output


def test_cli_port_in_use_is_a_clean_error(model: QualityModel, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("lpfiqa.registry.create_model", lambda name, max_pixels=None: model)  # imported by the command
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        result = CliRunner().invoke(cli, ["serve", "--port", str(busy.getsockname()[1])])
    assert result.exit_code == 1 and "cannot listen on 127.0.0.1" in result.output
    assert "Traceback" not in result.output
