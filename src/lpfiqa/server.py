"""The HTTP scoring service: a thin JSON layer over :class:`~lpfiqa.inference.QualityModel`.

Standard library only (:mod:`http.server`, :mod:`email` for multipart). Endpoints:

    GET  /health   {"status": "ok", "model": NAME}
    GET  /model    name, score range and direction, stages, limits
    POST /score    raw image body (image/*, application/octet-stream)
                   -> {"score", "width", "height", "model"}; ``?maps=1`` adds the DaQRN maps
    POST /score    multipart/form-data with one or more files
                   -> {"results": [{"filename", "score" | "error"}, ...], "failed": n}

Every error is ``{"error": "<one line saying what to do>"}`` with a 4xx/5xx status; stack traces
stay in the server's log. Images are read and decoded concurrently (at most
``ServerConfig.max_concurrent`` at once, which bounds memory); the model itself runs under one
lock, so inference is serialized. There is no authentication or TLS: keep the default
``127.0.0.1`` or put a reverse proxy in front.
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import torch

from . import __version__
from .errors import ConfigError, ImageReadError
from .imageio import MIN_SIDE, load_image
from .inference import Prediction, QualityModel

__all__ = ["LpfiqaServer", "ServerConfig", "ServerStats", "make_server", "serve"]

ENDPOINTS = "GET /health, GET /model or POST /score"
RAW_HINT = "curl --data-binary @photo.jpg -H 'Content-Type: image/jpeg' URL/score"
MULTIPART_HINT = "curl -F file=@a.jpg -F file=@b.png URL/score"
_DRAIN_BYTES = 1 << 20  # read at most this much of an unwanted body before closing (see _drain)
_DRAIN_SECONDS = 2.0


@dataclass
class ServerConfig:
    """Limits and logging of the service.

    Example:
        >>> ServerConfig(max_body_bytes=10 * 2**20).max_files
        64
    """

    max_body_bytes: int = 50 * 2**20  # larger uploads get 413 before a byte of the body is read
    max_files: int = 64               # files per multipart request
    max_concurrent: int = 4           # requests reading/decoding/scoring at once (bounds memory)
    busy_timeout: float = 60.0        # a request waits this long for a slot, then gets 503
    socket_timeout: float = 30.0      # a silent client connection is dropped after this
    log_requests: bool = True         # one line per request on stderr

    def __post_init__(self) -> None:
        for name in ("max_body_bytes", "max_files", "max_concurrent"):
            if getattr(self, name) < 1:
                raise ConfigError(f"`{name}` {getattr(self, name)}: must be at least 1")
        for name in ("busy_timeout", "socket_timeout"):
            if not getattr(self, name) > 0:
                raise ConfigError(f"`{name}` {getattr(self, name)}: must be a positive number of seconds")


@dataclass
class ServerStats:
    """What a server has done so far (updated as each response is sent)."""

    requests: int = 0        # responses sent
    failures: int = 0        # responses with a 4xx/5xx status
    images_scored: int = 0
    images_failed: int = 0   # unreadable images, inside multipart requests included

    def summary(self) -> str:
        """One line for the end of a run.

        Example:
            >>> ServerStats(requests=3, failures=1, images_scored=2).summary()
            'served 3 requests (1 failed); scored 2 images (0 unreadable)'
        """
        return (f"served {self.requests} requests ({self.failures} failed); "
                f"scored {self.images_scored} images ({self.images_failed} unreadable)")


class _HTTPError(Exception):
    """An answer other than 200: status, one-line message, extra headers."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


class LpfiqaServer(ThreadingHTTPServer):
    """A :class:`~http.server.ThreadingHTTPServer` that owns a model, its lock and the stats.

    Build it with :func:`make_server`; run it with ``serve_forever()`` (or :func:`serve`).
    """

    daemon_threads = True  # an idle keep-alive connection never blocks shutdown

    def __init__(self, address: tuple[str, int], model: QualityModel, config: ServerConfig) -> None:
        self.model, self.config = model, config
        self.stats = ServerStats()
        self.model_lock = threading.Lock()  # inference is serialized: a model is not assumed thread-safe
        self.slots = threading.BoundedSemaphore(config.max_concurrent)
        self._stats_lock = threading.Lock()
        super().__init__(address, _Handler)

    @property
    def url(self) -> str:
        """``http://HOST:PORT`` of the bound socket (the real port when 0 was asked for)."""
        host, port = self.server_address[:2]
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    @property
    def model_name(self) -> str:
        """The model's name in answers (``"unnamed"`` when it has none)."""
        return self.model.name or "unnamed"

    def count(self, **increments: int) -> None:
        """Add to :attr:`stats` fields (thread-safe), e.g. ``count(requests=1)``."""
        with self._stats_lock:
            for key, n in increments.items():
                setattr(self.stats, key, getattr(self.stats, key) + n)

    def predict(self, image: torch.Tensor, maps: bool) -> Prediction:
        """Score a decoded (3, H, W) image under the model lock."""
        with self.model_lock:
            return self.model.predict(image, return_maps=maps)


class _LpfiqaServer6(LpfiqaServer):
    address_family = socket.AF_INET6


def make_server(model: QualityModel, host: str = "127.0.0.1", port: int = 8000,
                config: ServerConfig | None = None) -> LpfiqaServer:
    """Bind the scoring service to ``host:port`` (not started yet: call ``serve_forever()``).

    Args:
        model: the model to serve (e.g. from :func:`lpfiqa.create_model`).
        host: interface to listen on; ``0.0.0.0`` (or ``::``) exposes it to the network.
        port: TCP port; 0 picks a free one (read it back from ``server.url``).
        config: limits and logging (defaults: :class:`ServerConfig`).

    Returns:
        The bound server; ``server.stats`` counts what it did.

    Raises:
        OSError: the address cannot be bound (port in use, unknown host).

    Example:
        >>> import http.client, json, threading
        >>> from lpfiqa.models import LPFConfig, LPFHeads
        >>> model = QualityModel(LPFHeads(LPFConfig(latent_dim=16, hidden_dim=32)).eval(), name="demo")
        >>> server = make_server(model, port=0, config=ServerConfig(log_requests=False))
        >>> threading.Thread(target=server.serve_forever, daemon=True).start()
        >>> conn = http.client.HTTPConnection(*server.server_address, timeout=30)
        >>> conn.request("GET", "/health")
        >>> json.loads(conn.getresponse().read())
        {'status': 'ok', 'model': 'demo'}
        >>> conn.close(); server.shutdown(); server.server_close()
    """
    cls = _LpfiqaServer6 if ":" in host else LpfiqaServer
    try:
        return cls((host, port), model, config or ServerConfig())
    except OSError as exc:
        raise OSError(exc.errno, f"cannot listen on {host}:{port} ({exc.strerror or exc}); pick another "
                                 "port (0 picks a free one) or stop whatever is using it") from exc


def serve(model: QualityModel, host: str = "127.0.0.1", port: int = 8000, config: ServerConfig | None = None,
          on_ready: Callable[[LpfiqaServer], None] | None = None) -> ServerStats:
    """Run the scoring service until Ctrl+C (``KeyboardInterrupt``), then close it.

    Args:
        model: the model to serve.
        host: interface to listen on (see :func:`make_server`).
        port: TCP port; 0 picks a free one.
        config: limits and logging (defaults: :class:`ServerConfig`).
        on_ready: called with the bound server before it starts answering (print its URL there).

    Returns:
        What the server did (:meth:`ServerStats.summary` makes it one line).
    """
    server = make_server(model, host, port, config)
    with server:
        if on_ready is not None:
            on_ready(server)
        try:
            server.serve_forever(poll_interval=0.5)
        except KeyboardInterrupt:
            pass
    return server.stats


# ---------------------------------------------------------------------------------- handler
_ROUTES: dict[str, tuple[str, str, frozenset[str]]] = {  # path -> (method, handler, query params)
    "/health": ("GET", "_health", frozenset()),
    "/model": ("GET", "_model_info", frozenset()),
    "/score": ("POST", "_score", frozenset({"maps"})),
}
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off", "")


def _one_line(text: str, limit: int = 300) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _printable(text: str, limit: int = 200) -> str:
    """Request data for the log: no control characters (no forged log lines), bounded length."""
    clean = "".join(c if c.isprintable() else "?" for c in text[:limit])
    return clean + ("..." if len(text) > limit else "")


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
                "max_files": config.max_files}

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
        if maps:
            out["weight_map"] = pred.weight_map.tolist()
            out["score_map"] = pred.score_map.tolist()
        return out

    def _score_multipart(self, body: bytes, maps: bool) -> dict[str, Any]:
        header = f"Content-Type: {self.headers['Content-Type']}\r\n\r\n".encode("latin-1", "replace")
        msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(header + body)
        if not msg.is_multipart() or msg.defects:
            defects = ", ".join(type(d).__name__ for d in msg.defects) or "no parts"
            raise _HTTPError(HTTPStatus.BAD_REQUEST, f"malformed multipart body ({defects}); let the client "
                             f"build it ({MULTIPART_HINT})")
        parts = list(msg.iter_parts())
        for part in parts:
            if part.get_filename() is None and part.get_content_maintype() == "text":
                field = part.get_param("name", header="content-disposition") or "?"
                raise _HTTPError(HTTPStatus.BAD_REQUEST,
                                 f"multipart field {_printable(str(field), 40)!r} is not a file; send "
                                 f"images as file fields ({MULTIPART_HINT}) and options in the query "
                                 "string (?maps=1)")
        if not parts:
            raise _HTTPError(HTTPStatus.BAD_REQUEST, f"multipart body holds no files ({MULTIPART_HINT})")
        if len(parts) > self.server.config.max_files:
            raise _HTTPError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                             f"{len(parts)} files in one request; send at most "
                             f"{self.server.config.max_files} per request")
        results = []
        for i, part in enumerate(parts):
            field = part.get_param("name", header="content-disposition")
            filename = part.get_filename() or field or f"file{i}"
            item: dict[str, Any] = {"filename": str(filename)}
            try:
                data = part.get_payload(decode=True) or b""
                if not data:
                    self.server.count(images_failed=1)
                    raise _HTTPError(422, f"{filename}: empty file; attach an image")
                scored = self._score_image(data, str(filename), maps)
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
