"""PNG figures: training curves and prediction-vs-MOS scatter plots.

matplotlib is an optional dependency (``pip install lpfiqa[plot]``); without it the figure is
skipped with one line on stderr and everything else still works.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from .utils import atomic_write

__all__ = ["pyplot", "save_figure", "scatter_with_fit", "training_curves"]


def pyplot():
    """matplotlib.pyplot on the Agg backend, or None (with a note on stderr) when matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("note: matplotlib is not installed, so no PNG was drawn (pip install 'lpfiqa[plot]')",
              file=sys.stderr)
        return None
    return plt


def save_figure(fig, path: Path) -> Path:
    """Write ``fig`` as a PNG (110 dpi, tight box) atomically; returns ``path``."""
    atomic_write(Path(path), lambda t: fig.savefig(t, format="png", dpi=110, bbox_inches="tight"))
    return Path(path)


def training_curves(history: list[dict[str, float]], path: Path) -> Path | None:
    """Losses and validation SRCC/PLCC per epoch, side by side."""
    plt = pyplot()
    if plt is None or not history:
        return None
    epochs = [h["epoch"] for h in history]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.6))
    for key in sorted(k for k in history[0] if k.startswith("loss_")):
        ax1.plot(epochs, [h[key] for h in history], label=key[5:])
    ax1.set(xlabel="epoch", ylabel="training loss", title="losses (total = reg + λcat·cat + λcmp·cmp)")
    ax1.legend()
    for key in ("val_srcc", "val_plcc"):
        if key in history[0]:
            ax2.plot(epochs, [h[key] for h in history], marker=".", label=key)
    ax2.set(xlabel="epoch", ylabel="correlation", title="validation")
    ax2.grid(alpha=0.3)
    if any(k in history[0] for k in ("val_srcc", "val_plcc")):
        ax2.legend()
    out = save_figure(fig, path)
    plt.close(fig)
    return out


def scatter_with_fit(pred: np.ndarray, mos: np.ndarray, path: Path, title: str = "",
                     curve: tuple[np.ndarray, np.ndarray] | None = None, xlabel: str = "prediction",
                     ylabel: str = "MOS") -> Path | None:
    """Prediction vs MOS scatter, with the fitted logistic curve when given as (x, y)."""
    plt = pyplot()
    if plt is None:
        return None
    fig, ax = plt.subplots(figsize=(5, 4.2))
    ax.scatter(pred, mos, s=8, alpha=0.5)
    if curve is not None:
        ax.plot(curve[0], curve[1], color="C3", label="logistic fit")
        ax.legend()
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    ax.grid(alpha=0.3)
    out = save_figure(fig, path)
    plt.close(fig)
    return out
