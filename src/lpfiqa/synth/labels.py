"""Weak quality labels for synthetically distorted images from full-reference (FR) metrics.

Each distorted training image gets one pseudo quality score on a 0-100 scale (higher = better)
computed from four FR metrics against its pristine reference, in the spirit of the weak labels
of KADIS-700k / DeepFL-IQA (H. Lin, V. Hosu, D. Saupe, "DeepFL-IQA: Weak supervision for deep
IQA feature learning", arXiv:2001.08113, 2020; "KADID-10k", QoMEX 2019), which score synthetic
distortions with a bank of FR-IQA metrics instead of human ratings.

Metrics (:data:`METRICS`, see :mod:`lpfiqa.fr`): MS-SSIM (Wang et al. 2003), GMSD (Xue et al.
2014), VIFp (Sheikh & Bovik 2006) and MDSI (Nafchi et al. 2016). They cover structure, gradient,
information-theoretic and colour-aware views of fidelity.

How the label is formed (this paragraph is meant to be quoted in the model card):

1. **Quality direction.** Each metric m is turned into a quality value u_m with higher = better:
   u = MS-SSIM, u = VIF, u = -GMSD, u = -MDSI. Its value for an undistorted image is
   u*_m = 1, 1, 0, 0 respectively.
2. **Consensus target.** On a fitting set of N distorted images, every metric is replaced by its
   normalised rank (empirical CDF, ties averaged): F_m(i) = rank(u_m(i)) / N. The consensus
   target is T(i) = 100 * mean_m F_m(i) - a Borda-style rank average, which needs no assumption
   about the metrics' very different scales and non-linearities.
3. **Per-metric monotone mapping.** Each u_m is mapped onto the target by a 4-parameter logistic
   (the monotone mapping used by VQEG and Sheikh et al. 2006 to put objective scores on a
   subjective scale), fitted by least squares (``scipy.optimize.curve_fit``, deterministic
   starting values from the median / inter-quartile range) with one constraint: it passes
   through (u*_m, 100). Written with the lower asymptote ``lo``, centre ``c`` and slope ``s > 0``:
   Q_m(u) = lo + (100 - lo) * sigmoid((u - c) / s) / sigmoid((u*_m - c) / s).
   The constraint makes an undistorted image score exactly 100 under every metric, independently
   of how many nearly perfect images the fitting set holds; without it an unconstrained logistic
   saturates below 100 (its asymptote is the target of the best *fitting* images, which is an
   average rank < 1). If the fit fails (too few distinct values, optimiser error, non-finite
   parameters) the metric falls back to equipercentile linking: a piecewise-linear map from the
   metric's quantiles to the target's quantiles (101 knots), plus the anchor (u*_m, 100). Both
   maps are monotone non-decreasing.
4. **Label.** Each mapped metric is clipped to [0, 100] (so e.g. VIF > 1 from contrast
   enhancement cannot push a label past 100) and the label is their unweighted mean.

The calibration (the per-metric parameters) is fitted once on a training set, saved as JSON and
then frozen, so that images scored later receive labels on the same scale. Because the target is
rank-based, the scale is relative to the fitting set's distortion mix: 50 means "median
degradation of the fitting set", not a human MOS of 50. Everything is deterministic.

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> q = rng.uniform(0, 1, 300)  # latent quality of 300 fake distorted images
    >>> raw = {"ms_ssim": 0.6 + 0.4 * q, "gmsd": 0.25 * (1 - q),
    ...        "vif": q ** 1.5, "mdsi": 0.45 * (1 - q) ** 0.5}
    >>> cal = fit_calibration(raw)
    >>> labels = weak_label(raw, cal)
    >>> bool(np.all(np.diff(labels[np.argsort(q)]) >= -1e-9))  # labels follow latent quality
    True
    >>> weak_label({"ms_ssim": [1.0], "gmsd": [0.0], "vif": [1.0], "mdsi": [0.0]}, cal).tolist()
    [100.0]
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from scipy.optimize import OptimizeWarning, curve_fit
from scipy.special import expit
from scipy.stats import rankdata, spearmanr
from torch import Tensor

from lpfiqa.errors import ConfigError
from lpfiqa.fr import gmsd, mdsi, ms_ssim, vif

__all__ = [
    "METRICS",
    "PERFECT_VALUE",
    "QUALITY_SIGN",
    "SCHEME",
    "LabelCalibration",
    "agreement",
    "compute_metrics",
    "fit_calibration",
    "weak_label",
]

#: Metric names, in the order they are computed, stored and averaged.
METRICS: tuple[str, ...] = ("ms_ssim", "gmsd", "vif", "mdsi")

#: +1 where higher raw value = better quality, -1 where lower = better.
QUALITY_SIGN: dict[str, float] = {"ms_ssim": 1.0, "gmsd": -1.0, "vif": 1.0, "mdsi": -1.0}

#: Raw metric value of an undistorted image (reference compared with itself).
PERFECT_VALUE: dict[str, float] = {"ms_ssim": 1.0, "gmsd": 0.0, "vif": 1.0, "mdsi": 0.0}

#: Identifier of the combination scheme, stored in every calibration file.
SCHEME = "ecdf-consensus+anchored-logistic4"

_FUNCTIONS: dict[str, Callable[[Tensor, Tensor], Tensor]] = {
    "ms_ssim": ms_ssim,
    "gmsd": gmsd,
    "vif": vif,
    "mdsi": mdsi,
}
_VERSION = 1
_MIN_LOGISTIC_SAMPLES = 8  # fewer points cannot constrain three parameters sensibly
_QUANTILE_KNOTS = 101


def compute_metrics(reference: Tensor, distorted: Tensor) -> dict[str, Tensor]:
    """All FR metrics of :data:`METRICS` for a batch, in their native direction.

    Args:
        reference: Pristine images, (B, 3, H, W) RGB in [0, 1], H and W at least 41 (VIF's minimum).
        distorted: Distorted images, same shape.

    Returns:
        Dict ``{name: (B,) tensor}`` in :data:`METRICS` order, computed without gradients.

    Example:
        >>> import torch
        >>> x = torch.rand(2, 3, 48, 48, generator=torch.Generator().manual_seed(0))
        >>> {k: [round(v, 4) for v in t.tolist()] for k, t in compute_metrics(x, x).items()}
        {'ms_ssim': [1.0, 1.0], 'gmsd': [0.0, 0.0], 'vif': [1.0, 1.0], 'mdsi': [0.0, 0.0]}
    """
    with torch.no_grad():
        return {name: _FUNCTIONS[name](reference, distorted) for name in METRICS}


def _as_array(values: np.ndarray | Tensor | Any) -> np.ndarray:
    """Flat float64 copy of a tensor, array or sequence of metric values."""
    if isinstance(values, Tensor):
        values = values.detach().cpu().double().numpy()
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1:
        arr = arr.reshape(-1)
    return arr


def _logistic(u: np.ndarray, lo: float, c: float, s: float, u_star: float) -> np.ndarray:
    """Anchored 4-parameter logistic: lower asymptote lo, passes through (u_star, 100)."""
    return lo + (100.0 - lo) * expit((u - c) / s) / expit((u_star - c) / s)


@dataclass
class LabelCalibration:
    """Frozen per-metric monotone maps onto the common 0-100 quality scale.

    Attributes:
        metrics: Metric names used, in :data:`METRICS` order.
        mappings: Per metric a dict with ``kind`` (``"logistic4"`` or ``"quantile"``), ``sign``
            (quality direction), ``u_star`` (quality-direction value of a perfect image), the map's
            parameters (``lo``, ``c``, ``s`` for the logistic; ``knots_u``, ``knots_q`` for the
            quantile map, both in quality direction) and fit diagnostics ``rmse`` (0-100 points,
            against the consensus target) and ``srocc``.
        n_fit: Number of images the calibration was fitted on.
        scheme: Combination scheme identifier (:data:`SCHEME`).
        version: File format version.

    Example:
        >>> cal = LabelCalibration.from_dict({"version": 1, "scheme": SCHEME, "n_fit": 2,
        ...     "metrics": ["vif"], "mappings": {"vif": {"kind": "quantile", "sign": 1.0,
        ...     "u_star": 1.0, "knots_u": [0.0, 1.0], "knots_q": [0.0, 100.0]}}})
        >>> cal.map_metric("vif", [0.25, 1.0, 2.0]).tolist()
        [25.0, 100.0, 100.0]
        >>> LabelCalibration.from_dict(cal.to_dict()) == cal
        True
    """

    metrics: tuple[str, ...]
    mappings: dict[str, dict[str, Any]]
    n_fit: int
    scheme: str = SCHEME
    version: int = _VERSION

    def __post_init__(self) -> None:
        self.metrics = tuple(self.metrics)
        unknown = [m for m in self.metrics if m not in QUALITY_SIGN]
        if not self.metrics or unknown:
            raise ConfigError(
                f"label calibration: unknown or no metrics {unknown or list(self.metrics)}; "
                f"expected a subset of {list(METRICS)}"
            )
        for name in self.metrics:
            spec = self.mappings.get(name)
            if spec is None:
                raise ConfigError(f"label calibration: no mapping for metric {name!r}")
            kind = spec.get("kind")
            needed = {"logistic4": ("lo", "c", "s"), "quantile": ("knots_u", "knots_q")}.get(kind)
            if needed is None:
                raise ConfigError(f"label calibration: metric {name!r} has unknown mapping kind {kind!r}")
            missing = [k for k in (*needed, "sign", "u_star") if k not in spec]
            if missing:
                raise ConfigError(f"label calibration: mapping of {name!r} lacks {missing}")
            if kind == "logistic4" and not float(spec["s"]) > 0:
                raise ConfigError(f"label calibration: logistic slope of {name!r} must be > 0")
            if kind == "quantile" and (
                len(spec["knots_u"]) != len(spec["knots_q"]) or np.any(np.diff(spec["knots_u"]) <= 0)
            ):
                raise ConfigError(f"label calibration: quantile knots of {name!r} must be increasing pairs")

    def map_metric(self, name: str, values: np.ndarray | Tensor | Any) -> np.ndarray:
        """Map raw values of one metric onto the 0-100 scale (clipped).

        Args:
            name: Metric name (must be in :attr:`metrics`).
            values: Raw metric values in the metric's native direction.

        Returns:
            float64 array of mapped scores in [0, 100] (NaN stays NaN).

        Example:
            >>> import numpy as np
            >>> cal = fit_calibration({"gmsd": np.linspace(0.01, 0.3, 50)})
            >>> top, bottom = cal.map_metric("gmsd", [0.0, 0.3])
            >>> float(top), bool(bottom < 5)
            (100.0, True)
        """
        if name not in self.mappings:
            raise KeyError(f"metric {name!r} is not part of this calibration ({list(self.metrics)})")
        spec = self.mappings[name]
        u = float(spec["sign"]) * _as_array(values)
        if spec["kind"] == "logistic4":
            q = _logistic(u, float(spec["lo"]), float(spec["c"]), float(spec["s"]), float(spec["u_star"]))
        else:
            q = np.interp(u, np.asarray(spec["knots_u"], float), np.asarray(spec["knots_q"], float))
            q = np.where(np.isnan(u), np.nan, q)
        return np.clip(q, 0.0, 100.0)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable representation.

        Returns:
            Plain dict of built-in types.

        Example:
            >>> import numpy as np, json
            >>> cal = fit_calibration({"vif": np.linspace(0.1, 0.9, 20)})
            >>> sorted(json.loads(json.dumps(cal.to_dict())))
            ['mappings', 'metrics', 'n_fit', 'scheme', 'version']
        """

        def plain(v: Any) -> Any:
            if isinstance(v, (list, tuple, np.ndarray)):
                return [plain(e) for e in v]
            if isinstance(v, (np.floating, float)):
                return float(v)
            if isinstance(v, (np.integer, int)) and not isinstance(v, bool):
                return int(v)
            return v

        return {
            "version": int(self.version),
            "scheme": self.scheme,
            "n_fit": int(self.n_fit),
            "metrics": list(self.metrics),
            "mappings": {m: {k: plain(v) for k, v in self.mappings[m].items()} for m in self.metrics},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LabelCalibration:
        """Rebuild a calibration from :meth:`to_dict` output.

        Args:
            data: Dict as produced by :meth:`to_dict` (e.g. parsed JSON).

        Returns:
            The calibration.

        Raises:
            ConfigError: If the version, scheme or mappings are not understood.

        Example:
            >>> import numpy as np
            >>> cal = fit_calibration({"mdsi": np.linspace(0.1, 0.5, 20)})
            >>> LabelCalibration.from_dict(cal.to_dict()).metrics
            ('mdsi',)
        """
        try:
            version = int(data["version"])
            if version != _VERSION:
                raise ConfigError(
                    f"label calibration: version {version} is not supported (expected {_VERSION})"
                )
            if data["scheme"] != SCHEME:
                raise ConfigError(f"label calibration: scheme {data['scheme']!r} is not {SCHEME!r}")
            return cls(
                metrics=tuple(data["metrics"]),
                mappings={m: dict(data["mappings"][m]) for m in data["metrics"]},
                n_fit=int(data["n_fit"]),
                scheme=str(data["scheme"]),
                version=version,
            )
        except (KeyError, TypeError) as exc:
            raise ConfigError(f"label calibration: malformed calibration data ({exc!r})") from exc

    def save(self, path: str | Path) -> None:
        """Write the calibration as pretty-printed JSON.

        Args:
            path: Destination file; parent folders are created.

        Example:
            >>> import numpy as np, tempfile, os
            >>> cal = fit_calibration({"vif": np.linspace(0.1, 0.9, 20)})
            >>> p = os.path.join(tempfile.mkdtemp(), "calib.json")
            >>> cal.save(p); LabelCalibration.load(p) == cal
            True
        """
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> LabelCalibration:
        """Read a calibration written by :meth:`save`.

        Args:
            path: JSON file.

        Returns:
            The calibration.

        Raises:
            ConfigError: If the file is missing, not JSON, or not a calibration.

        Example:
            >>> LabelCalibration.load("/nonexistent/calib.json")  # doctest: +ELLIPSIS
            Traceback (most recent call last):
            ...
            lpfiqa.errors.ConfigError: label calibration: cannot read /nonexistent/calib.json ...
        """
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"label calibration: cannot read {path} ({exc})") from exc
        if not isinstance(data, dict):
            raise ConfigError(f"label calibration: {path} does not hold a JSON object")
        return cls.from_dict(data)


def _consensus_target(quality: dict[str, np.ndarray]) -> np.ndarray:
    """100 x mean over metrics of the empirical CDF (average ranks / N)."""
    n = len(next(iter(quality.values())))
    cdfs = [rankdata(u, method="average") / n for u in quality.values()]
    return 100.0 * np.mean(cdfs, axis=0)


def _quantile_map(u: np.ndarray, target: np.ndarray, u_star: float) -> dict[str, Any]:
    """Equipercentile linking from u to the target, anchored at (u_star, 100)."""
    p = np.linspace(0.0, 1.0, _QUANTILE_KNOTS)
    ku, kq = np.quantile(u, p), np.quantile(target, p)
    keep = ku < u_star  # the anchor replaces everything at or beyond the perfect value
    ku, kq = ku[keep], kq[keep]
    # np.interp needs strictly increasing abscissae: for tied quantiles keep the highest target.
    uniq, last = np.unique(ku[::-1], return_index=True)
    kq = kq[::-1][last]
    ku = np.append(uniq, u_star)
    kq = np.append(np.minimum(np.maximum.accumulate(kq), 100.0), 100.0)
    return {"kind": "quantile", "knots_u": ku.tolist(), "knots_q": kq.tolist()}


def _logistic_map(u: np.ndarray, target: np.ndarray, u_star: float) -> dict[str, Any] | None:
    """Least-squares anchored logistic; None when it cannot be fitted reliably."""
    if len(u) < _MIN_LOGISTIC_SAMPLES or len(np.unique(u)) < 4:
        return None
    # Fit on standardised u so that starting values and bounds are scale-free.
    mean, std = float(np.mean(u)), float(np.std(u))
    if not std > 0:
        return None
    z, z_star = (u - mean) / std, (u_star - mean) / std
    q25, q50, q75 = np.percentile(z, [25, 50, 75])
    s0 = max((q75 - q25) / (2.0 * math.log(3.0)), 0.05)  # IQR of a logistic is 2 s ln 3
    lo0 = float(np.clip(np.min(target) - 5.0, -50.0, 90.0))
    c0 = float(q50)
    # Wide bounds: the centre may lie beyond the perfect value (target convex up to u*, as for
    # MS-SSIM) or far below the data (concave), and lo is only an asymptote outside the data.
    lower = [-1000.0, float(np.min(z)) - 10.0, 1e-3]
    upper = [99.0, z_star + 10.0, 100.0]
    p0 = np.clip([lo0, c0, s0], np.add(lower, 1e-9), np.subtract(upper, 1e-9))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", OptimizeWarning)
            params, _ = curve_fit(
                lambda zz, lo, c, s: _logistic(zz, lo, c, s, z_star),
                z,
                target,
                p0=p0,
                bounds=(lower, upper),
                method="trf",
                maxfev=5000,
            )
    except (RuntimeError, ValueError):
        return None
    lo, c_z, s_z = (float(v) for v in params)
    if not all(math.isfinite(v) for v in (lo, c_z, s_z)) or s_z <= 0 or lo >= 100.0:
        return None
    return {"kind": "logistic4", "lo": lo, "c": mean + std * c_z, "s": std * s_z}


def fit_calibration(metrics: Mapping[str, np.ndarray | Tensor | Any]) -> LabelCalibration:
    """Fit the per-metric maps onto the consensus 0-100 scale (see module docstring).

    Args:
        metrics: Raw metric values of the fitting set in their native direction, ``{name: (N,)}``,
            names a subset of :data:`METRICS` (usually all of them), N >= 2, all finite.

    Returns:
        The fitted :class:`LabelCalibration`.

    Raises:
        ValueError: On unknown names, mismatched lengths, too few or non-finite values.

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(1)
        >>> q = rng.uniform(size=100)
        >>> cal = fit_calibration({"ms_ssim": 0.7 + 0.3 * q, "gmsd": 0.2 * (1 - q)})
        >>> cal.metrics, cal.mappings["gmsd"]["kind"]
        (('ms_ssim', 'gmsd'), 'logistic4')
    """
    names = [m for m in METRICS if m in metrics]
    unknown = sorted(set(metrics) - set(METRICS))
    if unknown or not names:
        raise ValueError(
            f"fit_calibration: unknown or no metrics {unknown}; expected names from {list(METRICS)}"
        )
    raw = {m: _as_array(metrics[m]) for m in names}
    n = len(raw[names[0]])
    if any(len(v) != n for v in raw.values()):
        raise ValueError(
            f"fit_calibration: metric arrays differ in length: { {m: len(v) for m, v in raw.items()} }"
        )
    if n < 2:
        raise ValueError(f"fit_calibration: need at least 2 images, got {n}")
    if not all(np.all(np.isfinite(v)) for v in raw.values()):
        raise ValueError("fit_calibration: metric values must be finite")

    quality = {m: QUALITY_SIGN[m] * raw[m] for m in names}
    target = _consensus_target(quality)
    mappings: dict[str, dict[str, Any]] = {}
    for m in names:
        u_star = QUALITY_SIGN[m] * PERFECT_VALUE[m] + 0.0  # + 0.0 turns -0.0 into 0.0 for the JSON
        spec = _logistic_map(quality[m], target, u_star) or _quantile_map(quality[m], target, u_star)
        spec.update(sign=QUALITY_SIGN[m], u_star=u_star)
        mappings[m] = spec
    cal = LabelCalibration(metrics=tuple(names), mappings=mappings, n_fit=n)
    for m in names:  # diagnostics for the model card
        mapped = cal.map_metric(m, raw[m])
        mappings[m]["rmse"] = float(np.sqrt(np.mean((mapped - target) ** 2)))
        rho = spearmanr(quality[m], target).statistic if np.ptp(quality[m]) > 0 else float("nan")
        mappings[m]["srocc"] = float(rho)
    return cal


def weak_label(metrics: Mapping[str, np.ndarray | Tensor | Any], calibration: LabelCalibration) -> np.ndarray:
    """Weak quality labels on the calibrated 0-100 scale (higher = better).

    Args:
        metrics: Raw metric values ``{name: (N,)}`` (numpy arrays, tensors or sequences) for every
            metric of ``calibration``; extra keys are ignored.
        calibration: A calibration from :func:`fit_calibration` or :meth:`LabelCalibration.load`.

    Returns:
        float64 array of shape (N,), values in [0, 100]; NaN where an input was NaN.

    Raises:
        ValueError: If a calibrated metric is missing or lengths differ.

    Example:
        >>> import numpy as np
        >>> cal = fit_calibration({"vif": np.linspace(0.05, 0.95, 40), "gmsd": np.linspace(0.3, 0.01, 40)})
        >>> lab = weak_label({"vif": [1.0, 0.5, 0.05], "gmsd": [0.0, 0.15, 0.3]}, cal)
        >>> float(lab[0]), bool(lab[0] > lab[1] > lab[2])
        (100.0, True)
    """
    missing = [m for m in calibration.metrics if m not in metrics]
    if missing:
        raise ValueError(f"weak_label: metrics {missing} are calibrated but were not given")
    mapped = [calibration.map_metric(m, metrics[m]) for m in calibration.metrics]
    if len({len(v) for v in mapped}) != 1:
        raise ValueError("weak_label: metric arrays differ in length")
    return np.clip(np.mean(mapped, axis=0), 0.0, 100.0)


def agreement(metrics: Mapping[str, np.ndarray | Tensor | Any]) -> dict[str, dict[str, float]]:
    """Pairwise Spearman rank correlation (SROCC) between metrics, for the model card.

    Correlations are computed on quality-direction values (GMSD and MDSI negated), so metrics
    that agree on which image is better correlate positively. Names outside :data:`METRICS` are
    taken as they are.

    Args:
        metrics: Raw metric values ``{name: (N,)}``, equal lengths.

    Returns:
        Nested dict ``{a: {b: srocc}}`` over all pairs, diagonal 1.0; NaN where a metric is constant.

    Example:
        >>> r = agreement({"ms_ssim": [0.9, 0.8, 0.7, 0.95], "gmsd": [0.05, 0.1, 0.2, 0.01]})
        >>> r["ms_ssim"]["gmsd"], r["gmsd"]["gmsd"]
        (1.0, 1.0)
    """
    names = [m for m in METRICS if m in metrics] + [m for m in metrics if m not in METRICS]
    quality = {m: QUALITY_SIGN.get(m, 1.0) * _as_array(metrics[m]) for m in names}
    if len({len(v) for v in quality.values()}) > 1:
        raise ValueError("agreement: metric arrays differ in length")
    out: dict[str, dict[str, float]] = {a: {} for a in names}
    for i, a in enumerate(names):
        for b in names[i:]:
            if a == b:
                rho = 1.0
            elif np.ptp(quality[a]) == 0 or np.ptp(quality[b]) == 0:
                rho = float("nan")
            else:
                rho = float(spearmanr(quality[a], quality[b]).statistic)
            out[a][b] = out[b][a] = rho
    return out
