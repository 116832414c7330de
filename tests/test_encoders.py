"""The encoder interface: every registered encoder keeps its contract, and LPF-Lite's weights are right, offline."""

from __future__ import annotations

import hashlib
import json

import pytest
import torch
from conftest import PHOTOS

from lpfiqa.backbones import ENCODERS, encoder_spec, load_encoder
from lpfiqa.backbones.tokens import TokenEncoder
from lpfiqa.errors import ConfigError, WeightsError
from lpfiqa.imageio import load_image
from lpfiqa.models import LPF, LPFConfig


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.mark.parametrize("name", sorted(ENCODERS))
def test_stage_maps_have_the_declared_channels_and_strides(name: str) -> None:
    spec = encoder_spec(name)
    net = load_encoder(name, out_stages=tuple(spec.stages))
    assert not any(p.requires_grad for p in net.parameters()) and not net.training  # frozen
    out = net(torch.rand(1, 3, 64, 96))
    assert list(out) == list(spec.stages)  # shallow to deep
    for stage, (c, s) in spec.stages.items():
        assert tuple(out[stage].shape) == (1, c, 64 // s, 96 // s), stage


@pytest.mark.parametrize("name", sorted(ENCODERS))
def test_halo_covers_the_receptive_field(name: str) -> None:
    """The gradient of one deepest-stage output cell reaches no input pixel farther than the tiling halo."""
    spec = encoder_spec(name)
    deepest = list(spec.stages)[-1]
    net = load_encoder(name, out_stages=(deepest,))
    stride = spec.stages[deepest][1]
    side = 2 * spec.halo + 8 * stride
    x = torch.rand(1, 3, side, side, requires_grad=True)
    y = net(x)[deepest]
    c = y.shape[-1] // 2
    y[0, :, c, c].sum().backward()
    rows = x.grad[0].abs().sum(0).sum(1).nonzero().flatten()
    # how far past the output cell's own pixels [c * stride, (c + 1) * stride) its inputs reach, either side
    reach = max(c * stride - int(rows.min()), int(rows.max()) - ((c + 1) * stride - 1))
    assert 0 < reach <= spec.halo, (name, reach, spec.halo)


@pytest.mark.parametrize("name", sorted(ENCODERS))
def test_tiled_grid_equals_whole_image_grid(name: str) -> None:
    spec = encoder_spec(name)
    whole = TokenEncoder(spec.default_stages, 32, tile=4096, backbone=name)
    tiled = TokenEncoder(spec.default_stages, 32, tile=96, backbone=name, encoder=whole.encoder)
    img = load_image(PHOTOS / "skimage_astronaut.png")[:, :, :224]
    a, b = whole.grid(img), tiled.grid(img)
    assert a.shape == b.shape == (1, spec.token_dim(spec.default_stages), img.shape[1] // 32, 7)
    assert torch.allclose(a, b, rtol=1e-4, atol=1e-4 * float(a.abs().max()))


def test_cache_key_names_the_encoder_and_keeps_vgg16s_old_key() -> None:
    vgg = TokenEncoder(("conv3_3", "conv4_3"), 32)
    before = hashlib.sha256(json.dumps(["bundled", ["conv3_3", "conv4_3"], 32]).encode()).hexdigest()[:16]
    assert vgg.key == before  # caches written before the encoder interface stay valid
    lite = TokenEncoder(("block6", "block13"), 32, backbone="mobilenet_v2")
    assert lite.key != vgg.key


def _imagenet_view(name: str) -> torch.Tensor:
    """torchvision's evaluation view: short side to 256, central 224 x 224 crop."""
    x = load_image(PHOTOS / name)[None]
    h, w = x.shape[-2:]
    s = 256 / min(h, w)
    x = torch.nn.functional.interpolate(x, size=(round(h * s), round(w * s)), mode="bilinear", antialias=True)
    t, left = (x.shape[-2] - 224) // 2, (x.shape[-1] - 224) // 2
    return x[..., t:t + 224, left:left + 224]


@pytest.mark.parametrize("name", ["mobilenet_v2", "efficientnet_lite0"])
def test_lite_encoder_weights_name_the_class_of_known_photos(name: str) -> None:
    """The bundled weights are ImageNet's: the classifier's top-5 holds the photo's class (no download)."""
    from lpfiqa.backbones.efficientnet_lite import load_efficientnet_lite0
    from lpfiqa.backbones.mobilenet_v2 import load_mobilenet_v2

    net = {"mobilenet_v2": load_mobilenet_v2, "efficientnet_lite0": load_efficientnet_lite0}[name](classifier=True)
    known = {  # ImageNet-1k class indices
        "skimage_chelsea.png": {281, 282, 283, 284, 285},  # tabby, tiger, Persian, Siamese, Egyptian cat
        "skimage_coffee.png": {504, 967, 968},  # coffee mug, espresso, cup
        "skimage_rocket.png": {657, 744, 812},  # missile, projectile, space shuttle
        "mate_LadyBird.png": {301},  # ladybug
    }
    for photo, classes in known.items():
        top5 = set(net.logits(_imagenet_view(photo)).topk(5).indices[0].tolist())
        assert top5 & classes, (photo, sorted(top5))
    # a control: the same photos with the colour channels scrambled and spatially shuffled lose their classes
    g = torch.Generator().manual_seed(0)
    x = _imagenet_view("skimage_chelsea.png")
    shuffled = x.flatten(2)[..., torch.randperm(224 * 224, generator=g)].reshape_as(x)
    assert not set(net.logits(shuffled).topk(5).indices[0].tolist()) & known["skimage_chelsea.png"]


def test_lpf_builds_on_any_encoder_and_heads_follow_its_token_dim() -> None:
    cfg = LPFConfig(encoder="mobilenet_v2", latent_dim=16, hidden_dim=32)
    assert cfg.stages == encoder_spec("mobilenet_v2").default_stages and cfg.token_dim == 32 + 96
    model = LPF(cfg).eval()
    assert model.forward_features(torch.rand(3, 64, 96)).shape == (1, 128, 2, 3)
    assert model(torch.rand(2, 3, 64, 96)).shape == (2,)
    assert LPFConfig.from_dict(cfg.to_dict()) == cfg


def test_encoder_errors_say_what_to_do(tmp_path) -> None:
    with pytest.raises(ConfigError, match="choose from"):
        LPFConfig(encoder="resnet50")
    with pytest.raises(ConfigError, match="choose among"):
        LPFConfig(encoder="mobilenet_v2", stages=("conv3_3",))
    with pytest.raises(ConfigError, match="multiple of"):
        LPFConfig(encoder="mobilenet_v2", stages=("block17",), cell=16)
    from lpfiqa.backbones.mobilenet_v2 import load_mobilenet_v2

    with pytest.raises(WeightsError, match="no such weights file"):
        load_mobilenet_v2(tmp_path / "missing.pth")
    (tmp_path / "bad.pth").write_bytes(b"not a state dict")
    with pytest.raises(WeightsError, match="cannot read"):
        load_mobilenet_v2(tmp_path / "bad.pth")
