"""``lpfiqa eval`` (a trained model on a dataset) and ``lpfiqa protocol`` (within / cross-dataset)."""

from __future__ import annotations

from pathlib import Path

import click

from ..models.config import LPFConfig
from ..registry import DEFAULT_MODEL
from ..training.config import TrainConfig


@click.command("eval")
@click.option("-m", "--model", default=DEFAULT_MODEL, show_default=True,
              help="Registered model name, run folder, or .safetensors file.")
@click.option("-d", "--data", "manifest", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Manifest CSV (see `lpfiqa data prepare`).")
@click.option("--split", type=click.Choice(["all", "train", "val", "test"]), default="all", show_default=True,
              help="Evaluate only the rows of this official split.")
@click.option("-o", "--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write eval.json, predictions.csv and scatter.png here.")
@click.option("--threads", type=click.IntRange(0), default=0, help="Torch threads (0: default).")
def eval_cmd(model: str, manifest: Path, split: str, out: Path | None, threads: int) -> None:
    """Score a dataset with a model: SRCC, KRCC, PLCC, RMSE, raw and after 4/5-parameter logistics.

    Unreadable images are recorded (predictions.csv, eval.json) and left out of the figures.
    Correlations are computed with both sides turned higher-is-better, so a DMOS dataset gives
    positive figures for a good model.
    """
    import torch

    from ..protocol.evaluation import evaluate_model

    if threads:
        torch.set_num_threads(threads)
    report = evaluate_model(model, manifest, split=split, out=out)
    for name, value in report.metrics.items():
        click.echo(f"{name:>8}  {_fmt(value)}")
    for note in report.notes:
        click.echo(f"note: {note}", err=True)
    for path, error in report.failures:
        click.echo(f"failed: {path}: {error}", err=True)
    tail = f"; wrote {out}" if out else ""
    click.echo(f"evaluated {report.model} on {report.n_scored} of {report.n_images} images of "
               f"{report.dataset} ({report.split}) in {report.seconds:.1f}s{tail}", err=True)


#: ``--method`` names, for the help text without importing the library (and torch) at start-up;
#: tests/test_cli_data_eval.py checks it against lpfiqa.protocol.methods.METHODS.
METHOD_KEYS = ("lpf", "gap-ridge", "gap-svr", "bilinear", "hyper", "brisque-svr", "niqe")


def _fmt(v: float | int | None) -> str:
    if v is None or (isinstance(v, float) and v != v):
        return "-"
    return str(v) if isinstance(v, int) else f"{v:.4f}"


@click.command("protocol")
@click.option("--method", "method_keys", multiple=True, metavar="NAME",
              help=f"Method to run, repeatable (default lpf): {', '.join(METHOD_KEYS)}; "
                   "`--method list` describes them. All run on the same splits.")
@click.option("-d", "--data", "manifest", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Within-dataset: the manifest to split n times.")
@click.option("--train", "train_manifest", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Cross-dataset: train on this manifest (validation carved from it) ...")
@click.option("--test", "test_manifests", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
              help="... and test on this one (repeatable).")
@click.option("--splits", type=click.IntRange(1), default=None,
              help="Random splits (default 10), or repeats of the official split / cross run (default 1).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the splits and the training.")
@click.option("--official", is_flag=True, help="Use the manifest's official train/val/test split.")
@click.option("--test-fraction", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=0.2,
              show_default=True, help="Share of the content groups in each test part.")
@click.option("--val-fraction", type=click.FloatRange(0, 1, min_open=True, max_open=True),
              default=TrainConfig.val_fraction, show_default=True,
              help="Share of the training groups held out to choose the epoch.")
@click.option("--epochs", type=click.IntRange(1), default=TrainConfig.epochs, show_default=True)
@click.option("--batch-size", type=click.IntRange(2), default=TrainConfig.batch_size, show_default=True)
@click.option("--lr", type=click.FloatRange(0, min_open=True), default=TrainConfig.lr, show_default=True)
@click.option("--window", type=click.IntRange(0), default=TrainConfig.window, show_default=True,
              help="Training window in token cells; 0 = whole image.")
@click.option("--patience", type=click.IntRange(0), default=0,
              help="Early stop after N epochs without progress.")
@click.option("--latent-dim", type=click.IntRange(1), default=LPFConfig.latent_dim, show_default=True)
@click.option("--stages", default=",".join(LPFConfig.stages), show_default=True,
              help="Comma-separated VGG16 stages for the tokens.")
@click.option("--max-side", type=click.IntRange(32), default=None, help="Downscale images to this long side.")
@click.option("--encoder-weights", type=click.Path(exists=True, dir_okay=False), default=None,
              help="A torchvision vgg16 .pth instead of the bundled ImageNet weights.")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Feature cache folder (default $LPFIQA_CACHE or ~/.cache/lpfiqa).")
@click.option("-o", "--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write results.json, results.md, splits.csv, predictions.csv and plots here.")
@click.option("--threads", type=click.IntRange(0), default=0, help="Torch threads (0: default).")
@click.option("--workers", type=click.IntRange(1), default=1, show_default=True,
              help="Within a dataset: fits at once, each in a forked one-thread process (same figures, faster "
                   "on many cores).")
def protocol_cmd(method_keys: tuple[str, ...], manifest: Path | None, train_manifest: Path | None,
                 test_manifests: tuple[Path, ...], splits: int | None, seed: int, official: bool,
                 test_fraction: float, val_fraction: float,
                 epochs: int, batch_size: int, lr: float, window: int, patience: int, latent_dim: int,
                 stages: str, max_side: int | None, encoder_weights: str | None, cache_dir: Path | None,
                 out: Path | None, threads: int, workers: int) -> None:
    """Run LPF (and baselines) through the field's evaluation protocol.

    \b
    Within a dataset:  lpfiqa protocol --data koniq.csv --splits 10 --seed 0 -o runs/koniq
    Official split:    lpfiqa protocol --data koniq.csv --official -o runs/koniq-official
    Cross-dataset:     lpfiqa protocol --train koniq.csv --test livec.csv --test live.csv -o runs/x
    Against baselines: lpfiqa protocol --data koniq.csv --method lpf --method gap-svr --method brisque-svr

    Splits are by content group; a validation part carved from the training part chooses the
    epoch (a baseline's hyper-parameter); each test part is used once. Encoder features are
    extracted once for all splits. Prints the median (IQR) table; the results folder has every
    per-split figure.
    """
    keys = list(dict.fromkeys(method_keys or ("lpf",)))  # a repeated name runs once
    unknown = [k for k in keys if k not in METHOD_KEYS and k != "list"]
    if unknown:
        raise click.BadParameter(f"unknown method(s) {', '.join(unknown)}; choose among {', '.join(METHOD_KEYS)} "
                                 "(`--method list` describes them)", param_hint="'--method'")
    if "list" in keys:
        _list_methods()
        return
    import torch

    from ..protocol import cross_protocol, within_protocol
    from ..protocol.methods import make_method

    if (manifest is None) == (train_manifest is None):
        raise click.UsageError("give either --data (within-dataset) or --train with --test (cross-dataset)")
    if train_manifest is not None and not test_manifests:
        raise click.UsageError("--train needs at least one --test manifest")
    if manifest is not None and test_manifests:
        raise click.UsageError("--test goes with --train; with --data the test parts are split off the data")
    if train_manifest is not None and official:
        raise click.UsageError("--official applies to --data; a cross-dataset run trains on all of --train")
    if threads:
        torch.set_num_threads(threads)
    cfg = LPFConfig(stages=tuple(s.strip() for s in stages.split(",") if s.strip()), latent_dim=latent_dim)
    tcfg = TrainConfig(epochs=epochs, batch_size=batch_size, lr=lr, window=window, seed=seed,
                       val_fraction=val_fraction, max_side=max_side, patience=patience, threads=threads)
    methods = [make_method(k, cfg, tcfg) for k in keys]
    common = {"seed": seed, "val_fraction": val_fraction, "cfg": cfg, "tcfg": tcfg, "cache_root": cache_dir,
              "encoder_weights": encoder_weights, "max_side": max_side, "out": out, "methods": methods}
    if manifest is not None:
        res = within_protocol(manifest, n_splits=splits, official=official, test_fraction=test_fraction,
                              workers=workers, **common)
    else:
        res = cross_protocol(train_manifest, list(test_manifests), n_repeats=splits or 1, **common)
    md = res.to_markdown()
    click.echo(md.split("## Per split")[0].rstrip())
    click.echo("")
    click.echo(res.timing_line())
    if res.failures:
        click.echo(f"note: {len(res.failures)} unreadable image(s) left out (listed in results.json)",
                   err=True)
    click.echo(f"wrote {out}" if out else "nothing written (add -o DIR for results.json, results.md, plots)",
               err=True)


def _list_methods() -> None:
    from ..protocol.methods import METHODS

    width = max(len(k) for k in METHODS)
    for spec in METHODS.values():
        click.echo(f"{spec.key:<{width}}  {spec.name}: {spec.summary}")


COMMANDS = [eval_cmd, protocol_cmd]
