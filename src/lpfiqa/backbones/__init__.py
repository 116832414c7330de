"""Frozen encoders. Only VGG16 for now: LPF's encoder."""

from .vgg16 import STAGES, Preprocessing, VGG16Features, load_vgg16

__all__ = ["STAGES", "Preprocessing", "VGG16Features", "load_vgg16"]
