"""The request handler of :mod:`lpfiqa.server`: routing, upload checks, JSON answers, endpoints."""

from __future__ import annotations

import json
import socket
import sys
import time
import traceback
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from .. import __version__
from ..errors import ImageReadError
from ..imageio import MIN_SIDE, load_image
from ._http import ENDPOINTS, MULTIPART_HINT, RAW_HINT, _HTTPError, _one_line, _printable
from .multipart import file_parts, part_filename

if TYPE_CHECKING:
    from .app import LpfiqaServer

_DRAIN_BYTES = 1 << 20  # read at most this much of an unwanted body before closing (see _drain)
_DRAIN_SECONDS = 2.0


# ---------------------------------------------------------------------------------- handler
_ROUTES: dict[str, tuple[str, str, frozenset[str]]] = {  # path -> (method, handler, query params)
    "/health": ("GET", "_health", frozenset()),
    "/model": ("GET", "_model_info", frozenset()),
    "/score": ("POST", "_score", frozenset({"maps"})),
}
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off", "")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, and a proper answer to "Expect: 100-continue"
    server: LpfiqaServer

    _t0: float | None = None
    _body_pending = False  # the request has a body we have not read (yet)

    # -- plumbing ----------------------------------------------------------------------
    def setup(self) -> None:
        self.timeout = self.server.config.socket_timeout
        super().setup()

    def parse_request(self) -> bool:
        self._t0, self._body_pending = time.perf_counter(), False
        return super().parse_request()

    def version_string(self) -> str:
        return f"lpfiqa/{__version__}"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - base signature
        pass  # one line per request is written by _respond instead

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Malformed requests caught by http.server itself: answer JSON like everything else."""
        self.close_connection = True
        if self.request_version == "HTTP/0.9":  # unparsed request line: still answer with a status line
            self.request_version = "HTTP/1.0"
        text = message or HTTPStatus(code).phrase
        hint = f"use {ENDPOINTS}" if code == HTTPStatus.NOT_IMPLEMENTED else "fix the request"
        self._respond(code, {"error": f"{_one_line(text)}; {hint}"})

    def handle_expect_100(self) -> bool:
        """Refuse a bad upload before the client sends its body (curl waits for this)."""
        try:
            self._note_body()
            method, name, allowed = self._route()
            if name == "_score":
                self._query(allowed)
                self._check_upload()
        except _HTTPError as exc:
            self._respond(exc.status, {"error": exc.message}, exc.headers)
            return False
        return super().handle_expect_100()

    def do_GET(self) -> None:
        self._dispatch()

    do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_GET

    # -- request flow --------------------------------------------------------------------
    def _dispatch(self) -> None:
        self._note_body()
        headers: dict[str, str] = {}
        try:
            method, name, allowed = self._route()
            status, payload = HTTPStatus.OK, getattr(self, name)(self._query(allowed))
        except _HTTPError as exc:
            status, payload, headers = exc.status, {"error": exc.message}, exc.headers
        except Exception as exc:  # never a stack trace to the client: log it here
            traceback.print_exc(file=sys.stderr)
            status = HTTPStatus.INTERNAL_SERVER_ERROR
            payload = {"error": f"internal error ({type(exc).__name__}: {_one_line(exc, 200)}); "
                                "see the server log, and report it if it persists"}
        self._respond(status, payload, headers)

    def _note_body(self) -> None:
        length = self.headers.get("Content-Length", "0").strip()
        self._body_pending = bool(self.headers.get("Transfer-Encoding")) or length not in ("", "0")

    def _route(self) -> tuple[str, str, frozenset[str]]:
        path = urlsplit(self.path).path.rstrip("/") or "/"
        if path not in _ROUTES:
            raise _HTTPError(HTTPStatus.NOT_FOUND, f"no endpoint {_printable(path, 80)}; use {ENDPOINTS}")
        method, name, allowed = _ROUTES[path]
        if self.command != method and not (self.command == "HEAD" and method == "GET"):
            raise _HTTPError(HTTPStatus.METHOD_NOT_ALLOWED, f"{path} takes {method}, not {self.command}; "
                             f"use {ENDPOINTS}", {"Allow": "GET, HEAD" if method == "GET" else method})
        return method, name, allowed

    def _query(self, allowed: frozenset[str]) -> dict[str, str]:
        try:
            pairs = parse_qs(urlsplit(self.path).query, keep_blank_values=True, strict_parsing=False,
                             max_num_fields=16)
        except ValueError as exc:
            raise _HTTPError(HTTPStatus.BAD_REQUEST, f"bad query string ({exc})") from None
        unknown = sorted(set(pairs) - allowed)
        if unknown:
            known = f"known: {', '.join(sorted(allowed))}" if allowed else "this endpoint takes none"
            raise _HTTPError(HTTPStatus.BAD_REQUEST,
                             f"unknown query parameter {_printable(unknown[0], 40)!r}; {known}")
        return {k: v[-1] for k, v in pairs.items()}

    def _respond(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        try:
            body = json.dumps(payload, allow_nan=False).encode()
        except ValueError:  # NaN/inf out of a broken model
            status = HTTPStatus.INTERNAL_SERVER_ERROR
            body = json.dumps({"error": "the model produced NaN or inf; check its weights"}).encode()
        if self._body_pending:
            self.close_connection = True  # the unread body would be taken for the next request
        # Count and log first: once a client sees the answer, stats and log already include it.
        self.server.count(requests=1, failures=int(status >= 400))
        self._log(status, payload.get("error") if status >= 400 else None)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        try:
            if self.command != "HEAD":
                self.wfile.write(body)
        except OSError:
            self.close_connection = True  # client went away; nothing left to tell it
            return
        if self._body_pending:
            self._drain()

    def _log(self, status: int, error: str | None) -> None:
        if not self.server.config.log_requests:
            return
        ms = (time.perf_counter() - self._t0) * 1000 if self._t0 is not None else 0.0
        line = f"{self.client_address[0]} {self.command or '-'} {_printable(getattr(self, 'path', '-'))} " \
               f"{status} {ms:.1f}ms"
        sys.stderr.write(line + (f" - {_printable(error, 300)}" if error else "") + "\n")

    def _drain(self) -> None:
        """Half-close, then read (bounded) what the client still sends before the socket is closed.

        Closing a socket with unread input makes the kernel send a reset, which can wipe out the
        error answer before the client reads it.
        """
        try:
            self.connection.shutdown(socket.SHUT_WR)
            self.connection.settimeout(0.25)
            left, deadline = _DRAIN_BYTES, time.monotonic() + _DRAIN_SECONDS
            while left > 0 and time.monotonic() < deadline:
                chunk = self.rfile.read1(min(left, 65536))
                if not chunk:
                    break
                left -= len(chunk)
        except OSError:
            pass

    # -- endpoints -----------------------------------------------------------------------
    def _health(self, query: dict[str, str]) -> dict[str, Any]:
        return {"status": "ok", "model": self.server.model_name}

    def _model_info(self, query: dict[str, str]) -> dict[str, Any]:
        model, cfg, config = self.server.model, self.server.model.cfg, self.server.config
        return {"model": self.server.model_name, "score_name": cfg.score_name,
                "score_range": [cfg.score_min, cfg.score_max], "higher_is_better": cfg.higher_is_better,
                "direction": "higher is better" if cfg.higher_is_better else "lower is better",
                "stages": list(cfg.stages), "map_cell": cfg.cell, "min_side": MIN_SIDE,
                "max_pixels": model.max_pixels, "max_body_bytes": config.max_body_bytes,
                "max_files": config.max_files, "diagnosis_families": list(model.diagnosis_families)}

    def _score(self, query: dict[str, str]) -> dict[str, Any]:
        maps = query.get("maps", "0").strip().lower()
        if maps not in _TRUE + _FALSE:
            raise _HTTPError(HTTPStatus.BAD_REQUEST, f"maps={_printable(maps, 20)!r}: use maps=1 or maps=0")
        media, length = self._check_upload()
        config = self.server.config
        if not self.server.slots.acquire(timeout=config.busy_timeout):
            raise _HTTPError(HTTPStatus.SERVICE_UNAVAILABLE, f"server busy ({config.max_concurrent} requests "
                             "in progress); retry later", {"Retry-After": "5"})
        try:
            body = self._read_body(length)
            if media == "multipart/form-data":
                return self._score_multipart(body, maps in _TRUE)
            return self._score_image(body, "request body", maps in _TRUE)
        finally:
            self.server.slots.release()

    def _check_upload(self) -> tuple[str, int]:
        """Validate an upload from its headers alone: (media type, length), or raise."""
        if self.headers.get("Transfer-Encoding"):
            raise _HTTPError(HTTPStatus.LENGTH_REQUIRED, "chunked uploads are not supported; send a "
                             f"Content-Length (e.g. {RAW_HINT})")
        raw = self.headers.get("Content-Length")
        if raw is None:
            raise _HTTPError(HTTPStatus.LENGTH_REQUIRED, "missing Content-Length; send the image as the "
                             f"body with its length (e.g. {RAW_HINT})")
        if not (raw.strip().isascii() and raw.strip().isdigit()):
            raise _HTTPError(HTTPStatus.BAD_REQUEST,
                             f"Content-Length {_printable(raw, 40)!r} is not a byte count")
        length, limit = int(raw), self.server.config.max_body_bytes
        if length > limit:
            raise _HTTPError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"body of {length:,} bytes is over the "
                             f"{limit:,}-byte limit; downscale the image, send fewer files per request, or "
                             "start the server with a larger --max-body-mb")
        if length == 0:
            raise _HTTPError(HTTPStatus.BAD_REQUEST, f"empty body; send the image bytes ({RAW_HINT}) or "
                             f"files as multipart/form-data ({MULTIPART_HINT})")
        if self.headers.get("Content-Type") is None:
            return "application/octet-stream", length  # bare bytes: the decoder finds the format
        media = self.headers.get_content_type()
        if media == "multipart/form-data" and not self.headers.get_boundary():
            raise _HTTPError(HTTPStatus.BAD_REQUEST, "multipart/form-data without a boundary; let the "
                             f"client build the header ({MULTIPART_HINT})")
        if not (media.startswith("image/") or media in ("application/octet-stream", "multipart/form-data")):
            raise _HTTPError(HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
                             f"Content-Type {_printable(media, 60)} is not supported; send image/* or "
                             f"application/octet-stream bytes ({RAW_HINT}) or multipart/form-data files "
                             f"({MULTIPART_HINT})")
        return media, length

    def _read_body(self, length: int) -> bytes:
        try:
            body = self.rfile.read(length)
        except OSError as exc:  # a stalled (timeout) or broken connection: do not reuse or drain it
            self._body_pending, self.close_connection = False, True
            if isinstance(exc, TimeoutError):
                raise _HTTPError(HTTPStatus.REQUEST_TIMEOUT, f"timed out waiting for the {length:,}-byte "
                                 "body; check the client's upload") from None
            raise _HTTPError(HTTPStatus.BAD_REQUEST, f"connection broke reading the body ({exc})") from None
        self._body_pending = False
        if len(body) < length:
            self.close_connection = True
            raise _HTTPError(HTTPStatus.BAD_REQUEST, f"body ended after {len(body):,} of {length:,} bytes "
                             "(Content-Length); resend the complete file")
        return body

    def _score_image(self, data: bytes, name: str, maps: bool) -> dict[str, Any]:
        """Decode (concurrently with other requests) and score (under the model lock) one image."""
        try:
            image = load_image(data, self.server.model.max_pixels)
        except ImageReadError as exc:
            self.server.count(images_failed=1)
            message = str(exc)
            message = f"{name}: {message[len('<bytes>: '):]}" if message.startswith("<bytes>: ") else message
            raise _HTTPError(HTTPStatus.UNPROCESSABLE_ENTITY, _one_line(message)) from None
        pred = self.server.predict(image, maps)
        self.server.count(images_scored=1)
        out: dict[str, Any] = {"score": pred.score, "width": int(image.shape[-1]),
                               "height": int(image.shape[-2]), "model": self.server.model_name}
        if pred.diagnosis is not None:  # a model with a diagnosis head: what is wrong, beside the score
            out["diagnosis"] = pred.diagnosis
            out["top_family"] = pred.top_family
        if maps:
            out["weight_map"] = pred.weight_map.tolist()
            out["score_map"] = pred.score_map.tolist()
        return out

    def _score_multipart(self, body: bytes, maps: bool) -> dict[str, Any]:
        parts = file_parts(self.headers["Content-Type"], body, self.server.config.max_files)
        results = []
        for i, part in enumerate(parts):
            filename = part_filename(part, i)
            item: dict[str, Any] = {"filename": filename}
            try:
                data = part.get_payload(decode=True) or b""
                if not data:
                    self.server.count(images_failed=1)
                    raise _HTTPError(422, f"{filename}: empty file; attach an image")
                scored = self._score_image(data, filename, maps)
                scored.pop("model")
                item.update(scored)
            except _HTTPError as exc:
                item["error"] = exc.message
            except (RuntimeError, MemoryError) as exc:  # e.g. out of memory on one image
                self.server.count(images_failed=1)
                item["error"] = f"{filename}: scoring failed ({type(exc).__name__}); try a smaller image"
            results.append(item)
        return {"results": results, "failed": sum("error" in r for r in results),
                "model": self.server.model_name}
