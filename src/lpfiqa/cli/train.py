"""``lpfiqa train``: train LPF on a manifest CSV and write a run folder."""

from __future__ import annotations

from pathlib import Path

import click

from ..backbones.base import ENCODERS
from ..models.config import LPFConfig
from ..training.config import TrainConfig


@click.command("train")
@click.argument("manifest_arg", metavar="[MANIFEST]", required=False,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-d", "--data", "manifest", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Manifest CSV to train on (as in `lpfiqa eval` and `lpfiqa protocol`; a bare MANIFEST also works).")
@click.option("-o", "--out", "run_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Run folder to write (weights, config, metrics, curves).")
@click.option("--epochs", type=click.IntRange(1), default=TrainConfig.epochs, show_default=True)
@click.option("--batch-size", type=click.IntRange(2), default=TrainConfig.batch_size, show_default=True,
              help="B images per step, B(B-1)/2 comparison pairs.")
@click.option("--lr", type=click.FloatRange(0, min_open=True), default=TrainConfig.lr, show_default=True)
@click.option("--window", type=click.IntRange(0), default=TrainConfig.window, show_default=True,
              help="Training window in token cells (7 = 224 px); 0 = whole image.")
@click.option("--seed", type=int, default=TrainConfig.seed, show_default=True)
@click.option("--val-fraction", type=click.FloatRange(0, 1, max_open=True), default=TrainConfig.val_fraction,
              show_default=True)
@click.option("--test-fraction", type=click.FloatRange(0, 1, max_open=True), default=TrainConfig.test_fraction,
              show_default=True, help="Ignored when the manifest has an official split.")
@click.option("--max-side", type=click.IntRange(32), default=None, help="Downscale images to this long side.")
@click.option("--patience", type=click.IntRange(0), default=0, help="Early stop after N epochs without progress.")
@click.option("--latent-dim", type=click.IntRange(1), default=LPFConfig.latent_dim, show_default=True)
@click.option("--hidden-dim", type=click.IntRange(1), default=LPFConfig.hidden_dim, show_default=True,
              help="FEN hidden width.")
@click.option("--dropout", type=click.FloatRange(0, 1, max_open=True), default=LPFConfig.dropout, show_default=True,
              help="FEN dropout.")
@click.option("--num-classes", type=click.IntRange(2), default=LPFConfig.num_classes, show_default=True)
@click.option("--lambda-cat", type=click.FloatRange(0), default=LPFConfig.lambda_cat, show_default=True)
@click.option("--lambda-cmp", type=click.FloatRange(0), default=LPFConfig.lambda_cmp, show_default=True)
@click.option("--category/--no-category", default=LPFConfig.use_category, show_default=True,
              help="The sample-level category task (the paper's; off by default: it did not help here).")
@click.option("--no-comparison", is_flag=True, help="Ablation: switch off the comparison task.")
@click.option("--no-weight-stream", is_flag=True, help="Ablation: DaQRN without its weight stream.")
@click.option("--encoder", type=click.Choice(sorted(ENCODERS)), default=LPFConfig.encoder, show_default=True,
              help="Frozen ImageNet encoder: vgg16 (LPF) or a Lite one (mobilenet_v2: lpf-lite-v1's).")
@click.option("--stages", default="",
              help="Comma-separated encoder stages for the tokens (default: the encoder's; vgg16: conv3_3,conv4_3; "
                   "mobilenet_v2: block6,block13; lpf-lite-v1 used block3,block6,block13).")
@click.option("--token-transform", type=click.Choice(["none", "log1p"]), default=LPFConfig.token_transform,
              show_default=True, help="Per-token transform before standardising (log1p tames heavy-tailed maps).")
@click.option("--schedule", type=click.Choice(["parallel", "two_stage"]), default=TrainConfig.schedule,
              show_default=True, help="parallel: LPF, every task at once; two_stage: the auxiliary tasks first "
                                      "(half the epochs), then DaQRN on the frozen FEN (a baseline).")
@click.option("--groups-per-batch", type=click.IntRange(0), default=TrainConfig.groups_per_batch, show_default=True,
              help="Draw each batch from this many content groups, so comparison pairs share a scene (0: random).")
@click.option("--lambda-rank", type=click.FloatRange(0), default=TrainConfig.lambda_rank, show_default=True,
              help="Weight of a within-photo ranking term on the score (needs groups; best with --groups-per-batch).")
@click.option("--lambda-order", type=click.FloatRange(0), default=TrainConfig.lambda_order, show_default=True,
              help="Weight of a loss on the known level order within a scene (same type at two levels, or clean "
                   "vs distorted; needs dist_type/dist_level; best with --groups-per-batch).")
@click.option("--diagnosis/--no-diagnosis", default=LPFConfig.use_diagnosis, show_default=True,
              help="Train the 'what is wrong' head on the manifest's distortion types (used at test time).")
@click.option("--lambda-diag", type=click.FloatRange(0), default=LPFConfig.lambda_diag, show_default=True)
@click.option("--diagnosis-detach/--diagnosis-parallel", default=LPFConfig.diagnosis_detach, show_default=True,
              help="Detach: the diagnosis loss trains only its head. Parallel: it also trains the FEN (one stage).")
@click.option("--encoder-weights", type=click.Path(exists=True, dir_okay=False), default=None,
              help="A torchvision vgg16 .pth instead of the bundled ImageNet weights.")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Feature cache folder (default $LPFIQA_CACHE or ~/.cache/lpfiqa).")
@click.option("--resume", is_flag=True, help="Continue an interrupted run from its last checkpoint.")
@click.option("--threads", type=click.IntRange(0), default=0, help="Torch threads (0: default).")
def train_cmd(manifest_arg: Path | None, manifest: Path | None, run_dir: Path, epochs: int, batch_size: int,
              lr: float, window: int, seed: int,
              val_fraction: float, test_fraction: float, max_side: int | None, patience: int, latent_dim: int,
              hidden_dim: int, dropout: float, num_classes: int, lambda_cat: float, lambda_cmp: float,
              category: bool, no_comparison: bool,
              no_weight_stream: bool, encoder: str, stages: str, token_transform: str, schedule: str,
              groups_per_batch: int,
              lambda_rank: float, lambda_order: float, diagnosis: bool, lambda_diag: float,
              diagnosis_detach: bool, encoder_weights: str | None, cache_dir: Path | None, resume: bool,
              threads: int) -> None:
    """Train LPF (FEN + category + comparison + DaQRN, one stage) on a manifest.

    \b
    lpfiqa train --data koniq.csv -o runs/koniq --epochs 40

    The manifest is a CSV with columns path,score and optionally higher_is_better, group, split
    (see `lpfiqa data prepare`). Encoder features are cached, so re-runs skip the encoder.
    `lpfiqa train MANIFEST -o RUN` (the manifest as an argument) is the same command.

    \b
    On several processes (DDP; one machine, or more with torchrun's rendezvous flags):
    torchrun --nproc_per_node 4 -m lpfiqa train --data koniq.csv -o runs/koniq
    Each encodes a share of the images into the feature cache and trains on a slice of every
    batch; the weights match one process's to float rounding (with --dropout 0: the dropout
    masks differ per process), and only rank 0 writes the run folder.
    """
    if manifest_arg is not None and manifest is not None and manifest_arg != manifest:
        raise click.UsageError(f"two manifests given ({manifest_arg} and --data {manifest}): give one")
    manifest = manifest or manifest_arg
    if manifest is None:
        raise click.UsageError("no manifest: give it with --data MANIFEST.csv (make one with `lpfiqa data prepare`)")
    from ..training.distributed import is_main
    from ..training.run import train_run

    mcfg = LPFConfig(encoder=encoder, stages=tuple(s.strip() for s in stages.split(",") if s.strip()),
                     latent_dim=latent_dim,
                     hidden_dim=hidden_dim, dropout=dropout,
                     num_classes=num_classes, lambda_cat=lambda_cat, lambda_cmp=lambda_cmp,
                     use_category=category, use_comparison=not no_comparison,
                     use_weight_stream=not no_weight_stream, token_transform=token_transform,
                     use_diagnosis=diagnosis, lambda_diag=lambda_diag, diagnosis_detach=diagnosis_detach)
    tcfg = TrainConfig(epochs=epochs, batch_size=batch_size, lr=lr, window=window, seed=seed,
                       val_fraction=val_fraction, test_fraction=test_fraction, max_side=max_side,
                       patience=patience, threads=threads, schedule=schedule, groups_per_batch=groups_per_batch,
                       lambda_rank=lambda_rank, lambda_order=lambda_order)
    report = train_run(manifest, run_dir, mcfg, tcfg, resume=resume, cache_root=cache_dir,
                       encoder_weights=encoder_weights)
    if not is_main():  # under torchrun: rank 0 speaks for the run
        return
    c = report.counts
    click.echo(f"images: {c['train']} train, {c['val']} val, {c['test']} test"
               + (f" ({len(report.failures)} unreadable, see failures.csv)" if report.failures else ""))
    click.echo(f"encoder features: {report.seconds_features:.1f}s "
               f"({report.cache_misses} computed, {report.cache_hits} from cache)")
    click.echo(f"training: {report.seconds_train:.1f}s, best epoch {report.best_epoch}")
    for name in ("val", "test"):
        m = getattr(report, name)
        if m:
            click.echo(f"{name:>4}: SRCC {m['srcc']:.4f}  PLCC {m['plcc']:.4f}  KRCC {m['krcc']:.4f}  "
                       f"RMSE {m['rmse']:.4f}")
    click.echo(f"wrote {run_dir} (score it with: lpfiqa score IMAGES --model {run_dir})")


COMMANDS = [train_cmd]
