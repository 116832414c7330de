"""Synthetic distortions: the 25 KADID-10k types at 5 levels, random chains, contact sheets.

KADID-10k: H. Lin, V. Hosu, D. Saupe, "KADID-10k: A Large-scale Artificially Distorted IQA
Database", QoMEX 2019.
"""

from typing import TYPE_CHECKING

from .._lazy import lazy_getattr

if TYPE_CHECKING:
    from .chain import random_chain
    from .distortions import Distortion, distort, get_distortion, list_distortions
    from .preview import contact_sheet

__all__ = ["Distortion", "contact_sheet", "distort", "get_distortion", "list_distortions", "random_chain"]
# scipy.ndimage and the 25 distortions load on first use: `lpfiqa synth --help` needs none of them.
__getattr__ = lazy_getattr(__name__, {
    "random_chain": "chain", "contact_sheet": "preview",
    "Distortion": "distortions", "distort": "distortions", "get_distortion": "distortions",
    "list_distortions": "distortions",
})
