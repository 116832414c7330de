"""``lpfiqa export``: the whole inference graph as one ONNX or TorchScript file, with the model's metadata."""

from __future__ import annotations

from pathlib import Path

import click

from ..registry import DEFAULT_MODEL


@click.command("export")
@click.option("-m", "--model", default=DEFAULT_MODEL, show_default=True,
              help="Registered model name, run folder, or .safetensors file.")
@click.option("-f", "--format", "fmt", type=click.Choice(["onnx", "torchscript"]), default="onnx", show_default=True,
              help="ONNX (for ONNX Runtime and other engines) or TorchScript (for torch.jit.load).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The file to write (e.g. model.onnx, model.pt).")
def export_cmd(model: str, fmt: str, output: Path) -> None:
    """Export encoder + FEN + DaQRN (+ diagnosis) with dynamic height and width.

    \b
    Input:   image, float32 (1, 3, H, W), RGB in [0, 1], H and W multiples of 32 (centre-crop first)
    Outputs: score (1,), weight_map and score_map (1, H/32, W/32) [, diagnosis (1, F)]
    Metadata: name, version, score range, direction, preprocessing (ONNX metadata_props,
              TorchScript extra file lpfiqa.json)
    Score with it:  lpfiqa score photos/ --engine onnx --model model.onnx
    """
    from ..export import export_model  # imports torch: only when exporting
    from ..registry import create_model

    qm = create_model(model)
    path = export_model(qm, output, fmt)
    click.echo(f"wrote {path} ({path.stat().st_size / 2**20:.1f} MiB, {fmt}) for {qm.name}", err=True)


COMMANDS = [export_cmd]
