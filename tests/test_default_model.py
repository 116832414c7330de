"""The bundled default model loads offline and orders the committed example photos sensibly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import lpfiqa

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
WEIGHTS = Path(lpfiqa.__file__).parent / "weights"


def test_default_is_v4_and_every_bundled_model_ships_its_evidence() -> None:
    default = lpfiqa.create_model()
    assert default.name == "lpf-synth-v4"
    assert not default.cfg.use_category  # the default dropped the category task (v1, v2 had it)
    assert default.cfg.use_diagnosis and len(default.cfg.diagnosis_families) == 7  # "what is wrong" ships with it
    assert default.cfg.output_anchors  # its scale was calibrated on validation photos
    assert lpfiqa.create_model("lpf-synth-v2").cfg.use_category
    assert not lpfiqa.create_model("lpf-synth-v3").cfg.output_anchors  # older releases score as they did
    for name in ("lpf-synth-v1", "lpf-synth-v2", "lpf-synth-v3", "lpf-synth-v4"):
        model = lpfiqa.create_model(name)
        assert model.cfg.higher_is_better and model.cfg.score_max == 100.0, name
        evaluation = json.loads((WEIGHTS / name / "evaluation.json").read_text())
        assert evaluation["photos"] >= 5 and "level_srcc_per_type" in evaluation  # held-out figures ship with it
        assert (WEIGHTS / name / "MODEL_CARD.md").exists()
    # v1 was saved before `token_transform` existed: it must load with the behaviour it was trained with
    assert lpfiqa.create_model("lpf-synth-v1").cfg.token_transform == "none"


@pytest.mark.skipif(not EXAMPLES.is_dir(), reason="examples/ not in this checkout")
def test_clean_example_beats_every_distorted_version() -> None:
    model = lpfiqa.create_model()
    files = sorted(EXAMPLES.glob("coffee_*.png"))
    scores = dict(zip((f.stem for f in files), model.score([str(f) for f in files]), strict=True))
    clean = scores.pop("coffee_clean")
    assert all(clean > s for s in scores.values()), (clean, scores)
    assert scores["coffee_jpeg_level2"] > scores["coffee_jpeg_level5"]
    assert all(0 <= s <= 100 for s in scores.values())
