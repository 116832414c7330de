"""Weak quality labels for synthetically distorted images from full-reference (FR) metrics.

Each distorted training image gets one pseudo quality score on a 0-100 scale (higher = better)
computed from four FR metrics against its pristine reference, in the spirit of the weak labels
of KADIS-700k / DeepFL-IQA (H. Lin, V. Hosu, D. Saupe, "DeepFL-IQA: Weak supervision for deep
IQA feature learning", arXiv:2001.08113, 2020; "KADID-10k", QoMEX 2019), which score synthetic
distortions with a bank of FR-IQA metrics instead of human ratings.

Metrics (:data:`METRICS`, see :mod:`lpfiqa.fr`): MS-SSIM (Wang et al. 2003), GMSD (Xue et al.
2014), VIFp (Sheikh & Bovik 2006) and MDSI (Nafchi et al. 2016). They cover structure, gradient,
information-theoretic and (weakly) colour-aware views of fidelity. Sets built since
``lpf-synth-v4`` add the mean CIEDE2000 difference (:data:`COLOUR_METRICS`,
:mod:`lpfiqa.fr.delta_e`): the four alone barely react to desaturation or colour diffusion, so
their labels ranked colour damage as nearly harmless. Which metrics a set used is stored in
its calibration file (``SynthConfig.label_metrics`` chooses them).

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
    >>> weak_label({"ms_ssim": [1.0], "gmsd": [0.0], "vif": [1.0], "mdsi": [0.0]}, cal).round(6).tolist()
    [100.0]
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import torch
from scipy.stats import spearmanr
from torch import Tensor

from lpfiqa.fr import delta_e, gmsd, mdsi, ms_ssim, vif

# The metric conventions and the calibration live in .calibration; re-exported here.
from .calibration import (
    ALL_METRICS,
    COLOUR_METRICS,
    METRICS,
    PERFECT_VALUE,
    QUALITY_SIGN,
    SCHEME,
    LabelCalibration,
    as_array,
    fit_calibration,
)

__all__ = [
    "ALL_METRICS",
    "COLOUR_METRICS",
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

_FUNCTIONS: dict[str, Callable[[Tensor, Tensor], Tensor]] = {
    "ms_ssim": ms_ssim,
    "gmsd": gmsd,
    "vif": vif,
    "mdsi": mdsi,
    "delta_e": delta_e,
}


def compute_metrics(reference: Tensor, distorted: Tensor, names: tuple[str, ...] = METRICS) -> dict[str, Tensor]:
    """The FR metrics ``names`` (default :data:`METRICS`) for a batch, in their native direction.

    Args:
        reference: Pristine images, (B, 3, H, W) RGB in [0, 1], H and W at least 41 (VIF's minimum).
        distorted: Distorted images, same shape.
        names: Metrics to compute, from :data:`ALL_METRICS`.

    Returns:
        Dict ``{name: (B,) tensor}`` in the order of ``names``, computed without gradients.

    Example:
        >>> import torch
        >>> x = torch.rand(2, 3, 48, 48, generator=torch.Generator().manual_seed(0))
        >>> {k: [round(v, 4) for v in t.tolist()] for k, t in compute_metrics(x, x).items()}
        {'ms_ssim': [1.0, 1.0], 'gmsd': [0.0, 0.0], 'vif': [1.0, 1.0], 'mdsi': [0.0, 0.0]}
    """
    with torch.no_grad():
        return {name: _FUNCTIONS[name](reference, distorted) for name in names}


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
        >>> round(float(lab[0]), 6), bool(lab[0] > lab[1] > lab[2])
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
        >>> round(r["ms_ssim"]["gmsd"], 6), round(r["gmsd"]["gmsd"], 6)
        (1.0, 1.0)
    """
    names = [m for m in ALL_METRICS if m in metrics] + [m for m in metrics if m not in ALL_METRICS]
    quality = {m: QUALITY_SIGN.get(m, 1.0) * as_array(metrics[m]) for m in names}
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
