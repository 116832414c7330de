"""``lpfiqa data``: prepare an official IQA dataset as a manifest CSV, summarise one, list readers."""

from __future__ import annotations

import inspect
import json
import warnings
from pathlib import Path
from typing import Any

import click

from ..datasets import EXPECTED, READERS, check_counts, list_datasets, prepare, read_manifest, write_manifest
from ..datasets.koniq import KONIQ_SIZES
from ..errors import DatasetError

# CLI option -> reader keyword. An option is accepted only by the readers that take that
# keyword (checked against their signatures, so a new reader option cannot drift silently).
_READER_OPTIONS: dict[str, str] = {
    "size": "size", "score": "score", "split_file": "split_file", "dmos": "dmos",
    "keep_references": "keep_references", "keep_training": "keep_training", "label_file": "label_file",
    "meta_csv": "meta_csv", "image_dir": "image_dir", "higher_is_better": "higher_is_better", "name": "name",
}
_ALIASES = {"kadid": "kadid10k", "koniq": "koniq10k", "tid": "tid2013", "livechallenge": "livec"}


def _canonical(name: str) -> str:
    # the same spelling rules as datasets.prepare(), which also reports unknown names
    key = name.lower().replace("-", "").replace("_", "")
    return _ALIASES.get(key, key)


def _reader_options(key: str) -> list[str]:
    if key not in READERS:
        return []
    params = inspect.signature(READERS[key]).parameters
    return [p.name for p in params.values() if p.kind is inspect.Parameter.KEYWORD_ONLY]


def _flag(opt: str) -> str:
    return "--" + opt.replace("_", "-")


@click.group("data")
def data_group() -> None:
    """Prepare, inspect and list IQA datasets (manifest CSVs)."""


@data_group.command("prepare")
@click.argument("name")
@click.argument("root", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Manifest CSV to write (without it: a dry run that only reports).")
@click.option("--strict", is_flag=True,
              help="Fail on missing images or counts that differ from the published release.")
@click.option("--size", type=click.Choice(["auto", *KONIQ_SIZES]), default=None,
              help="koniq10k: image folder to use (default auto).")
@click.option("--score", type=click.Choice(["MOS", "MOS_zscore"]), default=None,
              help="koniq10k: score column (default MOS, 1-5).")
@click.option("--split-file", type=click.Path(path_type=Path), default=None,
              help="koniq10k: official koniq10k_distributions_sets.csv, if not under ROOT.")
@click.option("--dmos", type=click.Choice(["auto", "realigned", "original"]), default=None,
              help="live: DMOS version (default auto: realigned when dmos_realigned.mat is there, else original).")
@click.option("--keep-references", is_flag=True, default=None, help="live: keep the reference copies.")
@click.option("--keep-training", is_flag=True, default=None,
              help="livec: keep the 7 subject-training images.")
@click.option("--label-file", type=click.Path(path_type=Path), default=None,
              help="csiq, cid2013: the label workbook, if not found under ROOT.")
@click.option("--meta-csv", type=click.Path(path_type=Path), default=None,
              help="pyiqa: a meta_info_*.csv/.txt file as pyiqa ships it.")
@click.option("--image-dir", type=click.Path(path_type=Path), default=None,
              help="pyiqa: folder the CSV's paths are relative to.")
@click.option("--higher-is-better/--lower-is-better", "higher_is_better", default=None,
              help="pyiqa: score direction when the file does not tell.")
@click.option("--name", "name_opt", default=None, help="csv, pyiqa: manifest name.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def prepare_cmd(name: str, root: Path, output: Path | None, strict: bool, as_json: bool, name_opt: str | None,
                **opts: Any) -> None:
    """Read dataset NAME (see `lpfiqa data list`) unpacked at ROOT and write its manifest.

    Prints what was found: images, missing files, score range and direction, groups, splits.
    Dataset-specific options apply only to the datasets named in their help.
    """
    opts["name"] = name_opt
    key = _canonical(name)
    accepted = _reader_options(key)
    # unset options stay None (older click turns an unset flag into False: not "given" either)
    given = {_READER_OPTIONS[k]: v for k, v in opts.items()
             if v is not None and not (k.startswith("keep_") and v is False)}
    wrong = [k for k in given if key in READERS and k not in accepted]
    if wrong:
        takes = ", ".join(_flag(o) for o in accepted) or "no options"
        flags = ", ".join(_flag(w) for w in wrong)
        raise click.UsageError(f"{flags} does not apply to {key} (it takes {takes})")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        manifest = prepare(name, root, check="off", **given)
    for w in caught:
        click.echo(f"warning: {w.message}", err=True)
    problems = check_counts(manifest, key)
    if strict and (problems or manifest.missing):
        why = list(problems)
        if manifest.missing:
            why.append(f"{len(manifest.missing)} labelled image(s) missing under {root}")
        raise DatasetError("; ".join(why) + " (--strict; drop it to write the manifest anyway)")
    for p in problems:
        click.echo(f"warning: {p}", err=True)
    _print_summary(manifest.summary(check_files=False), as_json)
    if output is not None:
        write_manifest(manifest, output)
        click.echo(f"wrote {output} ({len(manifest)} rows)", err=True)
    else:
        click.echo("dry run: nothing written (add -o manifest.csv)", err=True)


@data_group.command("summary")
@click.argument("manifest", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def summary_cmd(manifest: Path, as_json: bool) -> None:
    """Images, missing files, score range, groups and splits of a MANIFEST CSV."""
    _print_summary(read_manifest(manifest).summary(), as_json)


@data_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def list_cmd(as_json: bool) -> None:
    """Datasets `lpfiqa data prepare` can read, with their published sizes and options."""
    rows = []
    for key in list_datasets():
        exp = EXPECTED.get(key)
        rows.append({"name": key, "images": "/".join(str(n) for n in exp.images) if exp else "",
                     "groups": exp.groups if exp and exp.groups else "",
                     "official_split": bool(exp and exp.splits),
                     "options": [_flag(o) for o in _reader_options(key)]})
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    click.echo(f"{'name':<10} {'images':>11} {'groups':>6}  {'split':<8} options")
    for r in rows:
        click.echo(f"{r['name']:<10} {r['images']:>11} {r['groups']!s:>6}  "
                   f"{'official' if r['official_split'] else '':<8} {' '.join(r['options'])}")


def _print_summary(summary: Any, as_json: bool) -> None:
    click.echo(json.dumps(summary.as_dict(), indent=2) if as_json else str(summary))


COMMANDS = [data_group]
