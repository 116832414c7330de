"""Saving and loading LPF heads: safetensors for tensors, JSON for the config (no pickle).

A model is either a run folder (``model.safetensors`` + ``config.json``) or the weights file
alone: the config is also embedded in the safetensors metadata, so one file is enough.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import WeightsError
from ..utils import atomic_write
from .config import LPFConfig
from .lpf import LPFHeads

__all__ = ["CONFIG_FILE", "MODEL_FILE", "load_heads", "resolve_weights", "save_heads"]

MODEL_FILE = "model.safetensors"
CONFIG_FILE = "config.json"


def save_heads(heads: LPFHeads, folder: Path, filename: str = MODEL_FILE) -> Path:
    """Write ``folder/filename`` (weights + embedded config) and ``folder/config.json`` atomically."""
    from safetensors.torch import save_file

    folder = Path(folder)
    state = {k: v.detach().cpu().contiguous() for k, v in heads.state_dict().items()}
    meta = {"lpf_config": json.dumps(heads.cfg.to_dict(), sort_keys=True), "format": "lpfiqa-lpf-1"}
    path = atomic_write(folder / filename, lambda t: save_file(state, str(t), metadata=meta))
    heads.cfg.save(folder / CONFIG_FILE)
    return path


def resolve_weights(path: Path) -> Path:
    path = Path(path)
    if path.is_dir():
        for name in (MODEL_FILE, "best.safetensors"):
            if (path / name).exists():
                return path / name
        raise WeightsError(f"{path}: no {MODEL_FILE} in this folder; pass a run folder written by `lpfiqa train`")
    if not path.exists():
        raise WeightsError(f"{path}: no such model file or run folder")
    return path


def load_heads(path: str | Path) -> LPFHeads:
    """Load trained LPF heads from a run folder or a ``.safetensors`` file.

    Raises:
        WeightsError: missing file, not safetensors, or tensors that do not fit the config.
    """
    from safetensors import safe_open

    file = resolve_weights(Path(path))
    try:
        with safe_open(str(file), framework="pt") as f:
            meta = f.metadata() or {}
            state = {k: f.get_tensor(k) for k in f.keys()}
    except Exception as exc:
        raise WeightsError(f"{file}: not a readable safetensors file ({exc})") from exc
    if "lpf_config" in meta:
        cfg = LPFConfig.from_dict(json.loads(meta["lpf_config"]))
    elif (file.parent / CONFIG_FILE).exists():
        cfg = LPFConfig.load(file.parent / CONFIG_FILE)
    else:
        raise WeightsError(f"{file}: no LPF config inside or beside it ({CONFIG_FILE})")
    heads = LPFHeads(cfg)
    try:
        heads.load_state_dict({k: v.float() for k, v in state.items()})
    except RuntimeError as exc:
        raise WeightsError(f"{file}: weights do not match its config ({str(exc).splitlines()[0]})") from exc
    return heads.eval()
