"""``lpfiqa serve``: the scoring service and web page (:mod:`lpfiqa.service`) from the command line."""

from __future__ import annotations

import ipaddress

import click

from ..registry import DEFAULT_MODEL


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@click.command("serve")
@click.option("-m", "--model", default=DEFAULT_MODEL, show_default=True,
              help="Registered model name, run folder, or .safetensors file.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Interface to listen on; 0.0.0.0 exposes the service (no auth, no TLS) to the network.")
@click.option("-p", "--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="TCP port (0 picks a free one).")
@click.option("-w", "--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Processes sharing the port, each with its own copy of the model.")
@click.option("--max-body-mb", type=click.FloatRange(0, min_open=True), default=50.0, show_default=True,
              help="Refuse request bodies larger than this (HTTP 413), before reading them.")
@click.option("--max-pixels", type=click.IntRange(1), default=50_000_000, show_default=True,
              help="Refuse images with more pixels than this (HTTP 413), from their header.")
@click.option("--max-files", type=click.IntRange(1), default=64, show_default=True,
              help="Most files in one multipart request.")
@click.option("--max-pending", type=click.IntRange(1), default=16, show_default=True,
              help="Requests scoring or queued at once per worker; more wait, then get 503.")
@click.option("--engine", type=click.Choice(["torch", "onnx"]), default="torch", show_default=True,
              help="Run the model in PyTorch, or in ONNX Runtime (--model FILE.onnx, or exported once and cached; "
                   "LPF-Lite is several times faster there).")
@click.option("--threads", type=click.IntRange(0), default=0,
              help="Torch (or ONNX Runtime) threads per worker (0: default).")
@click.option("-q", "--quiet", is_flag=True, help="No access log (one line per request on stderr).")
def serve_cmd(model: str, host: str, port: int, workers: int, max_body_mb: float, max_pixels: int, max_files: int,
              max_pending: int, engine: str, threads: int, quiet: bool) -> None:
    """Serve a model over HTTP: a web page at /, JSON at /v1/score and /v1/map.

    \b
    Web page:    open URL/ in a browser, drop images on it
    One image:   curl -s --data-binary @photo.jpg -H 'Content-Type: image/jpeg' URL/v1/score
    Many files:  curl -s -F file=@a.jpg -F file=@b.png URL/v1/score
    Maps:        curl -s --data-binary @photo.jpg 'URL/v1/map?format=png&map=score' -o overlay.png
    Info, docs:  curl -s URL/healthz  |  URL/v1/model  |  URL/docs  (OpenAPI: URL/openapi.json)

    Stop with Ctrl+C or SIGTERM: requests in flight are finished first.
    """
    from ..errors import ConfigError

    try:
        from ..service import ServiceConfig, serve
    except ImportError as exc:  # the optional extra is missing
        raise click.ClickException(f"the service needs its extra ({exc.name} is missing); "
                                   "pip install 'lpfiqa[serve]'") from exc
    try:
        config = ServiceConfig(max_body_bytes=max(1, int(max_body_mb * 2**20)), max_files=max_files,
                               max_pixels=max_pixels, max_pending=max_pending, log_requests=not quiet)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    target: object = model
    if workers == 1:  # load here, so a bad model is one clean line before the port is taken
        import torch

        from ..registry import create_model

        if threads:
            torch.set_num_threads(threads)
        try:
            target = create_model(model, engine=engine, threads=threads)
        except ConfigError as exc:
            raise click.ClickException(str(exc)) from exc

    def on_ready(url: str) -> None:
        click.echo(url)
        click.echo(f"serving {model} ({engine}) on {url} with {workers} worker(s): page at {url}/, "
                   f"API docs at {url}/docs; Ctrl+C to stop", err=True)
        if not _is_loopback(host):
            click.echo(f"warning: {host} is reachable from the network and the service has no "
                       "authentication; use 127.0.0.1 behind a reverse proxy for anything public", err=True)

    try:
        serve(target, host, port, config, workers=workers, threads=threads, on_ready=on_ready, engine=engine)
    except OSError as exc:
        raise click.ClickException(exc.strerror or str(exc)) from exc
    click.echo(f"stopped {model}", err=True)


COMMANDS = [serve_cmd]
