"""The LPF configuration: one typed dataclass, saved as JSON next to the weights."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from ..backbones.base import encoder_spec
from ..datasets.scale import ScoreScale
from ..errors import ConfigError

__all__ = ["CARD_FIELDS", "LPFConfig", "TOKEN_TRANSFORMS"]

TOKEN_TRANSFORMS = ("none", "log1p")
LEGACY_DEFAULTS: dict[str, Any] = {"token_transform": "none"}
# What the weights' card says (how outputs are reported, where they came from), as opposed to what
# builds and trains the network: protocols compare architectures without these, models report with them.
CARD_FIELDS = ("score_min", "score_max", "higher_is_better", "score_name", "output_anchors", "output_clip", "extra")


@dataclass
class LPFConfig:
    """Everything needed to rebuild an LPF model and map its output to a dataset's scale.

    Example:
        >>> cfg = LPFConfig(latent_dim=128)
        >>> LPFConfig.from_dict(cfg.to_dict()) == cfg
        True
        >>> cfg.token_dim
        768
        >>> LPFConfig.from_dict({"latent_dim": 128}).use_diagnosis  # a file from before the diagnosis head
        False
    """

    # Encoder and tokens
    encoder: str = "vgg16"        # a registered encoder (lpfiqa.backbones.ENCODERS): vgg16 (LPF) or mobilenet_v2 (Lite)
    # Encoder stages pooled into tokens; empty: the encoder's default (EncoderSpec.default_stages). VGG16's,
    # conv3_3 + conv4_3: the starting point was conv3_3..conv5_3; without conv5_3 (the most semantic,
    # content-bound stage) validation on unseen photos was as good or better, at 9% fewer FLOPs.
    stages: tuple[str, ...] = ()
    cell: int = 32                # token grid cell in pixels: every stage is average-pooled onto it
    encoder_weights: str = "bundled"  # "bundled" (Keras ImageNet) or a path given at training time
    token_transform: str = "log1p"  # log(1 + x) per channel before standardising: ReLU maps are heavy-tailed
    # Feature Embedding Network (per token)
    hidden_dim: int = 512         # FEN hidden width
    latent_dim: int = 256         # D, the latent size of each token
    dropout: float = 0.1
    # Auxiliary tasks (training only)
    num_classes: int = 4          # K coarse quality classes, binned at training-set quantiles
    # Off by default: on the default model's training photos (10 splits by photo) LPF without it beat LPF
    # with it in 8 of 10 splits (median SRCC 0.635 vs 0.618; bench/results/decide_category.json).
    use_category: bool = False
    use_comparison: bool = True
    lambda_cat: float = 0.5
    lambda_cmp: float = 1.0
    compare_hidden: int = 128     # width of the comparison head
    # Diagnosis ("what is wrong"): multi-label sigmoid head on g, one output per distortion family.
    # Unlike the auxiliary tasks it is used at test time (Prediction.diagnosis). Off in files from
    # before it existed, so they load and score unchanged.
    use_diagnosis: bool = False
    diagnosis_families: tuple[str, ...] = ()  # what each output means, in order (filled in from the data)
    lambda_diag: float = 1.0
    # True: the diagnosis loss trains only its head, on detached latents, so the score path trains
    # exactly as without it; False: it also trains the FEN, in parallel (the paper's one-stage way).
    diagnosis_detach: bool = True
    # DaQRN
    head_hidden: int = 128        # width of the weight and score streams
    use_weight_stream: bool = True   # off: plain mean of the per-token scores
    use_score_stream: bool = True    # off: one linear score from the weight-pooled latent
    # Output scale: predictions are made in [0, 1] (higher = better) and mapped back to these
    score_min: float = 0.0
    score_max: float = 100.0
    higher_is_better: bool = True
    score_name: str = "quality"   # e.g. "MOS", "DMOS", "weak label (0-100)"
    # A monotone map applied after score_min/score_max, fitted after training on validation photos
    # (tools/train_default_model.py): the logistic curve onto the range `output_clip` that passes through two
    # anchors (raw -> calibrated). Strictly increasing, so no rank, level ordering or tie changes (a clipped
    # linear map tied every image past its ends); an empty tuple (older files) means no map.
    output_anchors: tuple[tuple[float, float], ...] = ()
    output_clip: tuple[float, float] = (0.0, 100.0)
    extra: dict[str, Any] = field(default_factory=dict)  # provenance: dataset, epochs, metrics

    def __post_init__(self) -> None:
        self.stages = tuple(self.stages) or encoder_spec(self.encoder).default_stages
        self.diagnosis_families = tuple(self.diagnosis_families)
        self.output_anchors = tuple(tuple(float(v) for v in a) for a in self.output_anchors)
        self.output_clip = (float(self.output_clip[0]), float(self.output_clip[1]))
        if self.output_anchors and (len(self.output_anchors) != 2
                                    or not self.output_anchors[0][0] < self.output_anchors[1][0]
                                    or not self.output_anchors[0][1] < self.output_anchors[1][1]):
            raise ConfigError(f"`output_anchors` {self.output_anchors}: need two (raw, calibrated) pairs, "
                              "increasing in both")
        if len(set(self.diagnosis_families)) != len(self.diagnosis_families) or not all(self.diagnosis_families):
            raise ConfigError(f"`diagnosis_families` {list(self.diagnosis_families)}: names must be unique and "
                              "non-empty")
        if self.lambda_diag < 0:
            raise ConfigError(f"`lambda_diag` {self.lambda_diag} must be >= 0")
        encoder_spec(self.encoder).check(self.stages, self.cell)
        if self.token_transform not in TOKEN_TRANSFORMS:
            raise ConfigError(f"`token_transform` {self.token_transform!r}: use one of {list(TOKEN_TRANSFORMS)}")
        if self.num_classes < 2 and self.use_category:
            raise ConfigError(f"`num_classes` {self.num_classes}: need at least 2 classes (or use_category=False)")
        if not self.score_max > self.score_min:
            raise ConfigError(f"score range [{self.score_min}, {self.score_max}] is empty")
        if not (self.use_weight_stream or self.use_score_stream):
            raise ConfigError("DaQRN needs at least one stream: use_weight_stream or use_score_stream")

    @property
    def token_dim(self) -> int:
        return encoder_spec(self.encoder).token_dim(self.stages)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["stages"] = list(self.stages)
        d["diagnosis_families"] = list(self.diagnosis_families)
        d["output_anchors"] = [list(a) for a in self.output_anchors]
        d["output_clip"] = list(self.output_clip)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LPFConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ConfigError(f"unknown LPF config keys {unknown}; is this file from a newer lpfiqa?")
        # files written before a field existed get the behaviour they were trained with
        return cls(**{**LEGACY_DEFAULTS, **d})

    def save(self, path: str | Path) -> None:
        from ..utils import atomic_write_text

        atomic_write_text(Path(path), json.dumps(self.to_dict(), indent=2, sort_keys=True))

    @classmethod
    def load(cls, path: str | Path) -> LPFConfig:
        try:
            return cls.from_dict(json.loads(Path(path).read_text()))
        except (OSError, json.JSONDecodeError) as exc:
            raise ConfigError(f"{path}: cannot read the LPF config ({exc})") from exc

    # Architecture and card -----------------------------------------------------------------
    def architecture(self) -> dict[str, Any]:
        """The fields that build and train the network (encoder, tokens, heads, losses): no card fields.

        Example:
            >>> a = LPFConfig(score_max=5.0, score_name="MOS").architecture()
            >>> "score_max" in a, a["encoder"], a["stages"]
            (False, 'vgg16', ['conv3_3', 'conv4_3'])
        """
        return {k: v for k, v in self.to_dict().items() if k not in CARD_FIELDS}

    def card(self) -> dict[str, Any]:
        """The weights' card: output range and direction, score name, output map, provenance."""
        return {k: v for k, v in self.to_dict().items() if k in CARD_FIELDS}

    # Score scale ------------------------------------------------------------------------
    @property
    def score_scale(self) -> ScoreScale:
        """The scale unit outputs map to: the one normaliser, :class:`~lpfiqa.datasets.scale.ScoreScale`."""
        return ScoreScale(float(self.score_min), float(self.score_max), bool(self.higher_is_better))

    def to_unit(self, score: Any) -> Any:
        """Dataset score -> [0, 1], higher = better (training target); floats stay floats, arrays keep their dtype."""
        return _like(score, self.score_scale.normalise(score))

    def from_unit(self, u: Any) -> Any:
        """[0, 1] prediction -> dataset score in its own unit and direction (then the output map, if any).

        Example:
            >>> import numpy as np
            >>> cfg = LPFConfig(output_anchors=((40.0, 15.0), (80.0, 90.0)))
            >>> [round(float(v), 2) for v in cfg.from_unit(np.array([0.4, 0.8, 0.6, 0.95, 1.0]))]
            [15.0, 90.0, 55.76, 97.52, 98.47]
        """
        raw = _like(u, self.score_scale.denormalise(u))
        return self.calibrate(raw) if self.output_anchors else raw

    @property
    def output_range(self) -> tuple[float, float]:
        """The range scores come out in: ``output_clip`` with an output map, else ``score_min``..``score_max``.

        Example:
            >>> LPFConfig(score_min=18.0).output_range, LPFConfig(output_anchors=((1, 2), (3, 4))).output_range
            ((18.0, 100.0), (0.0, 100.0))
        """
        return self.output_clip if self.output_anchors else (float(self.score_min), float(self.score_max))

    def calibrate(self, raw: Any) -> Any:
        """The output map of ``output_anchors`` (identity without anchors); keeps arrays, tensors or floats."""
        if not self.output_anchors:
            return raw
        lo, hi = self.output_clip
        (x0, y0), (x1, y1) = self.output_anchors
        l0, l1 = (math.log((y - lo) / (hi - y)) for y in (y0, y1))  # the anchors on the logit scale
        slope = (l1 - l0) / (x1 - x0)
        z = l0 + (raw - x0) * slope
        if hasattr(z, "sigmoid"):  # a tensor (also inside an exported graph)
            return lo + (hi - lo) * z.sigmoid()
        return lo + (hi - lo) / (1 + np.exp(-z))


def _like(x: Any, y: np.ndarray) -> Any:
    """``y`` in the type of ``x``: a Python float for a scalar, an array of ``x``'s float dtype otherwise."""
    if np.ndim(x) == 0 and not isinstance(x, np.ndarray):
        return float(y)
    dtype = getattr(x, "dtype", None)
    return y.astype(dtype) if dtype is not None and np.issubdtype(dtype, np.floating) else y
