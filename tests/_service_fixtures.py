"""Shared by the service tests: a small real model, test images, a bomb PNG, a live uvicorn on 127.0.0.1."""

from __future__ import annotations

import contextlib
import io
import struct
import threading
import time
import zlib
from collections.abc import Iterator

import numpy as np
import uvicorn
from PIL import Image

from lpfiqa.inference import QualityModel
from lpfiqa.models import LPFConfig, LPFHeads
from lpfiqa.service import ServiceConfig, create_app
from lpfiqa.service.server import bind, url_of, uvicorn_config

W, H = 64, 32  # small and non-square: maps are (1, 2), a transposition would show


def encode(fmt: str, seed: int = 0, size: tuple[int, int] = (W, H)) -> bytes:
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 255, (max(1, size[1] // 8), max(1, size[0] // 8), 3), dtype=np.uint8)
    img = Image.fromarray(small).resize(size, Image.BICUBIC)  # smooth: small files, real structure
    buf = io.BytesIO()
    img.save(buf, format=fmt, **({"quality": 85} if fmt == "JPEG" else {}))
    return buf.getvalue()


def bomb_png(side: int = 100_000) -> bytes:
    """A 70-byte PNG whose header claims side x side RGB pixels (a decompression bomb)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def small_model(name: str = "test", diagnosis: bool = False) -> QualityModel:
    cfg = LPFConfig(latent_dim=16, hidden_dim=32, use_diagnosis=diagnosis,
                    diagnosis_families=("blur", "noise") if diagnosis else LPFConfig().diagnosis_families)
    return QualityModel(LPFHeads(cfg).eval(), name=name)


@contextlib.contextmanager
def live(model: QualityModel, config: ServiceConfig | None = None) -> Iterator[str]:
    """The real app under the real uvicorn set-up, in a thread, on a free 127.0.0.1 port: yields its URL."""
    config = config or ServiceConfig(log_requests=False)
    sock = bind("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn_config(create_app(model, config), config))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        for _ in range(400):  # bounded wait for start-up
            if server.started:
                break
            time.sleep(0.025)
        assert server.started, "uvicorn did not start"
        yield url_of(sock)
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        sock.close()
        assert not thread.is_alive(), "server thread did not stop"
