"""What an encoder is, and the registry of encoders: torch-free, so configs and the CLI can check names cheaply.

An encoder is a frozen ImageNet network that maps RGB in [0, 1] to a few named stage outputs
(timm's ``features_only``). LPF average-pools the chosen stages onto one grid of ``cell`` x
``cell`` pixels and concatenates their channels into tokens, so everything after the encoder
(FEN, DaQRN, diagnosis, training, the feature cache, the protocols) sees only ``token_dim``.

Adding an encoder is one new file in this package (the network, its weight loader and a
``build(weights, out_stages)`` function returning a frozen :class:`~lpfiqa.backbones.encoder.FrozenEncoder`)
plus one :func:`register_encoder` entry below, with its stage table.

Example:
    >>> spec = encoder_spec("mobilenet_v2")
    >>> spec.stages["block13"], spec.default_stages
    ((96, 16), ('block6', 'block13'))
    >>> encoder_spec("vgg17")
    Traceback (most recent call last):
    ...
    lpfiqa.errors.ConfigError: unknown encoder `vgg17`; choose from ['efficientnet_lite0', 'mobilenet_v2', 'vgg16']
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError
from .stages import EFFICIENTNET_LITE0_STAGES, MOBILENET_V2_STAGES, VGG16_STAGES

if TYPE_CHECKING:
    from .encoder import FrozenEncoder

__all__ = ["ENCODERS", "EncoderSpec", "Preprocessing", "encoder_spec", "load_encoder", "register_encoder"]


@dataclass(frozen=True)
class Preprocessing:
    """How RGB in [0, 1] becomes the network's input: ``(x[:, order] * scale - mean) / std``."""

    order: tuple[int, int, int] = (2, 1, 0)  # channel order fed to the first conv (BGR for Keras/Caffe)
    scale: float = 255.0
    mean: tuple[float, float, float] = (103.939, 116.779, 123.68)  # in the fed order
    std: tuple[float, float, float] = (1.0, 1.0, 1.0)

    @classmethod
    def keras(cls) -> Preprocessing:
        return cls()

    @classmethod
    def torchvision(cls) -> Preprocessing:
        return cls(order=(0, 1, 2), scale=1.0, mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225))


@dataclass(frozen=True)
class EncoderSpec:
    """One encoder: its stage table, default stages, tiling halo and where its network is built.

    Attributes:
        name: registry name (``LPFConfig.encoder``).
        stages: stage name -> (channels, stride w.r.t. the input), shallow to deep.
        default_stages: the stages a new model pools into tokens unless told otherwise.
        halo: px of context kept around each tile of a huge image; must exceed the receptive-field
            radius of the deepest stage, so that tiled token grids equal whole-image ones.
        builder: ``"module:function"`` in this package; ``function(weights, out_stages)`` returns the
            frozen network (imported only when an encoder is built: listing encoders needs no torch).
        weights: what the bundled weights are (for model cards and ``lpfiqa models``).
    """

    name: str
    stages: dict[str, tuple[int, int]]
    default_stages: tuple[str, ...]
    halo: int
    builder: str
    weights: str = ""

    def check(self, stages: tuple[str, ...], cell: int) -> None:
        """Raise :class:`ConfigError` unless ``stages`` are this encoder's and ``cell`` a multiple of their strides."""
        bad = [s for s in stages if s not in self.stages]
        if bad or not stages:
            raise ConfigError(f"`stages` {list(stages)} for encoder {self.name}: choose among {list(self.stages)}")
        for s in stages:
            if cell % self.stages[s][1]:
                raise ConfigError(f"`cell` {cell} must be a multiple of {s}'s stride {self.stages[s][1]}")

    def token_dim(self, stages: tuple[str, ...]) -> int:
        return sum(self.stages[s][0] for s in stages)

    def strides(self, stages: tuple[str, ...]) -> tuple[int, ...]:
        return tuple(self.stages[s][1] for s in stages)


ENCODERS: dict[str, EncoderSpec] = {}


def register_encoder(spec: EncoderSpec) -> EncoderSpec:
    """Add an encoder to the registry (names are unique)."""
    if spec.name in ENCODERS:
        raise ValueError(f"encoder `{spec.name}` is already registered")
    if not set(spec.default_stages) <= set(spec.stages):
        raise ValueError(f"encoder `{spec.name}`: default stages {spec.default_stages} not in its stage table")
    ENCODERS[spec.name] = spec
    return spec


def encoder_spec(name: str) -> EncoderSpec:
    """The registered encoder called ``name``; a clear error naming the choices otherwise."""
    try:
        return ENCODERS[name]
    except KeyError:
        raise ConfigError(f"unknown encoder `{name}`; choose from {sorted(ENCODERS)}") from None


def load_encoder(name: str, weights: Any = None, out_stages: tuple[str, ...] | None = None) -> FrozenEncoder:
    """Build the frozen encoder ``name`` with its bundled ImageNet weights (or ``weights``, a path).

    Example:
        >>> net = load_encoder("mobilenet_v2", out_stages=("block3", "block13"))
        >>> import torch
        >>> {k: tuple(v.shape) for k, v in net(torch.rand(1, 3, 64, 96)).items()}
        {'block3': (1, 24, 16, 24), 'block13': (1, 96, 4, 6)}
    """
    spec = encoder_spec(name)
    stages = tuple(out_stages or spec.default_stages)
    spec.check(stages, cell=max(st for _, st in spec.stages.values()))
    module, function = spec.builder.split(":")
    build = getattr(importlib.import_module(f"{__package__}.{module}"), function)
    return build(weights, stages)


register_encoder(EncoderSpec(
    name="vgg16", stages=VGG16_STAGES, default_stages=("conv3_3", "conv4_3"),
    halo=128,  # conv5_3 sees at most 90 px past its own cell (tests/test_encoders.py measures it)
    builder="vgg16:build", weights="ImageNet VGG16, Keras release (weights/WEIGHTS.md)"))
register_encoder(EncoderSpec(
    name="mobilenet_v2", stages=MOBILENET_V2_STAGES, default_stages=("block6", "block13"),
    halo=256,  # conv18 sees at most 245 px past its own cell (tests/test_encoders.py measures it)
    builder="mobilenet_v2:build", weights="ImageNet MobileNetV2, torchvision release (weights/WEIGHTS.md)"))
register_encoder(EncoderSpec(
    name="efficientnet_lite0", stages=EFFICIENTNET_LITE0_STAGES, default_stages=("block4", "block10"),
    halo=448,  # block15 sees 425 px past its own cell: the 5x5 depthwise convs (tests/test_encoders.py measures it)
    builder="efficientnet_lite:build", weights="ImageNet EfficientNet-Lite0 (weights/WEIGHTS.md)"))
