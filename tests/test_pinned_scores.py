"""Pinned outputs: every bundled model's scores and one protocol run, fixed to 1e-5 across refactors.

The numbers below were produced by the code before the architecture work of issue 13 (one model
object, the encoder interface) and must not move: a refactor that changes a score by more than
1e-5 changes what users get from a released model. After a deliberate change of behaviour,
regenerate them and say why in the commit::

    .venv/bin/python tests/test_pinned_scores.py      # prints the current values as Python literals
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))  # conftest helpers when run as a script
from conftest import PHOTOS, make_graded_set  # noqa: E402

PHOTO_NAMES = ("skimage_chelsea.png", "skimage_coffee.png", "sklearn_flower.png")
TOL = 1e-5

# model -> scores of PHOTO_NAMES as shipped (their own sizes: 256 px long side, 1 batch of 3), in the model's scale
PINNED_SCORES = {
    "lpf-lite-v1": [91.5491511, 95.5240827, 98.7331575],  # added with the model (issue 15), batch norms folded
    "lpf-synth-v1": [71.0370772, 61.6925189, 41.7521524],
    "lpf-synth-v2": [63.0577549, 81.3936942, 30.2628628],
    "lpf-synth-v3": [60.2164202, 67.6098016, 41.5669088],
    "lpf-synth-v4": [94.4006607, 94.1829263, 91.2206548],
}
# lpf-synth-v4's diagnosis of the first photo, and its weight map's argmax cell and max weight
PINNED_DIAGNOSIS = {"blur": 0.3793916, "color": 0.3258935, "compression": 0.0021337, "noise": 0.0048375,
                    "brightness": 0.0663041, "spatial": 0.0807222, "sharpness_contrast": 0.0062124}
PINNED_MAP = {"argmax": 35.0, "max_weight": 0.1011603, "score_map_mean": 68.5269775}
# one within-dataset protocol run (LPF, 2 splits, seed 0): per split (srcc, plcc)
PINNED_PROTOCOL = [(0.2581989, 0.2803831), (0.7745967, 0.9178838)]


def _images() -> list[torch.Tensor]:
    from lpfiqa.imageio import load_image

    return [load_image(Image.open(PHOTOS / n).convert("RGB")) for n in PHOTO_NAMES]


def current_scores() -> dict[str, list[float]]:
    import lpfiqa

    imgs = _images()
    return {name: [float(s) for s in lpfiqa.create_model(name).score(imgs)] for name in lpfiqa.list_models()}


def current_v4_details() -> tuple[dict[str, float], dict[str, float]]:
    import lpfiqa

    pred = lpfiqa.create_model("lpf-synth-v4").predict(_images()[0], return_maps=True)
    wm = pred.weight_map
    cell = int(np.argmax(wm))
    return dict(pred.diagnosis), {"argmax": float(cell), "max_weight": float(wm.flat[cell]),
                                  "score_map_mean": float(pred.score_map.mean())}


def current_protocol(folder: Path) -> list[tuple[float, float]]:
    from lpfiqa.models import LPFConfig
    from lpfiqa.protocol import within_protocol
    from lpfiqa.training import TrainConfig

    manifest = make_graded_set(folder / "imgs", n_photos=5, levels=1, size=(64, 64))
    cfg = LPFConfig(stages=("conv3_3",), latent_dim=8, hidden_dim=16, head_hidden=8, compare_hidden=8)
    res = within_protocol(manifest, n_splits=2, seed=0, cfg=cfg, tcfg=TrainConfig(epochs=2, batch_size=8),
                          cache_root=folder / "cache", progress=False)
    return [(float(r.metrics["srcc"]), float(r.metrics["plcc"])) for r in res.records]


@pytest.fixture(autouse=True)
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # pinned at one thread: reductions are then in one fixed order
    yield
    torch.set_num_threads(before)


def test_bundled_scores_are_pinned() -> None:
    got = current_scores()
    assert set(got) == set(PINNED_SCORES), "a bundled model was added or removed: pin its scores too"
    for name, want in PINNED_SCORES.items():
        assert got[name] == pytest.approx(want, abs=TOL), name


def test_default_model_diagnosis_and_maps_are_pinned() -> None:
    diag, maps = current_v4_details()
    assert diag == pytest.approx(PINNED_DIAGNOSIS, abs=TOL)
    assert maps == pytest.approx(PINNED_MAP, abs=TOL)


def test_protocol_run_is_pinned(tmp_path) -> None:
    got = current_protocol(tmp_path)
    assert len(got) == len(PINNED_PROTOCOL)
    for g, w in zip(got, PINNED_PROTOCOL, strict=True):
        assert g == pytest.approx(w, abs=TOL)


if __name__ == "__main__":
    import tempfile

    torch.set_num_threads(1)
    torch.manual_seed(0)
    print("PINNED_SCORES =", {k: [round(v, 7) for v in s] for k, s in current_scores().items()})
    d, m = current_v4_details()
    print("PINNED_DIAGNOSIS =", {k: round(v, 7) for k, v in d.items()})
    print("PINNED_MAP =", {k: round(v, 7) for k, v in m.items()})
    with tempfile.TemporaryDirectory() as tmp:
        import os

        os.environ["LPFIQA_CACHE"] = tmp
        print("PINNED_PROTOCOL =", [tuple(round(v, 7) for v in r) for r in current_protocol(Path(tmp))])
