"""Tests of lpfiqa.metrics against scipy.stats and synthetic logistic data."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch
from scipy import optimize, stats

from lpfiqa import metrics
from lpfiqa.metrics import (
    ConstantInputWarning,
    FitWarning,
    evaluate,
    krcc,
    logistic_fit,
    plcc,
    rmse,
    srcc,
)


def _l4(x, b1, b2, b3, b4):
    return (b1 - b2) / (1 + np.exp(-(x - b3) / abs(b4))) + b2


def _l5(x, b1, b2, b3, b4, b5):
    return b1 * (0.5 - 1 / (1 + np.exp(b2 * (x - b3)))) + b4 * x + b5


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


# ---------------------------------------------------------------- against scipy


@pytest.mark.parametrize("n", [3, 10, 257])
def test_correlations_match_scipy_random(rng, n):
    x = rng.normal(size=n)
    y = 0.7 * x + rng.normal(size=n)
    assert srcc(x, y) == pytest.approx(stats.spearmanr(x, y).statistic, abs=1e-12)
    assert krcc(x, y) == pytest.approx(stats.kendalltau(x, y, variant="b").statistic, abs=1e-12)
    assert plcc(x, y) == pytest.approx(stats.pearsonr(x, y).statistic, abs=1e-12)
    assert rmse(x, y) == pytest.approx(math.sqrt(np.mean((x - y) ** 2)), rel=1e-12)


def test_correlations_match_scipy_with_ties(rng):
    # MOS-like data: few distinct levels on both sides, so many ties
    x = rng.integers(0, 5, size=200).astype(float)
    y = np.round(x + rng.normal(scale=1.5, size=200))
    assert srcc(x, y) == pytest.approx(stats.spearmanr(x, y).statistic, abs=1e-12)
    assert krcc(x, y) == pytest.approx(stats.kendalltau(x, y, variant="b").statistic, abs=1e-12)
    assert plcc(x, y) == pytest.approx(stats.pearsonr(x, y).statistic, abs=1e-12)


def test_sign_is_kept_for_dmos():
    x = [1.0, 2.0, 3.0, 4.0]
    assert srcc(x, [4, 3, 2, 1]) == -1.0
    assert krcc(x, [4, 3, 2, 1]) == -1.0
    assert plcc(x, [4, 3, 2, 1]) == pytest.approx(-1.0)


def test_accepts_lists_tensors_and_column_vectors(rng):
    x = rng.normal(size=20)
    y = x + rng.normal(size=20)
    ref = srcc(x, y)
    assert srcc(list(x), tuple(y)) == pytest.approx(ref)
    assert srcc(torch.tensor(x, dtype=torch.float32), torch.tensor(y)) == pytest.approx(ref)
    assert srcc(x.reshape(-1, 1), y.reshape(1, -1)) == pytest.approx(ref)
    assert isinstance(plcc(torch.tensor(x), y), float)


# ---------------------------------------------------------------- validation


def test_length_mismatch_names_both():
    with pytest.raises(ValueError, match=r"pred and mos .*same length.*pred=4.*mos=3"):
        srcc([1, 2, 3, 4], [1, 2, 3])


@pytest.mark.parametrize("fn", [srcc, krcc, plcc, rmse, evaluate])
def test_too_few_items(fn):
    with pytest.raises(ValueError, match=r"pred has 2 item\(s\); at least 3"):
        fn([1, 2], [1, 2])


def test_nan_and_inf_name_argument():
    with pytest.raises(ValueError, match=r"pred contains 1 NaN/inf.*index 1"):
        plcc([1, float("nan"), 3], [1, 2, 3])
    with pytest.raises(ValueError, match=r"mos contains 2 NaN/inf.*index 0"):
        srcc([1, 2, 3, 4], [np.inf, 2, -np.inf, 4])


def test_bad_shape_and_type():
    with pytest.raises(ValueError, match=r"pred must be 1-D, got shape \(2, 3\)"):
        srcc(np.zeros((2, 3)), np.zeros(6))
    with pytest.raises(ValueError, match=r"mos must be 1-D, got a scalar"):
        srcc([1, 2, 3], 5.0)
    with pytest.raises(ValueError, match=r"mos must be a sequence of numbers"):
        srcc([1, 2, 3], ["a", "b", "c"])


def test_unknown_fit_and_params():
    with pytest.raises(ValueError, match=r"fit must be one of"):
        plcc([1, 2, 3], [1, 2, 3], fit="cubic")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"params must be 4 or 5"):
        logistic_fit([1, 2, 3], [1, 2, 3], params=3)


@pytest.mark.parametrize("fn", [srcc, krcc, plcc])
def test_constant_input_returns_nan_with_warning(fn):
    with pytest.warns(ConstantInputWarning, match="pred is constant"):
        assert math.isnan(fn([2, 2, 2, 2], [1, 2, 3, 4]))
    with pytest.warns(ConstantInputWarning, match="mos is constant"):
        assert math.isnan(fn([1, 2, 3, 4], [5, 5, 5, 5]))


def test_rmse_defined_for_constant_input():
    assert rmse([2, 2, 2], [1, 2, 3]) == pytest.approx(math.sqrt(2 / 3))


# ---------------------------------------------------------------- logistic fit


def test_logistic4_recovers_known_parameters(rng):
    true = (4.6, 1.2, 0.45, 0.08)
    x = rng.uniform(0, 1, 400)
    y = _l4(x, *true)
    fit = logistic_fit(x, y, params=4)
    assert fit.ok and fit.kind == "logistic4" and fit.reason == ""
    assert fit.params == pytest.approx(true, rel=1e-4, abs=1e-6)
    assert fit(x) == pytest.approx(y, abs=1e-6)


def test_logistic4_decreasing_and_noisy(rng):
    # DMOS-like: falls with the prediction, large scale, noise
    true = (10.0, 90.0, 50.0, 8.0)
    x = rng.uniform(0, 100, 800)
    y = _l4(x, *true) + rng.normal(0, 1.0, 800)
    fit = logistic_fit(x, y, params=4)
    assert fit.ok
    b1, b2, b3, b4 = fit.params
    assert (b1, b2, b3, abs(b4)) == pytest.approx(true, rel=0.05)


def test_logistic5_recovers_known_parameters(rng):
    true = (3.0, 1.5, 0.5, 0.4, 2.0)
    x = rng.uniform(-2, 3, 400)
    y = _l5(x, *true)
    fit = logistic_fit(x, y, params=5)
    assert fit.ok and fit.kind == "logistic5"
    assert fit.params == pytest.approx(true, rel=1e-4, abs=1e-6)


def test_logistic_fit_improves_plcc_and_rmse(rng):
    x = rng.uniform(0, 1, 300)
    y = _l4(x, 5, 1, 0.5, 0.07) + rng.normal(0, 0.05, 300)
    assert plcc(x, y, fit="logistic4") > plcc(x, y) + 0.02
    assert rmse(x, y, fit="logistic5") < 0.1 < rmse(x, y)


def test_fit_failure_falls_back_to_linear(monkeypatch, rng):
    def boom(*args, **kwargs):
        raise RuntimeError("Optimal parameters not found: maxfev exceeded")

    monkeypatch.setattr(optimize, "curve_fit", boom)
    x = rng.uniform(0, 1, 50)
    y = 3 * x + 1 + rng.normal(0, 0.01, 50)
    fit = logistic_fit(x, y, params=4)
    assert not fit.ok and fit.kind == "linear"
    assert "curve_fit failed" in fit.reason and "maxfev" in fit.reason
    a, b = fit.params
    assert (a, b) == pytest.approx((3, 1), abs=0.05)
    # plcc/rmse with a fit warn and still answer, via the linear map
    with pytest.warns(FitWarning, match="logistic5 fit not used"):
        r = plcc(x, y, fit="logistic5")
    assert r == pytest.approx(plcc(x, y))
    with pytest.warns(FitWarning):
        out = evaluate(x, y)
    assert out["plcc_l4"] == pytest.approx(out["plcc"])


def test_fit_degenerate_inputs():
    const = logistic_fit([2, 2, 2, 2], [1, 2, 3, 4])
    assert (const.ok, const.kind, const.params) == (False, "linear", (0.0, 2.5))
    assert "pred is constant" in const.reason
    few = logistic_fit([0, 0, 1, 1, 0, 1], [1, 1.5, 4, 4.5, 1.2, 3.9], params=4)
    assert (few.ok, few.kind) == (False, "linear")
    assert "distinct values" in few.reason
    flat = logistic_fit([1, 2, 3, 4], [3, 3, 3, 3])
    assert not flat.ok and "mos is constant" in flat.reason


def test_fit_accepts_tensor_when_called(rng):
    x = rng.uniform(0, 1, 100)
    fit = logistic_fit(x, _l4(x, 5, 1, 0.5, 0.1))
    out = fit(torch.tensor(x))
    assert isinstance(out, np.ndarray) and out.shape == (100,)


# ---------------------------------------------------------------- evaluate


def test_evaluate_keys_and_values(rng):
    x = rng.uniform(0, 1, 200)
    y = _l4(x, 80, 10, 0.5, 0.1) + rng.normal(0, 3, 200)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a good fit must not warn
        out = evaluate(x, y)
    assert set(out) == {"srcc", "krcc", "plcc", "rmse", "plcc_l4", "rmse_l4", "plcc_l5", "rmse_l5", "n"}
    assert out["n"] == 200
    assert out["srcc"] == pytest.approx(srcc(x, y))
    assert out["krcc"] == pytest.approx(krcc(x, y))
    assert out["plcc"] == pytest.approx(plcc(x, y))
    assert out["plcc_l4"] == pytest.approx(plcc(x, y, fit="logistic4"))
    assert out["rmse_l5"] == pytest.approx(rmse(x, y, fit="logistic5"))
    assert out["rmse_l4"] < 5 < out["rmse"]
    assert all(isinstance(v, float) for k, v in out.items() if k != "n")


def test_evaluate_constant_prediction_is_nan_not_error():
    with pytest.warns(ConstantInputWarning), pytest.warns(FitWarning, match="mean of mos"):
        out = evaluate([0.5] * 5, [1, 2, 3, 4, 5])
    assert math.isnan(out["srcc"]) and math.isnan(out["plcc_l4"]) and math.isnan(out["plcc_l5"])
    # fallback maps a constant prediction to mean(mos): RMSE = population SD of mos
    assert out["rmse_l4"] == pytest.approx(math.sqrt(2.0))


def test_public_api():
    assert set(metrics.__all__) >= {"srcc", "krcc", "plcc", "rmse", "logistic_fit", "evaluate", "LogisticFit"}
