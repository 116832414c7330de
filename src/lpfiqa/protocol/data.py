"""Manifest -> cached token grids, once: what makes n splits cost one feature extraction.

The frozen encoder's tokens of an image never change, so the protocol extracts them a single
time (from :class:`~lpfiqa.features.FeatureCache` when they are already on disk) and then
trains and tests every split and method in memory.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..datasets.manifest import SPLITS, Manifest, ManifestRow, ScoreScale, read_manifest, score_scale
from ..features import FeatureCache, TokenEncoder
from ..models.config import LPFConfig
from ..training.fit import FeatureSet
from ..training.run import MIN_IMAGES, extract_features, readable

__all__ = ["MIN_IMAGES", "LoadedSet", "feature_cache", "load_set"]


@dataclass
class LoadedSet:
    """A manifest's readable images with their token grids.

    Attributes:
        name: The manifest's name (file stem or dataset name).
        rows: Manifest rows of the readable images, in order.
        features: Token grids; ``y`` = score mapped to [0, 1] over the whole set, higher = better
            (the protocol re-maps it per split from the training part only).
        scale: The set's score unit and direction (to report in its own unit).
        official: Official split per row when *every* row has one, else ``None``.
        partial_official: Some rows, but not all, have an official split.
        failures: ``(path, error)`` of unreadable images (left out, not fatal).
        seconds: Wall time of the feature extraction.
        cache_hits: Grids read from the cache.
        cache_misses: Grids computed by the encoder.
    """

    name: str
    rows: list[ManifestRow]
    features: FeatureSet
    scale: ScoreScale
    official: list[str] | None
    partial_official: bool = False
    failures: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0
    cache_hits: int = 0
    cache_misses: int = 0

    @property
    def groups(self) -> list[str]:
        return [r.group or str(r.path) for r in self.rows]

    @property
    def truth(self) -> np.ndarray:
        """Subjective scores in the set's own unit and direction."""
        return np.array([r.score for r in self.rows], dtype=np.float64)


def feature_cache(cfg: LPFConfig | None = None, cache_root: Path | str | None = None,
                  encoder_weights: str | None = None, max_side: int | None = None) -> FeatureCache:
    """The token encoder of ``cfg`` (stages, cell) behind the on-disk feature cache.

    Args:
        cfg: Supplies ``stages`` and ``cell``; default :class:`LPFConfig`.
        cache_root: Cache folder (default ``$LPFIQA_CACHE`` or ``~/.cache/lpfiqa``).
        encoder_weights: Other VGG16 weights (default: the bundled ImageNet ones).
        max_side: Downscale images to this long side before encoding.
    """
    cfg = cfg or LPFConfig()
    encoder = TokenEncoder(cfg.stages, cfg.cell, weights=encoder_weights, backbone=cfg.encoder)
    return FeatureCache(encoder, Path(cache_root) if cache_root else None, max_side=max_side)


def load_set(manifest: Manifest | Path | str, cache: FeatureCache, progress: bool = True) -> LoadedSet:
    """Read a manifest and extract (or fetch from the cache) the token grid of every image.

    Args:
        manifest: A :class:`Manifest` or the path of a manifest CSV.
        cache: Where grids come from (see :func:`feature_cache`).
        progress: A progress bar on stderr.

    Returns:
        The :class:`LoadedSet`; unreadable images are in ``failures``, not in ``rows``.

    Raises:
        ManifestError: Unreadable manifest, rows mixing MOS and DMOS, constant scores, or fewer
            than :data:`MIN_IMAGES` readable images.
    """
    m = manifest if isinstance(manifest, Manifest) else read_manifest(manifest)
    label = m.name or "manifest"
    score_scale(m)  # fails early (before minutes of encoding) on mixed directions or constant scores
    hits, misses = cache.hits, cache.misses
    t0 = time.perf_counter()
    grids, failures = extract_features(m.paths(), cache, show=progress, desc=f"encoder features ({label})")
    seconds = time.perf_counter() - t0
    rows, grids = readable(m.rows, grids, label)
    kept = Manifest(rows, m.name)
    scale = score_scale(kept)
    splits = [r.split for r in rows]
    official = splits if all(s in SPLITS for s in splits) else None
    features = FeatureSet.from_rows(rows, grids, np.asarray(scale.normalise(kept.scores())))
    return LoadedSet(label, rows, features, scale, official,
                     partial_official=official is None and any(splits), failures=failures, seconds=seconds,
                     cache_hits=cache.hits - hits,
                     cache_misses=cache.misses - misses)
