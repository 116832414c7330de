"""The service's limits, and the ASGI middleware that enforces the body limits before the app reads a byte.

- Upload size: a ``Content-Length`` over :attr:`ServiceConfig.max_body_bytes` gets 413 from the
  header alone (the body is never read, and a client that sent ``Expect: 100-continue`` is told
  before it uploads); a chunked body is counted as it arrives and cut off with 413 at the limit.
- Slow bodies: the whole body must arrive within :attr:`ServiceConfig.body_timeout` seconds, or
  the request gets 408 (a silent client cannot hold a request slot).
- Pixel count (decompression bombs) and busy slots are checked by :mod:`lpfiqa.service.scoring`.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import asdict, dataclass
from typing import Any

from starlette.exceptions import HTTPException

from ..errors import ConfigError

__all__ = ["ServiceConfig", "BodyLimitMiddleware"]

_ASGIApp = Any  # (scope, receive, send) -> awaitable


@dataclass
class ServiceConfig:
    """Limits, pools and timeouts of the scoring service.

    Example:
        >>> ServiceConfig(max_body_bytes=10 * 2**20).max_files
        64
        >>> ServiceConfig(max_pending=0)
        Traceback (most recent call last):
        ...
        lpfiqa.errors.ConfigError: `max_pending` 0: must be at least 1
    """

    max_body_bytes: int = 50 * 2**20  # larger uploads get 413 before a byte of the body is read
    max_files: int = 64               # files per multipart request
    max_pixels: int = 50_000_000      # per image; larger (decompression bombs included) get 413
    max_pending: int = 16             # requests decoding/scoring or queued at once (bounds memory)
    decode_threads: int = 2           # threads decoding images and drawing overlays
    busy_timeout: float = 30.0        # a request waits this long for a slot, then gets 503
    body_timeout: float = 30.0        # the whole body must arrive within this, else 408
    header_timeout: float = 10.0      # a connection that sends no complete request head is closed
    keep_alive: float = 5.0           # an idle keep-alive connection is closed after this
    log_requests: bool = True         # one access-log line per request

    def __post_init__(self) -> None:
        for name in ("max_body_bytes", "max_files", "max_pixels", "max_pending", "decode_threads"):
            if getattr(self, name) < 1:
                raise ConfigError(f"`{name}` {getattr(self, name)}: must be at least 1")
        for name in ("busy_timeout", "body_timeout", "header_timeout", "keep_alive"):
            if not getattr(self, name) > 0:
                raise ConfigError(f"`{name}` {getattr(self, name)}: must be a positive number of seconds")

    def to_json(self) -> str:
        """The config as JSON (how ``lpfiqa serve --workers N`` hands it to each worker process).

        Example:
            >>> ServiceConfig.from_json(ServiceConfig(max_files=3).to_json()).max_files
            3
        """
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ServiceConfig:
        """The inverse of :meth:`to_json`."""
        return cls(**json.loads(text))


def _json_response(status: int, message: str) -> tuple[dict, dict]:
    body = json.dumps({"error": message}).encode()
    start = {"type": "http.response.start", "status": status,
             "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                         (b"connection", b"close")]}
    return start, {"type": "http.response.body", "body": body}


class BodyLimitMiddleware:
    """Pure ASGI middleware: 413 from ``Content-Length`` (or as a chunked body grows), 408 for a slow body.

    Args:
        app: the ASGI app to protect.
        max_body_bytes: the most bytes a request body may have.
        body_timeout: seconds the whole body may take to arrive.
    """

    def __init__(self, app: _ASGIApp, max_body_bytes: int, body_timeout: float) -> None:
        self.app, self.max_body_bytes, self.body_timeout = app, max_body_bytes, body_timeout

    def _too_large(self, size: str) -> str:
        return (f"body of {size} bytes is over the {self.max_body_bytes:,}-byte limit; downscale the image, "
                "send fewer files per request, or start the server with a larger --max-body-mb")

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        raw = headers.get(b"content-length")
        if raw is not None:
            text = raw.decode("latin-1").strip()
            if not (text.isascii() and text.isdigit()):
                for message in _json_response(400, f"Content-Length {text[:40]!r} is not a byte count"):
                    await send(message)
                return
            if int(text) > self.max_body_bytes:  # refused from the header: the body is never read
                for message in _json_response(413, self._too_large(f"{int(text):,}")):
                    await send(message)
                return
        received, deadline, done = 0, None, False

        async def limited_receive() -> dict:
            nonlocal received, deadline, done
            if done:  # the body is complete: later calls only wait for a disconnect, untimed
                return await receive()
            if deadline is None:
                deadline = time.monotonic() + self.body_timeout
            try:
                async with asyncio.timeout(max(0.0, deadline - time.monotonic())):
                    message = await receive()
            except TimeoutError:
                raise HTTPException(408, f"the request body did not arrive within {self.body_timeout:g} s; "
                                         "check the client's upload, or send a smaller file",
                                    headers={"Connection": "close"}) from None
            if message["type"] == "http.request":
                done = not message.get("more_body", False)
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise HTTPException(413, self._too_large(f"over {self.max_body_bytes:,}"),
                                        headers={"Connection": "close"})
            return message

        await self.app(scope, limited_receive, send)
