"""Baselines for the accuracy benchmark, as protocol :class:`~lpfiqa.protocol.methods.Method` s.

Every method sees the same splits, the same cached VGG16 token grids and the same unit-scale
targets as LPF, chooses its hyper-parameters on the validation part only, and never sees test
labels (``test.y`` is NaN).

* ``BrisqueSVR``   BRISQUE's 36 NSS features + epsilon-SVR (Mittal et al., TIP 2012), C on val.
* ``NIQEMethod``   NIQE (Mittal et al., SPL 2013): MVG fitted on the training part's clean photos.
* ``GAPRegressor`` "deep features + regressor": VGG16 tokens averaged over the image, ridge or SVR.
* ``BilinearHead`` DBCNN-style (Zhang et al., TCSVT 2020): bilinear pooling of the token features.
* ``HyperHead``    HyperIQA-style (Su et al., CVPR 2020): a content-conditioned hyper-network
                   generates the weights of the quality regressor.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from lpfiqa.baselines import brisque_features, fit_niqe, niqe  # noqa: E402
from lpfiqa.baselines.regressors import fit_ridge, fit_svr  # noqa: E402
from lpfiqa.metrics import srcc  # noqa: E402
from lpfiqa.protocol.methods import Method  # noqa: E402
from lpfiqa.training.fit import FeatureSet, random_windows  # noqa: E402

__all__ = ["BilinearHead", "BrisqueSVR", "GAPRegressor", "HyperHead", "NIQEMethod", "StageSubset"]


def _val_choice(fit, grid: list, X: np.ndarray, y: np.ndarray, Xv: np.ndarray, yv: np.ndarray):
    """Fit one model per hyper-parameter, keep the best validation SRCC."""
    best, best_s = None, -math.inf
    for h in grid:
        model = fit(X, y, h)
        s = srcc(model.predict(Xv), yv) if len(yv) >= 3 else 0.0
        if best is None or (not math.isnan(s) and s > best_s):
            best, best_s = model, s
    return best


class BrisqueSVR(Method):
    """BRISQUE features (computed once per image file, memoised) + RBF epsilon-SVR."""

    name = "BRISQUE + SVR"

    def __init__(self) -> None:
        self._features: dict[str, np.ndarray] = {}

    def prepare(self, data: FeatureSet) -> None:
        """All images' features once, before the splits (and before any worker process forks),
        computed on every core (numpy only, so forked processes are safe)."""
        import multiprocessing
        import os

        from tqdm import tqdm

        todo = [n for n in data.names if n not in self._features]
        with multiprocessing.get_context("fork").Pool(os.cpu_count() or 1) as pool:
            feats = pool.imap(brisque_features, todo, chunksize=8)
            for n, f in zip(todo, tqdm(feats, total=len(todo), desc="BRISQUE features", unit="img",
                                       file=sys.stderr, mininterval=10), strict=True):
                self._features[n] = f

    def _x(self, part: FeatureSet) -> np.ndarray:
        for n in part.names:
            if n not in self._features:
                self._features[n] = brisque_features(n)
        return np.stack([self._features[n] for n in part.names])

    def fit_predict(self, train, val, test, *, seed=0):
        fit = lambda X, y, c: fit_svr(X, y, C=c, gamma="scale", epsilon=0.05)  # noqa: E731
        model = _val_choice(fit, [1.0, 10.0, 100.0], self._x(train), train.y, self._x(val), val.y)
        return model.predict(self._x(test))


class NIQEMethod(Method):
    """Opinion-unaware NIQE, its pristine model fitted on the training part's clean photos."""

    name = "NIQE"

    def fit_predict(self, train, val, test, *, seed=0):
        clean = [n for n, y in zip(train.names, train.y, strict=True) if y >= train.y.max() - 1e-6]
        model = fit_niqe([_rgb(n) for n in clean])
        return -np.array([niqe(_rgb(n), model) for n in test.names])  # lower NIQE = better


def _rgb(path: str) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(path).convert("RGB"))


def _gap(part: FeatureSet) -> np.ndarray:
    """Global average of the token grid (mean of every VGG16 stage), log-compressed."""
    return np.stack([np.log1p(g.float().mean(dim=(1, 2)).clamp_min(0).numpy()) for g in part.grids])


class GAPRegressor(Method):
    """VGG16 global-average-pooled features + ridge or SVR (hyper-parameter chosen on val)."""

    def __init__(self, regressor: str = "ridge") -> None:
        self.regressor = regressor
        self.name = f"VGG16 GAP + {regressor}"

    def fit_predict(self, train, val, test, *, seed=0):
        if self.regressor == "ridge":
            fit, grid = (lambda X, y, a: fit_ridge(X, y, alpha=a)), [0.1, 1.0, 10.0, 100.0, 1000.0]
        else:
            fit, grid = (lambda X, y, c: fit_svr(X, y, C=c, gamma="scale", epsilon=0.05)), [1.0, 10.0, 100.0]
        model = _val_choice(fit, grid, _gap(train), train.y, _gap(val), val.y)
        return model.predict(_gap(test))


class _TokenHead(Method):
    """Shared training loop of the learned heads: same windows, optimiser and epoch choice as LPF."""

    def __init__(self, epochs: int = 20, batch_size: int = 32, lr: float = 1e-3, window: int = 7) -> None:
        self.epochs, self.batch_size, self.lr, self.window = epochs, batch_size, lr, window

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
        best, best_s = None, -math.inf
        for _ in range(self.epochs):
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
                best, best_s = {k: v.clone() for k, v in net.state_dict().items()}, s
        net.load_state_dict(best)
        return self._predict(net, test, mean, std)

    @torch.inference_mode()
    def _predict(self, net: nn.Module, part: FeatureSet, mean: torch.Tensor, std: torch.Tensor) -> np.ndarray:
        net.eval()
        out = []
        for g in part.grids:
            t = (g.flatten(1).T.float()[None] - mean) / std
            out.append(float(net(t, torch.ones(1, t.shape[1], dtype=torch.bool))[0]))
        return np.array(out)


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
    """Runs a method on a subset of the token channels, e.g. conv5_3 only (channels 768:1280)."""

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
