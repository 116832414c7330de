"""The accuracy benchmark's baselines: they live in the package now (:mod:`lpfiqa.protocol.baselines`).

Kept so that ``from methods import ...`` in bench scripts keeps working; ``lpfiqa protocol
--method NAME`` runs the same classes (:data:`lpfiqa.protocol.methods.METHODS`).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from lpfiqa.protocol.baselines import (  # noqa: E402
    BilinearHead,
    BrisqueSVR,
    GAPRegressor,
    HyperHead,
    NIQEMethod,
    StageSubset,
)

__all__ = ["BilinearHead", "BrisqueSVR", "GAPRegressor", "HyperHead", "NIQEMethod", "StageSubset"]
