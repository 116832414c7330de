"""Atomic, pickle-free training checkpoints: tensors in safetensors, the rest in its JSON metadata."""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import WeightsError
from ..utils import atomic_write
from .fit import FitState

__all__ = ["CHECKPOINT_FILE", "load_checkpoint", "save_checkpoint"]

CHECKPOINT_FILE = "checkpoint.safetensors"


def save_checkpoint(state: FitState, folder: Path) -> Path:
    """Write ``folder/checkpoint.safetensors`` atomically (a crash keeps the previous one)."""
    from safetensors.torch import save_file

    tensors = {f"heads.{k}": v for k, v in state.heads.items()}
    tensors.update({f"best.{k}": v for k, v in state.best.items()})
    opt_meta = {"param_groups": state.optimizer["param_groups"], "state": {}}
    for pid, st in state.optimizer["state"].items():
        opt_meta["state"][str(pid)] = []
        for name, val in st.items():
            tensors[f"opt.{pid}.{name}"] = val
            opt_meta["state"][str(pid)].append(name)
    meta = {"epoch": str(state.epoch), "best_epoch": str(state.best_epoch), "best_srcc": repr(state.best_srcc),
            "history": json.dumps(state.history), "optimizer": json.dumps(opt_meta)}
    tensors = {k: v.detach().cpu().contiguous() for k, v in tensors.items()}
    return atomic_write(Path(folder) / CHECKPOINT_FILE, lambda t: save_file(tensors, str(t), metadata=meta))


def load_checkpoint(folder: Path) -> FitState:
    """Read the state written by :func:`save_checkpoint`.

    Raises:
        WeightsError: no checkpoint in ``folder`` or it cannot be read.
    """
    from safetensors import safe_open

    path = Path(folder) / CHECKPOINT_FILE
    if not path.exists():
        raise WeightsError(f"{path}: no checkpoint to resume from; start without --resume")
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata()
            tensors = {k: f.get_tensor(k) for k in f.keys()}
    except Exception as exc:
        raise WeightsError(f"{path}: unreadable checkpoint ({exc}); delete it and start again") from exc
    opt_meta = json.loads(meta["optimizer"])
    opt_state = {int(pid): {n: tensors[f"opt.{pid}.{n}"] for n in names} for pid, names in opt_meta["state"].items()}
    return FitState(
        epoch=int(meta["epoch"]),
        heads={k[6:]: v for k, v in tensors.items() if k.startswith("heads.")},
        optimizer={"state": opt_state, "param_groups": opt_meta["param_groups"]},
        best={k[5:]: v for k, v in tensors.items() if k.startswith("best.")},
        best_epoch=int(meta["best_epoch"]),
        best_srcc=float(meta["best_srcc"]),
        history=json.loads(meta["history"]),
    )
