"""The service's model runner: one shared model, bounded thread pools, so the event loop never blocks.

Images are decoded (and overlays drawn) in a pool of ``decode_threads`` threads; the model runs
in one dedicated thread (torch parallelises inside it), so predictions never interleave and each
request gets back exactly its own. At most ``max_pending`` requests decode, score or wait at
once; the next one waits ``busy_timeout`` seconds for a slot and then gets 503.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import threading
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..errors import ImageReadError, ImageTooLargeError, UnsupportedImageError
from ..imageio import load_image
from ..inference import Prediction, QualityModel
from ..model_meta import model_metadata
from ..overlay import MAP_KINDS, overlay_png
from .limits import ServiceConfig

__all__ = ["ImageError", "Scored", "Scorer"]


class ImageError(Exception):
    """One image that cannot be scored: an HTTP status and a one-line message that says what to do."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


@dataclass
class Scored:
    """One decoded and scored image."""

    image: torch.Tensor  # (3, H, W) in [0, 1]
    prediction: Prediction


def _status(exc: ImageReadError) -> int:
    if isinstance(exc, ImageTooLargeError):
        return 413
    if isinstance(exc, UnsupportedImageError):
        return 415
    return 422  # corrupt, truncated, too small


def _name(message: str, filename: str) -> str:
    return f"{filename}: {message[len('<bytes>: '):]}" if message.startswith("<bytes>: ") else message


class Scorer:
    """Decode and score uploads for the service (one per app; shared by every request).

    Args:
        model: the model, loaded once.
        config: pool sizes and limits.

    Example:
        >>> import asyncio, io
        >>> from PIL import Image
        >>> from lpfiqa.models import LPFConfig, LPFHeads
        >>> scorer = Scorer(QualityModel(LPFHeads(LPFConfig(latent_dim=16, hidden_dim=32))), ServiceConfig())
        >>> buf = io.BytesIO(); Image.new("RGB", (64, 64), "gray").save(buf, "PNG")
        >>> out = asyncio.run(scorer.score(buf.getvalue(), "a.png", maps=False))
        >>> sorted(out)
        ['filename', 'height', 'score', 'width']
        >>> scorer.close()
    """

    def __init__(self, model: QualityModel, config: ServiceConfig) -> None:
        self.model, self.config = model, config
        self.max_pixels = min(config.max_pixels, model.max_pixels)
        self.meta = model_metadata(model)
        self._pools: tuple[ThreadPoolExecutor, ThreadPoolExecutor] | None = None
        self._lock = threading.Lock()
        self._slots: asyncio.Semaphore | None = None

    @property
    def _decode(self) -> ThreadPoolExecutor:
        return self._started()[0]

    @property
    def _infer(self) -> ThreadPoolExecutor:
        return self._started()[1]

    def _started(self) -> tuple[ThreadPoolExecutor, ThreadPoolExecutor]:
        with self._lock:  # started on first use, and again after close() (an app's lifespan can restart)
            if self._pools is None:
                self._pools = (ThreadPoolExecutor(self.config.decode_threads, thread_name_prefix="lpfiqa-decode"),
                               ThreadPoolExecutor(1, thread_name_prefix="lpfiqa-infer"))
            return self._pools

    def close(self) -> None:
        """Stop the pools (waits for running work); the next request starts them again."""
        with self._lock:
            pools, self._pools, self._slots = self._pools, None, None
        for pool in pools or ():
            pool.shutdown(wait=True)

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one of ``max_pending`` request slots; :class:`ImageError` 503 after ``busy_timeout``."""
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.config.max_pending)
        try:
            await asyncio.wait_for(self._slots.acquire(), self.config.busy_timeout)
        except TimeoutError:
            raise ImageError(503, f"server busy ({self.config.max_pending} requests in progress); retry "
                                  "later, or start it with more --workers") from None
        try:
            yield
        finally:
            self._slots.release()

    async def run(self, data: bytes, filename: str, maps: bool) -> Scored:
        """Decode ``data`` (in the decode pool) and score it (in the model's thread)."""
        if not data:
            raise ImageError(400, f"{filename}: empty body; send the image bytes or files as multipart/form-data")
        loop = asyncio.get_running_loop()
        try:
            image = await loop.run_in_executor(self._decode, load_image, data, self.max_pixels)
        except ImageReadError as exc:
            raise ImageError(_status(exc), _name(" ".join(str(exc).split()), filename)) from None
        try:
            pred = await loop.run_in_executor(self._infer, self._predict, image, maps)
        except (RuntimeError, MemoryError) as exc:
            raise ImageError(500, f"{filename}: scoring failed ({type(exc).__name__}); try a smaller image") from None
        return Scored(image, pred)

    def _predict(self, image: torch.Tensor, maps: bool) -> Prediction:
        return self.model.predict(image, return_maps=maps)

    async def score(self, data: bytes, filename: str, maps: bool) -> dict[str, Any]:
        """One image's JSON result: filename, score, size, diagnosis (models with a head), maps on request."""
        scored = await self.run(data, filename, maps)
        return self.result(scored, filename, maps)

    def result(self, scored: Scored, filename: str, maps: bool) -> dict[str, Any]:
        """The JSON fields of one scored image."""
        pred, image = scored.prediction, scored.image
        out: dict[str, Any] = {"filename": filename, "score": pred.score, "width": int(image.shape[-1]),
                               "height": int(image.shape[-2])}
        if pred.diagnosis is not None:
            out["diagnosis"], out["top_family"] = pred.diagnosis, pred.top_family
        if maps:
            out["weight_map"] = np.asarray(pred.weight_map, dtype=np.float64).tolist()
            out["score_map"] = np.asarray(pred.score_map, dtype=np.float64).tolist()
        return out

    async def overlays(self, scored: Scored, kinds: tuple[str, ...] = MAP_KINDS, alpha: float = 0.55,
                       max_side: int = 768) -> dict[str, bytes]:
        """PNG overlays of the maps over the image, drawn in the decode pool: kind -> PNG bytes."""
        loop = asyncio.get_running_loop()
        rgb = scored.image.permute(1, 2, 0).numpy()
        pred, cfg = scored.prediction, self.model.cfg
        out = {}
        for kind in kinds:
            values = pred.weight_map if kind == "weight" else pred.score_map
            out[kind] = await loop.run_in_executor(
                self._decode, lambda v=values, k=kind: overlay_png(
                    rgb, v, k, score_range=cfg.output_range, higher_is_better=cfg.higher_is_better,
                    alpha=alpha, max_side=max_side, cell=cfg.cell))
        return out


def data_url(png: bytes) -> str:
    """PNG bytes as a ``data:`` URL (what the web page puts in an ``<img>``).

    Example:
        >>> data_url(b"\\x89PNG")
        'data:image/png;base64,iVBORw=='
    """
    return "data:image/png;base64," + base64.b64encode(png).decode()
