"""Scoring with a trained LPF: the object ``lpfiqa.create_model`` returns.

Any image size is scored in one fully-convolutional pass (huge images in exact tiles, see
:mod:`lpfiqa.features`). Images of equal size are batched through the encoder; a score never
depends on the batch it was in.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from .backbones.tokens import TokenEncoder, center_crop_to_cell
from .errors import ImageReadError
from .imageio import MAX_PIXELS, ImageInput, image_name, load_image
from .models.config import LPFConfig
from .models.lpf import LPF, LPFHeads

__all__ = ["Prediction", "QualityModel", "ScoreRecord", "score_sources", "top_family"]


@dataclass
class Prediction:
    """One image's score, and optionally LPF's quality maps (one value per ``cell`` x ``cell`` region).

    Attributes:
        score: quality in the model's scale (``model.cfg.output_range``).
        weight_map: (h, w) DaQRN weights normalised to sum to 1: where the judgement comes from.
        score_map: (h, w) per-region quality in the model's scale.
        diagnosis: distortion family -> probability that the image has it (independent sigmoids:
            several can be high, all low means "nothing wrong"); None when the model has no
            diagnosis head.
    """

    score: float
    weight_map: np.ndarray | None = None
    score_map: np.ndarray | None = None
    diagnosis: dict[str, float] | None = None

    @property
    def top_family(self) -> str | None:
        """The most likely family, ``"none"`` when every probability is below 0.5, None without a diagnosis.

        Example:
            >>> Prediction(50.0, diagnosis={"blur": 0.8, "noise": 0.3}).top_family
            'blur'
        """
        return top_family(self.diagnosis)


def top_family(diagnosis: dict[str, float] | None, threshold: float = 0.5) -> str | None:
    """The family with the highest probability if it reaches ``threshold``, else ``"none"``.

    Example:
        >>> top_family({"blur": 0.2, "noise": 0.4}), top_family(None)
        ('none', None)
    """
    if diagnosis is None:
        return None
    if not diagnosis:
        return "none"
    best = max(diagnosis, key=diagnosis.__getitem__)
    return best if diagnosis[best] >= threshold else "none"


@dataclass
class ScoreRecord:
    """One row of a batch job: a score, or the reason there is none."""

    source: str
    score: float | None = None
    error: str | None = None
    width: int | None = None
    height: int | None = None
    diagnosis: dict[str, float] | None = None  # family -> probability (models with a diagnosis head)

    @property
    def ok(self) -> bool:
        return self.error is None


class QualityModel:
    """A trained LPF ready to score images: decodes and crops once, batches equal sizes, maps to the model's scale.

    Args:
        model: the model (:class:`~lpfiqa.models.LPF`), or trained heads alone (the encoder is
            then built from ``heads.cfg``, or taken from ``encoder``).
        encoder: a token encoder to share (only with heads).
        name: registry name or path, for reports.
        max_pixels: refuse larger images.

    Example:
        >>> from lpfiqa.models import LPFConfig, LPFHeads
        >>> m = QualityModel(LPFHeads(LPFConfig(latent_dim=16, hidden_dim=32)).eval())
        >>> img = torch.rand(3, 64, 64)
        >>> abs(m.score(img) - m.score([img, img])[1]) < 1e-4
        True
    """

    engine = "torch"  # what runs the model (export.OnnxQualityModel: "onnx"); the service reports it

    def __init__(self, model: LPF | LPFHeads, encoder: TokenEncoder | None = None, name: str = "",
                 max_pixels: int = MAX_PIXELS, batch_size: int = 8) -> None:
        if isinstance(model, LPFHeads):
            tile = encoder.tile if encoder is not None else 1024
            model = LPF(model.cfg, encoder=encoder.encoder if encoder is not None else None, heads=model, tile=tile)
        elif encoder is not None:
            raise TypeError("pass `encoder` only with heads: an LPF model has its own")
        self.model = model.eval()
        self.name = name
        self.max_pixels = max_pixels
        self.batch_size = batch_size

    @property
    def heads(self) -> LPFHeads:
        return self.model.heads

    @property
    def encoder(self) -> TokenEncoder:
        """The encoder side: frozen network + token pooling + tiling."""
        return self.model.tokens

    @property
    def cfg(self) -> LPFConfig:
        return self.model.cfg

    @property
    def diagnosis_families(self) -> tuple[str, ...]:
        """The families :attr:`Prediction.diagnosis` reports, in order; empty without a diagnosis head."""
        return self.cfg.diagnosis_families if self.heads.diagnosis is not None else ()

    def __repr__(self) -> str:
        c = self.cfg
        return (f"QualityModel({self.name or 'unnamed'!r}, scale=[{c.output_range[0]:g}, {c.output_range[1]:g}], "
                f"higher_is_better={c.higher_is_better})")

    # ------------------------------------------------------------------ core
    @torch.inference_mode()
    def _from_grid(self, grid: torch.Tensor, maps: bool) -> Prediction:
        """(C, h, w) token grid -> prediction."""
        h, w = grid.shape[-2:]
        out = self.model.forward_head(grid[None])
        unit = float(out["score"][0])
        pred = Prediction(score=float(self.cfg.from_unit(unit)))
        if "diagnosis" in out:
            pred.diagnosis = {f: float(p) for f, p in zip(self.cfg.diagnosis_families, out["diagnosis"][0],
                                                          strict=True)}
        if maps:
            wts = out["w"][0] / out["sum_w"][0]
            pred.weight_map = wts.reshape(h, w).numpy()
            pred.score_map = np.asarray(self.cfg.from_unit(out["s"][0].reshape(h, w).numpy()))
        return pred

    def _grids(self, images: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        """Token grids of decoded images, batching equal sizes through the encoder."""
        grids: list[torch.Tensor | None] = [None] * len(images)
        by_size: dict[tuple[int, int], list[int]] = defaultdict(list)
        for i, img in enumerate(images):
            by_size[tuple(center_crop_to_cell(img, self.cfg.cell).shape[-2:])].append(i)
        for (h, w), idx in by_size.items():
            step = self.batch_size if h * w <= self.encoder.tile ** 2 else 1
            for k in range(0, len(idx), step):
                chunk = idx[k:k + step]
                crops = [center_crop_to_cell(images[i], self.cfg.cell) for i in chunk]
                # One image: a view, not a copy (for a 6000x4000 photo that copy was 288 MB of peak RSS).
                batch = crops[0][None] if len(crops) == 1 else torch.stack(crops)
                for i, g in zip(chunk, self.model.forward_features(batch), strict=True):
                    grids[i] = g
        return grids  # type: ignore[return-value]

    # ------------------------------------------------------------------ public API
    def predict(self, image: ImageInput, return_maps: bool = False) -> Prediction:
        """Score one image; with ``return_maps`` also return DaQRN's weight and score maps.

        A model with a diagnosis head also fills :attr:`Prediction.diagnosis` (family probabilities).

        Raises:
            ImageReadError: the image cannot be read (see :func:`lpfiqa.imageio.load_image`).
        """
        grid = self._grids([load_image(image, self.max_pixels)])[0]
        return self._from_grid(grid, return_maps)

    def score(self, images: ImageInput | Sequence[ImageInput]) -> float | list[float]:
        """Quality of one image (a float) or of a list of images (a list of floats).

        Accepts paths, bytes, PIL images, arrays and tensors (see :func:`lpfiqa.imageio.load_image`);
        a (B, 3, H, W) tensor is a list of B images. Raises on the first unreadable image: use
        :meth:`score_files` to go on past failures.
        """
        single = not isinstance(images, (list, tuple)) and not (isinstance(images, torch.Tensor) and images.ndim == 4
                                                                and images.shape[0] > 1)
        items = [images] if single else list(images)
        decoded = [load_image(x, self.max_pixels) for x in items]
        scores = [self._from_grid(g, False).score for g in self._grids(decoded)]
        return scores[0] if single else scores

    def score_files(self, sources: Iterable[ImageInput],
                    on_record: Callable[[ScoreRecord], None] | None = None) -> list[ScoreRecord]:
        """Score many images; a failure is recorded on its row and the rest go on.

        Args:
            sources: images (usually paths).
            on_record: called with each record as soon as it exists (progress, streaming output).

        Returns:
            One :class:`ScoreRecord` per source, in order.
        """
        return score_sources(sources, lambda img: self._from_grid(self._grids([img])[0], False),
                             self.max_pixels, on_record)


def score_sources(sources: Iterable[ImageInput], predict: Callable[[torch.Tensor], Prediction],
                  max_pixels: int = MAX_PIXELS,
                  on_record: Callable[[ScoreRecord], None] | None = None) -> list[ScoreRecord]:
    """Decode and score each source with ``predict``; a failure is recorded on its row and the rest go on.

    The one loop behind :meth:`QualityModel.score_files` and the ONNX engine's.

    Example:
        >>> recs = score_sources(["/nonexistent.png"], lambda img: Prediction(50.0))
        >>> recs[0].ok, "/nonexistent.png" in recs[0].error
        (False, True)
    """
    records = []
    for src in sources:
        rec = ScoreRecord(source=image_name(src))
        try:
            img = load_image(src, max_pixels)
            rec.height, rec.width = img.shape[-2:]
            pred = predict(img)
            rec.score, rec.diagnosis = pred.score, pred.diagnosis
        except ImageReadError as exc:
            rec.error = str(exc)
        except (RuntimeError, MemoryError) as exc:  # e.g. out of memory on one image
            rec.error = f"{rec.source}: scoring failed ({type(exc).__name__}: {exc}); try a smaller image"
        records.append(rec)
        if on_record is not None:
            on_record(rec)
    return records
