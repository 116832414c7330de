"""The field's baselines as protocol :class:`~lpfiqa.protocol.methods.Method` s, on LPF's splits.

Every method sees the same splits, the same cached VGG16 token grids and the same unit-scale
targets as LPF, chooses its hyper-parameters (or epoch) on the validation part only, and never
sees test labels (``test.y`` is NaN). ``lpfiqa protocol --method NAME`` builds them by name
(:data:`~lpfiqa.protocol.methods.METHODS`).

* :class:`GAPRegressor` "deep features + regressor": VGG16 tokens averaged over the image, ridge
  or RBF SVR (scikit-learn).
* :class:`BilinearHead` DBCNN-style (Zhang et al., TCSVT 2020): bilinear pooling of the tokens.
* :class:`HyperHead` HyperIQA-style (Su et al., CVPR 2020): a content-conditioned hyper-network
  generates the weights of the quality regressor.
* :class:`BrisqueSVR` BRISQUE's 36 NSS features + epsilon-SVR (Mittal et al., TIP 2012); reads
  the pixels (``FeatureSet.names`` are the image paths).
* :class:`NIQEMethod` NIQE (Mittal et al., SPL 2013): opinion-unaware, its pristine model fitted
  on the training part's best-scored images; reads the pixels.
* :class:`StageSubset` runs any method on a slice of the token channels (one VGG16 stage).
* :class:`OtherEncoder` runs any method on another encoder's grids of the same images (LPF-Lite's).

Example:
    >>> import torch
    >>> from lpfiqa.protocol import run_within
    >>> gen = torch.Generator().manual_seed(0)
    >>> y = np.linspace(0, 1, 24)
    >>> data = FeatureSet([v + 0.01 * torch.randn(4, 2, 2, generator=gen) for v in y], y)
    >>> res = run_within(data, [str(i // 3) for i in range(24)], [GAPRegressor("ridge")], n_splits=2,
    ...                  progress=False)
    >>> rec = res.records[0]
    >>> rec.method, rec.metrics["srcc"] > 0.8, rec.info["alpha"] in RIDGE_ALPHAS
    ('VGG16 GAP + ridge', True, True)
"""

from __future__ import annotations

import dataclasses
import math
import multiprocessing
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..errors import ConfigError
from ..metrics import srcc
from ..parallel import fork_map
from ..training.fit import FeatureSet, random_windows
from .methods import Method

__all__ = ["BilinearHead", "BrisqueSVR", "GAPRegressor", "HyperHead", "NIQEMethod", "OtherEncoder", "StageSubset"]

#: Hyper-parameters tried on the validation part (the benchmark's grids).
RIDGE_ALPHAS = (0.1, 1.0, 10.0, 100.0, 1000.0)
SVR_CS = (1.0, 10.0, 100.0)
SVR_EPSILON = 0.05  # in unit-scale targets: 5% of the training part's score range


def _val_choice(fit: Callable[[np.ndarray, np.ndarray, float], Any], grid: Sequence[float], X: np.ndarray,
                y: np.ndarray, Xv: np.ndarray, yv: np.ndarray) -> tuple[Any, float, float]:
    """Fit one model per hyper-parameter on ``X``, keep the best validation SRCC (first on ties).

    Returns ``(model, value, val_srcc)``; with fewer than 3 validation items the first value wins.
    """
    best, best_h, best_s = None, grid[0], -math.inf
    for h in grid:
        model = fit(X, y, h)
        s = srcc(model.predict(Xv), yv) if len(yv) >= 3 else 0.0
        if best is None or (not math.isnan(s) and s > best_s):
            best, best_h, best_s = model, h, s
    return best, float(best_h), float(best_s)


def _stack(rows: list[np.ndarray], dim: int) -> np.ndarray:
    return np.stack(rows) if rows else np.zeros((0, dim))  # an empty validation part is allowed


def _svr(X: np.ndarray, y: np.ndarray, c: float):
    from ..baselines.regressors import fit_svr

    return fit_svr(X, y, C=c, gamma="scale", epsilon=SVR_EPSILON)


def _ridge(X: np.ndarray, y: np.ndarray, alpha: float):
    from ..baselines.regressors import fit_ridge

    return fit_ridge(X, y, alpha=alpha)


def _need_paths(method: Method, part: FeatureSet) -> None:
    if len(part) and not part.names:
        raise ConfigError(f"{method.name} reads the images, but this FeatureSet has no names; "
                          "give FeatureSet(names=[image paths]) or run it from a manifest")


def _gap(part: FeatureSet) -> np.ndarray:
    """Global average of the token grid (mean of every channel), log-compressed."""
    rows = [np.log1p(g.float().mean(dim=(1, 2)).clamp_min(0).numpy()) for g in part.grids]
    return _stack(rows, part.grids[0].shape[0] if part.grids else 0)


class GAPRegressor(Method):
    """VGG16 global-average-pooled tokens + ridge or RBF SVR, the hyper-parameter chosen on val.

    Args:
        regressor: ``"ridge"`` (alpha in :data:`RIDGE_ALPHAS`) or ``"svr"`` (C in :data:`SVR_CS`,
            gamma 1/d on standardised features, epsilon :data:`SVR_EPSILON`).
    """

    def __init__(self, regressor: str = "ridge") -> None:
        if regressor not in ("ridge", "svr"):
            raise ConfigError(f"GAPRegressor: regressor must be 'ridge' or 'svr', got {regressor!r}")
        self.regressor = regressor
        self.name = f"VGG16 GAP + {regressor}"
        self._info: dict[str, Any] = {}

    def fit_predict(self, train, val, test, *, seed=0):
        fit, grid, key = (_ridge, RIDGE_ALPHAS, "alpha") if self.regressor == "ridge" else (_svr, SVR_CS, "C")
        model, h, s = _val_choice(fit, grid, _gap(train), train.y, _gap(val), val.y)
        self._info = {key: h, "val_srcc": s}
        return model.predict(_gap(test))

    def describe(self):
        grid = {"alpha": list(RIDGE_ALPHAS)} if self.regressor == "ridge" else {
            "C": list(SVR_CS), "gamma": "1/d", "epsilon": SVR_EPSILON}
        return {"name": self.name, "features": "log1p(mean token)", "regressor": self.regressor, "grid": grid}

    def last_info(self):
        return dict(self._info)


class BrisqueSVR(Method):
    """BRISQUE's 36 features (computed once per image file, memoised) + RBF epsilon-SVR, C on val.

    Args:
        workers: Processes for the features in :meth:`prepare` (default: every core); the
            features are numpy only, so forked processes are safe.
    """

    name = "BRISQUE + SVR"

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers
        self._features: dict[str, np.ndarray] = {}
        self._info: dict[str, Any] = {}

    def prepare(self, data: FeatureSet) -> None:
        """Every image's features once, before the splits (and before any worker process forks)."""
        from tqdm import tqdm

        from ..baselines import brisque_features

        _need_paths(self, data)
        todo = list(dict.fromkeys(n for n in data.names if n not in self._features))
        workers = self.workers or os.cpu_count() or 1
        # a pool costs more than it saves on a few images; fork is needed to share the code
        workers = min(workers, math.ceil(len(todo) / 16))
        if "fork" not in multiprocessing.get_all_start_methods():
            workers = 1
        feats = fork_map(brisque_features, todo, workers, ordered=True)
        for n, f in zip(todo, tqdm(feats, total=len(todo), desc="BRISQUE features", unit="img", file=sys.stderr,
                                   mininterval=10, disable=len(todo) < 64), strict=True):
            self._features[n] = f

    def _x(self, part: FeatureSet) -> np.ndarray:
        from ..baselines import brisque_features

        _need_paths(self, part)
        for n in part.names:
            if n not in self._features:  # run_cross does not call prepare(): compute as they come
                self._features[n] = brisque_features(n)
        return _stack([self._features[n] for n in part.names], 36)

    def fit_predict(self, train, val, test, *, seed=0):
        model, c, s = _val_choice(_svr, SVR_CS, self._x(train), train.y, self._x(val), val.y)
        self._info = {"C": c, "val_srcc": s}
        return model.predict(self._x(test))

    def describe(self):
        return {"name": self.name, "features": "BRISQUE (36)", "regressor": "svr",
                "grid": {"C": list(SVR_CS), "gamma": "1/d", "epsilon": SVR_EPSILON}}

    def last_info(self):
        return dict(self._info)


def _rgb(path: str) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


class NIQEMethod(Method):
    """Opinion-unaware NIQE; its pristine model is fitted on the training part's best-scored images.

    Args:
        patch_size: NIQE's patch side (96 in the paper); every image needs one whole patch.
    """

    name = "NIQE"

    def __init__(self, patch_size: int = 96) -> None:
        self.patch_size = patch_size

    def fit_predict(self, train, val, test, *, seed=0):
        from ..baselines import fit_niqe, niqe

        _need_paths(self, train)
        _need_paths(self, test)
        # the clean references of a synthetic set (the top score); on a human-rated set, the best-rated
        clean = [n for n, y in zip(train.names, train.y, strict=True) if y >= train.y.max() - 1e-6]
        try:
            model = fit_niqe([_rgb(n) for n in clean], patch_size=self.patch_size)
            return -np.array([niqe(_rgb(n), model) for n in test.names])  # lower NIQE = better
        except ValueError as exc:
            if "patch" not in str(exc):
                raise
            raise ConfigError(f"NIQE: {exc}; use images of at least {self.patch_size} px a side, "
                              "or NIQEMethod(patch_size=...) with a smaller even patch") from exc

    def describe(self):
        return {"name": self.name, "patch_size": self.patch_size, "pristine": "training images with the top score"}


class _TokenHead(Method):
    """Shared training loop of the learned heads: same windows, optimiser and epoch choice as LPF."""

    def __init__(self, epochs: int = 20, batch_size: int = 32, lr: float = 1e-3, window: int = 7) -> None:
        self.epochs, self.batch_size, self.lr, self.window = epochs, batch_size, lr, window
        self._info: dict[str, Any] = {}

    def build(self, in_dim: int) -> nn.Module:
        raise NotImplementedError

    def fit_predict(self, train, val, test, *, seed=0):
        torch.manual_seed(seed)
        gen = torch.Generator().manual_seed(seed)
        stats = torch.cat([g.flatten(1).float() for g in train.grids], 1)
        mean, std = stats.mean(1), stats.std(1).clamp_min(1e-3)
        net = self.build(len(mean))
        opt = torch.optim.AdamW(net.parameters(), lr=self.lr, weight_decay=1e-4)
        y = torch.as_tensor(train.y, dtype=torch.float32)
        best, best_s, best_epoch = None, -math.inf, 0
        for epoch in range(1, self.epochs + 1):
            net.train()
            order = torch.randperm(len(train), generator=gen)
            for k in range(0, len(order) - 1, self.batch_size):
                idx = order[k:k + self.batch_size]
                tokens, mask = random_windows([train.grids[i] for i in idx], self.window, gen)
                loss = F.l1_loss(net((tokens - mean) / std, mask), y[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
            s = srcc(self._predict(net, val, mean, std), val.y) if len(val) >= 3 else 0.0
            if best is None or (not math.isnan(s) and s > best_s):
                best, best_s, best_epoch = {k: v.clone() for k, v in net.state_dict().items()}, s, epoch
        net.load_state_dict(best)
        self._info = {"best_epoch": best_epoch, "epochs_run": self.epochs, "val_srcc": float(best_s)}
        return self._predict(net, test, mean, std)

    @torch.inference_mode()
    def _predict(self, net: nn.Module, part: FeatureSet, mean: torch.Tensor, std: torch.Tensor) -> np.ndarray:
        net.eval()
        out = []
        for g in part.grids:
            t = (g.flatten(1).T.float()[None] - mean) / std
            out.append(float(net(t, torch.ones(1, t.shape[1], dtype=torch.bool))[0]))
        return np.array(out)

    def describe(self):
        return {"name": self.name, "train": {"epochs": self.epochs, "batch_size": self.batch_size, "lr": self.lr,
                                             "window": self.window}}

    def last_info(self):
        return dict(self._info)


class BilinearHead(_TokenHead):
    """DBCNN-style: project tokens to 64-d, average their outer products, signed sqrt + L2, linear."""

    name = "DBCNN-style bilinear head"

    def build(self, in_dim: int) -> nn.Module:
        return _Bilinear(in_dim)


class _Bilinear(nn.Module):
    def __init__(self, in_dim: int, k: int = 64) -> None:
        super().__init__()
        self.proj = nn.Sequential(nn.Linear(in_dim, k), nn.ReLU())
        self.out = nn.Linear(k * k, 1)

    def forward(self, tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        z = self.proj(tokens) * mask.unsqueeze(-1)                         # (B, N, k)
        bil = torch.einsum("bni,bnj->bij", z, z) / mask.sum(1).view(-1, 1, 1)  # (B, k, k)
        bil = bil.flatten(1)
        bil = torch.sign(bil) * torch.sqrt(bil.abs() + 1e-8)
        return self.out(F.normalize(bil, dim=1)).squeeze(-1)


class HyperHead(_TokenHead):
    """HyperIQA-style: the image's mean token (content) generates a 2-layer regressor's weights,
    applied to every token's quality feature; the score is the mean over tokens."""

    name = "HyperIQA-style hyper-network"

    def build(self, in_dim: int) -> nn.Module:
        return _Hyper(in_dim)


class _Hyper(nn.Module):
    def __init__(self, in_dim: int, q: int = 64, h: int = 16) -> None:
        super().__init__()
        self.q, self.h = q, h
        self.quality = nn.Sequential(nn.Linear(in_dim, q), nn.ReLU())      # per-token quality feature
        self.content = nn.Sequential(nn.Linear(in_dim, 128), nn.ReLU())
        self.hyper = nn.Linear(128, q * h + h + h + 1)                      # weights of the target net

    def forward(self, tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        m = mask.unsqueeze(-1).float()
        c = self.content((tokens * m).sum(1) / m.sum(1))                    # (B, 128)
        p = self.hyper(c)
        q, h = self.q, self.h
        w1 = p[:, :q * h].view(-1, q, h)
        b1, w2, b2 = p[:, q * h:q * h + h], p[:, q * h + h:q * h + 2 * h], p[:, -1:]
        x = self.quality(tokens)                                            # (B, N, q)
        hidden = torch.relu(torch.einsum("bnq,bqh->bnh", x, w1) + b1[:, None])
        s = torch.einsum("bnh,bh->bn", hidden, w2) + b2
        return (s * mask).sum(1) / mask.sum(1)


class StageSubset(Method):
    """Runs a method on a slice of the token channels, e.g. conv5_3 only (channels 768:1280).

    Lets one cached superset of stages serve every variant: the comparison is on the very same
    features.
    """

    def __init__(self, method: Method, channels: slice, name: str) -> None:
        self.method, self.channels, self.name = method, channels, name

    def _cut(self, part: FeatureSet) -> FeatureSet:
        return FeatureSet([g[self.channels] for g in part.grids], part.y, part.names, part.groups)

    def prepare(self, data):
        self.method.prepare(self._cut(data))

    def fit_predict(self, train, val, test, *, seed=0):
        return self.method.fit_predict(self._cut(train), self._cut(val), self._cut(test), seed=seed)

    def describe(self):
        return {**self.method.describe(), "name": self.name,
                "channels": [self.channels.start, self.channels.stop]}

    def last_info(self):
        return self.method.last_info()


class OtherEncoder(Method):
    """Runs a method on another encoder's token grids of the same images, looked up by image name.

    The protocol splits the images it was given; this swaps each part's grids for the other
    encoder's (e.g. LPF-Lite's MobileNetV2 tokens beside LPF's VGG16 ones), so encoders are
    compared on the very same splits, validation photos and targets.

    Args:
        method: what to run (its config must describe the other encoder's tokens).
        grids: image name (``FeatureSet.names``) -> that image's (C, h, w) grid from the other encoder.
        name: the row label.
        encoder: the other encoder's name, for :meth:`describe`.

    Example:
        >>> import torch
        >>> y = np.linspace(0, 1, 6)
        >>> data = FeatureSet([torch.zeros(4, 1, 1)] * 6, y, names=[f"{i}.png" for i in range(6)])
        >>> other = {f"{i}.png": torch.full((2, 1, 1), float(v)) for i, v in enumerate(y)}
        >>> m = OtherEncoder(GAPRegressor("ridge"), other, "ridge on other", "mobilenet_v2")
        >>> m.swap(data).grids[5].shape, m.describe()["encoder"]
        (torch.Size([2, 1, 1]), 'mobilenet_v2')
    """

    def __init__(self, method: Method, grids: dict[str, torch.Tensor], name: str, encoder: str) -> None:
        self.method, self.grids, self.name, self.encoder = method, grids, name, encoder

    def swap(self, part: FeatureSet) -> FeatureSet:
        missing = [n for n in part.names if n not in self.grids]
        if missing or not part.names:
            raise ConfigError(f"{self.name}: no {self.encoder} grid for {len(missing) or 'unnamed'} image(s), e.g. "
                              f"{missing[:1]}; extract both encoders' features from the same manifest")
        return dataclasses.replace(part, grids=[self.grids[n] for n in part.names])

    def prepare(self, data):
        self.method.prepare(self.swap(data))

    def fit_predict(self, train, val, test, *, seed=0):
        return self.method.fit_predict(self.swap(train), self.swap(val), self.swap(test), seed=seed)

    def describe(self):
        return {**self.method.describe(), "name": self.name, "encoder": self.encoder}

    def last_info(self):
        return self.method.last_info()
