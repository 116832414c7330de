"""Tests of lpfiqa.synth.labels: the FR-metric weak-label combiner."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy.ndimage import gaussian_filter
from scipy.stats import rankdata, spearmanr

from lpfiqa.errors import ConfigError
from lpfiqa.fr import gmsd, mdsi, ms_ssim, vif
from lpfiqa.synth import labels as L
from lpfiqa.synth.labels import (
    METRICS,
    PERFECT_VALUE,
    LabelCalibration,
    agreement,
    compute_metrics,
    fit_calibration,
    weak_label,
)

torch.set_num_threads(1)

PERFECT = {m: [PERFECT_VALUE[m]] for m in METRICS}


def fake_metrics(
    n: int = 300, seed: int = 0, noise: float = 0.03
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Latent quality in [0, 1] and four noisy, non-linear, differently scaled 'metrics' of it."""
    rng = np.random.default_rng(seed)
    q = rng.uniform(0.0, 1.0, n)

    def e() -> np.ndarray:
        return rng.normal(0.0, noise, n)

    raw = {
        "ms_ssim": np.clip(0.55 + 0.45 * q**0.5 + e(), 0, 1),
        "gmsd": np.clip(0.3 * (1 - q) ** 1.5 + 0.5 * noise * e(), 0, None),
        "vif": np.clip(q**2 + e(), 0, None),
        "mdsi": np.clip(0.5 * (1 - q) ** 0.7 + e(), 0, None),
    }
    return q, raw


@pytest.fixture(scope="module")
def fitted() -> tuple[np.ndarray, dict[str, np.ndarray], LabelCalibration]:
    q, raw = fake_metrics()
    return q, raw, fit_calibration(raw)


def test_metrics_order_and_directions() -> None:
    assert METRICS == ("ms_ssim", "gmsd", "vif", "mdsi")
    assert L.ALL_METRICS == (*METRICS, "delta_e")
    assert L.QUALITY_SIGN == {"ms_ssim": 1.0, "gmsd": -1.0, "vif": 1.0, "mdsi": -1.0, "delta_e": -1.0}


def test_delta_e_sees_colour_damage_the_structural_metrics_miss() -> None:
    """Why delta_e joined the consensus: desaturation barely moves MS-SSIM/GMSD, but moves CIEDE2000."""
    from PIL import Image

    from lpfiqa.synth import distort

    photo = Path(__file__).parent / "fixtures" / "crops" / "skimage_coffee.png"
    ref = np.asarray(Image.open(photo).convert("RGB"))
    rng = np.random.default_rng(0)
    imgs = [distort(ref, "color_saturation_1", lv, rng) for lv in (1, 3, 5)]
    as_t = lambda a: torch.from_numpy(np.array(a)).permute(2, 0, 1)[None].float() / 255  # noqa: E731
    m = [L.compute_metrics(as_t(ref), as_t(d), L.ALL_METRICS) for d in imgs]
    de = [float(x["delta_e"]) for x in m]
    assert de[0] < de[1] < de[2] and de[2] > 5, de  # grows with the level, well past a visible difference
    assert all(float(x["ms_ssim"]) > 0.97 for x in m), m  # the structural view hardly moves
    cal = fit_calibration({k: np.array([float(x[k]) for x in m] * 4) for k in L.ALL_METRICS})
    assert cal.metrics == L.ALL_METRICS  # a calibration may include it, in canonical order


def test_fit_uses_logistic_and_labels_track_latent_quality(fitted) -> None:
    q, raw, cal = fitted
    assert cal.metrics == METRICS and cal.n_fit == len(q)
    assert all(cal.mappings[m]["kind"] == "logistic4" for m in METRICS)
    lab = weak_label(raw, cal)
    assert lab.shape == q.shape and lab.dtype == np.float64
    assert lab.min() >= 0.0 and lab.max() <= 100.0
    assert spearmanr(lab, q).statistic > 0.97
    # Rank-based target: the fitting set's labels spread over the scale around its middle.
    assert 35 < np.mean(lab) < 65 and np.percentile(lab, 95) - np.percentile(lab, 5) > 60
    for m in METRICS:
        assert cal.mappings[m]["rmse"] < 12 and cal.mappings[m]["srocc"] > 0.9


def test_label_follows_the_documented_formula(fitted) -> None:
    _, raw, cal = fitted
    # Consensus target = 100 * mean over metrics of ECDF (average ranks / N) in quality direction.
    n = len(raw["vif"])
    target = 100 * np.mean([rankdata(L.QUALITY_SIGN[m] * raw[m]) / n for m in METRICS], axis=0)
    lab = weak_label(raw, cal)
    assert np.sqrt(np.mean((lab - target) ** 2)) < 6
    # Label = mean of the per-metric maps, each clipped to [0, 100].
    per_metric = np.stack([cal.map_metric(m, raw[m]) for m in METRICS])
    np.testing.assert_allclose(lab, per_metric.mean(axis=0))
    # Each map is the anchored logistic written in the module docstring.
    spec = cal.mappings["gmsd"]
    u = -raw["gmsd"]
    sig = lambda t: 1 / (1 + np.exp(-t))  # noqa: E731
    manual = spec["lo"] + (100 - spec["lo"]) * sig((u - spec["c"]) / spec["s"]) / sig(
        (0 - spec["c"]) / spec["s"]
    )
    np.testing.assert_allclose(cal.map_metric("gmsd", raw["gmsd"]), np.clip(manual, 0, 100), rtol=1e-12)


def test_undistorted_maps_to_100_and_maps_are_monotone(fitted) -> None:
    _, raw, cal = fitted
    assert weak_label(PERFECT, cal).tolist() == [100.0]
    for m in METRICS:
        lo, hi = np.min(raw[m]), np.max(raw[m])
        grid = np.linspace(lo, hi, 200)
        mapped = cal.map_metric(m, grid) * L.QUALITY_SIGN[m]
        assert np.all(np.diff(mapped) >= -1e-12), m
        assert cal.map_metric(m, [PERFECT_VALUE[m]])[0] == pytest.approx(100.0, abs=1e-9)
    # Beyond perfect (VIF > 1 from contrast enhancement) is capped at 100 per metric.
    assert cal.map_metric("vif", [1.5])[0] == 100.0


def test_deterministic(fitted) -> None:
    _, raw, cal = fitted
    again = fit_calibration({k: v.copy() for k, v in raw.items()})
    assert again.to_dict() == cal.to_dict()


def test_json_round_trip(fitted, tmp_path) -> None:
    _, raw, cal = fitted
    path = tmp_path / "sub" / "calibration.json"
    cal.save(path)
    text = path.read_text()
    assert json.loads(text)["scheme"] == L.SCHEME
    back = LabelCalibration.load(path)
    assert back == cal
    np.testing.assert_array_equal(weak_label(raw, back), weak_label(raw, cal))
    assert LabelCalibration.from_dict(json.loads(json.dumps(cal.to_dict()))) == cal


def test_invalid_calibration_data_is_rejected(fitted, tmp_path) -> None:
    _, _, cal = fitted
    d = cal.to_dict()
    with pytest.raises(ConfigError, match="version"):
        LabelCalibration.from_dict({**d, "version": 99})
    with pytest.raises(ConfigError, match="scheme"):
        LabelCalibration.from_dict({**d, "scheme": "something-else"})
    broken = json.loads(json.dumps(d))
    del broken["mappings"]["vif"]["s"]
    with pytest.raises(ConfigError, match="lacks"):
        LabelCalibration.from_dict(broken)
    with pytest.raises(ConfigError, match="malformed"):
        LabelCalibration.from_dict({"version": 1, "scheme": L.SCHEME})
    bad = tmp_path / "bad.json"
    bad.write_text("not json")
    with pytest.raises(ConfigError, match="cannot read"):
        LabelCalibration.load(bad)


def test_fallback_to_quantile_mapping_when_fit_fails(monkeypatch) -> None:
    q, raw = fake_metrics(n=120, seed=1)

    def boom(*args, **kwargs):
        raise RuntimeError("Optimal parameters not found")

    monkeypatch.setattr("lpfiqa.synth.calibration.curve_fit", boom)  # where the fit runs
    cal = fit_calibration(raw)
    assert all(cal.mappings[m]["kind"] == "quantile" for m in METRICS)
    lab = weak_label(raw, cal)
    assert spearmanr(lab, q).statistic > 0.95
    assert weak_label(PERFECT, cal).tolist() == [100.0]
    for m in METRICS:
        grid = np.linspace(raw[m].min() - 0.1, raw[m].max() + 0.1, 300)
        assert np.all(np.diff(cal.map_metric(m, grid) * L.QUALITY_SIGN[m]) >= 0)
    assert LabelCalibration.from_dict(cal.to_dict()) == cal


def test_small_or_degenerate_fitting_sets() -> None:
    cal = fit_calibration({"ms_ssim": [0.9, 0.8, 0.95], "gmsd": [0.05, 0.1, 0.02]})
    assert cal.metrics == ("ms_ssim", "gmsd")
    assert {s["kind"] for s in cal.mappings.values()} == {"quantile"}
    lab = weak_label({"ms_ssim": [1.0, 0.95, 0.8], "gmsd": [0.0, 0.02, 0.1]}, cal)
    assert lab[0] == 100.0 and lab[0] >= lab[1] > lab[2]
    const = fit_calibration({"vif": np.full(20, 0.5)})
    assert const.mappings["vif"]["kind"] == "quantile"
    assert np.isfinite(weak_label({"vif": [0.2, 0.5, 1.0]}, const)).all()
    with pytest.raises(ValueError, match="at least 2"):
        fit_calibration({"vif": [0.5]})
    with pytest.raises(ValueError, match="unknown"):
        fit_calibration({"psnr": [30.0, 40.0]})
    with pytest.raises(ValueError, match="finite"):
        fit_calibration({"vif": [0.5, np.nan, 0.2]})
    with pytest.raises(ValueError, match="length"):
        fit_calibration({"vif": [0.5, 0.2], "gmsd": [0.1]})


def test_weak_label_inputs(fitted) -> None:
    _, raw, cal = fitted
    as_tensors = {m: torch.from_numpy(raw[m][:5]).float() for m in METRICS}
    as_tensors["extra"] = torch.zeros(5)  # ignored
    np.testing.assert_allclose(
        weak_label(as_tensors, cal), weak_label({m: raw[m][:5] for m in METRICS}, cal), atol=1e-3
    )
    with pytest.raises(ValueError, match="not given"):
        weak_label({"vif": raw["vif"]}, cal)
    with_nan = {m: np.array([raw[m][0], np.nan]) for m in METRICS}
    out = weak_label(with_nan, cal)
    assert np.isfinite(out[0]) and np.isnan(out[1])


def test_agreement(fitted) -> None:
    _, raw, _ = fitted
    r = agreement(raw)
    assert list(r) == list(METRICS)
    for a in METRICS:
        assert r[a][a] == 1.0
        for b in METRICS:
            assert r[a][b] == r[b][a]
            assert r[a][b] > 0.8  # quality direction: agreeing metrics correlate positively
    np.testing.assert_allclose(r["ms_ssim"]["gmsd"], spearmanr(raw["ms_ssim"], -raw["gmsd"]).statistic)
    assert np.isnan(agreement({"vif": [0.1, 0.2, 0.3], "mdsi": [0.2, 0.2, 0.2]})["vif"]["mdsi"])


def _scene(h: int, w: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    img = np.stack([gaussian_filter(rng.uniform(size=(h, w)), s) for s in (1.0, 2.0, 4.0)])
    img = (img - img.min()) / (img.max() - img.min())
    yy, xx = np.mgrid[0:h, 0:w]
    img[:, (yy - h / 2) ** 2 + (xx - w / 3) ** 2 < (h / 4) ** 2] = rng.uniform(size=(3, 1))
    return img


def test_end_to_end_on_images() -> None:
    refs, dists, strength = [], [], []
    for seed in (0, 1):
        x = _scene(64, 72, seed)
        for k, s in enumerate((0.6, 1.2, 2.4, 4.0)):
            refs.append(x)
            dists.append(np.stack([gaussian_filter(c, s) for c in x]))
            strength.append(("blur", seed, k))
        for k, s in enumerate((0.02, 0.05, 0.1, 0.2)):
            refs.append(x)
            dists.append(np.clip(x + np.random.default_rng(seed + 10 * k).normal(0, s, x.shape), 0, 1))
            strength.append(("noise", seed, k))
    ref_t = torch.from_numpy(np.stack(refs)).float()
    dist_t = torch.from_numpy(np.stack(dists)).float()
    met = compute_metrics(ref_t, dist_t)
    assert list(met) == list(METRICS)
    for m, fn in zip(METRICS, (ms_ssim, gmsd, vif, mdsi), strict=True):
        assert met[m].shape == (len(refs),) and not met[m].requires_grad
        np.testing.assert_allclose(met[m][:3].numpy(), fn(ref_t[:3], dist_t[:3]).numpy(), rtol=1e-6)
    cal = fit_calibration({m: v.numpy() for m, v in met.items()})
    lab = weak_label(met, cal)
    for kind in ("blur", "noise"):
        for seed in (0, 1):
            idx = [i for i, s in enumerate(strength) if s[:2] == (kind, seed)]
            assert np.all(np.diff(lab[idx]) < 0), (kind, seed, lab[idx])
    same = compute_metrics(ref_t[:2], ref_t[:2])
    assert weak_label(same, cal) == pytest.approx([100.0, 100.0], abs=1e-3)
