"""VGG16 convolutional base (Simonyan & Zisserman, ICLR 2015), written out: 13 convs, 4 max-pools.

LPF (Huang & Fang, 2024, arXiv 2402.12043) uses a frozen ImageNet VGG16 as its encoder. We do
not depend on torchvision, so the 13 convolutions are spelled out here and the ImageNet
weights ship with the package (see ``weights/WEIGHTS.md`` for where they come from).

Speed: on x86-64 CPUs the 3x3 convolutions of one image run through PyTorch's bundled NNPACK
(Winograd F(6x6, 3x3)), measured 1.3-1.56x faster end to end than the default oneDNN direct
convolution at 512x384 and 1024x768, outputs within ~1e-5 relative (see ``bench/README.md``).
Layers too small to gain, autograd, other devices and dtypes take PyTorch's default path
(channels_last on CPU, 1.1-1.25x faster than NCHW there); batches run one image at a time
(NNPACK's batched mode is slower). ``LPFIQA_NNPACK=0`` or ``VGG16Features.fast_conv = False``
turn NNPACK off. NNPACK keeps a per-thread workspace between calls: large layers are computed
in row bands so that it stays near 110 MB (~0.7 GB unbanded at 1024x768), see ``_NNPACK_BAND``.
Its thread pool is sized by ``torch.get_num_threads()`` at its first use, once per process.

The backbone owns its preprocessing: callers pass RGB in [0, 1] and the registered buffers
turn it into what the weights expect (Keras/Caffe BGR 0-255 minus mean for the bundled
weights, torchvision's RGB mean/std for a torchvision state dict).
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from ..errors import WeightsError
from .base import Preprocessing
from .encoder import FrozenEncoder, freeze, load_state, read_weights
from .stages import VGG16_STAGES as STAGES

__all__ = ["STAGES", "Preprocessing", "VGG16Features", "build", "load_vgg16"]

# (name, in_channels, out_channels) of the 13 convs; a 2x2 max-pool follows the last conv of each block.
_CONVS = [
    ("conv1_1", 3, 64), ("conv1_2", 64, 64),
    ("conv2_1", 64, 128), ("conv2_2", 128, 128),
    ("conv3_1", 128, 256), ("conv3_2", 256, 256), ("conv3_3", 256, 256),
    ("conv4_1", 256, 512), ("conv4_2", 512, 512), ("conv4_3", 512, 512),
    ("conv5_1", 512, 512), ("conv5_2", 512, 512), ("conv5_3", 512, 512),
]
_TORCHVISION_INDEX = [0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28]  # torchvision `features.N`
BUNDLED_WEIGHTS = "vgg16_imagenet_keras.safetensors"

_NNPACK_MIN_PX = 2048  # smaller maps: NNPACK's per-call kernel transform costs more than it saves
_NNPACK_BAND = 16 << 20  # (in + out channels) x pixels per NNPACK call: bounds its kept workspace
_nnpack_pid: int | None = None  # process that initialised NNPACK (its thread pool does not survive fork)
_nnpack_ok: bool | None = None


def _nnpack_ready() -> bool:
    """Whether NNPACK may be used in this process: present, initialised here, and self-checked."""
    global _nnpack_ok, _nnpack_pid
    if _nnpack_ok is None:
        env = os.environ.get("LPFIQA_NNPACK", "auto").strip().lower()
        ok = env not in ("0", "off", "false", "no") and hasattr(torch, "_nnpack_spatial_convolution")
        ok = ok and (env != "auto" or platform.machine().lower() in ("x86_64", "amd64"))
        try:
            if ok and torch._nnpack_available():  # also creates NNPACK's thread pool (get_num_threads() wide)
                g = torch.Generator().manual_seed(0)
                x, w, b = (torch.randn(*s, generator=g) for s in ((1, 8, 20, 30), (16, 8, 3, 3), (16,)))
                with torch.no_grad():
                    ref = F.conv2d(x, w, b, padding=1)
                    got = torch._nnpack_spatial_convolution(x, w, b, [1, 1])
                ok = bool(torch.allclose(got, ref, rtol=1e-4, atol=1e-4 * float(ref.abs().max())))
            else:
                ok = False
        except (RuntimeError, AttributeError):
            ok = False
        _nnpack_ok, _nnpack_pid = ok, os.getpid()
    return _nnpack_ok and _nnpack_pid == os.getpid()


def _nnpack_conv3x3(x: torch.Tensor, conv: nn.Conv2d) -> torch.Tensor:
    """A padded 3x3 conv of one (1, C, H, W) image with NNPACK, in row bands of bounded size."""
    h, w = x.shape[-2:]
    weight = conv.weight.contiguous()  # NNPACK reads plain NCHW memory (a no-op unless channels_last)
    rows = max(1, _NNPACK_BAND // ((conv.in_channels + conv.out_channels) * w))
    rows = max(4, (rows + 2) // 6 * 6 - 2)  # band + 2 halo rows = whole 6-row Winograd tiles
    if rows >= h:
        return torch._nnpack_spatial_convolution(x.contiguous(), weight, conv.bias, [1, 1])
    out = x.new_empty(1, conv.out_channels, h, w)
    for r0 in range(0, h, rows):
        r1 = min(h, r0 + rows)
        s0, s1 = max(0, r0 - 1), min(h, r1 + 1)  # one row of real context above and below
        y = torch._nnpack_spatial_convolution(x[..., s0:s1, :].contiguous(), weight, conv.bias, [1, 1])
        out[..., r0:r1, :] = y[..., r0 - s0:r1 - s0, :]
    return out


class VGG16Features(FrozenEncoder):
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
        super().__init__("vgg16", preprocessing or Preprocessing.keras(), out_stages)
        self.fast_conv = True  # NNPACK where it wins (see the module docstring)
        last = int(self.out_stages[-1][4])
        for name, cin, cout in _CONVS:
            if int(name[4]) <= last:
                self.add_module(name, nn.Conv2d(cin, cout, 3, padding=1))

    def _nnpack(self, x: torch.Tensor) -> bool:
        """Whether the convs of ``x`` may use NNPACK (inference on CPU float32, and enabled)."""
        return (self.fast_conv and x.device.type == "cpu" and x.dtype == torch.float32
                and not (torch.is_grad_enabled() and (x.requires_grad or self.conv1_1.weight.requires_grad))
                and _nnpack_ready())

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """RGB in [0, 1], (B, 3, H, W) -> {stage: (B, C, H/stride, W/stride)}."""
        fast = x.shape[-2] * x.shape[-1] >= _NNPACK_MIN_PX and self._nnpack(x)
        if fast and x.shape[0] > 1:  # NNPACK's batched path is slower than one image at a time
            outs = [self.forward(x[i:i + 1]) for i in range(x.shape[0])]
            return {k: torch.cat([o[k] for o in outs]) for k in outs[0]}
        return self.forward_stages(self.preprocess(x), fast)

    def forward_stages(self, x: torch.Tensor, fast: bool = False) -> dict[str, torch.Tensor]:
        """Preprocessed (B, 3, H, W) -> {stage: map}; ``fast``: NNPACK for the large convs."""
        if not fast and x.device.type == "cpu":  # oneDNN is 1.1-1.25x faster on channels_last than on NCHW
            x = x.contiguous(memory_format=torch.channels_last)
        out: dict[str, torch.Tensor] = {}
        for name, _, _ in _CONVS:
            if name not in self._modules:
                break
            conv = self._modules[name]
            nnp = fast and x.shape[-2] * x.shape[-1] >= _NNPACK_MIN_PX
            x = F.relu(_nnpack_conv3x3(x, conv) if nnp else conv(x), inplace=True)
            if name in STAGES:
                if name in self.out_stages:
                    out[name] = x
                if len(out) == len(self.out_stages):
                    break
                if name != "conv5_3":
                    x = F.max_pool2d(x, 2)
        return {k: v.contiguous() for k, v in out.items()}  # NCHW whatever the path


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
    state, pre = read_weights(weights, BUNDLED_WEIGHTS, "VGG16"), Preprocessing.keras()
    if any(k.startswith("features.") for k in state):  # a torchvision file (the bundled one has our names)
        state, pre = _from_torchvision(state), Preprocessing.torchvision()
    net = VGG16Features(pre, out_stages=out_stages)
    load_state(net, state, str(weights or BUNDLED_WEIGHTS), "VGG16")
    return freeze(net) if frozen else net


def build(weights: str | Path | None, out_stages: tuple[str, ...]) -> VGG16Features:
    """The registry's builder (:func:`lpfiqa.backbones.load_encoder`): frozen, with ImageNet weights."""
    return load_vgg16(weights, out_stages)
