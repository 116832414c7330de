"""Synthetic distortions: the 25 KADID-10k types at 5 levels, random chains, contact sheets.

KADID-10k: H. Lin, V. Hosu, D. Saupe, "KADID-10k: A Large-scale Artificially Distorted IQA
Database", QoMEX 2019.
"""

from __future__ import annotations

from .chain import random_chain
from .distortions import Distortion, distort, get_distortion, list_distortions
from .preview import contact_sheet

__all__ = ["Distortion", "contact_sheet", "distort", "get_distortion", "list_distortions", "random_chain"]
