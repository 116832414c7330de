"""``lpfiqa synth``: build a weakly-labelled synthetic set, or draw a contact sheet of the distortions."""

from __future__ import annotations

from pathlib import Path

import click

from ..synth.build import SynthConfig


def _size(_ctx: click.Context, _param: click.Parameter, value: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in value.lower().split("x"))
    except ValueError:
        raise click.BadParameter(f"{value!r}: write it as WIDTHxHEIGHT, e.g. 512x384") from None
    return w, h


def _csv_list(value: str | None) -> tuple[str, ...] | None:
    return tuple(v.strip() for v in value.split(",") if v.strip()) if value else None


@click.command("synth")
@click.option("--pristine", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Folder of clean photos (one content group each).")
@click.option("-o", "--out", required=True, type=click.Path(path_type=Path),
              help="Output folder (or the .png file with --preview).")
@click.option("--preview", "preview", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Draw a contact sheet of all types x levels on this photo instead.")
@click.option("--size", default="512x384", show_default=True, callback=_size, help="Working size WIDTHxHEIGHT.")
@click.option("--types", default=None, help="Comma-separated distortion names (default: all 25).")
@click.option("--levels", default="1,2,3,4,5", show_default=True, help="Comma-separated levels in 1..5.")
@click.option("--levels-per-type", type=click.IntRange(0, 5), default=0, show_default=True,
              help="Training photos: keep this many random levels per type (0: all). Test photos keep all.")
@click.option("--chains", type=click.IntRange(0), default=0, show_default=True,
              help="Random chains of 1-3 distortions per photo.")
@click.option("--test-fraction", type=click.FloatRange(0, 1, max_open=True), default=0.2, show_default=True,
              help="Share of photos held out as the test split.")
@click.option("--test-photos", default=None, help="Comma-separated photo names to hold out (overrides the fraction).")
@click.option("--views", type=click.IntRange(1), default=1, show_default=True,
              help="Scenes per training photo: the whole photo plus VIEWS-1 zoomed random crops (same group). "
                   "Re-run with a larger value to add views to a finished set.")
@click.option("--types-per-photo", type=click.IntRange(0, 25), default=0, show_default=True,
              help="Training photos: a random subset of this many types each (0: all). Many photos with a few "
                   "distortions each teach content-independence better than a few photos with all of them.")
@click.option("--test-types-per-photo", type=click.IntRange(0, 25), default=0, show_default=True,
              help="Test photos: a random subset of this many types each, every level kept (0: all).")
@click.option("--label-metrics", default=",".join(SynthConfig.label_metrics), show_default=True,
              help="Full-reference metrics of the weak-label consensus (delta_e: CIEDE2000, sees colour damage).")
@click.option("--calibration", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Label with this calibration.json (e.g. a training set's) instead of fitting one: a test set "
                   "made of held-out photos only then gets labels on the training set's scale.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--workers", type=click.IntRange(0), default=0, help="Processes (0: one per core).")
def synth_cmd(pristine: Path | None, out: Path, preview: Path | None, size: tuple[int, int], types: str | None,
              levels: str, levels_per_type: int, chains: int, test_fraction: float, test_photos: str | None,
              views: int, types_per_photo: int, test_types_per_photo: int, label_metrics: str,
              calibration: str | None, seed: int, workers: int) -> None:
    """Distort pristine photos (25 KADID-10k types x 5 levels, optional chains), label them with
    full-reference metrics, and write OUT/manifest.csv for `lpfiqa train`. Re-running resumes.
    """
    if preview is not None:
        _preview(preview, out, size, _csv_list(types))
        return
    if pristine is None:
        raise click.UsageError("pass --pristine DIR (or --preview PHOTO for a contact sheet)")
    try:
        level_list = tuple(int(v) for v in levels.split(","))
    except ValueError:
        raise click.BadParameter(f"{levels!r}: comma-separated integers 1..5", param_hint="--levels") from None
    from ..synth.build import build_synthetic_set

    cfg = SynthConfig(size=size, types=_csv_list(types), levels=level_list, levels_per_type=levels_per_type,
                      chains=chains, test_fraction=test_fraction, test_photos=_csv_list(test_photos) or (),
                      seed=seed, workers=workers, views=views, types_per_photo=types_per_photo,
                      test_types_per_photo=test_types_per_photo, label_metrics=_csv_list(label_metrics) or (),
                      calibration=calibration)
    report = build_synthetic_set(pristine, out, cfg)
    click.echo(f"photos: {report.photos.get('train', 0)} train, {report.photos.get('test', 0)} test "
               f"({report.skipped_photos} photo views already done)")
    click.echo(f"images: {report.images} labelled (references score 100) -> {out / 'manifest.csv'}")
    click.echo(f"train on it with: lpfiqa train --data {out / 'manifest.csv'} --out runs/synth")


def _preview(photo: Path, out: Path, size: tuple[int, int], types: tuple[str, ...] | None) -> None:
    from PIL import Image

    from ..synth import contact_sheet
    from ..synth.build import fit_size

    target = out if out.suffix.lower() == ".png" else out / "preview.png"
    image = fit_size(Image.open(photo), size)
    path = contact_sheet(image, target, types=types)
    click.echo(f"wrote {path} (rows: distortion types; columns: reference, levels 1..5)")


COMMANDS = [synth_cmd]
