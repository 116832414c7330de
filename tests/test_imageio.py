"""Every kind of input a user throws at the scorer: modes, orientation, and bad files."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image

from lpfiqa.errors import ImageReadError
from lpfiqa.imageio import load_image, to_rgb_array


def _gradient(w: int = 48, h: int = 40) -> Image.Image:
    a = np.zeros((h, w, 3), np.uint8)
    a[..., 0] = np.linspace(0, 255, w)[None]
    a[..., 1] = np.linspace(0, 255, h)[:, None]
    a[..., 2] = 77
    return Image.fromarray(a)


def test_rgb_png_round_trip(tmp_path) -> None:
    img = _gradient()
    img.save(tmp_path / "a.png")
    arr = to_rgb_array(tmp_path / "a.png")
    assert arr.shape == (40, 48, 3) and arr.dtype == np.float32
    np.testing.assert_allclose(arr, np.asarray(img) / 255.0, atol=1e-6)


def test_exif_orientation_is_applied(tmp_path) -> None:
    img = _gradient(48, 40)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    img.save(tmp_path / "o.jpg", exif=exif, quality=95)
    assert to_rgb_array(tmp_path / "o.jpg").shape == (48, 40, 3)


@pytest.mark.parametrize("mode", ["L", "P", "CMYK", "1", "LA", "RGBA", "I;16", "F"])
def test_modes_become_rgb(tmp_path, mode: str) -> None:
    base = _gradient()
    if mode == "I;16":
        img = Image.fromarray((np.asarray(base.convert("L"), np.uint16) * 257).astype(np.uint16))
        assert img.mode.startswith("I")
    elif mode == "F":
        img = Image.fromarray(np.asarray(base.convert("L"), np.float32) / 255.0)
    else:
        img = base.convert(mode)
    arr = to_rgb_array(img)
    assert arr.shape == (40, 48, 3) and 0 <= arr.min() and arr.max() <= 1
    if mode in ("L", "I;16", "F"):  # grayscale in any bit depth maps to the same gray levels
        np.testing.assert_allclose(arr[..., 0], np.asarray(base.convert("L")) / 255.0, atol=2e-3)


def test_16bit_png_file(tmp_path) -> None:
    a = (np.linspace(0, 65535, 48 * 40).reshape(40, 48)).astype(np.uint16)
    Image.fromarray(a).save(tmp_path / "g16.png")
    arr = to_rgb_array(tmp_path / "g16.png")
    assert abs(arr.max() - 1.0) < 1e-3 and arr.min() == 0


def test_transparency_is_composited_on_white() -> None:
    img = Image.new("RGBA", (40, 40), (0, 0, 0, 0))
    assert to_rgb_array(img).min() == 1.0


def test_tensor_and_array_inputs() -> None:
    t = torch.rand(3, 40, 50)
    assert torch.equal(load_image(t), t)
    assert load_image((t * 255).to(torch.uint8)).dtype == torch.float32
    assert load_image(np.zeros((40, 50), np.uint8)).shape == (3, 40, 50)


def test_missing_file(tmp_path) -> None:
    with pytest.raises(ImageReadError, match=r"nope\.png: no such file; check the path"):
        load_image(tmp_path / "nope.png")


def test_folder_instead_of_file(tmp_path) -> None:
    with pytest.raises(ImageReadError, match="is a folder"):
        load_image(tmp_path)


def test_not_an_image(tmp_path) -> None:
    (tmp_path / "x.jpg").write_text("hello, I am text")
    with pytest.raises(ImageReadError, match=r"x\.jpg: not an image format Pillow can read"):
        load_image(tmp_path / "x.jpg")


def test_truncated_jpeg(tmp_path) -> None:
    buf = io.BytesIO()
    _gradient(200, 200).save(buf, format="JPEG")
    (tmp_path / "t.jpg").write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    with pytest.raises(ImageReadError, match=r"t\.jpg: corrupt or truncated image"):
        load_image(tmp_path / "t.jpg")


def test_corrupt_png(tmp_path) -> None:
    buf = io.BytesIO()
    _gradient().save(buf, format="PNG")
    data = bytearray(buf.getvalue())
    data[60:80] = b"\x00" * 20  # damage the image data chunk
    (tmp_path / "c.png").write_bytes(bytes(data))
    with pytest.raises(ImageReadError, match="corrupt or truncated"):
        load_image(tmp_path / "c.png")


def test_huge_image_is_refused_before_decoding(tmp_path) -> None:
    _gradient(400, 300).save(tmp_path / "big.png")
    with pytest.raises(ImageReadError, match=r"400x300 is over the 100,000-pixel limit.*--max-pixels"):
        load_image(tmp_path / "big.png", max_pixels=100_000)


def test_too_small_and_bad_shapes() -> None:
    with pytest.raises(ImageReadError, match="too small; need at least 32x32"):
        load_image(np.zeros((10, 10, 3), np.uint8))
    with pytest.raises(ImageReadError, match="expected \\(3, H, W\\)"):
        load_image(torch.zeros(2, 2, 40, 40))
    with pytest.raises(ImageReadError, match="unsupported input type"):
        load_image(3.14)  # type: ignore[arg-type]
    with pytest.raises(ImageReadError, match="NaN"):
        load_image(np.full((40, 40, 3), np.nan, np.float32))
