"""The ``lpfiqa`` command line: a thin click layer over the library.

Each command lives in its own module; library errors (:class:`lpfiqa.errors.LpfiqaError`)
become a one-line message and exit status 1 (click itself uses 2 for bad flags).
"""

from __future__ import annotations

import click

from .. import __version__
from ._common import LpfiqaGroup

__all__ = ["cli", "main"]


@click.group(cls=LpfiqaGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="lpfiqa")
def cli() -> None:
    """Blind image quality assessment with LPF (Lightweight Parallel Framework).

    \b
    Score photos with the bundled model:   lpfiqa score photos/ -r --sort
    Split a big run, then merge the parts: lpfiqa score DIR -o OUT.csv --shard K/N; lpfiqa merge -o OUT.csv
    Make a synthetic training set:         lpfiqa synth --pristine DIR --out DIR
    Train on a manifest CSV:               lpfiqa train manifest.csv --out runs/x
    Prepare an official IQA dataset:       lpfiqa data prepare koniq10k ROOT -o koniq.csv
    Evaluate / run the n-split protocol:   lpfiqa eval ... | lpfiqa protocol ...
    """


def _register() -> None:
    from . import data, evaluate, export, merge, models, score, serve, synth, train

    for module in (score, merge, train, synth, data, evaluate, models, serve, export):
        for command in module.COMMANDS:
            cli.add_command(command)


_register()


def main() -> None:
    """Console-script entry point."""
    cli()
