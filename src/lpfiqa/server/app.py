"""The scoring server object: limits, counters, the model and its lock, and how to start it.

Requests are answered by :mod:`lpfiqa.server.handler`; see :mod:`lpfiqa.server` for the endpoints.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import ThreadingHTTPServer

import torch

from ..errors import ConfigError
from ..inference import Prediction, QualityModel
from .handler import _Handler


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
