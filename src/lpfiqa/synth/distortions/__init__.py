"""The 25 KADID-10k distortion types, one module per family.

KADID-10k: H. Lin, V. Hosu, D. Saupe, "KADID-10k: A Large-scale Artificially Distorted IQA
Database", QoMEX 2019. Importing this package registers every type.
"""

from __future__ import annotations

# Imported for their registration side effect (the registry sorts by KADID id).
from . import blur, brightness, color, compression, noise, sharpness, spatial  # noqa: F401
from ._registry import FAMILIES, Distortion, distort, get_distortion, list_distortions

__all__ = ["FAMILIES", "Distortion", "distort", "get_distortion", "list_distortions"]
