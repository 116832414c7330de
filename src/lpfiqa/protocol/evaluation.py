"""Evaluate a trained model on a prepared dataset: the figures of an IQA results table.

Writes ``eval.json`` (every figure, the logistic parameters, failures), ``predictions.csv``
(one row per image, failures included) and ``scatter.png`` (prediction vs score with the
fitted 4-parameter logistic).

Directions: the model predicts in its own unit and direction (``model.cfg``), the dataset has
its own (MOS or DMOS). Both are turned higher-is-better before correlating, so a good model
gets positive SRCC/PLCC whichever way either side points. The logistic maps the prediction
onto the dataset's own unit, so RMSE (l4/l5) is in that unit; raw RMSE is reported only when
the model's scale and direction match the dataset's (otherwise it compares two different units).
"""

from __future__ import annotations

import json
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from ..datasets.manifest import Manifest, read_manifest
from ..errors import ConfigError, ManifestError
from ..inference import QualityModel, ScoreRecord
from ..metrics import evaluate, logistic_fit
from ..utils import atomic_write_text
from .report import csv_text, jsonable

__all__ = ["EvalReport", "evaluate_model"]


@dataclass
class EvalReport:
    """What :func:`evaluate_model` measured."""

    model: str
    dataset: str
    split: str
    metrics: dict[str, float]
    n_images: int
    n_scored: int
    seconds: float
    logistic: dict[str, dict[str, Any]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["failures"] = [{"path": p, "error": e} for p, e in self.failures]
        return jsonable(d)

    def line(self) -> str:
        """One line with the headline figures."""
        m = self.metrics

        def f(k: str) -> str:
            v = m.get(k)
            return "–" if v is None or not np.isfinite(v) else f"{v:.4f}"

        return (f"{self.model} on {self.dataset} ({self.split}, {self.n_scored}/{self.n_images} scored): "
                f"SRCC {f('srcc')}  KRCC {f('krcc')}  PLCC {f('plcc')}  RMSE {f('rmse')}  "
                f"PLCC(l4) {f('plcc_l4')}  RMSE(l4) {f('rmse_l4')}  "
                f"PLCC(l5) {f('plcc_l5')}  RMSE(l5) {f('rmse_l5')}")


def evaluate_model(model: QualityModel | str | Path, data: Manifest | Path | str, split: str = "all",
                   out: Path | str | None = None, progress: bool = True) -> EvalReport:
    """Score a manifest's images with a model and compare with their subjective scores.

    Args:
        model: A :class:`QualityModel`, or anything :func:`lpfiqa.create_model` accepts.
        data: Manifest or its CSV.
        split: ``"all"`` or one of ``train``/``val``/``test`` (rows with that official split).
        out: Folder for ``eval.json``, ``predictions.csv``, ``scatter.png``.
        progress: A progress bar on stderr.

    Returns:
        The :class:`EvalReport`; unreadable images are in ``failures`` and left out of the figures.

    Raises:
        ConfigError: Unknown ``split``, or no row has it.
        ManifestError: Unreadable manifest, mixed MOS/DMOS rows, or fewer than 3 scored images.
        UnknownModelError: ``model`` is neither a registered name nor a path.
    """
    if split not in ("all", "train", "val", "test"):
        raise ConfigError(f"split must be all, train, val or test; got {split!r}")
    if not isinstance(model, QualityModel):
        from ..registry import create_model

        model = create_model(model)
    m = data if isinstance(data, Manifest) else read_manifest(data)
    label = m.name or "manifest"
    if split != "all":
        present = m.summary(check_files=False).splits
        m = m.select(split)
        if not len(m):
            have = ", ".join(f"{k or '(none)'}={v}" for k, v in present.items())
            raise ConfigError(f"{label}: no rows in split {split!r} (splits: {have}); use --split all")
    directions = {r.higher_is_better for r in m.rows}
    if len(directions) > 1:
        raise ManifestError(f"{label}: rows mix MOS and DMOS (higher_is_better 1 and 0); "
                            "evaluate them separately")
    data_hib, model_hib = directions.pop(), bool(model.cfg.higher_is_better)

    bar = tqdm(total=len(m), desc="scoring", unit="img", disable=not progress, file=sys.stderr)
    t0 = time.perf_counter()
    records = model.score_files([str(p) for p in m.paths()], on_record=lambda _r: bar.update(1))
    seconds = time.perf_counter() - t0
    bar.close()
    ok = [i for i, r in enumerate(records) if r.ok]
    failures = [(r.source, r.error or "") for r in records if not r.ok]
    if len(ok) < 3:
        raise ManifestError(f"{label}: only {len(ok)} of {len(records)} images could be scored; need 3 "
                            f"(first error: {failures[0][1] if failures else 'none'})")
    pred = np.array([records[i].score for i in ok], dtype=np.float64)
    truth = np.array([m.rows[i].score for i in ok], dtype=np.float64)
    p_or = pred if model_hib else -pred
    t_or = truth if data_hib else -truth
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        metrics = evaluate(p_or, t_or)
        fits = {f"logistic{k}": logistic_fit(pred, truth, k) for k in (4, 5)}
    same_scale = model_hib == data_hib
    if not same_scale:
        metrics["rmse"] = float("nan")
    notes = [f"correlations against {'MOS' if data_hib else 'DMOS'} oriented higher-is-better "
             f"({'as is' if data_hib else 'negated'}); the model is "
             f"{'higher' if model_hib else 'lower'}-is-better on "
             f"[{model.cfg.score_min:g}, {model.cfg.score_max:g}]"]
    if not same_scale:
        notes.append("raw RMSE not reported: the model and the dataset point in opposite directions")
    notes += list(dict.fromkeys(str(w.message) for w in caught))
    report = EvalReport(model.name or "model", label, split, metrics, len(records), len(ok), seconds,
                        {k: {"kind": f.kind, "params": list(f.params), "ok": f.ok, "reason": f.reason}
                         for k, f in fits.items()}, notes, failures)
    if out is not None:
        report.files = _write(Path(out), report, m, records, pred, truth, fits["logistic4"])
    return report


def _write(out: Path, report: EvalReport, m: Manifest, records: list[ScoreRecord], pred: np.ndarray,
           truth: np.ndarray, fit4: Any) -> dict[str, str]:
    from ..plots import scatter_with_fit

    out.mkdir(parents=True, exist_ok=True)
    rows = ([str(row.path), repr(float(row.score)), "" if rec.score is None else repr(float(rec.score)),
             rec.error or ""] for row, rec in zip(m.rows, records, strict=True))
    text = csv_text(["path", "score", "prediction", "error"], rows)
    files = {"predictions": str(atomic_write_text(out / "predictions.csv", text))}
    xs = np.linspace(float(pred.min()), float(pred.max()), 200)
    png = scatter_with_fit(pred, truth, out / "scatter.png", title=f"{report.model} on {report.dataset}",
                           curve=(xs, fit4(xs)), xlabel="prediction", ylabel=f"{report.dataset} score")
    if png is not None:
        files["scatter"] = str(png)
    files["json"] = str(out / "eval.json")
    report.files = files
    atomic_write_text(out / "eval.json", json.dumps(report.to_dict(), indent=2) + "\n")
    return files
