"""Tests of lpfiqa.baselines: NSS estimators, BRISQUE, NIQE, regressors.

BRISQUE is checked against a slow re-implementation written here straight from the paper and
the MATLAB built-ins' definitions (loops, explicit padding, continuous root finding instead of
the reference's grid). The regressors are scikit-learn's: the tests check what this project
puts around them (standardisation, gamma 1/d, group folds, candidate order) against KKT
conditions, an independent QP solve (SLSQP), closed-form ridge and hand-made group folds.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from scipy.ndimage import gaussian_filter
from scipy.optimize import brentq, minimize
from scipy.special import gamma as G
from scipy.stats import gennorm, spearmanr

import lpfiqa.baselines
from lpfiqa.baselines._nss import aggd_fit, ggd_fit, imresize_matlab, to_luminance
from lpfiqa.baselines.brisque import BRISQUE_FEATURE_NAMES, brisque_features
from lpfiqa.baselines.niqe import NIQEModel, fit_niqe, niqe, niqe_patch_features
from lpfiqa.baselines.regressors import RidgeModel, SVRModel, fit_ridge, fit_svr, grid_search_cv, group_kfold
from lpfiqa.errors import WeightsError

PHOTOS = Path(__file__).resolve().parent / "fixtures" / "photos"  # see fixtures/SOURCES.md


def _synthetic(h: int = 120, w: int = 100, seed: int = 0) -> np.ndarray:
    """A fixed natural-looking grey image: 1/f noise plus a few edges, in [0, 255]."""
    rng = np.random.default_rng(seed)
    fy, fx = np.fft.fftfreq(h)[:, None], np.fft.fftfreq(w)[None, :]
    amp = 1.0 / np.maximum(np.hypot(fy, fx), 1.0 / max(h, w))
    field = np.fft.ifft2(amp * np.exp(2j * np.pi * rng.random((h, w)))).real
    field = (field - field.mean()) / field.std()
    field[h // 3 :, : w // 2] += 1.5  # a step edge, as objects give
    return np.clip(128 + 40 * field, 0, 255)


def _photo(name: str) -> np.ndarray:
    return np.asarray(Image.open(PHOTOS / name).convert("RGB"))


# ---------------------------------------------------------------- GGD / AGGD estimators


@pytest.mark.parametrize("shape", [0.5, 1.0, 2.0, 3.0])
def test_ggd_and_aggd_fits_recover_known_distributions(shape: float) -> None:
    x = gennorm.rvs(shape, scale=3.0, size=100_000, random_state=1)
    a, s2 = ggd_fit(x)
    k2 = G(3 / shape) / G(1 / shape)  # variance of a unit-scale GGD
    assert abs(a - shape) < 0.05 * shape and s2 == pytest.approx(9.0 * k2, rel=0.03)
    # AGGD with scales 0.5 / 1.5: side picked with P(left) = bl / (bl + br), |x| / beta ~ half-GGD.
    rng = np.random.default_rng(2)
    mag = np.abs(gennorm.rvs(shape, size=100_000, random_state=rng))
    a, left, right = aggd_fit(np.where(rng.random(mag.size) < 0.25, -0.5 * mag, 1.5 * mag))
    assert abs(a - shape) < 0.05 * shape
    assert left == pytest.approx(0.5 * k2**0.5, rel=0.03) and right == pytest.approx(1.5 * k2**0.5, rel=0.03)


def test_estimators_batch_and_flat_input() -> None:
    x = gennorm.rvs(1.0, size=(3, 20_000), random_state=3)
    a, _ = ggd_fit(x)
    assert a.shape == (3,) and np.allclose(a, [ggd_fit(r)[0] for r in x])
    assert np.isnan(aggd_fit(np.zeros(50))[0]) and np.isnan(ggd_fit(np.zeros(50))[0])
    # One empty side: std 0 (the limit), shape fitted as for the mirrored data.
    half = np.abs(gennorm.rvs(1.0, size=20_000, random_state=5))
    for one_sided in (half, -half):
        a, lft, rgt = aggd_fit(one_sided)
        assert min(lft, rgt) == 0 and a == aggd_fit(np.abs(one_sided))[0] and np.isfinite(a)
    # Brute-force grid search exactly as estimateggdparam.m / estimateaggdparam.m.
    gam = np.arange(9801) * 0.001 + 0.2
    r_ggd = G(1 / gam) * G(3 / gam) / G(2 / gam) ** 2
    r_aggd = G(2 / gam) ** 2 / (G(1 / gam) * G(3 / gam))
    for row in gennorm.rvs(0.7, size=(20, 500), random_state=4) * np.linspace(0.5, 2, 500):
        rho = np.mean(row**2) / np.mean(np.abs(row)) ** 2
        assert ggd_fit(row)[0] == pytest.approx(gam[np.argmin(np.abs(rho - r_ggd))], abs=1e-12)
        lft, rgt = np.sqrt(np.mean(row[row < 0] ** 2)), np.sqrt(np.mean(row[row > 0] ** 2))
        g = lft / rgt
        rn = np.mean(np.abs(row)) ** 2 / np.mean(row**2) * (g**3 + 1) * (g + 1) / (g**2 + 1) ** 2
        assert aggd_fit(row)[0] == pytest.approx(gam[np.argmin((r_aggd - rn) ** 2)], abs=1e-12)


# ---------------------------------------------------------------- slow BRISQUE from the paper


def _slow_resize_1d(v: np.ndarray, s: float = 0.5) -> np.ndarray:
    """MATLAB imresize along one axis, one output sample at a time, mirrored borders."""
    n = len(v)
    out = []
    for o in range(1, math.ceil(n * s) + 1):
        u = o / s + 0.5 * (1 - 1 / s)
        acc = wsum = 0.0
        for k in range(math.floor(u) - 6, math.floor(u) + 7):  # kernel support is |u - k| < 4
            x = abs(s * (u - k))  # Keys' cubic, a = -0.5
            wk = s * (
                1.5 * x**3 - 2.5 * x**2 + 1 if x <= 1 else (-0.5 * x**3 + 2.5 * x**2 - 4 * x + 2) * (x <= 2)
            )
            m = (k - 1) % (2 * n)  # aux = [1..n, n..1]
            acc += wk * v[m if m < n else 2 * n - 1 - m]
            wsum += wk
        out.append(acc / wsum)
    return np.array(out)


def _slow_mscn(img: np.ndarray, mode: str = "constant") -> np.ndarray:
    """MSCN with the 2-D fspecial window; mode "constant" = filter2, "edge" = imfilter replicate."""
    h, w = img.shape
    ax = np.arange(-3, 4)
    win = np.exp(-(ax[:, None] ** 2 + ax[None, :] ** 2) / (2 * (7 / 6) ** 2))
    win /= win.sum()
    pad = np.pad(img, 3, mode=mode)
    mu, m2 = np.zeros_like(img), np.zeros_like(img)
    for du in range(7):
        for dv in range(7):
            patch = pad[du : du + h, dv : dv + w]
            mu += win[du, dv] * patch
            m2 += win[du, dv] * patch**2
    return (img - mu) / (np.sqrt(np.abs(m2 - mu**2)) + 1)


def _slow_fit(x: np.ndarray, asym: bool) -> tuple[float, float, float]:
    """Moment matching solved by root finding (the paper's equations, not the grid)."""
    left = math.sqrt(np.mean(x[x < 0] ** 2)) if asym else 0.0
    right = math.sqrt(np.mean(x[x > 0] ** 2)) if asym else 0.0
    if asym:
        g = left / right
        target = np.mean(np.abs(x)) ** 2 / np.mean(x**2) * (g**3 + 1) * (g + 1) / (g**2 + 1) ** 2
        fn = lambda a: G(2 / a) ** 2 / (G(1 / a) * G(3 / a)) - target  # noqa: E731
    else:
        target = np.mean(x**2) / np.mean(np.abs(x)) ** 2
        fn = lambda a: G(1 / a) * G(3 / a) / G(2 / a) ** 2 - target  # noqa: E731
    return brentq(fn, 0.2, 10.0, xtol=1e-12), left, right


def _slow_half(img: np.ndarray) -> np.ndarray:
    return np.stack([_slow_resize_1d(r) for r in np.stack([_slow_resize_1d(c) for c in img.T], 1)])


def _slow_pairs(m: np.ndarray, shifts: tuple) -> list[np.ndarray]:
    """Products with circshift(m, [dr dc]), i.e. B(i, j) = m(i - dr, j - dc) cyclically."""
    h, w = m.shape
    return [m * np.array([[m[(i - dr) % h, (j - dc) % w] for j in range(w)] for i in range(h)])
            for dr, dc in shifts]  # fmt: skip


def _slow_brisque(img: np.ndarray) -> np.ndarray:
    feats = []
    for _ in range(2):
        m = _slow_mscn(img)
        feats += [_slow_fit(m.ravel(), asym=False)[0], np.mean(m**2)]
        for pair in _slow_pairs(m, ((0, 1), (1, 0), (1, 1), (-1, 1))):
            a, lft, rgt = _slow_fit(pair.ravel(), asym=True)
            eta = (rgt - lft) * G(2 / a) / G(1 / a) * math.sqrt(G(1 / a) / G(3 / a))  # Eq. 8
            feats += [a, eta, lft**2, rgt**2]
        img = _slow_half(img)
    return np.array(feats)


def _slow_niqe_patch(img: np.ndarray, p: int, k: int) -> np.ndarray:
    """computefeature.m on tile k (row-major) of both scales; MSCN of the whole image."""
    out = []
    for m in (_slow_mscn(img, "edge"), _slow_mscn(_slow_half(img), "edge")):
        nc = m.shape[1] // p
        tile = m[(k // nc) * p : (k // nc + 1) * p, (k % nc) * p : (k % nc + 1) * p]
        for x in [tile, *_slow_pairs(tile, ((0, 1), (1, 0), (1, 1), (1, -1)))]:
            a, lft, rgt = _slow_fit(x.ravel(), asym=True)
            bl, br = (s * math.sqrt(G(1 / a) / G(3 / a)) for s in (lft, rgt))
            out += [a, (bl + br) / 2] if x is tile else [a, (br - bl) * G(2 / a) / G(1 / a), bl, br]
        p //= 2
    return np.array(out)


def _compare(fast: np.ndarray, slow: np.ndarray, shape_idx: list[int]) -> None:
    other = [i for i in range(len(fast)) if i not in shape_idx]
    # The reference searches shapes on a 0.001 grid; the slow version solves exactly.
    assert np.abs(fast[shape_idx] - slow[shape_idx]).max() <= 0.0006
    np.testing.assert_allclose(fast[other], slow[other], rtol=2e-3, atol=1e-6)


@pytest.mark.parametrize("photo", [None, "skimage_astronaut.png"])
def test_brisque_matches_slow_paper_reimplementation(photo: str | None) -> None:
    img = _synthetic(46, 38, seed=4) if photo is None else _photo(photo)[100:148, 110:150]
    shape_idx = [i for i, n in enumerate(BRISQUE_FEATURE_NAMES) if n.endswith("shape")]
    _compare(brisque_features(img), _slow_brisque(to_luminance(img)), shape_idx)


def test_niqe_patch_features_match_slow_reimplementation() -> None:
    img = _synthetic(64, 98, seed=6)  # 2 x 3 tiles of 32 (cropped to 64 x 96)
    fast, _ = niqe_patch_features(img, patch_size=32)
    for k in (0, 4):
        _compare(fast[k], _slow_niqe_patch(img[:, :96], 32, k), [0, 2, 6, 10, 14, 18, 20, 24, 28, 32])


def test_imresize_matches_slow_and_keeps_linear_ramps() -> None:
    img = _synthetic(17, 12, seed=5)
    np.testing.assert_allclose(imresize_matlab(img), _slow_half(img), atol=1e-9)
    ramp = np.tile(np.arange(40.0), (6, 1))  # symmetric kernel: interior of a ramp is exact
    out = imresize_matlab(ramp)
    np.testing.assert_allclose(out[:, 3:-3], np.tile(2 * np.arange(3, 17) + 0.5, (3, 1)), atol=1e-9)


def test_brisque_properties_and_luminance() -> None:
    rgb = np.random.default_rng(6).integers(0, 256, (40, 30, 3), dtype=np.uint8)
    gray = np.round(rgb.astype(float) @ [0.298936021293775, 0.587043074451121, 0.114020904255103])
    np.testing.assert_array_equal(to_luminance(rgb), gray)
    np.testing.assert_array_equal(brisque_features(rgb), brisque_features(gray))
    img = _synthetic()
    f = brisque_features(img)
    assert f.shape == (36,) and np.isfinite(f).all() and len(BRISQUE_FEATURE_NAMES) == 36
    np.testing.assert_array_equal(f, brisque_features(img.copy()))
    with pytest.raises(ValueError):
        brisque_features(np.zeros((10, 30)))
    assert all(hasattr(lpfiqa.baselines, name) for name in lpfiqa.baselines.__all__)


def test_brisque_shape_features_react_to_noise_and_blur() -> None:
    img = _photo("skimage_coffee.png").astype(np.float64)
    rng = np.random.default_rng(7)
    clean = brisque_features(img)
    noisy = brisque_features(np.clip(img + rng.normal(0, 15, img.shape), 0, 255))
    blurred = brisque_features(np.stack([gaussian_filter(img[..., c], 2.0) for c in range(3)], -1))
    # MSCN shape: white noise flattens the heavy-tailed natural histogram (shape up, both
    # scales); blur makes it peakier (shape down) at the finest scale (paper, Fig. 2).
    assert clean[0] < noisy[0] and clean[18] < noisy[18]
    assert blurred[0] < clean[0] - 0.2
    # Products of neighbours: noise decorrelates them (shape up), blur the opposite.
    assert clean[2] < noisy[2] and blurred[2] < clean[2]


# ---------------------------------------------------------------- NIQE


@pytest.fixture(scope="module")
def photo_model() -> NIQEModel:
    """Fitted on the 7 other fixture photos, skimage_coffee (the test photo) held out.

    The photos are 256 px on the long side, so the patch is 32 px (the paper's 96 px at 768).
    """
    photos = [p for p in sorted(PHOTOS.glob("*.png")) if "coffee" not in p.name]
    assert len(photos) == 7, f"restore tests/fixtures/photos ({len(photos)} photos found)"
    return fit_niqe(photos, patch_size=32)


def test_niqe_prefers_clean_and_is_monotone_in_blur(photo_model: NIQEModel) -> None:
    img = _photo("skimage_coffee.png").astype(np.float64)  # held out of the fit; 256x171
    blur = [
        niqe(np.stack([gaussian_filter(img[..., c], s) for c in range(3)], -1), photo_model)
        for s in (1.0, 2.0, 3.0)
    ]
    clean = niqe(img, photo_model)
    noisy = niqe(np.clip(img + np.random.default_rng(8).normal(0, 12, img.shape), 0, 255), photo_model)
    assert clean < blur[0] and clean < noisy
    assert all(a < b for a, b in zip(blur, blur[1:], strict=False)), blur
    assert niqe(img, photo_model) == clean  # deterministic


def test_niqe_synthetic_model_and_odd_sizes() -> None:
    model = fit_niqe([_synthetic(192, 192, seed=s) for s in range(4)], patch_size=48)
    img = _synthetic(150, 130, seed=10)  # 150 x 130 is not a multiple of 48
    score = niqe(img, model)
    assert np.isfinite(score) and score == niqe(img[:144, :96], model)  # top-left whole patches
    assert score < niqe(gaussian_filter(img, 2.0), model)
    feats, sharp = niqe_patch_features(img, 48)
    assert feats.shape == (6, 36) and sharp.shape == (6,)
    d = model.mu - feats.mean(0)  # Eq. 10 of the paper, written out
    assert score == pytest.approx(math.sqrt(d @ np.linalg.pinv((model.cov + np.cov(feats.T)) / 2) @ d))
    with pytest.raises(ValueError):
        niqe(img[:40], model)


def test_niqe_model_save_load_roundtrip(tmp_path: Path) -> None:
    rng = np.random.default_rng(9)
    a = rng.normal(size=(36, 36))
    model = NIQEModel(rng.normal(size=36), a @ a.T, patch_size=48, n_patches=7, n_images=2)
    for name in ("m.json", "m.safetensors"):
        back = NIQEModel.load(model.save(tmp_path / name))
        np.testing.assert_array_equal(back.mu, model.mu)
        np.testing.assert_array_equal(back.cov, model.cov)
        assert (back.patch_size, back.n_patches, back.n_images) == (48, 7, 2)
    (tmp_path / "bad.json").write_text('{"format": "other"}')
    with pytest.raises(WeightsError):
        NIQEModel.load(tmp_path / "bad.json")
    with pytest.raises(ValueError):
        model.save(tmp_path / "m.pkl")


# ---------------------------------------------------------------- regressors


def test_svr_fits_sine() -> None:
    rng = np.random.default_rng(10)
    x = rng.uniform(0, 2 * np.pi, 200)
    m = fit_svr(x[:, None], np.sin(x) + rng.normal(0, 0.05, 200), C=10.0, gamma=2.0, epsilon=0.05)
    grid = np.linspace(0.3, 2 * np.pi - 0.3, 100)
    assert np.abs(m.predict(grid[:, None]) - np.sin(grid)).max() < 0.12
    assert 0 < len(m.dual_coef) < 200  # points inside the tube are not support vectors


def _svr_problem(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    return X, X[:, 0] ** 2 - X[:, 1] + rng.normal(0, 0.3, n)


def test_svr_satisfies_kkt_conditions() -> None:
    X, y = _svr_problem(150, 11)
    C, eps, tol = 3.0, 0.2, 1e-6
    m = fit_svr(X, y, C=C, gamma=0.5, epsilon=eps, tol=tol)
    beta, resid, b_full = m.dual_coef, y - m.predict(X), np.zeros(len(y))
    b_full[m.support] = beta
    is_sv = b_full != 0
    assert abs(beta.sum()) < 1e-9 and np.abs(beta).max() <= C + 1e-12
    free = (np.abs(b_full) > 1e-9) & (np.abs(b_full) < C - 1e-9)
    assert free.any()
    np.testing.assert_allclose(resid[free], eps * np.sign(b_full[free]), atol=1e-5)
    assert np.all(np.abs(resid[~is_sv]) <= eps + 1e-5)
    at_c = np.abs(b_full) >= C - 1e-9
    assert np.all(np.sign(b_full[at_c]) * resid[at_c] >= eps - 1e-5)
    wide = fit_svr(X, y, C=C, epsilon=float(np.ptp(y)))  # every point inside the tube
    assert len(wide.dual_coef) == 0 and np.ptp(wide.predict(X)) == 0


def test_svr_matches_independent_qp_solution() -> None:
    X, y = _svr_problem(30, 12)
    C, eps, g = 2.0, 0.1, 0.7
    m = fit_svr(X, y, C=C, gamma=g, epsilon=eps, tol=1e-8)
    Z = (X - X.mean(0)) / X.std(0)
    K = np.exp(-g * ((Z[:, None] - Z[None]) ** 2).sum(-1))
    n = len(y)

    def obj(ab: np.ndarray) -> tuple[float, np.ndarray]:  # the epsilon-SVR dual (minimised), gradient
        b = ab[:n] - ab[n:]
        return 0.5 * b @ K @ b - y @ b + eps * ab.sum(), np.concatenate([K @ b - y + eps, y - K @ b + eps])

    cons = [{"type": "eq", "fun": lambda ab: ab[:n].sum() - ab[n:].sum()}]
    opts = {"ftol": 1e-12, "maxiter": 500}
    res = minimize(obj, np.zeros(2 * n), jac=True, bounds=[(0, C)] * 2 * n, constraints=cons, options=opts)
    assert res.success
    beta_qp = res.x[:n] - res.x[n:]
    ours = np.zeros(n)
    ours[m.support] = m.dual_coef
    # The dual optimum is unique in K beta (strictly convex in it); compare the fitted functions.
    np.testing.assert_allclose(K @ ours, K @ beta_qp, atol=2e-4)
    assert obj(np.concatenate([np.maximum(ours, 0), np.maximum(-ours, 0)]))[0] <= res.fun + 1e-7


def test_ridge_primal_and_dual_forms() -> None:
    rng = np.random.default_rng(14)
    X, y = rng.normal(size=(50, 5)), rng.normal(size=50)
    m = fit_ridge(X, y, alpha=2.0)
    Z = (X - X.mean(0)) / X.std(0)
    w = np.linalg.solve(Z.T @ Z + 2.0 * np.eye(5), Z.T @ (y - y.mean()))
    np.testing.assert_allclose(m.coef, w, atol=1e-10)
    Xw = rng.normal(size=(20, 60))  # n < d: dual branch must equal the primal solution
    yw = rng.normal(size=20)
    Zw = (Xw - Xw.mean(0)) / Xw.std(0)
    ww = np.linalg.solve(Zw.T @ Zw + 0.5 * np.eye(60), Zw.T @ (yw - yw.mean()))
    np.testing.assert_allclose(fit_ridge(Xw, yw, alpha=0.5).coef, ww, atol=1e-8)


def test_group_kfold_and_grid_search() -> None:
    groups = np.repeat(np.arange(12), 10)
    folds = group_kfold(groups, n_splits=4)
    seen = np.concatenate([va for _, va in folds])
    assert sorted(seen) == list(range(120))
    for tr, va in folds:
        assert not set(groups[tr]) & set(groups[va])
    X, y = _svr_problem(120, 15)
    grid = {"C": [0.01, 10.0], "gamma": [0.3], "epsilon": [0.1]}
    res = grid_search_cv(X, y, groups, model="svr", param_grid=grid, n_splits=4)
    assert res.best_params["C"] == 10.0 and res.best_score > 0.5 and len(res.results) == 2
    assert res.model is not None and res.model.C == 10.0
    with pytest.raises(ValueError):
        grid_search_cv(np.where(X > 2, np.nan, X), y, groups)


def test_regressors_recover_linear_and_nonlinear_functions() -> None:
    rng = np.random.default_rng(16)
    X = rng.normal(size=(300, 4)) * [1.0, 10.0, 0.1, 1.0] + [0.0, 5.0, -3.0, 0.0]  # scales differ: standardised
    w = np.array([1.0, -0.2, 5.0, 0.0])
    lin = X @ w + 2.0
    m = fit_ridge(X, lin + rng.normal(0, 0.01, 300), alpha=1e-3)
    np.testing.assert_allclose(m.coef / m.x_scale, w, atol=0.01)  # back in the raw features' units
    Xt = rng.normal(size=(100, 4)) * [1.0, 10.0, 0.1, 1.0] + [0.0, 5.0, -3.0, 0.0]
    assert np.abs(m.predict(Xt) - (Xt @ w + 2.0)).max() < 0.05
    bowl = lambda A: (A[:, 0] ** 2 + np.sin(2 * A[:, 3])) / 2  # noqa: E731 - nonlinear in two of four features
    s = fit_svr(X, bowl(X) + rng.normal(0, 0.02, 300), C=10.0, gamma=0.3, epsilon=0.02)
    inside = np.abs(Xt[:, [0, 3]]).max(1) < 1.5  # where the training data are dense
    assert np.abs(s.predict(Xt[inside]) - bowl(Xt[inside])).mean() < 0.1
    assert s.gamma == 0.3 and fit_svr(X, lin).gamma == pytest.approx(0.25)  # "scale": 1/d
    assert isinstance(m, RidgeModel) and isinstance(s, SVRModel)


def test_grid_search_uses_group_folds_and_keeps_candidate_order() -> None:
    rng = np.random.default_rng(17)
    groups = np.repeat([f"photo{i}" for i in range(9)], rng.integers(3, 9, 9))
    n = len(groups)
    X = rng.normal(size=(n, 3))
    y = X[:, 0] - 0.5 * X[:, 1] + 0.3 * rng.normal(size=n)
    folds = group_kfold(groups, n_splits=3)
    for tr, va in folds:  # a photo is never on both sides of a fold
        assert not set(groups[tr]) & set(groups[va]) and len(tr) + len(va) == n
    res = grid_search_cv(X, y, groups, model="ridge", param_grid={"alpha": [1e3, 1.0, 1e-2]}, n_splits=3)
    assert [r["params"] for r in res.results] == [{"alpha": 1e3}, {"alpha": 1.0}, {"alpha": 1e-2}]  # as given
    for r in res.results:  # the very folds of group_kfold, each scored by SRCC on its held-out photos
        want = [float(spearmanr(y[va], fit_ridge(X[tr], y[tr], **r["params"]).predict(X[va]))[0])
                for tr, va in folds]
        np.testing.assert_allclose(r["fold_scores"], want, atol=1e-12)
        assert r["mean_score"] == pytest.approx(np.mean(want))
    assert res.best_params == max(res.results, key=lambda r: r["mean_score"])["params"]
    # keys in a non-alphabetical order, a tie and an undefined (constant-prediction) candidate
    grid = {"epsilon": [100.0, 0.1], "C": [10.0, 10.0]}
    res = grid_search_cv(X, y, groups, model="svr", param_grid=grid, n_splits=3, scoring="plcc")
    assert [list(r["params"]) for r in res.results] == [["epsilon", "C"]] * 4
    assert np.isnan(res.results[0]["mean_score"])  # a tube wider than y: constant, ranked last
    assert res.best_params == {"epsilon": 0.1, "C": 10.0} and res.results[2]["mean_score"] == res.best_score
    assert res.model is not None and res.model.epsilon == 0.1
    rmse = grid_search_cv(X, y, groups, model="ridge", param_grid={"alpha": [1.0]}, n_splits=3, scoring="rmse",
                          refit=False)
    assert rmse.best_score < 0 and rmse.model is None


def test_regressor_errors_are_one_line() -> None:
    X, y = _svr_problem(20, 18)
    for call, match in [(lambda: fit_svr(X, y, C=0.0), "C > 0"), (lambda: fit_svr(X, y, gamma=-1.0), "gamma"),
                        (lambda: fit_ridge(X, y, alpha=-1.0), "alpha"), (lambda: fit_ridge(X[:, 0], y), "need X"),
                        (lambda: group_kfold(np.arange(20) // 10, n_splits=3), "number of groups"),
                        (lambda: grid_search_cv(X, y, np.arange(20) // 4, model="lasso"), "use model")]:
        with pytest.raises(ValueError, match=match) as info:
            call()
        assert "\n" not in str(info.value)


def test_fitted_regressors_pickle() -> None:
    import pickle

    X, y = _svr_problem(40, 19)
    for m in (fit_svr(X, y, C=3.0), fit_ridge(X, y)):
        back = pickle.loads(pickle.dumps(m))
        np.testing.assert_array_equal(back.predict(X), m.predict(X))
