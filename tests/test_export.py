"""Export: ONNX and TorchScript graphs equal PyTorch's outputs within 1e-3 on several sizes; metadata; CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from _service_fixtures import encode, small_model
from click.testing import CliRunner

from lpfiqa.cli import cli
from lpfiqa.export import OnnxQualityModel, export_model
from lpfiqa.models.io import save_heads

pytest.importorskip("onnxruntime", reason="the ONNX tests need the onnx extra: pip install 'lpfiqa[onnx]'")

SIZES = [(64, 96), (160, 64), (100, 150)]  # the last is not a multiple of 32: cropped like the library does


@pytest.fixture(scope="module")
def diag_model():
    return small_model("export-test", diagnosis=True)


@pytest.fixture(scope="module")
def onnx_file(diag_model, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return export_model(diag_model, tmp_path_factory.mktemp("onnx") / "m.onnx", "onnx")


def test_onnx_equals_pytorch_on_several_sizes(diag_model, onnx_file: Path) -> None:
    engine = OnnxQualityModel(onnx_file)
    for i, (h, w) in enumerate(SIZES):
        image = torch.from_numpy(np.random.default_rng(i).random((3, h, w), dtype=np.float32))
        ref, got = diag_model.predict(image, return_maps=True), engine.predict(image, return_maps=True)
        assert abs(got.score - ref.score) < 1e-3
        assert got.weight_map.shape == ref.weight_map.shape == (h // 32, w // 32)
        assert np.abs(got.weight_map - ref.weight_map).max() < 1e-3
        assert np.abs(got.score_map - ref.score_map).max() < 1e-3
        assert got.diagnosis.keys() == ref.diagnosis.keys()
        assert max(abs(got.diagnosis[f] - ref.diagnosis[f]) for f in ref.diagnosis) < 1e-3


def test_onnx_carries_the_metadata(diag_model, onnx_file: Path) -> None:
    import onnx

    meta = {p.key: p.value for p in onnx.load(str(onnx_file)).metadata_props}
    assert meta["model"] == "export-test" and meta["model_version"].startswith("sha256:")
    assert json.loads(meta["score_range"]) == [diag_model.cfg.score_min, diag_model.cfg.score_max]
    assert meta["direction"] == "higher is better" and "centre-cropped" in meta["preprocessing"]
    assert json.loads(meta["outputs"]) == ["score", "weight_map", "score_map", "diagnosis"]
    assert json.loads(meta["diagnosis_families"]) == ["blur", "noise"]


@pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated:DeprecationWarning")
def test_torchscript_equals_pytorch(diag_model, tmp_path: Path) -> None:
    path = export_model(diag_model, tmp_path / "m.pt", "torchscript")
    extra = {"lpfiqa.json": ""}
    loaded = torch.jit.load(str(path), _extra_files=extra)
    assert json.loads(extra["lpfiqa.json"])["model"] == "export-test"
    for h, w in SIZES[:2]:
        image = torch.rand(1, 3, h, w)
        with torch.no_grad():
            score, wmap, smap, diag = loaded(image)
        ref = diag_model.predict(image[0], return_maps=True)
        assert abs(float(score[0]) - ref.score) < 1e-3 and np.abs(wmap[0].numpy() - ref.weight_map).max() < 1e-3


def test_cli_export_then_score_with_the_onnx_engine(tmp_path: Path) -> None:
    model = small_model()
    folder = tmp_path / "run"
    save_heads(model.heads, folder)
    for i in range(3):
        (tmp_path / f"img{i}.png").write_bytes(encode("PNG", seed=i, size=(96, 64)))
    out = tmp_path / "m.onnx"
    res = CliRunner().invoke(cli, ["export", "--model", str(folder), "--format", "onnx", "-o", str(out)])
    assert res.exit_code == 0, res.output
    rows = {}
    for engine, name in (("torch", str(folder)), ("onnx", str(out)), ("onnx", str(folder))):  # file, or cached
        res = CliRunner().invoke(cli, ["score", *sorted(str(p) for p in tmp_path.glob("*.png")), "--json",
                                       "--engine", engine, "--model", name])
        assert res.exit_code == 0, res.output
        rows[(engine, name)] = [json.loads(line)["score"] for line in res.stdout.splitlines()]
    base = rows[("torch", str(folder))]
    for scores in rows.values():
        assert np.allclose(scores, base, atol=1e-3)
    res = CliRunner().invoke(cli, ["score", str(tmp_path / "img0.png"), "--model", str(out)])
    assert res.exit_code == 2 and "add --engine onnx" in res.output


@pytest.mark.parametrize("encoder", ["mobilenet_v2", "efficientnet_lite0"])
def test_lite_encoders_export_and_score_the_same(encoder: str, tmp_path: Path) -> None:
    """The Lite encoders (channels_last, folded batch norms, TF "same" padding) survive the ONNX export."""
    from lpfiqa.inference import QualityModel
    from lpfiqa.models import LPFConfig, LPFHeads

    model = QualityModel(LPFHeads(LPFConfig(encoder=encoder, latent_dim=16, hidden_dim=32)).eval(), name=encoder)
    engine = OnnxQualityModel(export_model(model, tmp_path / "m.onnx", "onnx"))
    for i, (h, w) in enumerate(SIZES):
        image = torch.from_numpy(np.random.default_rng(i).random((3, h, w), dtype=np.float32))
        assert abs(engine.predict(image).score - model.predict(image).score) < 1e-3, (encoder, h, w)


def test_bundled_lite_model_scores_the_same_in_onnx_runtime(tmp_path: Path) -> None:
    """What the README recommends for speed (lpf-lite-v1 with --engine onnx) gives the pinned PyTorch scores."""
    from conftest import PHOTOS
    from PIL import Image
    from test_pinned_scores import PHOTO_NAMES, PINNED_SCORES

    import lpfiqa

    engine = OnnxQualityModel(export_model(lpfiqa.create_model("lpf-lite-v1"), tmp_path / "lite.onnx", "onnx"))
    got = [engine.predict(Image.open(PHOTOS / n).convert("RGB")).score for n in PHOTO_NAMES]
    assert np.allclose(got, PINNED_SCORES["lpf-lite-v1"], atol=1e-3), got


def test_create_model_engine_errors_say_what_to_do(tmp_path: Path) -> None:
    from lpfiqa.errors import ConfigError, UnknownModelError
    from lpfiqa.registry import create_model

    with pytest.raises(ConfigError, match="engine 'tensorrt': choose one of torch, onnx"):
        create_model("lpf-lite-v1", engine="tensorrt")
    with pytest.raises(ConfigError, match="is an ONNX file; score it with engine='onnx'"):
        create_model(str(tmp_path / "m.onnx"))
    with pytest.raises(UnknownModelError, match="no such ONNX file; write one with `lpfiqa export"):
        create_model(str(tmp_path / "m.onnx"), engine="onnx")
    with pytest.raises(UnknownModelError, match="neither a registered model"):
        create_model("lpf-lite-v9", engine="onnx")  # the name is checked before any export
