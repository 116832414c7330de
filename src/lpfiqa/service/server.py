"""Running the service under uvicorn: one process, or ``workers`` processes sharing one socket.

Connections that never send a complete request head are closed after
``ServiceConfig.header_timeout`` seconds (uvicorn itself only times out idle keep-alive
connections), so silent clients cost a socket, never a worker. Each worker process loads the
model once, at start-up.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import threading
from collections.abc import Callable
from types import FrameType
from typing import TYPE_CHECKING, Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from .limits import ServiceConfig

if TYPE_CHECKING:
    from fastapi import FastAPI

    from ..inference import QualityModel

__all__ = ["GuardedH11Protocol", "app_from_env", "bind", "serve"]

ENV = "LPFIQA_SERVICE"  # how `serve(workers=N)` tells each worker process what to load


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, plus: a connection without a complete request head within the timeout is closed.

    The timer starts when the connection opens and again after each response; it reads the
    timeout from ``config.lpfiqa_header_timeout`` (seconds, default 10).
    """

    def __init__(self, config: uvicorn.Config, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)
        self._header_timeout = float(getattr(config, "lpfiqa_header_timeout", 10.0))
        self._header_timer: Any = None

    def _arm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
        self._header_timer = self.loop.call_later(self._header_timeout, self._header_expired)

    def _header_expired(self) -> None:
        self._header_timer = None
        waiting = self.cycle is None or self.cycle.response_complete  # no request in progress
        if waiting and not self.transport.is_closing():
            self.transport.close()

    def connection_made(self, transport: Any) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None
        super().connection_lost(exc)


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (0 picks a free port; read it from ``getsockname()``).

    Raises:
        OSError: the address cannot be bound, with a message that says what to do.

    Example:
        >>> s = bind("127.0.0.1", 0); s.getsockname()[1] > 0
        True
        >>> s.close()
    """
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise OSError(exc.errno, f"cannot listen on {host}:{port} ({exc.strerror or exc}); pick another port "
                                 "(0 picks a free one) or stop whatever is using it") from exc
    sock.listen(2048)  # connections wait in the backlog until the app has started, never refused
    sock.set_inheritable(True)
    return sock


def url_of(sock: socket.socket) -> str:
    """``http://HOST:PORT`` of a bound socket."""
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def app_from_env() -> FastAPI:
    """The app of one worker process, from the ``LPFIQA_SERVICE`` JSON that :func:`serve` set."""
    from ..registry import create_model
    from .app import create_app

    spec = json.loads(os.environ[ENV])
    if spec.get("threads"):
        import torch

        torch.set_num_threads(int(spec["threads"]))
    model = create_model(spec["model"], engine=spec.get("engine", "torch"), threads=int(spec.get("threads") or 0))
    return create_app(model, ServiceConfig.from_json(spec["config"]))


def uvicorn_config(app: Any, config: ServiceConfig, workers: int = 1, max_connections: int = 256) -> uvicorn.Config:
    """The uvicorn settings the service runs with (timeouts, protocol, logging)."""
    ucfg = uvicorn.Config(app, factory=workers > 1, workers=workers, http=GuardedH11Protocol, lifespan="on",
                          timeout_keep_alive=max(1, round(config.keep_alive)), limit_concurrency=max_connections,
                          access_log=config.log_requests, log_level="info" if config.log_requests else "warning",
                          timeout_graceful_shutdown=10, server_header=False, proxy_headers=False)
    ucfg.lpfiqa_header_timeout = config.header_timeout  # read by GuardedH11Protocol (pickled to workers too)
    return ucfg


def serve(model: QualityModel | str, host: str = "127.0.0.1", port: int = 8000, config: ServiceConfig | None = None,
          workers: int = 1, threads: int = 0, on_ready: Callable[[str], None] | None = None,
          engine: str = "torch") -> None:
    """Run the service until SIGINT/SIGTERM (then finish the requests in flight and return).

    Args:
        model: a loaded model, or (required for ``workers > 1``) a name or path for each worker to load.
        host: interface to listen on; ``0.0.0.0`` (or ``::``) exposes it to the network.
        port: TCP port; 0 picks a free one (``on_ready`` gets the URL).
        config: limits, pools and timeouts.
        workers: processes sharing the socket, each with its own model.
        threads: torch (or ONNX Runtime) threads per worker process (0: the library's default).
        on_ready: called with ``http://HOST:PORT`` once the socket is bound.
        engine: for a model given by name or path: ``"torch"``, or ``"onnx"`` (ONNX Runtime; a
            registered model is exported once, here, and every worker loads that file).

    Raises:
        OSError: the address cannot be bound.
    """
    config = config or ServiceConfig()
    sock = bind(host, port)
    try:
        if workers > 1:
            if not isinstance(model, str):
                raise TypeError("serve(workers > 1) needs the model's name or path, so that each worker loads it")
            if engine == "onnx" and not model.endswith(".onnx"):  # export once here, not once per worker
                from ..export import onnx_for
                from ..registry import create_model

                model = str(onnx_for(create_model(model)))
            os.environ[ENV] = json.dumps({"model": model, "config": config.to_json(), "threads": threads,
                                          "engine": engine})
            ucfg = uvicorn_config("lpfiqa.service.server:app_from_env", config, workers)
        else:
            if isinstance(model, str):
                from ..registry import create_model

                model = create_model(model, engine=engine, threads=threads)
            from .app import create_app

            ucfg = uvicorn_config(create_app(model, config), config)
        if on_ready is not None:
            on_ready(url_of(sock))
        in_main = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGTERM, _raise_interrupt) if in_main else None
        try:
            if workers > 1:
                from uvicorn.supervisors import Multiprocess

                Multiprocess(ucfg, sockets=[sock]).run()
            else:
                uvicorn.Server(ucfg).run(sockets=[sock])
        except KeyboardInterrupt:
            pass  # uvicorn shut down gracefully, then re-raised the signal it caught: a normal stop
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)
    finally:
        sock.close()


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # SIGTERM (docker stop, systemd) ends like Ctrl+C, after uvicorn's graceful shutdown
