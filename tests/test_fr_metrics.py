"""Tests of lpfiqa.fr: each metric against an independent NumPy/SciPy transcription of the
authors' MATLAB reference code (2-D windows, ``scipy.signal`` correlation with MATLAB's
'valid'/'same' conventions, complex arithmetic where MATLAB uses it), plus properties.

The reference implementations below deliberately avoid every helper of lpfiqa.fr: they build
the 2-D ``fspecial`` windows directly, use explicit full convolutions sliced the way MATLAB's
``conv2(..., 'same')`` slices them, and use NumPy's complex power for MDSI.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.ndimage import gaussian_filter
from scipy.signal import convolve2d, correlate2d

from lpfiqa.fr import _common, gmsd, mdsi, ms_ssim, ms_ssim_levels, vif

torch.set_num_threads(1)

# ----------------------------------------------------------------------------------------------
# Test images: a deterministic "natural-like" scene (smooth shading, hard-edged discs, texture)
# ----------------------------------------------------------------------------------------------


def scene(h: int, w: int, seed: int) -> np.ndarray:
    """(3, H, W) float64 image in [0, 1] with edges, gradients and texture at several scales."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    img = np.empty((3, h, w))
    for c in range(3):
        fx, fy, ph = rng.uniform(0.5, 2.5), rng.uniform(0.5, 2.5), rng.uniform(0, 2 * np.pi)
        img[c] = 0.45 + 0.2 * np.sin(2 * np.pi * fx * xx + ph) * np.cos(2 * np.pi * fy * yy)
    for _ in range(10):
        cy, cx, r = rng.uniform(0, h), rng.uniform(0, w), rng.uniform(0.05, 0.25) * min(h, w)
        mask = (np.mgrid[0:h, 0:w][0] - cy) ** 2 + (np.mgrid[0:h, 0:w][1] - cx) ** 2 < r * r
        img[:, mask] = rng.uniform(0.05, 0.95, size=(3, 1))
    tex = (
        gaussian_filter(rng.normal(size=(h, w)), 1.0) * 0.25
        + gaussian_filter(rng.normal(size=(h, w)), 3.0) * 0.6
    )
    img += tex[None] * rng.uniform(0.5, 1.0, size=(3, 1, 1))
    return np.clip(img, 0.0, 1.0)


def blur(img: np.ndarray, sigma: float) -> np.ndarray:
    return np.stack([gaussian_filter(ch, sigma, mode="reflect") for ch in img])


def noise(img: np.ndarray, std: float, seed: int) -> np.ndarray:
    return np.clip(img + np.random.default_rng(seed).normal(0.0, std, img.shape), 0.0, 1.0)


def batch(*imgs: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.stack(imgs)).to(torch.float64)


# ----------------------------------------------------------------------------------------------
# MATLAB primitives, transcribed independently
# ----------------------------------------------------------------------------------------------


def rgb2gray255(img: np.ndarray) -> np.ndarray:
    r, g, b = img * 255.0
    return 0.2989 * r + 0.5870 * g + 0.1140 * b


def fspecial_gaussian(n: int, sigma: float) -> np.ndarray:
    r = (n - 1) / 2.0
    y, x = np.mgrid[-r : r + 1, -r : r + 1]
    h = np.exp(-(x * x + y * y) / (2.0 * sigma * sigma))
    h[h < np.finfo(float).eps * h.max()] = 0
    return h / h.sum()


def conv2_same(a: np.ndarray, k: np.ndarray) -> np.ndarray:
    """MATLAB conv2(a, k, 'same'): central part of the full convolution, offset floor(size(k)/2)."""
    full = convolve2d(a, k, mode="full")
    r0, c0 = k.shape[0] // 2, k.shape[1] // 2
    return full[r0 : r0 + a.shape[0], c0 : c0 + a.shape[1]]


def filter2_valid(win: np.ndarray, a: np.ndarray) -> np.ndarray:
    return correlate2d(a, win, mode="valid")


def imfilter_symmetric_same(a: np.ndarray, k: np.ndarray) -> np.ndarray:
    """MATLAB imfilter(a, k, 'symmetric', 'same') (correlation; centre floor((size+1)/2))."""
    cr, cc = (k.shape[0] + 1) // 2 - 1, (k.shape[1] + 1) // 2 - 1
    padded = np.pad(a, ((cr, k.shape[0] - 1 - cr), (cc, k.shape[1] - 1 - cc)), mode="symmetric")
    return correlate2d(padded, k, mode="valid")


# ----------------------------------------------------------------------------------------------
# Reference metrics (transcriptions of msssim.m, GMSD.m, vifp_mscale.m, MDSI.m)
# ----------------------------------------------------------------------------------------------


def ref_ms_ssim(x: np.ndarray, y: np.ndarray, level: int = 5) -> float:
    im1, im2 = rgb2gray255(x), rgb2gray255(y)
    weight = np.array([0.0448, 0.2856, 0.3001, 0.2363, 0.1333])[:level]
    weight = weight / weight.sum()
    win = fspecial_gaussian(11, 1.5)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    mssim, mcs = [], []
    for _ in range(level):
        mu1, mu2 = filter2_valid(win, im1), filter2_valid(win, im2)
        s1 = filter2_valid(win, im1 * im1) - mu1 * mu1
        s2 = filter2_valid(win, im2 * im2) - mu2 * mu2
        s12 = filter2_valid(win, im1 * im2) - mu1 * mu2
        ssim_map = ((2 * mu1 * mu2 + c1) * (2 * s12 + c2)) / ((mu1**2 + mu2**2 + c1) * (s1 + s2 + c2))
        cs_map = (2 * s12 + c2) / (s1 + s2 + c2)
        mssim.append(ssim_map.mean())
        mcs.append(cs_map.mean())
        im1 = imfilter_symmetric_same(im1, np.ones((2, 2)) / 4)[::2, ::2]
        im2 = imfilter_symmetric_same(im2, np.ones((2, 2)) / 4)[::2, ::2]
    terms = np.maximum(np.array(mcs[: level - 1] + [mssim[level - 1]]), 0.0)
    return float(np.prod(terms**weight))


def ref_gmsd(x: np.ndarray, y: np.ndarray) -> float:
    y1, y2 = rgb2gray255(x), rgb2gray255(y)
    ave = np.ones((2, 2)) / 4
    y1, y2 = conv2_same(y1, ave)[::2, ::2], conv2_same(y2, ave)[::2, ::2]
    dx = np.array([[1, 0, -1]] * 3) / 3.0
    g1 = np.sqrt(conv2_same(y1, dx) ** 2 + conv2_same(y1, dx.T) ** 2)
    g2 = np.sqrt(conv2_same(y2, dx) ** 2 + conv2_same(y2, dx.T) ** 2)
    t = 170.0
    qmap = (2 * g1 * g2 + t) / (g1**2 + g2**2 + t)
    return float(np.std(qmap))  # paper Eq. (8): 1/N


def ref_vif(x: np.ndarray, y: np.ndarray) -> float:
    ref, dist = rgb2gray255(x), rgb2gray255(y)
    sigma_nsq, num, den = 2.0, 0.0, 0.0
    for scale in range(1, 5):
        n = 2 ** (4 - scale + 1) + 1
        win = fspecial_gaussian(n, n / 5.0)
        if scale > 1:
            ref = filter2_valid(win, ref)[::2, ::2]
            dist = filter2_valid(win, dist)[::2, ::2]
        mu1, mu2 = filter2_valid(win, ref), filter2_valid(win, dist)
        sigma1_sq = filter2_valid(win, ref * ref) - mu1 * mu1
        sigma2_sq = filter2_valid(win, dist * dist) - mu2 * mu2
        sigma12 = filter2_valid(win, ref * dist) - mu1 * mu2
        sigma1_sq[sigma1_sq < 0] = 0
        sigma2_sq[sigma2_sq < 0] = 0
        g = sigma12 / (sigma1_sq + 1e-10)
        sv_sq = sigma2_sq - g * sigma12
        m = sigma1_sq < 1e-10
        g[m] = 0
        sv_sq[m] = sigma2_sq[m]
        sigma1_sq[m] = 0
        m = sigma2_sq < 1e-10
        g[m] = 0
        sv_sq[m] = 0
        m = g < 0
        sv_sq[m] = sigma2_sq[m]
        g[m] = 0
        sv_sq[sv_sq <= 1e-10] = 1e-10
        num += np.sum(np.log10(1 + g**2 * sigma1_sq / (sv_sq + sigma_nsq)))
        den += np.sum(np.log10(1 + sigma1_sq / sigma_nsq))
    return float(num / den)


def ref_mdsi(x: np.ndarray, y: np.ndarray, return_gcs: bool = False) -> float | np.ndarray:
    ref, dist = x * 255.0, y * 255.0
    rows, cols = ref.shape[1:]
    f = max(1, int(np.floor(min(rows, cols) / 256 + 0.5)))  # MATLAB round
    ave = np.ones((f, f)) / (f * f)
    r1, g1, b1 = (conv2_same(ch, ave)[::f, ::f] for ch in ref)
    r2, g2, b2 = (conv2_same(ch, ave)[::f, ::f] for ch in dist)
    l1 = 0.2989 * r1 + 0.5870 * g1 + 0.1140 * b1
    l2 = 0.2989 * r2 + 0.5870 * g2 + 0.1140 * b2
    fused = 0.5 * (l1 + l2)
    h1, h2 = 0.30 * r1 + 0.04 * g1 - 0.35 * b1, 0.30 * r2 + 0.04 * g2 - 0.35 * b2
    m1, m2 = 0.34 * r1 - 0.60 * g1 + 0.17 * b1, 0.34 * r2 - 0.60 * g2 + 0.17 * b2
    dx = np.array([[1, 0, -1]] * 3) / 3.0

    def grad(a: np.ndarray) -> np.ndarray:
        return np.sqrt(conv2_same(a, dx) ** 2 + conv2_same(a, dx.T) ** 2)

    g_r, g_d, g_f = grad(l1), grad(l2), grad(fused)
    c1, c2, c3 = 140.0, 55.0, 550.0
    gs12 = (2 * g_r * g_d + c1) / (g_r**2 + g_d**2 + c1)
    gs13 = (2 * g_r * g_f + c2) / (g_r**2 + g_f**2 + c2)
    gs23 = (2 * g_d * g_f + c2) / (g_d**2 + g_f**2 + c2)
    gs_hvs = gs12 + gs23 - gs13
    cs = (2 * (h1 * h2 + m1 * m2) + c3) / (h1**2 + h2**2 + m1**2 + m2**2 + c3)
    gcs = 0.6 * gs_hvs + 0.4 * cs
    if return_gcs:
        return gcs
    v = (gcs.ravel().astype(complex) ** 0.5) ** 0.5
    mad = np.mean(np.abs(v - v.mean()))  # MATLAB mad(X) = mean absolute deviation
    return float(mad**0.25)


REFERENCES = {
    "ms_ssim": (ms_ssim, ref_ms_ssim),
    "gmsd": (gmsd, ref_gmsd),
    "vif": (vif, ref_vif),
    "mdsi": (mdsi, ref_mdsi),
}

# ----------------------------------------------------------------------------------------------
# Agreement with the references
# ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pairs_small() -> tuple[np.ndarray, list[np.ndarray]]:
    """Odd-sized (61x77... cropped per test) reference and three distortions."""
    x = scene(97, 123, seed=3)
    ys = [blur(x, 1.5), noise(x, 0.05, seed=4), np.clip(0.7 * x + 0.2, 0, 1)]
    return x, ys


@pytest.mark.parametrize("name", ["gmsd", "vif", "mdsi"])
def test_matches_matlab_transcription_small(name: str, pairs_small) -> None:
    fn, ref_fn = REFERENCES[name]
    x, ys = pairs_small
    got = fn(batch(*[x] * len(ys)), batch(*ys)).numpy()
    want = np.array([ref_fn(x, y) for y in ys])
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


def test_ms_ssim_matches_matlab_transcription_5_levels() -> None:
    x = scene(181, 199, seed=5)  # odd sides exercise the symmetric padding at every scale
    ys = [blur(x, 1.0), noise(x, 0.08, seed=6)]
    got = ms_ssim(batch(x, x), batch(*ys)).numpy()
    want = np.array([ref_ms_ssim(x, y, level=5) for y in ys])
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)
    assert ms_ssim_levels(181, 199) == 5


def test_ms_ssim_reduced_scales_rule() -> None:
    x = scene(90, 131, seed=7)  # 90 / 2**3 = 11.25 >= 11 but 90 / 16 < 11 -> 4 scales
    assert ms_ssim_levels(90, 131) == 4
    y = blur(x, 2.0)
    got = float(ms_ssim(batch(x), batch(y)))
    np.testing.assert_allclose(got, ref_ms_ssim(x, y, level=4), rtol=1e-9)
    assert [ms_ssim_levels(s, 500) for s in (11, 21, 22, 43, 44, 87, 88, 175, 176, 1000)] == [
        1,
        1,
        2,
        2,
        3,
        3,
        4,
        4,
        5,
        5,
    ]
    with pytest.raises(ValueError, match="at least 11"):
        ms_ssim(torch.rand(1, 3, 10, 40), torch.rand(1, 3, 10, 40))


def test_mdsi_matches_with_downsampling_factor_2() -> None:
    x = scene(385, 391, seed=8)  # round(385 / 256) = 2, odd sides -> zero padded last block
    y = noise(blur(x, 1.0), 0.02, seed=9)
    np.testing.assert_allclose(float(mdsi(batch(x), batch(y))), ref_mdsi(x, y), rtol=1e-9)


def test_mdsi_negative_gcs_branch_matches_complex_reference() -> None:
    # Flattening strong edges makes GS_HVS (hence GCS) negative there; MATLAB goes complex.
    x = scene(64, 64, seed=10)
    y = np.full_like(x, 0.5)
    assert ref_mdsi(x, y, return_gcs=True).min() < 0
    # cos/sin of the principal angle vs NumPy's complex power: agreement to ~1e-9, not 1e-12.
    np.testing.assert_allclose(float(mdsi(batch(x), batch(y))), ref_mdsi(x, y), rtol=1e-8)


@pytest.mark.parametrize("f", [2, 3, 4, 5])
def test_average_downsample_is_matlab_conv2_same(f: int) -> None:
    a = np.random.default_rng(f).uniform(size=(13, 17))
    want = conv2_same(a, np.ones((f, f)) / (f * f))[::f, ::f]
    got = _common.average_downsample(torch.from_numpy(a)[None, None], f)[0, 0].numpy()
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("stride", [1, 2])
def test_filter_valid_blocking_is_exact(monkeypatch, stride: int) -> None:
    a = torch.from_numpy(np.random.default_rng(stride).uniform(size=(1, 2, 30, 37)))
    g = _common.gaussian_window_1d(9, 1.8)
    want = filter2_valid(fspecial_gaussian(9, 1.8), a[0, 1].numpy())[::stride, ::stride]
    one_block = _common.filter_valid(a, g, stride=stride)
    np.testing.assert_allclose(one_block[0, 1].numpy(), want, rtol=1e-12, atol=1e-12)
    for chunk in (1, 3, 7):  # many blocks, the last one partly past the image
        monkeypatch.setattr(_common, "_CHUNK", chunk)
        blocked = _common.filter_valid(a, g, stride=stride)
        np.testing.assert_allclose(blocked.numpy(), one_block.numpy(), rtol=1e-12, atol=1e-12)


# ----------------------------------------------------------------------------------------------
# Properties
# ----------------------------------------------------------------------------------------------

PERFECT = {"ms_ssim": 1.0, "gmsd": 0.0, "vif": 1.0, "mdsi": 0.0}
HIGHER_IS_BETTER = {"ms_ssim": True, "gmsd": False, "vif": True, "mdsi": False}


@pytest.fixture(scope="module")
def ladder() -> dict[str, object]:
    """One 180x200 scene with blur and noise ladders, all metrics computed in one batch each."""
    x = scene(180, 200, seed=11)
    blurs = [blur(x, s) for s in (0.5, 1.0, 2.0, 4.0)]
    noises = [noise(x, s, seed=12) for s in (0.01, 0.03, 0.1)]
    ys = [x, *blurs, *noises]
    xb = batch(*[x] * len(ys)).float()
    yb = batch(*ys).float()
    return {"x": xb, "y": yb, "scores": {n: fn(xb, yb) for n, (fn, _) in REFERENCES.items()}}


@pytest.mark.parametrize("name", list(REFERENCES))
def test_identical_images_give_perfect_value(name: str, ladder) -> None:
    assert ladder["scores"][name][0].item() == pytest.approx(PERFECT[name], abs=1e-6)


@pytest.mark.parametrize("name", list(REFERENCES))
def test_worse_with_stronger_blur_and_noise(name: str, ladder) -> None:
    s = ladder["scores"][name].double().numpy()
    sign = 1.0 if HIGHER_IS_BETTER[name] else -1.0
    for chain in (s[[0, 1, 2, 3, 4]], s[[0, 5, 6, 7]]):
        assert np.all(np.diff(sign * chain) < 0), (name, chain)


@pytest.mark.parametrize("name", list(REFERENCES))
def test_batch_equals_per_image(name: str, ladder) -> None:
    fn = REFERENCES[name][0]
    xb, yb = ladder["x"][[0, 3, 7]], ladder["y"][[0, 3, 7]]
    together = fn(xb, yb)
    alone = torch.cat([fn(xb[i : i + 1], yb[i : i + 1]) for i in range(3)])
    np.testing.assert_allclose(together.numpy(), alone.numpy(), rtol=1e-6, atol=1e-7)
    assert together.shape == (3,) and together.dtype == torch.float32


@pytest.mark.parametrize("name", list(REFERENCES))
def test_no_grad_and_float32_close_to_float64(name: str) -> None:
    fn = REFERENCES[name][0]
    x = scene(64, 72, seed=13)
    y = blur(x, 1.2)
    xt = batch(x).float().requires_grad_(True)
    out32 = fn(xt, batch(y).float())
    assert not out32.requires_grad
    out64 = fn(batch(x), batch(y))
    assert out64.dtype == torch.float64
    # float32 inputs are computed in float64 internally; only input rounding differs.
    assert abs(out32.item() - out64.item()) < 1e-5


def test_known_value_relations() -> None:
    # Symmetric metrics are symmetric; VIF and MDSI are not.
    x = scene(64, 64, seed=14)
    y = noise(blur(x, 1.0), 0.03, seed=15)
    xb, yb = batch(x), batch(y)
    assert float(ms_ssim(xb, yb)) == pytest.approx(float(ms_ssim(yb, xb)), rel=1e-12)
    assert float(gmsd(xb, yb)) == pytest.approx(float(gmsd(yb, xb)), rel=1e-12)
    assert float(vif(xb, yb)) != pytest.approx(float(vif(yb, xb)), rel=1e-3)
    # A contrast increase carries more "information" than the reference: VIF > 1.
    flat = 0.25 + 0.5 * x  # low-contrast reference, so the boost below does not clip
    boosted = 0.5 + 1.3 * (flat - 0.5)
    assert float(vif(batch(flat), batch(boosted))) > 1.0


@pytest.mark.parametrize("name", list(REFERENCES))
def test_rejects_bad_input(name: str) -> None:
    fn = REFERENCES[name][0]
    with pytest.raises(ValueError, match="shape"):
        fn(torch.rand(1, 3, 64, 64), torch.rand(1, 3, 64, 63))
    with pytest.raises(ValueError, match=r"\(B, 3, H, W\)"):
        fn(torch.rand(1, 1, 64, 64), torch.rand(1, 1, 64, 64))
    with pytest.raises(ValueError, match="floating"):
        fn(torch.zeros(1, 3, 64, 64, dtype=torch.uint8), torch.zeros(1, 3, 64, 64, dtype=torch.uint8))
    with pytest.raises(ValueError, match="too small|at least"):
        fn(torch.rand(1, 3, 1, 64), torch.rand(1, 3, 1, 64))


def test_vif_min_side() -> None:
    with pytest.raises(ValueError, match="at least 41"):
        vif(torch.rand(1, 3, 40, 64), torch.rand(1, 3, 40, 64))
    x = torch.rand(1, 3, 41, 41, generator=torch.Generator().manual_seed(0))
    assert vif(x, x).item() == pytest.approx(1.0, abs=1e-9)
