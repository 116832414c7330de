"""VGG16 convolutional base (Simonyan & Zisserman, ICLR 2015), written out: 13 convs, 4 max-pools.

LPF (Huang & Fang, 2024, arXiv 2402.12043) uses a frozen ImageNet VGG16 as its encoder. We do
not depend on torchvision, so the 13 convolutions are spelled out here and the ImageNet
weights ship with the package (see ``weights/WEIGHTS.md`` for where they come from).

The backbone owns its preprocessing: callers pass RGB in [0, 1] and the registered buffers
turn it into what the weights expect (Keras/Caffe BGR 0-255 minus mean for the bundled
weights, torchvision's RGB mean/std for a torchvision state dict).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from ..errors import WeightsError

__all__ = ["STAGES", "Preprocessing", "VGG16Features", "load_vgg16"]

# (name, in_channels, out_channels) of the 13 convs; a 2x2 max-pool follows the last conv of each block.
_CONVS = [
    ("conv1_1", 3, 64), ("conv1_2", 64, 64),
    ("conv2_1", 64, 128), ("conv2_2", 128, 128),
    ("conv3_1", 128, 256), ("conv3_2", 256, 256), ("conv3_3", 256, 256),
    ("conv4_1", 256, 512), ("conv4_2", 512, 512), ("conv4_3", 512, 512),
    ("conv5_1", 512, 512), ("conv5_2", 512, 512), ("conv5_3", 512, 512),
]
# Stage outputs (after ReLU) a caller can ask for: name -> (channels, stride w.r.t. the input).
STAGES: dict[str, tuple[int, int]] = {
    "conv1_2": (64, 1), "conv2_2": (128, 2), "conv3_3": (256, 4), "conv4_3": (512, 8), "conv5_3": (512, 16),
}
_TORCHVISION_INDEX = [0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28]  # torchvision `features.N`
BUNDLED_WEIGHTS = "vgg16_imagenet_keras.safetensors"


@dataclass(frozen=True)
class Preprocessing:
    """How RGB in [0, 1] becomes the network's input: ``(x[:, order] * scale - mean) / std``."""

    order: tuple[int, int, int] = (2, 1, 0)  # channel order fed to conv1_1 (BGR for Keras/Caffe)
    scale: float = 255.0
    mean: tuple[float, float, float] = (103.939, 116.779, 123.68)  # in the fed order
    std: tuple[float, float, float] = (1.0, 1.0, 1.0)

    @classmethod
    def keras(cls) -> Preprocessing:
        return cls()

    @classmethod
    def torchvision(cls) -> Preprocessing:
        return cls(order=(0, 1, 2), scale=1.0, mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225))


class VGG16Features(nn.Module):
    """VGG16's convolutional base returning the requested stage outputs.

    Args:
        preprocessing: how RGB in [0, 1] is turned into the weights' input convention.
        out_stages: stage names to return (keys of :data:`STAGES`); computation stops after the
            deepest one.

    Example:
        >>> net = VGG16Features(out_stages=("conv3_3", "conv5_3"))
        >>> feats = net(torch.rand(1, 3, 64, 96))
        >>> [tuple(f.shape) for f in feats.values()]
        [(1, 256, 16, 24), (1, 512, 4, 6)]
    """

    def __init__(self, preprocessing: Preprocessing | None = None,
                 out_stages: tuple[str, ...] = ("conv3_3", "conv4_3", "conv5_3")) -> None:
        super().__init__()
        unknown = [s for s in out_stages if s not in STAGES]
        if unknown or not out_stages:
            raise ValueError(f"`out_stages` {out_stages!r}: choose among {list(STAGES)}")
        self.out_stages = tuple(sorted(out_stages, key=list(STAGES).index))
        pre = preprocessing or Preprocessing.keras()
        self.preprocessing = pre
        self.register_buffer("order", torch.tensor(pre.order), persistent=False)
        self.register_buffer("scale", torch.tensor(pre.scale), persistent=False)
        self.register_buffer("mean", torch.tensor(pre.mean).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(pre.std).view(1, 3, 1, 1), persistent=False)
        last = int(self.out_stages[-1][4]) if self.out_stages else 5
        for name, cin, cout in _CONVS:
            if int(name[4]) <= last:
                self.add_module(name, nn.Conv2d(cin, cout, 3, padding=1))

    @property
    def channels(self) -> list[int]:
        return [STAGES[s][0] for s in self.out_stages]

    @property
    def strides(self) -> list[int]:
        return [STAGES[s][1] for s in self.out_stages]

    def preprocess(self, x: torch.Tensor) -> torch.Tensor:
        """RGB in [0, 1], (B, 3, H, W) -> the weights' input convention."""
        return (x.index_select(1, self.order) * self.scale - self.mean) / self.std

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """RGB in [0, 1], (B, 3, H, W) -> {stage: (B, C, H/stride, W/stride)}."""
        x = self.preprocess(x)
        out: dict[str, torch.Tensor] = {}
        for name, _, _ in _CONVS:
            if name not in self._modules:
                break
            x = F.relu(self._modules[name](x), inplace=True)
            if name in STAGES:
                if name in self.out_stages:
                    out[name] = x
                if len(out) == len(self.out_stages):
                    break
                if name != "conv5_3":
                    x = F.max_pool2d(x, 2)
        return out


def _read_state(path: Path) -> dict[str, torch.Tensor]:
    if not path.exists():
        raise WeightsError(f"{path}: no such weights file; pass a VGG16 .safetensors or torchvision .pth")
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file
            return load_file(str(path))
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # any decode failure is the user's file, not our bug
        raise WeightsError(f"{path}: cannot read weights ({exc}); expected safetensors or a torch state dict") from exc


def _from_torchvision(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    out = {}
    for (name, _, _), idx in zip(_CONVS, _TORCHVISION_INDEX, strict=True):
        for kind in ("weight", "bias"):
            key = f"features.{idx}.{kind}"
            if key not in state:
                raise WeightsError(f"torchvision VGG16 state dict lacks `{key}`; is it a vgg16 (not vgg16_bn)?")
            out[f"{name}.{kind}"] = state[key]
    return out


def load_vgg16(weights: str | Path | None = None,
               out_stages: tuple[str, ...] = ("conv3_3", "conv4_3", "conv5_3"),
               frozen: bool = True) -> VGG16Features:
    """Build VGG16 with ImageNet weights.

    Args:
        weights: ``None`` for the bundled Keras ImageNet weights (offline), or a path to a
            torchvision ``vgg16`` state dict (``.pth``, read with ``weights_only=True``, torchvision
            preprocessing) or to a ``.safetensors`` file with our layer names (Keras preprocessing).
        out_stages: stage outputs to return.
        frozen: eval mode and ``requires_grad=False`` (LPF never trains its encoder).

    Returns:
        The backbone, on CPU, float32.

    Raises:
        WeightsError: the file is missing, unreadable or not a VGG16.

    Example:
        >>> net = load_vgg16()
        >>> sum(p.numel() for p in net.parameters()) == 14_714_688
        True
    """
    if weights is None:
        ref = resources.files("lpfiqa") / "weights" / BUNDLED_WEIGHTS
        with resources.as_file(ref) as path:
            state, pre = _read_state(Path(path)), Preprocessing.keras()
    else:
        path = Path(weights)
        state = _read_state(path)
        if any(k.startswith("features.") for k in state):
            state, pre = _from_torchvision(state), Preprocessing.torchvision()
        else:
            pre = Preprocessing.keras()
    net = VGG16Features(pre, out_stages=out_stages)
    own = net.state_dict()
    missing = [k for k in own if k not in state]
    if missing:
        raise WeightsError(f"{weights or BUNDLED_WEIGHTS}: missing VGG16 tensors {missing[:3]}...")
    try:
        net.load_state_dict({k: state[k].float() for k in own})
    except RuntimeError as exc:
        raise WeightsError(f"{weights or BUNDLED_WEIGHTS}: shapes do not match VGG16 ({exc})") from exc
    if frozen:
        net.eval().requires_grad_(False)
    return net
