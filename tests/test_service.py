"""The ASGI service through the real app: endpoints, scores equal to the library's, every 4xx, limits, timeouts.

Most tests call the app in-process (Starlette's TestClient); the limits that live in the
connection (413 before the body, slow bodies, stalled connections) run against the real
uvicorn set-up on 127.0.0.1. Every socket has a timeout and every loop is bounded.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import numpy as np
import pytest
from _service_fixtures import H, W, bomb_png, encode, live, small_model
from fastapi.testclient import TestClient
from PIL import Image

from lpfiqa.inference import QualityModel
from lpfiqa.service import ServiceConfig, create_app
from lpfiqa.service.scoring import ImageError, Scorer

PNG, JPEG = encode("PNG"), encode("JPEG", seed=1)
TIMEOUT = 30


@pytest.fixture(scope="module")
def model() -> QualityModel:
    return small_model()


@pytest.fixture(scope="module")
def ref(model: QualityModel) -> dict[bytes, float]:
    return {PNG: model.score(PNG), JPEG: model.score(JPEG)}


@pytest.fixture(scope="module")
def client(model: QualityModel):
    with TestClient(create_app(model, ServiceConfig(max_body_bytes=1 << 20, log_requests=False))) as c:
        yield c


@pytest.fixture(scope="module")
def url(model: QualityModel):
    cfg = ServiceConfig(max_body_bytes=1 << 20, body_timeout=1.0, header_timeout=1.5, log_requests=False)
    with live(model, cfg) as u:
        yield u


def _addr(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname, parts.port


def raw(url: str, request: bytes, wait: float = 5.0) -> bytes:
    """Send bytes as they are; read until the server closes or ``wait`` seconds pass."""
    with socket.create_connection(_addr(url), timeout=wait) as s:
        s.sendall(request)
        chunks = []
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                chunk = s.recv(65536)
            except (TimeoutError, ConnectionResetError):
                break
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


def get(url: str, path: str) -> tuple[int, dict]:
    answer = raw(url, f"GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".encode())
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


# ------------------------------------------------------------------------------ endpoints
def test_healthz_model_and_schema(client: TestClient, model: QualityModel) -> None:
    health = client.get("/healthz").json()
    assert health["status"] == "ok" and health["model"] == "test" and health["model_version"].startswith("sha256:")
    info = client.get("/v1/model").json()
    assert info["model_version"] == health["model_version"] and info["higher_is_better"] is True
    assert info["score_range"] == [model.cfg.score_min, model.cfg.score_max] and info["max_body_bytes"] == 1 << 20
    assert info["map_cell"] == 32 and "centre-cropped" in info["preprocessing"]
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/healthz", "/v1/model", "/v1/score", "/v1/map"} <= set(paths)
    assert "multipart/form-data" in paths["/v1/score"]["post"]["requestBody"]["content"]


def test_docs_and_page_use_no_external_resource(client: TestClient) -> None:
    for path in ("/docs", "/redoc", "/"):
        page = client.get(path)
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        for ref in [*_attrs(page.text, "src"), *_attrs(page.text, "href")]:
            assert ref.startswith(("/", "data:", "#")), f"{path} loads {ref}"
            if ref.startswith("/") and not ref.startswith("/openapi"):
                assert client.get(ref).status_code == 200, ref
    swagger = client.get("/docs").text
    assert "/docs-assets/swagger-ui-bundle.js" in swagger and "cdn" not in swagger.lower()
    assert "fonts.googleapis" not in client.get("/redoc").text


def _attrs(html: str, name: str) -> list[str]:
    out, key = [], f'{name}="'
    for piece in html.split(key)[1:]:
        out.append(piece.split('"', 1)[0])
    return out


@pytest.mark.parametrize("data,ctype", [(PNG, "image/png"), (JPEG, "image/jpeg"), (PNG, "application/octet-stream"),
                                        (JPEG, None)])
def test_raw_score_equals_library(client: TestClient, ref: dict, data: bytes, ctype: str | None) -> None:
    resp = client.post("/v1/score", content=data, headers={"Content-Type": ctype} if ctype else {})
    assert resp.status_code == 200, resp.text
    out = resp.json()
    assert out["model"] == "test" and out["model_version"].startswith("sha256:") and out["failed"] == 0
    (one,) = out["results"]
    assert set(one) == {"filename", "score", "width", "height"} and (one["width"], one["height"]) == (W, H)
    assert one["score"] == pytest.approx(ref[data], abs=1e-5)


def test_multipart_many_files_one_bad(client: TestClient, ref: dict) -> None:
    files = [("file", ("good.png", PNG, "image/png")), ("file", ("broken.jpg", JPEG[:200], "image/jpeg")),
             ("other", ("text.txt", b"hello", "text/plain")), ("file", ("good.jpg", JPEG, "image/jpeg"))]
    resp = client.post("/v1/score", files=files)
    assert resp.status_code == 200, resp.text
    out = resp.json()
    assert [r["filename"] for r in out["results"]] == ["good.png", "broken.jpg", "text.txt", "good.jpg"]
    good, broken, text, good2 = out["results"]
    assert good["score"] == pytest.approx(ref[PNG], abs=1e-5) and good2["score"] == pytest.approx(ref[JPEG], abs=1e-5)
    assert broken["status"] == 422 and broken["error"].startswith("broken.jpg: corrupt or truncated")
    assert text["status"] == 415 and "text.txt: not an image format" in text["error"]
    assert out["failed"] == 2 and "score" not in broken


def test_diagnosis_when_the_model_has_one() -> None:
    diag = small_model("diag", diagnosis=True)
    expected = diag.predict(PNG)
    with TestClient(create_app(diag, ServiceConfig(log_requests=False))) as c:
        (one,) = c.post("/v1/score", content=PNG, headers={"Content-Type": "image/png"}).json()["results"]
        assert one["diagnosis"] == pytest.approx(expected.diagnosis, abs=1e-6)
        assert one["top_family"] == expected.top_family
        assert c.get("/v1/model").json()["diagnosis_families"] == ["blur", "noise"]
        assert list(c.post("/v1/map", content=PNG).json()["diagnosis"]) == ["blur", "noise"]


def test_maps_in_score_and_map_endpoint(client: TestClient, model: QualityModel, ref: dict) -> None:
    (one,) = client.post("/v1/score?maps=true", content=PNG).json()["results"]
    assert np.asarray(one["weight_map"]).shape == (H // 32, W // 32) and abs(np.sum(one["weight_map"]) - 1) < 1e-4
    out = client.post("/v1/map", content=PNG, headers={"Content-Type": "image/png"}).json()
    pred = model.predict(PNG, return_maps=True)
    assert out["score"] == pytest.approx(ref[PNG], abs=1e-5) and out["map_cell"] == 32
    assert np.allclose(out["score_map"], pred.score_map, atol=1e-5)
    assert np.allclose(out["weight_map"], pred.weight_map, atol=1e-6)
    for kind in ("weight", "score"):
        head, b64 = out["overlays"][kind].split(",", 1)
        assert head == "data:image/png;base64"
        assert Image.open(io.BytesIO(base64.b64decode(b64))).size == (W, H)
    png = client.post("/v1/map?format=png&map=score&max_side=32", content=PNG)
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(png.content)).size == (32, 16)


def test_legacy_paths_still_answer_in_their_old_shapes(client: TestClient, ref: dict) -> None:
    health = client.get("/health")
    assert health.json() == {"status": "ok", "model": "test"} and health.headers["deprecation"] == "true"
    assert "/healthz" in health.headers["link"]
    old = client.post("/score", content=PNG, headers={"Content-Type": "image/png"}).json()
    assert set(old) == {"score", "width", "height", "model"} and old["score"] == pytest.approx(ref[PNG], abs=1e-5)
    many = client.post("/score", files=[("file", ("a.png", PNG, "image/png"))]).json()
    assert many["results"][0]["filename"] == "a.png" and many["failed"] == 0
    assert client.get("/model").json()["max_files"] == 64


# ------------------------------------------------------------------------------ errors
@pytest.mark.parametrize("method,path,body,ctype,status,needle", [
    ("POST", "/v1/score", b"", "image/png", 400, "empty body"),
    ("POST", "/v1/score", b"hello", "text/plain", 415, "Content-Type text/plain is not supported"),
    ("POST", "/v1/score", b"x" * 500, "application/x-www-form-urlencoded", 415, "multipart"),
    ("POST", "/v1/score", b"this is not an image", "image/png", 415, "request body: not an image format"),
    ("POST", "/v1/score", PNG[: len(PNG) // 2], "image/png", 422, "corrupt or truncated"),
    ("POST", "/v1/score", encode("PNG", size=(40, 20)), "image/png", 422, "too small"),
    ("POST", "/v1/score", bomb_png(), "image/png", 413, "100000x100000 is over the"),
    ("POST", "/v1/score", b"--x\r\nno closing boundary", "multipart/form-data; boundary=y", 400,
     "malformed multipart body"),
    ("POST", "/v1/score", b'--b\r\nContent-Disposition: form-data; name="maps"\r\n\r\n1\r\n--b--\r\n',
     "multipart/form-data; boundary=b", 422, "field 'maps' is not a file"),
    ("POST", "/v1/score?maps=maybe", PNG, "image/png", 422, "parameter 'maps'"),
    ("POST", "/v1/map?map=colour", PNG, "image/png", 422, "parameter 'map'"),
    ("POST", "/v1/map?alpha=2", PNG, "image/png", 422, "parameter 'alpha'"),
    ("GET", "/v1/score", None, None, 405, "/v1/score takes POST, not GET"),
    ("PUT", "/healthz", b"x", None, 405, "/healthz takes GET"),
    ("GET", "/nope", None, None, 404, "no endpoint /nope; use GET /healthz"),
    ("GET", "/static/nope.js", None, None, 404, "no endpoint /static/nope.js"),
])
def test_error_statuses(client: TestClient, method: str, path: str, body: bytes | None, ctype: str | None,
                        status: int, needle: str) -> None:
    resp = client.request(method, path, content=body, headers={"Content-Type": ctype} if ctype else {})
    assert resp.status_code == status, resp.text
    out = resp.json()
    assert list(out) == ["error"] and needle in out["error"], out
    assert "\n" not in out["error"] and "Traceback" not in out["error"]
    if status == 405:
        assert resp.headers["allow"]


def test_multipart_with_two_images_to_map_is_refused(client: TestClient) -> None:
    files = [("file", ("a.png", PNG, "image/png")), ("file", ("b.png", PNG, "image/png"))]
    resp = client.post("/v1/map", files=files)
    assert resp.status_code == 400 and "Too many files" in resp.json()["error"]


@pytest.mark.parametrize("path", ["/static/../../../../etc/passwd", "/static/%2e%2e/%2e%2e/etc/passwd",
                                  "/static/..%2f..%2f..%2fetc%2fpasswd", "/static//etc/passwd"])
def test_path_traversal_is_refused(url: str, path: str) -> None:
    answer = raw(url, f"GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".encode())
    assert answer.split()[1] in (b"404", b"400"), answer[:200]
    assert b"root:" not in answer


def test_413_is_decided_from_the_header_before_the_body(url: str) -> None:
    t0 = time.monotonic()  # a terabyte is announced and nothing is sent: the answer must not wait for it
    answer = raw(url, b"POST /v1/score HTTP/1.1\r\nHost: t\r\nContent-Type: image/png\r\n"
                      b"Content-Length: 1000000000000\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 413 ") and b"--max-body-mb" in answer and time.monotonic() - t0 < 3
    answer = raw(url, b"POST /v1/score HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5000000\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 413 ") and b"100 Continue" not in answer


def test_chunked_body_over_the_limit_is_cut_off(url: str) -> None:
    chunk = b"%x\r\n%s\r\n" % (65536, b"x" * 65536)
    head = b"POST /v1/score HTTP/1.1\r\nHost: t\r\nContent-Type: image/png\r\nTransfer-Encoding: chunked\r\n\r\n"
    answer = raw(url, head + chunk * 17 + b"0\r\n\r\n")  # 1.06 MiB > the 1 MiB limit
    assert answer.startswith(b"HTTP/1.1 413 ") and b"byte limit" in answer


def test_slow_body_gets_408(url: str) -> None:
    with socket.create_connection(_addr(url), timeout=10) as s:
        s.sendall(b"POST /v1/score HTTP/1.1\r\nHost: t\r\nContent-Type: image/png\r\nContent-Length: 1000\r\n\r\nab")
        t0 = time.monotonic()
        answer = b""
        while time.monotonic() - t0 < 8 and (piece := s.recv(65536)):
            answer += piece
    assert answer.startswith(b"HTTP/1.1 408 ") and b"did not arrive within 1 s" in answer
    assert time.monotonic() - t0 < 5


def test_stalled_connections_do_not_delay_a_normal_request(url: str, ref: dict) -> None:
    stalled = []
    try:
        for i in range(20):  # half stop inside the request head, half inside the body
            s = socket.create_connection(_addr(url), timeout=10)
            s.sendall(b"POST /v1/score HTTP/1.1\r\nHost: t\r\nContent-Le" if i % 2 else
                      b"POST /v1/score HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\n\r\n\x89PNG")
            stalled.append(s)
        t0 = time.monotonic()
        body = PNG
        answer = raw(url, b"POST /v1/score HTTP/1.1\r\nHost: t\r\nContent-Type: image/png\r\nConnection: close\r\n"
                          b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        elapsed = time.monotonic() - t0
        assert answer.startswith(b"HTTP/1.1 200 ") and elapsed < 1.0, (elapsed, answer[:100])
        score = json.loads(answer.partition(b"\r\n\r\n")[2])["results"][0]["score"]
        assert score == pytest.approx(ref[PNG], abs=1e-5)
        t1 = time.monotonic()  # the silent ones are closed by the server: 408 for bodies, a close for heads
        for s in stalled:
            data = b""
            while time.monotonic() - t1 < 8:
                piece = s.recv(65536)
                if not piece:
                    break
                data += piece
            assert data == b"" or data.startswith(b"HTTP/1.1 408 "), data[:80]
        assert time.monotonic() - t1 < 8
    finally:
        for s in stalled:
            s.close()


def test_concurrent_requests_never_mix_results(url: str, model: QualityModel) -> None:
    images = [encode("PNG", seed=s, size=(64 + 32 * (s % 3), 64)) for s in range(6)]
    expected = [model.score(img) for img in images]

    def one(i: int) -> tuple[int, float, int]:
        data = images[i % len(images)]
        answer = raw(url, b"POST /v1/score HTTP/1.1\r\nHost: t\r\nContent-Type: image/png\r\nConnection: close\r\n"
                          b"Content-Length: %d\r\n\r\n%s" % (len(data), data), wait=30)
        res = json.loads(answer.partition(b"\r\n\r\n")[2])["results"][0]
        return i, res["score"], res["width"]

    with ThreadPoolExecutor(8) as pool:
        for i, score, width in pool.map(one, range(24), timeout=120):
            assert score == pytest.approx(expected[i % len(images)], abs=1e-5)
            assert width == 64 + 32 * ((i % len(images)) % 3)
    assert get(url, "/healthz")[0] == 200


def test_busy_slots_answer_503(model: QualityModel) -> None:
    scorer = Scorer(model, ServiceConfig(max_pending=1, busy_timeout=0.05))

    async def scenario() -> int:
        async with scorer.slot():
            try:
                async with scorer.slot():
                    return 200
            except ImageError as exc:
                return exc.status

    try:
        assert asyncio.run(scenario()) == 503
    finally:
        scorer.close()


def test_config_validation() -> None:
    from lpfiqa.errors import ConfigError

    with pytest.raises(ConfigError, match="`max_body_bytes` 0: must be at least 1"):
        ServiceConfig(max_body_bytes=0)
    with pytest.raises(ConfigError, match="`body_timeout` -1"):
        ServiceConfig(body_timeout=-1)


def test_the_onnx_engine_serves_the_same_answers(tmp_path) -> None:
    """`lpfiqa serve --engine onnx`: over ONNX Runtime the app answers like the PyTorch one (scores, maps, ...)."""
    pytest.importorskip("onnxruntime", reason="the ONNX engine needs the onnx extra: pip install 'lpfiqa[onnx]'")
    from lpfiqa.export import export_model
    from lpfiqa.registry import create_model

    diag = small_model("diag", diagnosis=True)
    engine = create_model(export_model(diag, tmp_path / "m.onnx", "onnx"), engine="onnx")
    apps = {name: create_app(m, ServiceConfig(log_requests=False)) for name, m in (("torch", diag), ("onnx", engine))}
    with TestClient(apps["torch"]) as a, TestClient(apps["onnx"]) as b:
        info_a, info_b = a.get("/v1/model").json(), b.get("/v1/model").json()
        assert (info_a["engine"], info_b["engine"]) == ("torch", "onnx")
        assert {k: v for k, v in info_a.items() if k != "engine"} == {k: v for k, v in info_b.items() if k != "engine"}
        for body in (PNG, JPEG):
            (x,), (y,) = (c.post("/v1/score?maps=true", content=body).json()["results"] for c in (a, b))
            assert y["score"] == pytest.approx(x["score"], abs=1e-3) and y["top_family"] == x["top_family"]
            assert np.allclose(y["score_map"], x["score_map"], atol=1e-3)
            assert np.allclose(y["weight_map"], x["weight_map"], atol=1e-5)
        assert b.post("/v1/map?format=png", content=PNG).headers["content-type"] == "image/png"
