"""NIQE (Natural Image Quality Evaluator), a "completely blind" quality score.

A. Mittal, R. Soundararajan, A. C. Bovik, "Making a 'Completely Blind' Image Quality
Analyzer", IEEE Signal Processing Letters 20(3):209-212, 2013.

Follows LIVE's reference ``estimatemodelparam.m`` / ``computequality.m`` / ``computefeature.m``:
the luminance is cropped to a multiple of the patch size (top-left kept), MSCN coefficients use
replicate padding, and every P x P patch (P/2 x P/2 at the half scale, made with MATLAB
``imresize(I, 0.5)``) gives 18 features: the AGGD fit of the MSCN values (shape, mean of the
left/right scales) and the AGGD fits of the four pairwise products (shape, mean, left scale,
right scale) -> 36 features per patch. The pristine model keeps only patches whose mean local
deviation exceeds ``sharpness_threshold`` times the image's sharpest patch, fits a multivariate
Gaussian, and an image's score is

    sqrt((mu_p - mu_d)^T pinv((cov_p + cov_d) / 2) (mu_p - mu_d))     (Eq. 10)

with (mu_d, cov_d) fitted to all of the image's patches. Lower is better.

The published model was fitted on 125 pristine photos that are not part of this project, so
:func:`fit_niqe` is run on the project's own pristine photos and scores are not comparable with
the numbers of the paper or of other toolkits.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.special import gamma as _gamma

from lpfiqa.baselines._nss import aggd_fit, imresize_matlab, mscn, to_luminance
from lpfiqa.errors import WeightsError

__all__ = ["NIQEModel", "fit_niqe", "niqe", "niqe_patch_features"]

_SHIFTS = ((0, 1), (1, 0), (1, 1), (1, -1))  # computefeature.m's circshift offsets
_N_FEATURES = 36
_FORMAT = "lpfiqa-niqe-mvg"


def _block_features(coeffs: np.ndarray, block: int) -> np.ndarray:
    """18 features for each ``block`` x ``block`` tile of an MSCN map, row-major tile order."""
    nr, nc = coeffs.shape[0] // block, coeffs.shape[1] // block
    tiles = coeffs[: nr * block, : nc * block].reshape(nr, block, nc, block).swapaxes(1, 2)
    tiles = tiles.reshape(nr * nc, block, block)
    a, left, right = aggd_fit(tiles.reshape(len(tiles), -1))
    k = np.sqrt(_gamma(1.0 / a) / _gamma(3.0 / a))  # std -> AGGD scale parameter beta
    cols = [a, (left * k + right * k) / 2.0]
    for shift in _SHIFTS:
        # circshift acts inside each tile (blkproc hands computefeature one tile at a time).
        pair = tiles * np.roll(tiles, shift, axis=(1, 2))
        a, left, right = aggd_fit(pair.reshape(len(tiles), -1))
        k = np.sqrt(_gamma(1.0 / a) / _gamma(3.0 / a))
        bl, br = left * k, right * k
        cols += [a, (br - bl) * (_gamma(2.0 / a) / _gamma(1.0 / a)), bl, br]
    return np.stack(cols, axis=1)


def niqe_patch_features(image: Any, patch_size: int = 96) -> tuple[np.ndarray, np.ndarray]:
    """Per-patch NIQE features and patch sharpness of one image.

    Args:
        image: A path, PIL image, or array (H, W) / (H, W, 3), uint8 or float in [0, 255].
        patch_size: Patch side P at full scale (even; 96 in the paper). Rows and columns past
            the last whole patch are dropped, as the reference.

    Returns:
        ``(features, sharpness)``: (n_patches, 36) and (n_patches,), patches in row-major order.
        Features of a flat patch are NaN (no texture to fit).

    Raises:
        ValueError: ``patch_size`` is odd or below 16, or the image is smaller than one patch.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> f, s = niqe_patch_features(rng.normal(128, 20, (200, 100)), patch_size=96)
        >>> f.shape, s.shape
        ((2, 36), (2,))
    """
    if patch_size % 2 or patch_size < 16:
        raise ValueError(f"patch_size must be even and >= 16, got {patch_size}")
    gray = to_luminance(image)
    nr, nc = gray.shape[0] // patch_size, gray.shape[1] // patch_size
    if nr == 0 or nc == 0:
        raise ValueError(f"NIQE needs at least one {patch_size}x{patch_size} patch, got {gray.shape}")
    gray = gray[: nr * patch_size, : nc * patch_size]
    coeffs, sigma = mscn(gray, padding="replicate")
    sharp = sigma.reshape(nr, patch_size, nc, patch_size).mean(axis=(1, 3)).ravel()
    f1 = _block_features(coeffs, patch_size)
    coeffs2, _ = mscn(imresize_matlab(gray, 0.5), padding="replicate")
    f2 = _block_features(coeffs2, patch_size // 2)
    return np.concatenate([f1, f2], axis=1), sharp


def _mvg(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance as MATLAB ``nanmean`` (per column) and ``nancov`` (complete rows)."""
    rows = features[np.isfinite(features).all(axis=1)]
    if len(rows) == 0:
        raise ValueError("no patch with finite NIQE features (is the image flat?)")
    mu = np.nanmean(np.where(np.isfinite(features), features, np.nan), axis=0)
    # MATLAB's cov of a single observation is zero rather than NaN; keep that.
    cov = np.cov(rows, rowvar=False, ddof=1) if len(rows) > 1 else np.zeros((rows.shape[1],) * 2)
    return mu, np.atleast_2d(cov)


@dataclass
class NIQEModel:
    """Pristine multivariate Gaussian of NIQE patch features.

    Attributes:
        mu: (36,) mean of the selected pristine patch features.
        cov: (36, 36) covariance (unbiased, complete rows).
        patch_size: The patch side the model was fitted with (scores must use the same).
        sharpness_threshold: The patch-selection threshold used in the fit.
        n_patches: Number of pristine patches in the fit.
        n_images: Number of pristine images in the fit.
    """

    mu: np.ndarray
    cov: np.ndarray
    patch_size: int = 96
    sharpness_threshold: float = 0.75
    n_patches: int = 0
    n_images: int = 0

    def __post_init__(self) -> None:
        self.mu = np.asarray(self.mu, dtype=np.float64).reshape(-1)
        self.cov = np.asarray(self.cov, dtype=np.float64)
        if self.mu.shape != (_N_FEATURES,) or self.cov.shape != (_N_FEATURES, _N_FEATURES):
            raise WeightsError(
                f"NIQE model needs mu (36,) and cov (36, 36), got {self.mu.shape} and {self.cov.shape}"
            )

    def _meta(self) -> dict[str, Any]:
        return {
            "format": _FORMAT,
            "version": 1,
            "patch_size": int(self.patch_size),
            "sharpness_threshold": float(self.sharpness_threshold),
            "n_patches": int(self.n_patches),
            "n_images": int(self.n_images),
        }

    def save(self, path: str | os.PathLike) -> Path:
        """Write the model as ``.json`` or ``.safetensors`` (chosen by suffix; never pickle).

        Example:
            >>> import tempfile
            >>> m = NIQEModel(np.zeros(36), np.eye(36))
            >>> with tempfile.TemporaryDirectory() as d:
            ...     back = NIQEModel.load(m.save(Path(d) / "niqe.json"))
            >>> bool(np.array_equal(back.cov, m.cov)), back.patch_size
            (True, 96)
        """
        path = Path(path)
        if path.suffix == ".json":
            doc = {**self._meta(), "mu": self.mu.tolist(), "cov": self.cov.tolist()}
            path.write_text(json.dumps(doc, indent=1))  # repr floats: the round trip is exact
        elif path.suffix == ".safetensors":
            from safetensors.numpy import save_file

            meta = {k: str(v) for k, v in self._meta().items()}
            save_file({"mu": self.mu, "cov": np.ascontiguousarray(self.cov)}, str(path), metadata=meta)
        else:
            raise ValueError(f"NIQE model path must end in .json or .safetensors, got {path.name!r}")
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> NIQEModel:
        """Read a model written by :meth:`save`.

        Raises:
            WeightsError: The file is missing, unreadable, or not a NIQE model.

        Example:
            >>> NIQEModel.load("missing.json")  # doctest: +ELLIPSIS
            Traceback (most recent call last):
            ...
            lpfiqa.errors.WeightsError: cannot read NIQE model ...
        """
        path = Path(path)
        try:
            if path.suffix == ".safetensors":
                from safetensors import safe_open

                with safe_open(str(path), framework="np") as fh:
                    meta: dict[str, Any] = dict(fh.metadata() or {})
                    arrays = {k: fh.get_tensor(k) for k in ("mu", "cov")}
            else:
                meta = json.loads(path.read_text())
                arrays = {k: np.asarray(meta.pop(k), dtype=np.float64) for k in ("mu", "cov")}
            if meta.get("format") != _FORMAT:
                raise ValueError(f"format is {meta.get('format')!r}, expected {_FORMAT!r}")
            return cls(
                arrays["mu"],
                arrays["cov"],
                patch_size=int(meta["patch_size"]),
                sharpness_threshold=float(meta["sharpness_threshold"]),
                n_patches=int(meta["n_patches"]),
                n_images=int(meta["n_images"]),
            )
        except WeightsError:
            raise
        except Exception as exc:  # any decoding problem is reported the same way
            raise WeightsError(f"cannot read NIQE model {str(path)!r}: {exc}") from exc


def fit_niqe(
    pristine_images: Iterable[Any], patch_size: int = 96, sharpness_threshold: float = 0.75
) -> NIQEModel:
    """Fit the pristine NIQE model (``estimatemodelparam.m``).

    Args:
        pristine_images: Paths, PIL images or arrays of undistorted photos (the caller's
            pristine set; nothing is bundled).
        patch_size: Patch side P (96 in the paper).
        sharpness_threshold: Keep an image's patches whose mean local deviation is strictly
            above this fraction of that image's sharpest patch (0.75 in the paper).

    Returns:
        The fitted :class:`NIQEModel`.

    Raises:
        ValueError: No images, or fewer than 2 usable patches were selected.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> model = fit_niqe([rng.normal(128, 25, (192, 192)) for _ in range(3)], patch_size=48)
        >>> model.mu.shape, model.cov.shape, model.n_images
        ((36,), (36, 36), 3)
    """
    selected, n_images = [], 0
    for image in pristine_images:
        feats, sharp = niqe_patch_features(image, patch_size)
        selected.append(feats[sharp > sharpness_threshold * sharp.max()])
        n_images += 1
    if n_images == 0:
        raise ValueError("fit_niqe needs at least one pristine image")
    feats = np.concatenate(selected)
    if np.isfinite(feats).all(axis=1).sum() < 2:
        raise ValueError(f"only {len(feats)} pristine patch(es) selected; give more or larger images")
    mu, cov = _mvg(feats)
    return NIQEModel(
        mu,
        cov,
        patch_size=patch_size,
        sharpness_threshold=sharpness_threshold,
        n_patches=len(feats),
        n_images=n_images,
    )


def niqe(image: Any, model: NIQEModel) -> float:
    """NIQE score of one image against a pristine model (``computequality.m``); lower is better.

    Args:
        image: A path, PIL image, or array (H, W) / (H, W, 3), uint8 or float in [0, 255], at
            least ``model.patch_size`` pixels on each side. All its patches are used.
        model: A pristine model from :func:`fit_niqe` or :meth:`NIQEModel.load`.

    Returns:
        The distance between the pristine and the image's MVG, a float >= 0.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> model = fit_niqe([rng.normal(128, 25, (192, 192)) for _ in range(3)], patch_size=48)
        >>> score = niqe(rng.normal(128, 25, (150, 150)), model)
        >>> isinstance(score, float) and score >= 0
        True
    """
    feats, _ = niqe_patch_features(image, model.patch_size)
    mu_d, cov_d = _mvg(feats)
    diff = model.mu - mu_d
    # MATLAB pinv's tolerance: max(size) * eps * largest singular value.
    inv = np.linalg.pinv((model.cov + cov_d) / 2.0, rcond=_N_FEATURES * np.finfo(np.float64).eps)
    return float(np.sqrt(max(float(diff @ inv @ diff), 0.0)))
