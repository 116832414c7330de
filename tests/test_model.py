"""LPF model: backbone stages, tokens, heads, antisymmetry, exact tiling, config/weights round trip."""

from __future__ import annotations

import json

import pytest
import torch

from lpfiqa.backbones import STAGES, load_vgg16
from lpfiqa.errors import ConfigError, WeightsError
from lpfiqa.features import TokenEncoder
from lpfiqa.inference import QualityModel
from lpfiqa.models import LPF, ComparisonHead, LPFConfig, LPFHeads
from lpfiqa.models.io import load_heads, save_heads
from lpfiqa.training.losses import bin_labels, quantile_bins

SMALL = LPFConfig(latent_dim=16, hidden_dim=32, head_hidden=16, compare_hidden=8, use_category=True)  # every head on


@pytest.fixture(scope="module")
def vgg():
    return load_vgg16(out_stages=tuple(STAGES))


def test_backbone_stages_channels_strides_and_frozen(vgg) -> None:
    feats = vgg(torch.rand(1, 3, 64, 96))
    for name, (c, s) in STAGES.items():
        assert feats[name].shape == (1, c, 64 // s, 96 // s)
    assert all(not p.requires_grad for p in vgg.parameters()) and not vgg.training
    assert sum(p.numel() for p in vgg.parameters()) == 14_714_688


def test_bundled_weights_are_imagenet_like(vgg) -> None:
    # ImageNet conv1_1 filters are colour/edge detectors with a known scale; random init is not.
    w = vgg.conv1_1.weight
    assert 0.3 < w.abs().max() < 1.5 and w.std() > 0.05
    x = torch.rand(1, 3, 32, 32)
    assert torch.allclose(vgg.preprocess(x)[0, 0], x[0, 2] * 255 - 103.939, atol=1e-3)  # BGR, Caffe mean


def test_torchvision_state_dict_is_accepted(tmp_path, vgg) -> None:
    idx = [0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28]
    names = [n for n in vgg.state_dict() if n.endswith("weight")]
    state = {}
    for i, n in zip(idx, names, strict=True):
        state[f"features.{i}.weight"] = vgg.state_dict()[n]
        state[f"features.{i}.bias"] = vgg.state_dict()[n.replace("weight", "bias")]
    torch.save(state, tmp_path / "vgg16.pth")
    net = load_vgg16(tmp_path / "vgg16.pth")
    assert net.preprocessing.order == (0, 1, 2) and torch.equal(net.conv5_3.weight, vgg.conv5_3.weight)
    torch.save({"features.0.weight": state["features.0.weight"]}, tmp_path / "bad.pth")
    with pytest.raises(WeightsError, match="lacks `features.0.bias`"):
        load_vgg16(tmp_path / "bad.pth")
    with pytest.raises(WeightsError, match="no such weights file"):
        load_vgg16(tmp_path / "missing.pth")


def test_heads_shapes_and_positive_weights() -> None:
    heads = LPFHeads(SMALL)
    out = heads(torch.randn(3, 10, SMALL.token_dim))
    assert out["score"].shape == (3,) and out["w"].shape == (3, 10) and out["g"].shape == (3, 16)
    assert out["logits"].shape == (3, SMALL.num_classes) and (out["w"] > 0).all()
    torch.testing.assert_close(out["score"], (out["w"] * out["s"]).sum(1) / out["w"].sum(1))


def test_mask_ignores_padding() -> None:
    heads = LPFHeads(SMALL).eval()
    tokens = torch.randn(1, 6, SMALL.token_dim)
    padded = torch.cat([tokens, 1e3 * torch.randn(1, 4, SMALL.token_dim)], 1)
    mask = torch.tensor([[True] * 6 + [False] * 4])
    torch.testing.assert_close(heads(padded, mask)["score"], heads(tokens)["score"])
    torch.testing.assert_close(heads(padded, mask)["g"], heads(tokens)["g"])


def test_comparison_head_is_antisymmetric() -> None:
    head = ComparisonHead(16, 8)
    a, b = torch.randn(5, 16), torch.randn(5, 16)
    torch.testing.assert_close(head(a, b), -head(b, a))
    assert head(a, a).abs().max() == 0


@pytest.mark.parametrize("switch", ["use_weight_stream", "use_score_stream", "use_category", "use_comparison"])
def test_ablation_switches(switch: str) -> None:
    cfg = LPFConfig(**{**SMALL.to_dict(), switch: False})
    out = LPFHeads(cfg)(torch.randn(2, 4, cfg.token_dim))
    assert torch.isfinite(out["score"]).all()
    if switch == "use_weight_stream":
        assert (out["w"] == 1).all()
    if switch == "use_category":
        assert "logits" not in out


def test_quantile_binning() -> None:
    import numpy as np

    y = np.linspace(0, 1, 100)
    labels = bin_labels(y, quantile_bins(y, 4))
    assert labels.tolist() == sorted(labels.tolist()) and torch.bincount(labels).tolist() == [25, 25, 25, 25]


def test_tiled_scoring_equals_whole_image() -> None:
    torch.manual_seed(1)
    img = torch.rand(3, 300, 420)  # not multiples of the cell: centrally cropped to 288 x 416
    enc = TokenEncoder(SMALL.stages, SMALL.cell, tile=96)
    whole = TokenEncoder(SMALL.stages, SMALL.cell, tile=4096, encoder=enc.encoder)
    g_tiled, g_whole = enc.grid(img), whole.grid(img)
    assert g_tiled.shape == g_whole.shape == (1, 768, 9, 13)
    torch.testing.assert_close(g_tiled, g_whole, rtol=1e-4, atol=1e-3)
    heads = LPFHeads(SMALL).eval()
    a = QualityModel(heads, enc).predict(img).score
    b = QualityModel(heads, whole).predict(img).score
    assert abs(a - b) < 1e-4


def test_score_does_not_depend_on_batch() -> None:
    model = QualityModel(LPFHeads(SMALL).eval())
    imgs = [torch.rand(3, 64, 96) for _ in range(3)] + [torch.rand(3, 96, 64)]
    together = model.score(imgs)
    alone = [model.score(i) for i in imgs]
    assert max(abs(x - y) for x, y in zip(together, alone, strict=True)) < 1e-4


def test_maps_are_consistent_with_score() -> None:
    model = QualityModel(LPFHeads(SMALL).eval())
    pred = model.predict(torch.rand(3, 96, 128), return_maps=True)
    assert pred.weight_map.shape == pred.score_map.shape == (3, 4)
    assert abs(pred.weight_map.sum() - 1) < 1e-5
    assert abs((pred.weight_map * pred.score_map).sum() - pred.score) < 1e-3


def test_weights_and_config_round_trip(tmp_path) -> None:
    cfg = LPFConfig(**{**SMALL.to_dict(), "score_min": 1.0, "score_max": 5.0, "higher_is_better": False})
    heads = LPFHeads(cfg)
    heads.token_mean.fill_(3.0)
    save_heads(heads, tmp_path)
    assert json.loads((tmp_path / "config.json").read_text())["score_max"] == 5.0
    for src in (tmp_path, tmp_path / "model.safetensors"):
        back = load_heads(src)
        assert back.cfg == cfg
        for k, v in heads.state_dict().items():
            assert torch.equal(v, back.state_dict()[k]), k
    (tmp_path / "config.json").unlink()
    assert load_heads(tmp_path / "model.safetensors").cfg == cfg  # config also embedded in the file


def test_unit_scale_mapping_handles_dmos() -> None:
    cfg = LPFConfig(score_min=0, score_max=80, higher_is_better=False)
    assert cfg.to_unit(0) == 1 and cfg.from_unit(1.0) == 0 and cfg.from_unit(cfg.to_unit(30.0)) == 30.0


def test_bad_configs_are_rejected_with_reasons() -> None:
    with pytest.raises(ConfigError, match="choose among"):
        LPFConfig(stages=("conv9_9",))
    with pytest.raises(ConfigError, match="multiple of"):
        LPFConfig(cell=20)
    with pytest.raises(ConfigError, match="at least one stream"):
        LPFConfig(use_weight_stream=False, use_score_stream=False)
    with pytest.raises(ConfigError, match="unknown LPF config keys"):
        LPFConfig.from_dict({"latent": 3})


def test_full_model_is_differentiable_in_heads_only() -> None:
    cfg = SMALL
    model = LPF(cfg, load_vgg16(out_stages=cfg.stages))
    model(torch.rand(2, 3, 64, 64)).sum().backward()
    assert all(p.grad is None for p in model.encoder.parameters())
    assert all(p.grad is not None for p in model.heads.daqrn.parameters())


def test_token_transform_log1p_and_legacy_configs() -> None:
    cfg = LPFConfig(**{**SMALL.to_dict(), "token_transform": "log1p"})
    heads = LPFHeads(cfg).eval()
    t = torch.tensor([[[0.0, 1.0, -1e-3, 1e4]]])
    torch.testing.assert_close(heads.transform(t), torch.tensor([[[0.0, 0.6931472, 0.0, 9.2104]]]), atol=1e-4, rtol=0)
    raw = LPFConfig(**{**SMALL.to_dict(), "token_transform": "none"})
    assert torch.equal(LPFHeads(raw).transform(t), t)  # "none" leaves tokens as they are
    old = {k: v for k, v in SMALL.to_dict().items() if k != "token_transform"}  # a file from before the field
    assert LPFConfig.from_dict(old).token_transform == "none"
    with pytest.raises(ConfigError, match="token_transform"):
        LPFConfig(token_transform="sqrt")


def test_token_statistics_are_fitted_after_the_transform() -> None:
    import numpy as np

    from lpfiqa.training import TrainConfig
    from lpfiqa.training.fit import FeatureSet, fit

    cfg = LPFConfig(stages=("conv3_3",), latent_dim=8, hidden_dim=16, head_hidden=8, compare_hidden=8,
                    token_transform="log1p")
    grids = [torch.full((256, 2, 2), float(v)) for v in (0.0, np.e - 1)]  # log1p -> 0 and 1
    res = fit(cfg, TrainConfig(epochs=1, batch_size=2), FeatureSet(grids * 3, np.linspace(0, 1, 6)))
    torch.testing.assert_close(res.heads.token_mean, torch.full((256,), 0.5))
