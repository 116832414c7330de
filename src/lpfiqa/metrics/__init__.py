"""Agreement between predicted quality and subjective scores (MOS / DMOS).

The four numbers every IQA paper reports:

* **SRCC** – Spearman rank-order correlation (monotonicity),
* **KRCC** – Kendall rank correlation, tau-b (monotonicity, robust to ties),
* **PLCC** – Pearson linear correlation (linearity / accuracy),
* **RMSE** – root-mean-square error (accuracy, in the subjective unit).

PLCC and RMSE are normally reported *after* a monotonic non-linear mapping of the
predictions onto the subjective scale (VQEG, "Final report from the Video Quality
Experts Group on the validation of objective models of video quality assessment",
Phase I, 2000; Sheikh, Sabir & Bovik, "A statistical evaluation of recent full
reference image quality assessment algorithms", IEEE TIP 15(11), 2006).
:func:`logistic_fit` provides the two usual mappings:

* 4 parameters: ``(b1 - b2) / (1 + exp(-(x - b3) / |b4|)) + b2``
* 5 parameters: ``b1 * (0.5 - 1 / (1 + exp(b2 * (x - b3)))) + b4 * x + b5``

The code follows the torchmetrics layout: a private ``_x_update`` validates and
converts the inputs, a private ``_x_compute`` does the maths, and the public
function calls both.

Conventions (chosen once, used everywhere):

* Inputs are 1-D sequences of equal length (lists, tuples, numpy arrays, torch
  tensors; an ``(N, 1)`` or ``(1, N)`` array is flattened). Anything else raises
  :class:`ValueError` naming the argument (``pred`` or ``mos``).
* At least 3 items are required and every value must be finite; NaN/inf raise
  :class:`ValueError` rather than being dropped, because silently evaluating on a
  subset makes numbers incomparable.
* A **constant** input is *not* an error: the correlation is undefined, so the
  correlation functions return ``nan`` and emit a :class:`ConstantInputWarning`
  (like :func:`scipy.stats.pearsonr`). A model that collapsed to one output is a
  legitimate, if bad, state during training, and a validation loop should not crash
  on it. RMSE stays defined.
* Every public function returns plain Python ``float`` s.
"""

from __future__ import annotations

from ._validate import MIN_ITEMS as MIN_ITEMS
from ._validate import ConstantInputWarning
from .correlation import FitKind as FitKind
from .correlation import evaluate, krcc, plcc, rmse, srcc
from .logistic import FitWarning, LogisticFit, logistic_fit

__all__ = [
    "ConstantInputWarning",
    "FitWarning",
    "LogisticFit",
    "evaluate",
    "krcc",
    "logistic_fit",
    "plcc",
    "rmse",
    "srcc",
]
