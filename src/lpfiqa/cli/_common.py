"""Shared CLI plumbing: error mapping and input expansion."""

from __future__ import annotations

import glob
import os
from pathlib import Path

import click

from ..errors import LpfiqaError

__all__ = ["LpfiqaGroup", "expand_inputs"]


class LpfiqaGroup(click.Group):
    """A click group that turns library errors into one clean line and exit status 1."""

    def invoke(self, ctx: click.Context):  # noqa: ANN201 - click's signature
        try:
            return super().invoke(ctx)
        except LpfiqaError as exc:
            raise click.ClickException(str(exc)) from exc


def _is_image(path: Path) -> bool:
    from ..imageio import IMAGE_EXTENSIONS  # imageio imports torch: not at CLI start-up

    return path.suffix.lower() in IMAGE_EXTENSIONS


def expand_inputs(items: tuple[str, ...], recursive: bool) -> list[str]:
    """Files as given, folders listed (recursively with ``recursive``), globs expanded; sorted per item.

    A missing path is kept as is, so the scorer reports it on its own row.
    """
    out: list[str] = []
    for item in items:
        path = Path(item).expanduser()
        if path.is_dir():
            walker = path.rglob("*") if recursive else path.iterdir()
            out.extend(str(p) for p in sorted(walker) if p.is_file() and _is_image(p))
        elif path.exists():
            out.append(str(path))
        elif glob.has_magic(item):
            matches = sorted(glob.glob(os.path.expanduser(item), recursive=recursive))
            out.extend(m for m in matches if Path(m).is_file())
            if not matches:
                out.append(item)
        else:
            out.append(item)
    return list(dict.fromkeys(out))
