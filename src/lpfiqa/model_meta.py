"""What a served or exported model says about itself: name, version, scale, direction, preprocessing.

The version is a content hash of the trained weights (``sha256:`` + 12 hex digits): two models
with the same name but different weights (a retrained run folder) never share it, and the
same weights always give the same version, on any machine.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .inference import QualityModel

__all__ = ["PREPROCESSING", "model_metadata", "model_version"]

PREPROCESSING = ("RGB in [0, 1] (EXIF orientation applied, alpha composited on white), centre-cropped to "
                 "multiples of the map cell, no resizing, no mean/std normalisation (the encoder does it)")


def model_version(model: QualityModel) -> str:
    """A content hash of the model's trained heads: ``sha256:`` and 12 hex digits.

    Example:
        >>> from lpfiqa.inference import QualityModel
        >>> from lpfiqa.models import LPFConfig, LPFHeads
        >>> import torch; _ = torch.manual_seed(0)
        >>> v = model_version(QualityModel(LPFHeads(LPFConfig(latent_dim=16, hidden_dim=32))))
        >>> v.startswith("sha256:"), len(v)
        (True, 19)
    """
    if model.engine == "onnx":  # the version its export recorded: this same hash of the same heads
        return model.version
    digest = hashlib.sha256()
    for key, tensor in sorted(model.heads.state_dict().items()):
        digest.update(key.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return "sha256:" + digest.hexdigest()[:12]


def model_metadata(model: QualityModel) -> dict[str, Any]:
    """Everything a client needs to read a score: JSON-ready.

    Example:
        >>> from lpfiqa.inference import QualityModel
        >>> from lpfiqa.models import LPFConfig, LPFHeads
        >>> meta = model_metadata(QualityModel(LPFHeads(LPFConfig(latent_dim=16, hidden_dim=32)), name="demo"))
        >>> meta["model"], meta["direction"], meta["map_cell"]
        ('demo', 'higher is better', 32)
    """
    from . import __version__
    from .imageio import MIN_SIDE

    cfg = model.cfg
    return {"model": model.name or "unnamed", "model_version": model_version(model), "lpfiqa_version": __version__,
            "score_name": cfg.score_name, "score_range": list(cfg.output_range),
            "higher_is_better": bool(cfg.higher_is_better),
            "direction": "higher is better" if cfg.higher_is_better else "lower is better",
            "stages": list(cfg.stages), "map_cell": int(cfg.cell), "min_side": MIN_SIDE,
            "diagnosis_families": list(model.diagnosis_families), "preprocessing": PREPROCESSING}
