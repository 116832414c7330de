"""Frozen ImageNet encoders behind one interface: VGG16 (LPF's), MobileNetV2 (LPF-Lite's), EfficientNet-Lite0.

:mod:`.base` says what an encoder is and holds the registry; each network is one file.
"""

from typing import TYPE_CHECKING

from .._lazy import lazy_getattr
from .base import ENCODERS, EncoderSpec, Preprocessing, encoder_spec, load_encoder, register_encoder
from .stages import STAGES

if TYPE_CHECKING:
    from .efficientnet_lite import EfficientNetLite0, load_efficientnet_lite0
    from .encoder import FrozenEncoder
    from .mobilenet_v2 import MobileNetV2, load_mobilenet_v2
    from .tokens import pool_tokens
    from .vgg16 import VGG16Features, load_vgg16

__all__ = ["ENCODERS", "STAGES", "EfficientNetLite0", "EncoderSpec", "FrozenEncoder", "MobileNetV2", "Preprocessing",
           "VGG16Features", "encoder_spec", "load_efficientnet_lite0", "load_encoder", "load_mobilenet_v2",
           "load_vgg16", "pool_tokens", "register_encoder"]
__getattr__ = lazy_getattr(__name__, {"VGG16Features": "vgg16", "load_vgg16": "vgg16", "FrozenEncoder": "encoder",
                                      "MobileNetV2": "mobilenet_v2", "load_mobilenet_v2": "mobilenet_v2",
                                      "pool_tokens": "tokens", "EfficientNetLite0": "efficientnet_lite",
                                      "load_efficientnet_lite0": "efficientnet_lite"})
