"""Tests for lpfiqa.synth: the 25 KADID-10k distortion types, random chains, contact sheets.

The monotonicity checks use full-reference metrics written here (not imported from lpfiqa), so
the library is not checked against itself. Each type is measured with the metric that sees
what it changes:

* grey-scale SSIM for distortions that destroy structure: Gaussian and motion blur, noise,
  denoising, jitter, pixelation (PSNR can rank mild blur above strong noise, SSIM follows the
  structure loss that the level controls);
* RGB PSNR where the parameter directly scales an intensity error: JPEG / JPEG 2000 (the
  codecs trade rate against squared error, and SSIM can tick up between the two coarsest
  JPEG qualities on smooth content), lens blur (the disk's frequency response has negative
  lobes, so at large radii some detail returns phase-inverted and SSIM's structure term can
  rise, while MSE keeps growing), tone curves, mean shift, grey-level quantisation,
  sharpening, contrast, pasted blocks and displaced patches (SSIM's luminance/contrast terms
  saturate there);
* mean CIE76 Delta-E in Lab for colour-only distortions: colour diffusion, colour shift,
  palette quantisation, (de)saturation and chroma noise, which barely change grey-scale
  structure.

The checks run on a synthetic image and on crops of four real photos shipped in
``tests/fixtures/crops``; every image must be monotone on its own.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from lpfiqa.errors import ConfigError
from lpfiqa.synth import contact_sheet, distort, get_distortion, list_distortions, random_chain
from lpfiqa.synth.distortions.compression import jpeg2000_available
from lpfiqa.synth.preview import LABEL_HEIGHT

CROPS = Path(__file__).resolve().parent / "fixtures" / "crops"  # see fixtures/SOURCES.md
PHOTOS = ["skimage_astronaut.png", "skimage_chelsea.png", "skimage_coffee.png", "mate_LadyBird.png"]
CROP_HW = (96, 128)

EXPECTED = [
    ("gaussian_blur", "blur"),
    ("lens_blur", "blur"),
    ("motion_blur", "blur"),
    ("color_diffusion", "color"),
    ("color_shift", "color"),
    ("color_quantization", "color"),
    ("color_saturation_1", "color"),
    ("color_saturation_2", "color"),
    ("jpeg2000", "compression"),
    ("jpeg", "compression"),
    ("white_noise", "noise"),
    ("white_noise_color_component", "noise"),
    ("impulse_noise", "noise"),
    ("multiplicative_noise", "noise"),
    ("denoise", "noise"),
    ("brighten", "brightness"),
    ("darken", "brightness"),
    ("mean_shift", "brightness"),
    ("jitter", "spatial"),
    ("non_eccentricity_patch", "spatial"),
    ("pixelate", "spatial"),
    ("quantization", "spatial"),
    ("color_block", "spatial"),
    ("high_sharpen", "sharpness_contrast"),
    ("contrast_change", "sharpness_contrast"),
]
NAMES = [n for n, _ in EXPECTED]

SSIM_TYPES = {
    "gaussian_blur", "motion_blur", "white_noise", "impulse_noise", "multiplicative_noise", "denoise",
    "jitter", "pixelate",
}  # fmt: skip
PSNR_TYPES = {
    "lens_blur", "jpeg2000", "jpeg", "brighten", "darken", "mean_shift", "quantization", "high_sharpen",
    "contrast_change", "color_block", "non_eccentricity_patch",
}  # fmt: skip
DELTA_E_TYPES = {
    "color_diffusion", "color_shift", "color_quantization", "color_saturation_1", "color_saturation_2",
    "white_noise_color_component",
}  # fmt: skip

needs_j2k = pytest.mark.skipif(not jpeg2000_available(), reason="Pillow built without OpenJPEG")


def _param(name: str) -> object:
    return pytest.param(name, marks=needs_j2k) if name == "jpeg2000" else name


# --------------------------------------------------------------------------- images


def synthetic_image(h: int = CROP_HW[0], w: int = CROP_HW[1]) -> np.ndarray:
    """Gradients, saturated colours, hard edges and smoothed random texture: no flat areas."""
    rng = np.random.default_rng(1234)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    texture = ndimage.gaussian_filter(rng.standard_normal((h, w, 3)), (1.2, 1.2, 0)) * 60
    img = np.stack(
        [
            40 + 170 * x / w,
            30 + 180 * y / h,
            128 + 70 * np.sin(x / 5.0) * np.cos(y / 7.0),
        ],
        axis=-1,
    )
    img += texture
    img[h // 4 : h // 2, w // 5 : w // 2] = (230, 40, 30)  # saturated red block with hard edges
    img[h // 2 : 3 * h // 4, w // 2 : 4 * w // 5, 2] += 60
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


@functools.cache
def photo_crop(name: str) -> np.ndarray:
    """Centre 96x128 crop of the photo resized to KADID's 512 px width (so pixel parameters match).

    The fixture holds that crop with a 16-px margin (fixtures/SOURCES.md says how it was made).
    """
    a = np.asarray(Image.open(CROPS / name).convert("RGB"))
    h, w = CROP_HW
    top, left = (a.shape[0] - h) // 2, (a.shape[1] - w) // 2
    crop = a[top : top + h, left : left + w].copy()
    crop.setflags(write=False)  # shared between tests: make accidental in-place edits fail
    return crop


@pytest.fixture(scope="module")
def synth_img() -> np.ndarray:
    return synthetic_image()


# --------------------------------------------------------------------------- metrics


def _luma(img: np.ndarray) -> np.ndarray:
    return img.astype(np.float64) @ np.array([0.299, 0.587, 0.114])


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Grey-scale SSIM (Wang et al. 2004): 11x11 Gaussian window, sigma 1.5, 8-bit constants."""
    x, y = _luma(a), _luma(b)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2

    def f(z: np.ndarray) -> np.ndarray:
        return ndimage.gaussian_filter(z, 1.5, truncate=3.5, mode="reflect")

    mx, my = f(x), f(y)
    vx, vy, cxy = f(x * x) - mx * mx, f(y * y) - my * my, f(x * y) - mx * my
    s = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    return float(s.mean())


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(((a.astype(np.float64) - b.astype(np.float64)) ** 2).mean())
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)


def _lab(img: np.ndarray) -> np.ndarray:
    c = img.astype(np.float64) / 255
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    m = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
    xyz = lin @ m.T / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], -1)


def delta_e(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(_lab(a) - _lab(b), axis=-1).mean())


# --------------------------------------------------------------------------- registry


def test_registry_order_ids_and_families() -> None:
    assert list_distortions() == NAMES
    for i, (name, family) in enumerate(EXPECTED, start=1):
        d = get_distortion(name)
        assert (d.name, d.kadid_id, d.family) == (name, i, family)
        assert callable(d.fn)
    assert SSIM_TYPES | PSNR_TYPES | DELTA_E_TYPES == set(NAMES)
    assert len(SSIM_TYPES) + len(PSNR_TYPES) + len(DELTA_E_TYPES) == 25


# --------------------------------------------------------------------------- contract


@pytest.mark.parametrize("name", [_param(n) for n in NAMES])
def test_shape_dtype_determinism_and_distinct_levels(name: str, synth_img: np.ndarray) -> None:
    before = synth_img.copy()
    outs = []
    for level in range(1, 6):
        out = distort(synth_img, name, level, np.random.default_rng(7))
        again = distort(synth_img, name, level, np.random.default_rng(7))
        assert out.shape == synth_img.shape and out.dtype == np.uint8
        assert np.array_equal(out, again), f"{name} level {level} not deterministic for a seed"
        assert not np.array_equal(out, synth_img), f"{name} level {level} left the image unchanged"
        outs.append(out)
    assert np.array_equal(synth_img, before), "input was modified in place"
    for i in range(5):
        for j in range(i + 1, 5):
            assert not np.array_equal(outs[i], outs[j]), f"{name}: levels {i + 1} and {j + 1} identical"
    # rng=None means default_rng(0), not the global numpy state
    np.random.seed(1)
    a = distort(synth_img, name, 3)
    np.random.seed(2)
    assert np.array_equal(a, distort(synth_img, name, 3, np.random.default_rng(0)))


@pytest.mark.parametrize("image_id", ["synthetic", *PHOTOS])
@pytest.mark.parametrize("name", [_param(n) for n in NAMES])
def test_severity_is_monotone(name: str, image_id: str, synth_img: np.ndarray) -> None:
    img = synth_img if image_id == "synthetic" else photo_crop(image_id)
    outs = [distort(img, name, level, np.random.default_rng(11)) for level in range(1, 6)]
    if name in SSIM_TYPES:
        scores, worse = [ssim(img, o) for o in outs], "decrease"
    elif name in PSNR_TYPES:
        scores, worse = [psnr(img, o) for o in outs], "decrease"
    else:
        scores, worse = [delta_e(img, o) for o in outs], "increase"
    steps = np.diff(scores)
    ok = (steps < 0).all() if worse == "decrease" else (steps > 0).all()
    assert ok, f"{name} on {image_id}: metric should {worse} with level, got {np.round(scores, 4).tolist()}"


# --------------------------------------------------------------------------- errors


def test_unknown_name_suggests_close_matches(synth_img: np.ndarray) -> None:
    with pytest.raises(ConfigError, match=r"unknown distortion type 'gausian_blur'.*gaussian_blur"):
        distort(synth_img, "gausian_blur", 1)
    with pytest.raises(ConfigError, match="list_distortions"):
        get_distortion("zzzz")


@pytest.mark.parametrize("level", [0, 6, -1, 2.0, "3", True, None])
def test_bad_level(level: object, synth_img: np.ndarray) -> None:
    with pytest.raises(ConfigError, match=r"level must be an integer from 1 .* to 5"):
        distort(synth_img, "jpeg", level)  # type: ignore[arg-type]


def test_numpy_integer_level_accepted(synth_img: np.ndarray) -> None:
    assert distort(synth_img, "jpeg", np.int64(2)).shape == synth_img.shape


@pytest.mark.parametrize(
    ("image", "pattern"),
    [
        (np.zeros((8, 8, 3), np.float32), "dtype uint8"),
        (np.zeros((8, 8), np.uint8), r"shape \(H, W, 3\)"),
        (np.zeros((8, 8, 4), np.uint8), r"shape \(H, W, 3\)"),
        ([[0, 0, 0]], "numpy uint8 array"),
    ],
)
def test_bad_image(image: object, pattern: str) -> None:
    with pytest.raises(ConfigError, match=pattern):
        distort(image, "gaussian_blur", 1)  # type: ignore[arg-type]


def test_bad_rng(synth_img: np.ndarray) -> None:
    with pytest.raises(ConfigError, match="numpy.random.Generator"):
        distort(synth_img, "white_noise", 1, 42)  # type: ignore[arg-type]


def test_jpeg2000_missing_codec_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, synth_img: np.ndarray
) -> None:
    from lpfiqa.synth.distortions import compression

    monkeypatch.setattr(compression.features, "check", lambda feature: False)
    with pytest.raises(ConfigError, match="OpenJPEG"):
        distort(synth_img, "jpeg2000", 1)


# --------------------------------------------------------------------------- chains


def test_random_chain_lengths_and_reproducibility() -> None:
    img = synthetic_image(32, 32)
    lengths = set()
    for seed in range(40):
        out, steps = random_chain(img, np.random.default_rng(seed), max_len=3)
        lengths.add(len(steps))
        assert 1 <= len(steps) <= 3
        assert len({n for n, _ in steps}) == len(steps), "a type repeated within one chain"
        assert all(n in NAMES and 1 <= lv <= 5 for n, lv in steps)
        assert out.shape == img.shape and out.dtype == np.uint8
        out2, steps2 = random_chain(img, np.random.default_rng(seed), max_len=3)
        assert steps2 == steps and np.array_equal(out2, out)
    assert lengths == {1, 2, 3}


def test_random_chain_respects_types_and_levels() -> None:
    img = synthetic_image(32, 32)
    _, steps = random_chain(img, np.random.default_rng(0), max_len=3, types=["jpeg"])
    assert len(steps) == 1  # distinct types: one type caps the chain at length 1
    for seed in range(10):
        _, steps = random_chain(
            img, np.random.default_rng(seed), max_len=2, levels=(2, 4), types=["jpeg", "darken", "pixelate"]
        )
        assert all(n in {"jpeg", "darken", "pixelate"} and lv in (2, 4) for n, lv in steps)


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"max_len": 0}, "max_len must be an integer >= 1"),
        ({"levels": (0, 1)}, "level must be an integer"),
        ({"levels": ()}, "at least one level"),
        ({"types": ["jpg"]}, "did you mean jpeg"),
    ],
)
def test_random_chain_errors(kwargs: dict, pattern: str) -> None:
    with pytest.raises(ConfigError, match=pattern):
        random_chain(synthetic_image(16, 16), np.random.default_rng(0), **kwargs)


# --------------------------------------------------------------------------- contact sheet


def test_contact_sheet_size_and_atomic_write(tmp_path: Path) -> None:
    img = synthetic_image(24, 32)
    out = contact_sheet(img, tmp_path / "sub" / "sheet.png", cell_width=40)
    rows = 25 if jpeg2000_available() else 24
    cell_h = round(40 * 24 / 32)
    with Image.open(out) as sheet:
        assert sheet.format == "PNG"
        assert sheet.size == (6 * 40, rows * (cell_h + LABEL_HEIGHT))
    assert [p.name for p in out.parent.iterdir()] == ["sheet.png"], "temporary file left behind"


def test_contact_sheet_errors(tmp_path: Path) -> None:
    img = synthetic_image(24, 32)
    with pytest.raises(ConfigError, match="cell_width"):
        contact_sheet(img, tmp_path / "s.png", cell_width=4)
    with pytest.raises(ConfigError, match="unknown distortion type"):
        contact_sheet(img, tmp_path / "s.png", types=["nope"])
    assert not list(tmp_path.iterdir())
