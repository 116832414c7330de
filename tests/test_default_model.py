"""The bundled default model loads offline and orders the committed example photos sensibly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import lpfiqa

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
WEIGHTS = Path(lpfiqa.__file__).parent / "weights" / "lpf-synth-v1"


def test_bundled_model_metadata() -> None:
    model = lpfiqa.create_model()
    assert model.name == "lpf-synth-v1" and model.cfg.higher_is_better and model.cfg.score_max == 100.0
    evaluation = json.loads((WEIGHTS / "evaluation.json").read_text())
    assert evaluation["photos"] >= 5 and "level_srcc_per_type" in evaluation  # held-out figures ship with it


@pytest.mark.skipif(not EXAMPLES.is_dir(), reason="examples/ not in this checkout")
def test_clean_example_beats_every_distorted_version() -> None:
    model = lpfiqa.create_model()
    files = sorted(EXAMPLES.glob("coffee_*.png"))
    scores = dict(zip((f.stem for f in files), model.score([str(f) for f in files]), strict=True))
    clean = scores.pop("coffee_clean")
    assert all(clean > s for s in scores.values()), (clean, scores)
    assert scores["coffee_jpeg_level2"] > scores["coffee_jpeg_level5"]
    assert all(0 <= s <= 100 for s in scores.values())
