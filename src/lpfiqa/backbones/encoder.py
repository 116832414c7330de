"""The base class every encoder network derives from: its own preprocessing, its stages, frozen by default.

A subclass defines the layers and ``forward_stages(x)``, which runs the preprocessed input up to the
deepest requested stage and returns ``{stage: map}``. The base class owns what every encoder
shares: the preprocessing buffers (so a caller always passes RGB in [0, 1]), the stage
bookkeeping (``out_stages``, ``channels``, ``strides``) and freezing.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import torch
from torch import nn

from ..errors import WeightsError
from .base import EncoderSpec, Preprocessing, encoder_spec

__all__ = ["FrozenEncoder", "fold_batch_norm", "freeze", "load_state", "read_weights"]


class FrozenEncoder(nn.Module):
    """An ImageNet encoder returning the requested stage outputs, shallow to deep.

    Args:
        name: the encoder's registry name (its stage table is :func:`encoder_spec(name).stages <encoder_spec>`).
        preprocessing: how RGB in [0, 1] becomes the weights' input convention.
        out_stages: stage names to return; computation stops after the deepest one.
    """

    def __init__(self, name: str, preprocessing: Preprocessing, out_stages: tuple[str, ...]) -> None:
        super().__init__()
        self.spec: EncoderSpec = encoder_spec(name)
        unknown = [s for s in out_stages if s not in self.spec.stages]
        if unknown or not out_stages:
            raise ValueError(f"`out_stages` {out_stages!r}: choose among {list(self.spec.stages)}")
        order = list(self.spec.stages)
        self.out_stages = tuple(sorted(out_stages, key=order.index))
        self.preprocessing = preprocessing
        self.register_buffer("order", torch.tensor(preprocessing.order), persistent=False)
        self.register_buffer("scale", torch.tensor(preprocessing.scale), persistent=False)
        self.register_buffer("mean", torch.tensor(preprocessing.mean).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(preprocessing.std).view(1, 3, 1, 1), persistent=False)

    @property
    def channels(self) -> list[int]:
        return [self.spec.stages[s][0] for s in self.out_stages]

    @property
    def strides(self) -> list[int]:
        return [self.spec.stages[s][1] for s in self.out_stages]

    def preprocess(self, x: torch.Tensor) -> torch.Tensor:
        """RGB in [0, 1], (B, 3, H, W) -> the weights' input convention."""
        return (x.index_select(1, self.order) * self.scale - self.mean) / self.std

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """RGB in [0, 1], (B, 3, H, W) -> {stage: (B, C, H/stride, W/stride)} (H, W multiples of the largest stride)."""
        return self.forward_stages(self.preprocess(x))

    def forward_stages(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def batch_norm_pairs(self) -> list[tuple[nn.Module, str, str]]:
        """(owner, conv attribute, batch-norm attribute) of every conv followed by a batch norm; none by default."""
        return []

    def fold_batch_norms(self) -> None:
        """Fold every pair of :meth:`batch_norm_pairs` (frozen use only: see :func:`fold_batch_norm`)."""
        for owner, conv, bn in self.batch_norm_pairs():
            fold_batch_norm(getattr(owner, conv), getattr(owner, bn).eval())
            setattr(owner, bn, nn.Identity())


def read_weights(weights: str | Path | None, bundled: str, what: str) -> dict[str, torch.Tensor]:
    """The state dict of ``weights`` (a .safetensors or torch .pth path), or of the bundled file when None.

    A .pth is read with ``weights_only=True`` (no pickle code runs); ``what`` names the network in errors.

    Raises:
        WeightsError: the file is missing or cannot be decoded.
    """
    if weights is None:
        with resources.as_file(resources.files("lpfiqa") / "weights" / bundled) as path:
            return _read_file(Path(path), what)
    return _read_file(Path(weights), what)


def _read_file(path: Path, what: str) -> dict[str, torch.Tensor]:
    if not path.exists():
        raise WeightsError(f"{path}: no such weights file; pass a {what} .safetensors or torchvision .pth")
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file
            return load_file(str(path))
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # any decode failure is the user's file, not our bug
        raise WeightsError(f"{path}: cannot read weights ({exc}); expected safetensors or a torch state dict") from exc


def load_state(net: nn.Module, state: dict[str, torch.Tensor], source: str, what: str) -> None:
    """Load the tensors ``net`` needs from ``state`` (floating ones as float32); extra tensors are ignored.

    Raises:
        WeightsError: a tensor is missing or its shape does not fit (``source`` names the file).
    """
    own = list(net.state_dict())
    missing = [k for k in own if k not in state]
    if missing:
        raise WeightsError(f"{source}: missing {what} tensors {missing[:3]}...")
    try:
        net.load_state_dict({k: state[k].float() if state[k].is_floating_point() else state[k] for k in own})
    except RuntimeError as exc:
        raise WeightsError(f"{source}: shapes do not match {what} ({exc})") from exc


def freeze(net: nn.Module) -> nn.Module:
    """Eval mode and no gradients: LPF never trains its encoder."""
    return net.eval().requires_grad_(False)


@torch.no_grad()
def fold_batch_norm(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> None:
    """Fold an eval-mode batch norm into the conv before it (``bn`` is then the identity: replace it).

    A frozen network's batch norm is a fixed per-channel affine map, so ``bn(conv(x))`` is one conv
    with scaled weights and a bias: the same outputs to float rounding (~2e-6 relative, measured on
    MobileNetV2 at 1024x768) and one pass less over every expanded map, which made MobileNetV2's
    encoder 2.1x faster on CPU (bench/results/lite_speed.json, before and after).
    """
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    bias = bn.bias - bn.running_mean * scale + (conv.bias * scale if conv.bias is not None else 0)
    conv.weight = nn.Parameter(conv.weight * scale.view(-1, 1, 1, 1), requires_grad=False)
    conv.bias = nn.Parameter(bias, requires_grad=False)
