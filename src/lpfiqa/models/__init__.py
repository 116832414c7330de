"""LPF model definition and its config."""

from .config import LPFConfig
from .lpf import FEN, LPF, ComparisonHead, DaQRN, LPFHeads, pool_tokens

__all__ = ["FEN", "LPF", "ComparisonHead", "DaQRN", "LPFConfig", "LPFHeads", "pool_tokens"]
