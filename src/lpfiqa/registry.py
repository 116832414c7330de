"""One registry of named, bundled models and the single entry point ``create_model``."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import ConfigError, UnknownModelError, WeightsError

if TYPE_CHECKING:  # imported inside create_model: listing models must not import torch
    from .inference import QualityModel

__all__ = ["DEFAULT_MODEL", "ModelInfo", "create_model", "list_models", "model_info", "register_model"]


@dataclass(frozen=True)
class ModelInfo:
    """A bundled model: its name, the package folder holding its weights, and one line about it."""

    name: str
    folder: str  # under lpfiqa/weights/
    description: str


_REGISTRY: dict[str, ModelInfo] = {}
DEFAULT_MODEL = "lpf-synth-v4"


def register_model(name: str, folder: str, description: str) -> ModelInfo:
    """Add a bundled model to the registry (names are unique)."""
    if name in _REGISTRY:
        raise ValueError(f"model `{name}` is already registered")
    _REGISTRY[name] = info = ModelInfo(name, folder, description)
    return info


register_model("lpf-synth-v4", "lpf-synth-v4",
               "default: LPF (conv3_3+conv4_3 tokens, log1p, known-level-order loss) with a diagnosis head "
               "(7 distortion families), trained on 25 KADID-style synthetic distortions of 478 photos from "
               "registry packages with colour-aware full-reference weak labels; 0-100, higher is better; "
               "scale calibrated on validation photos (MODEL_CARD.md)")
register_model("lpf-lite-v1", "lpf-lite-v1",
               "LPF-Lite: the default model's recipe, data and held-out photos on a frozen ImageNet MobileNetV2 "
               "(block3+block6+block13 tokens, chosen on training photos: bench/lite_stages.py) instead of VGG16; "
               "0-100, higher is better; scale calibrated on validation photos (MODEL_CARD.md)")
register_model("lpf-synth-v3", "lpf-synth-v3",
               "third release: LPF without the category task (conv3_3+conv4_3 tokens, log1p) trained on 25 KADID-style "
               "synthetic distortions of 28 photos x 2 views with full-reference weak labels; 0-100, higher is "
               "better (MODEL_CARD.md)")
register_model("lpf-synth-v2", "lpf-synth-v2",
               "second release: LPF (conv3_3+conv4_3 tokens, log1p) trained on 25 KADID-style synthetic distortions "
               "of 28 photos x 2 views with full-reference weak labels; 0-100, higher is better (MODEL_CARD.md)")
register_model("lpf-synth-v1", "lpf-synth-v1",
               "first release: LPF (conv3_3..conv5_3 tokens) trained on the same distortions of 28 photos, "
               "1 view each; kept so that scores made with it can be reproduced")


def list_models(pattern: str = "") -> list[str]:
    """Names of the bundled models, optionally only those containing ``pattern``.

    Example:
        >>> "lpf-synth-v1" in list_models()
        True
    """
    return sorted(n for n in _REGISTRY if pattern in n)


def model_info(name: str) -> ModelInfo:
    """The registry entry of a bundled model: its name, weights folder and one-line description.

    Example:
        >>> model_info("lpf-synth-v1").folder
        'lpf-synth-v1'
    """
    if name not in _REGISTRY:
        raise UnknownModelError(f"`{name}` is not a registered model; {_did_you_mean(name)}choose from {list_models()}")
    return _REGISTRY[name]


def _did_you_mean(name: str) -> str:
    close = difflib.get_close_matches(name, list(_REGISTRY), n=3)
    return f"did you mean {', '.join(close)}? " if close else ""


ENGINES = ("torch", "onnx")


def create_model(name_or_path: str | Path | None = None, max_pixels: int | None = None, engine: str = "torch",
                 threads: int = 0) -> QualityModel:
    """Build a ready-to-score model.

    Args:
        name_or_path: a registered name (see :func:`list_models`; default ``lpf-synth-v4``), a run
            folder written by ``lpfiqa train``, or a ``.safetensors`` weights file; with
            ``engine="onnx"`` also an ``.onnx`` file written by ``lpfiqa export``.
        max_pixels: refuse images larger than this (default 200 MP).
        engine: ``"torch"`` (PyTorch), or ``"onnx"``: the same model in ONNX Runtime (exported
            once into the cache; needs ``pip install 'lpfiqa[onnx]'``), with the same interface and
            the same scores within 1e-3. LPF-Lite runs several times faster there on CPU.
        threads: ONNX Runtime intra-op threads (0: its default); PyTorch's are set with
            ``torch.set_num_threads``.

    Returns:
        A :class:`~lpfiqa.inference.QualityModel` on CPU, or for ``engine="onnx"`` an
        :class:`~lpfiqa.export.OnnxQualityModel` (``predict``, ``score``, ``score_files``, ``cfg``).

    Raises:
        UnknownModelError: not a registered name and no such path (close names are suggested).
        WeightsError: the files exist but cannot be loaded.
        ConfigError: an unknown engine, an ``.onnx`` file without ``engine="onnx"``, or ONNX Runtime missing.

    Example:
        >>> import lpfiqa
        >>> model = lpfiqa.create_model()            # doctest: +SKIP
        >>> model.score("photo.jpg")                 # doctest: +SKIP
        71.3
        >>> fast = lpfiqa.create_model("lpf-lite-v1", engine="onnx")  # doctest: +SKIP
    """
    if engine not in ENGINES:
        raise ConfigError(f"engine {engine!r}: choose one of {', '.join(ENGINES)}")
    key = str(name_or_path) if name_or_path is not None else DEFAULT_MODEL
    if key.endswith(".onnx") and engine != "onnx":
        raise ConfigError(f"{key} is an ONNX file; score it with engine='onnx' (--engine onnx)")
    kwargs = {"max_pixels": max_pixels} if max_pixels else {}
    if engine == "onnx":
        from .export import OnnxQualityModel, onnx_for

        path = Path(key).expanduser() if key.endswith(".onnx") else onnx_for(create_model(key))
        if not path.is_file():
            raise UnknownModelError(f"{key}: no such ONNX file; write one with `lpfiqa export --format onnx`")
        return OnnxQualityModel(path, threads=threads, **kwargs)  # type: ignore[return-value]
    from .inference import QualityModel
    from .models.io import load_heads

    if key in _REGISTRY:
        ref = resources.files("lpfiqa") / "weights" / _REGISTRY[key].folder
        with resources.as_file(ref) as folder:
            if not Path(folder).exists():
                raise WeightsError(f"bundled model `{key}` is not built in this checkout; "
                                   "run `python tools/train_default_model.py` or pass --model RUN_DIR")
            return QualityModel(load_heads(Path(folder)), name=key, **kwargs)
    path = Path(key).expanduser()
    if path.exists():
        return QualityModel(load_heads(path), name=str(path), **kwargs)
    raise UnknownModelError(f"`{key}` is neither a registered model nor an existing path; {_did_you_mean(key)}"
                            f"choose from {list_models()} or pass a run folder / .safetensors file")
