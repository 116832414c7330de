"""Export to ONNX (and TorchScript), and score through ONNX Runtime with the library's interface.

The exported graph is :class:`~lpfiqa.export.graph.InferenceGraph` with dynamic height and
width (multiples of the map cell); decoding and the centre crop stay outside it, as
:data:`lpfiqa.model_meta.PREPROCESSING` says. Every export carries the model's metadata (name,
version, score range, direction, preprocessing, outputs, the full config) as ONNX
``metadata_props`` (or a TorchScript extra file, ``lpfiqa.json``).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np
import torch

from ..errors import ConfigError, WeightsError
from ..features import center_crop_to_cell
from ..imageio import MAX_PIXELS, ImageInput, load_image
from ..inference import Prediction, QualityModel, ScoreRecord, score_sources
from ..model_meta import model_metadata
from ..models.config import LPFConfig
from .graph import InferenceGraph, output_names

__all__ = ["OnnxQualityModel", "export_model", "metadata_of", "onnx_for"]

FORMATS = ("onnx", "torchscript")


def metadata_of(model: QualityModel) -> dict[str, str]:
    """The key/value strings every export carries (JSON values are JSON-encoded).

    Example:
        >>> from lpfiqa.models import LPFConfig, LPFHeads
        >>> meta = metadata_of(QualityModel(LPFHeads(LPFConfig(latent_dim=16, hidden_dim=32)), name="demo"))
        >>> meta["model"], json.loads(meta["outputs"])
        ('demo', ['score', 'weight_map', 'score_map'])
    """
    meta = model_metadata(model)
    out = {k: v if isinstance(v, str) else json.dumps(v) for k, v in meta.items()}
    out["outputs"] = json.dumps(output_names(model))
    out["input"] = "image: float32 (1, 3, H, W), RGB in [0, 1], H and W multiples of map_cell"
    out["lpf_config"] = json.dumps(model.cfg.to_dict(), sort_keys=True)
    return out


@contextlib.contextmanager
def _plain_convs(graph: InferenceGraph) -> Iterator[None]:
    """Trace the standard convolutions, not lpfiqa's NNPACK fast path (eager-only)."""
    before = getattr(graph.encoder, "fast_conv", None)
    if before is not None:
        graph.encoder.fast_conv = False
    try:
        yield
    finally:
        if before is not None:
            graph.encoder.fast_conv = before


def export_model(model: QualityModel, path: str | os.PathLike, fmt: str = "onnx") -> Path:
    """Write the whole inference graph (encoder + FEN + DaQRN [+ diagnosis]) to one file.

    Args:
        model: the model to export.
        path: the output file (``.onnx``, or ``.pt`` for TorchScript).
        fmt: ``"onnx"`` or ``"torchscript"``.

    Returns:
        The path written.

    Raises:
        ConfigError: an unknown format, or the ONNX packages are missing.
    """
    if fmt not in FORMATS:
        raise ConfigError(f"export format {fmt!r}: use one of {', '.join(FORMATS)}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    graph = InferenceGraph(model).eval()
    example = torch.rand(1, 3, 2 * model.cfg.cell, 3 * model.cfg.cell)
    meta = metadata_of(model)
    tmp = path.with_name(path.name + ".partial")
    with _plain_convs(graph), torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the exporters' deprecation and tracer chatter
        if fmt == "torchscript":
            traced = torch.jit.trace(graph, example, check_trace=False)
            torch.jit.save(traced, str(tmp), _extra_files={"lpfiqa.json": json.dumps(meta)})
        else:
            try:
                import onnx
            except ImportError as exc:
                raise ConfigError("ONNX export needs the onnx extra: pip install 'lpfiqa[onnx]'") from exc
            h, w = torch.export.Dim("h", min=1, max=1024), torch.export.Dim("w", min=1, max=1024)
            cell = model.cfg.cell
            quiet = logging.getLogger("torch.onnx")
            level = quiet.level
            quiet.setLevel(logging.ERROR)  # its "torchvision is not installed" lines
            try:
                torch.onnx.export(graph, (example,), str(tmp), dynamo=True, input_names=["image"],
                                  output_names=output_names(model), external_data=False, verbose=False,
                                  dynamic_shapes={"image": {2: cell * h, 3: cell * w}})
            finally:
                quiet.setLevel(level)
            proto = onnx.load(str(tmp))
            for key, value in meta.items():
                proto.metadata_props.add(key=key, value=value)
            onnx.save(proto, str(tmp))
    os.replace(tmp, path)
    return path


def onnx_for(model: QualityModel, folder: Path | None = None) -> Path:
    """The ONNX file of ``model``, exported once into the cache (keyed by the weights' hash).

    Example:
        >>> onnx_for  # doctest: +ELLIPSIS
        <function onnx_for at ...>
    """
    from ..utils import cache_dir

    meta = model_metadata(model)
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in Path(meta["model"]).name)[:60]
    path = (folder or cache_dir() / "onnx") / f"{safe}-{meta['model_version'].split(':')[-1]}.onnx"
    return path if path.exists() else export_model(model, path, "onnx")


class OnnxQualityModel:
    """Scores through ONNX Runtime with :class:`~lpfiqa.inference.QualityModel`'s interface.

    Args:
        path: an ``.onnx`` file written by :func:`export_model` (``lpfiqa export``).
        max_pixels: refuse larger images.
        threads: ONNX Runtime intra-op threads (0: its default).

    Images are scored whole (no tiling): memory grows with the image, so keep ``max_pixels``
    moderate for huge photos, or use the PyTorch engine, which tiles them exactly.
    """

    engine = "onnx"

    def __init__(self, path: str | os.PathLike, max_pixels: int = MAX_PIXELS, threads: int = 0) -> None:
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise ConfigError("--engine onnx needs ONNX Runtime: pip install 'lpfiqa[onnx]'") from exc
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        try:
            self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:
            raise WeightsError(f"{path}: not an ONNX model ONNX Runtime can load ({type(exc).__name__}); "
                               "re-export it with `lpfiqa export --format onnx`") from exc
        meta = self.session.get_modelmeta().custom_metadata_map
        if "lpf_config" not in meta:
            raise WeightsError(f"{path}: no lpfiqa metadata in this ONNX file; export it with `lpfiqa export`")
        self.metadata = meta
        self.cfg = LPFConfig.from_dict(json.loads(meta["lpf_config"]))
        self.name = meta.get("model", str(path))
        self.version = meta.get("model_version", "")
        self.outputs = json.loads(meta["outputs"])
        self.diagnosis_families = tuple(json.loads(meta.get("diagnosis_families", "[]")))
        self.max_pixels = max_pixels

    def __repr__(self) -> str:
        return f"OnnxQualityModel({self.name!r}, {self.version})"

    def predict(self, image: ImageInput, return_maps: bool = False) -> Prediction:
        """Like :meth:`QualityModel.predict`, through ONNX Runtime."""
        x = center_crop_to_cell(load_image(image, self.max_pixels), self.cfg.cell)
        values = dict(zip(self.outputs, self.session.run(None, {"image": x[None].contiguous().numpy()}),
                          strict=True))
        pred = Prediction(score=float(values["score"][0]))
        if "diagnosis" in values:
            pred.diagnosis = {f: float(p) for f, p in zip(self.diagnosis_families, values["diagnosis"][0],
                                                          strict=True)}
        if return_maps:
            pred.weight_map = np.asarray(values["weight_map"][0])
            pred.score_map = np.asarray(values["score_map"][0], dtype=np.float64)
        return pred

    def score(self, images: ImageInput | Sequence[ImageInput]) -> float | list[float]:
        """Like :meth:`QualityModel.score` (one image: a float; a list: a list of floats)."""
        if isinstance(images, (list, tuple)):
            return [self.predict(x).score for x in images]
        return self.predict(images).score

    def score_files(self, sources: Iterable[ImageInput],
                    on_record: Callable[[ScoreRecord], None] | None = None) -> list[ScoreRecord]:
        """Like :meth:`QualityModel.score_files`: a failure is recorded on its row and the rest go on."""
        return score_sources(sources, self.predict, self.max_pixels, on_record)

