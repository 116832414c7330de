"""The weak-label calibration: per-metric monotone maps onto the common 0-100 quality scale.

:func:`fit_calibration` carries out steps 2 and 3 of the scheme described in
:mod:`lpfiqa.synth.labels` (consensus target, anchored logistic with an equipercentile
fallback) and returns a :class:`LabelCalibration`, which maps raw metric values, is saved as
JSON and is then frozen. The metric conventions it stores and checks (:data:`METRICS`,
:data:`QUALITY_SIGN`, :data:`PERFECT_VALUE`, :data:`SCHEME`) are defined here;
:mod:`lpfiqa.synth.labels`, the public face, re-exports all of it.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import OptimizeWarning, curve_fit
from scipy.special import expit
from scipy.stats import rankdata, spearmanr
from torch import Tensor

from lpfiqa.errors import ConfigError

from .metric_names import ALL_METRICS, COLOUR_METRICS, METRICS

__all__ = [
    "ALL_METRICS",
    "COLOUR_METRICS",
    "METRICS",
    "PERFECT_VALUE",
    "QUALITY_SIGN",
    "SCHEME",
    "LabelCalibration",
    "as_array",
    "fit_calibration",
]

#: +1 where higher raw value = better quality, -1 where lower = better.
QUALITY_SIGN: dict[str, float] = {"ms_ssim": 1.0, "gmsd": -1.0, "vif": 1.0, "mdsi": -1.0, "delta_e": -1.0}

#: Raw metric value of an undistorted image (reference compared with itself).
PERFECT_VALUE: dict[str, float] = {"ms_ssim": 1.0, "gmsd": 0.0, "vif": 1.0, "mdsi": 0.0, "delta_e": 0.0}

#: Identifier of the combination scheme, stored in every calibration file.
SCHEME = "ecdf-consensus+anchored-logistic4"

_VERSION = 1
_MIN_LOGISTIC_SAMPLES = 8  # fewer points cannot constrain three parameters sensibly
_QUANTILE_KNOTS = 101


def as_array(values: np.ndarray | Tensor | Any) -> np.ndarray:
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
        >>> cal.map_metric("vif", [0.25, 1.0, 2.0]).round(6).tolist()
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
                f"expected a subset of {list(ALL_METRICS)}"
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
            >>> round(float(top), 6), bool(bottom < 5)
            (100.0, True)
        """
        if name not in self.mappings:
            raise KeyError(f"metric {name!r} is not part of this calibration ({list(self.metrics)})")
        spec = self.mappings[name]
        u = float(spec["sign"]) * as_array(values)
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
    names = [m for m in ALL_METRICS if m in metrics]
    unknown = sorted(set(metrics) - set(ALL_METRICS))
    if unknown or not names:
        raise ValueError(
            f"fit_calibration: unknown or no metrics {unknown}; expected names from {list(ALL_METRICS)}"
        )
    raw = {m: as_array(metrics[m]) for m in names}
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
