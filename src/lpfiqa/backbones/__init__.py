"""Frozen encoders. Only VGG16 for now: LPF's encoder."""

from typing import TYPE_CHECKING

from .._lazy import lazy_getattr
from .stages import STAGES

if TYPE_CHECKING:
    from .vgg16 import Preprocessing, VGG16Features, load_vgg16

__all__ = ["STAGES", "Preprocessing", "VGG16Features", "load_vgg16"]
__getattr__ = lazy_getattr(__name__, {"Preprocessing": "vgg16", "VGG16Features": "vgg16", "load_vgg16": "vgg16"})
