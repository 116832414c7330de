"""Training settings: one typed dataclass, saved in the run folder as ``train_config.json``."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from ..errors import ConfigError

__all__ = ["TrainConfig"]


@dataclass
class TrainConfig:
    """How to train LPF's heads on cached encoder features.

    Example:
        >>> TrainConfig(epochs=5).batch_size
        32
    """

    epochs: int = 40
    batch_size: int = 32          # B images -> B(B-1)/2 comparison pairs per step
    lr: float = 1e-3
    weight_decay: float = 1e-4
    window: int = 7               # random window of window x window tokens (7 cells = 224 px); 0 = whole grid
    seed: int = 0
    val_fraction: float = 0.15    # of the training groups, held out to choose the epoch
    test_fraction: float = 0.2    # of all groups, held out for the final figures (touched once)
    max_side: int | None = None   # downscale images to this long side before encoding (None: as they are)
    patience: int = 0             # stop after this many epochs without a better validation SRCC (0: never)
    threads: int = 0              # torch threads (0: leave torch's default)
    schedule: str = "parallel"    # "parallel" (LPF, one stage) or "two_stage" (aux tasks first, then DaQRN)
    stage1_fraction: float = 0.5  # two_stage: share of the epochs spent on the auxiliary tasks alone
    groups_per_batch: int = 0     # >0: each batch draws its images from this many groups (photos), so most
    #                               comparison pairs share content and differ only in distortion (0: random)
    lambda_rank: float = 0.0      # >0: also fit the DaQRN score gap of every same-group pair in a batch to its
    #                               label gap, so content cannot explain a score (needs groups; 0: off)
    lambda_order: float = 0.0     # >0: also push the DaQRN score of every pair of one scene whose order is known
    #                               (same type, two levels; or clean vs distorted) the right way: the level order
    #                               is ground truth where a weak label is not (needs dist_type/dist_level; works
    #                               best with groups_per_batch, so batches hold such pairs; 0: off)

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 2:
            raise ConfigError(f"need epochs >= 1 and batch_size >= 2, got {self.epochs} and {self.batch_size}")
        if not (0 <= self.test_fraction < 1 and 0 <= self.val_fraction < 1):
            raise ConfigError("val_fraction and test_fraction must be in [0, 1)")
        if self.schedule not in ("parallel", "two_stage"):
            raise ConfigError(f"`schedule` {self.schedule!r}: use 'parallel' or 'two_stage'")
        if self.groups_per_batch < 0 or self.groups_per_batch > self.batch_size:
            raise ConfigError(f"`groups_per_batch` {self.groups_per_batch}: use 0 (random batches) or 1.."
                              f"{self.batch_size} (the batch size)")
        if self.lambda_rank < 0:
            raise ConfigError(f"`lambda_rank` {self.lambda_rank} must be >= 0 (0 = off)")
        if self.lambda_order < 0:
            raise ConfigError(f"`lambda_order` {self.lambda_order} must be >= 0 (0 = off)")
        if self.window < 0:
            raise ConfigError(f"`window` {self.window} must be >= 0 (0 = whole token grid)")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ConfigError(f"unknown training config keys {unknown}")
        return cls(**d)

    def save(self, path: Path) -> None:
        from ..utils import atomic_write_text

        atomic_write_text(Path(path), json.dumps(self.to_dict(), indent=2, sort_keys=True))
