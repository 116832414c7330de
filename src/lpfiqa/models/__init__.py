"""LPF model definition and its config (the torch modules load on first use)."""

from typing import TYPE_CHECKING

from .._lazy import lazy_getattr
from .config import LPFConfig

if TYPE_CHECKING:
    from .lpf import FEN, LPF, ComparisonHead, DaQRN, DiagnosisHead, LPFHeads, pool_tokens

__all__ = ["FEN", "LPF", "ComparisonHead", "DaQRN", "DiagnosisHead", "LPFConfig", "LPFHeads", "pool_tokens"]
__getattr__ = lazy_getattr(__name__, {name: "lpf" for name in __all__ if name != "LPFConfig"})
