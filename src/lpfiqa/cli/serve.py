"""``lpfiqa serve``: the JSON scoring service (:mod:`lpfiqa.server`) from the command line."""

from __future__ import annotations

import ipaddress
import signal
import threading
from types import FrameType

import click

from ..registry import DEFAULT_MODEL


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # SIGTERM (docker stop, systemd) stops like Ctrl+C: summary included


@click.command("serve")
@click.option("-m", "--model", default=DEFAULT_MODEL, show_default=True,
              help="Registered model name, run folder, or .safetensors file.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Interface to listen on; 0.0.0.0 exposes the service (no auth, no TLS) to the network.")
@click.option("-p", "--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="TCP port (0 picks a free one).")
@click.option("--max-body-mb", type=click.FloatRange(0, min_open=True), default=50.0, show_default=True,
              help="Refuse request bodies larger than this (HTTP 413), before reading them.")
@click.option("--max-pixels", type=click.IntRange(1), default=None,
              help="Refuse images with more pixels than this (HTTP 422).")
@click.option("--max-files", type=click.IntRange(1), default=64, show_default=True,
              help="Most files in one multipart request.")
@click.option("--threads", type=click.IntRange(0), default=0, help="Torch threads (0: default).")
@click.option("-q", "--quiet", is_flag=True, help="Do not log one line per request on stderr.")
def serve_cmd(model: str, host: str, port: int, max_body_mb: float, max_pixels: int | None, max_files: int,
              threads: int, quiet: bool) -> None:
    """Serve a model over HTTP: POST images to /score, get JSON back.

    \b
    One image:   curl -s --data-binary @photo.jpg -H 'Content-Type: image/jpeg' URL/score
    With maps:   curl -s --data-binary @photo.jpg -H 'Content-Type: image/jpeg' 'URL/score?maps=1'
    Many files:  curl -s -F file=@a.jpg -F file=@b.png URL/score
    Info:        curl -s URL/health   |   curl -s URL/model   (score range and direction)

    Stop with Ctrl+C (or SIGTERM); a one-line summary is printed on the way out.
    """
    import torch

    from ..registry import create_model  # torch and the server load only when serving
    from ..server import LpfiqaServer, ServerConfig, serve

    if threads:
        torch.set_num_threads(threads)
    config = ServerConfig(max_body_bytes=max(1, int(max_body_mb * 2**20)), max_files=max_files,
                          log_requests=not quiet)
    qm = create_model(model, max_pixels=max_pixels)

    def on_ready(server: LpfiqaServer) -> None:
        click.echo(server.url)
        click.echo(f"serving {qm.name} on {server.url} (POST /score, GET /health, GET /model); "
                   "Ctrl+C to stop", err=True)
        if not _is_loopback(host):
            click.echo(f"warning: {host} is reachable from the network and the service has no "
                       "authentication; use 127.0.0.1 behind a reverse proxy for anything public", err=True)

    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _raise_interrupt) if in_main else None
    try:
        stats = serve(qm, host, port, config, on_ready=on_ready)
    except OSError as exc:
        raise click.ClickException(exc.strerror or str(exc)) from exc
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    click.echo(f"stopped {qm.name}: {stats.summary()}", err=True)


COMMANDS = [serve_cmd]
