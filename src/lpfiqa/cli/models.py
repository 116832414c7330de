"""``lpfiqa models``: list the bundled models."""

from __future__ import annotations

import json

import click

from ..registry import DEFAULT_MODEL, list_models, model_info


@click.command("models")
@click.option("--json", "as_json", is_flag=True, help="JSON output.")
def models_cmd(as_json: bool) -> None:
    """List the bundled models."""
    rows = [{"name": n, "default": n == DEFAULT_MODEL, "description": model_info(n).description}
            for n in list_models()]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for r in rows:
        click.echo(f"{r['name']}{' (default)' if r['default'] else ''}: {r['description']}")


COMMANDS = [models_cmd]
