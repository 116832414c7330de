"""Results of a protocol run: per-split records, summaries over splits, JSON / Markdown / plots.

A results folder holds::

    results.json     settings, splits, every per-split figure, medians/means/IQRs, timings
    results.md       the paper-style table (median (IQR) over splits) and the per-split table
    splits.csv       which part every image was in, per split (reproducibility, audits)
    predictions.csv  every test prediction of every split and method
    box.png          SRCC and PLCC over splits, one box per method (and test set)
    scatter.png      pooled test predictions of the first method vs the subjective scores
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..metrics import logistic_fit
from ..utils import atomic_write_text

__all__ = ["HEADLINE", "ProtocolResult", "SplitRecord", "TestPredictions", "csv_text", "jsonable", "spread"]

#: Metrics of the main table, in order, with their column titles.
HEADLINE: tuple[tuple[str, str], ...] = (("srcc", "SRCC"), ("plcc", "PLCC"), ("krcc", "KRCC"),
                                         ("plcc_l4", "PLCC (l4)"), ("rmse_l4", "RMSE (l4)"))
_METRICS = ("srcc", "krcc", "plcc", "rmse", "plcc_l4", "rmse_l4", "plcc_l5", "rmse_l5")


def spread(values: list[float] | np.ndarray) -> dict[str, float]:
    """Median, mean, std, quartiles and IQR of per-split figures (NaNs left out, counted in ``n``).

    Example:
        >>> s = spread([0.8, 0.9, 0.85, float("nan")])
        >>> round(s["median"], 3), round(s["iqr"], 3), s["n"], s["nan"]
        (0.85, 0.05, 3, 1)
    """
    v = np.asarray(values, dtype=np.float64)
    ok = v[np.isfinite(v)]
    if not ok.size:
        nan = float("nan")
        return {"median": nan, "mean": nan, "std": nan, "q1": nan, "q3": nan, "iqr": nan,
                "min": nan, "max": nan, "n": 0, "nan": int(v.size)}
    q1, med, q3 = (float(x) for x in np.percentile(ok, [25, 50, 75]))
    return {"median": med, "mean": float(ok.mean()), "std": float(ok.std(ddof=1)) if ok.size > 1 else 0.0,
            "q1": q1, "q3": q3, "iqr": q3 - q1, "min": float(ok.min()), "max": float(ok.max()),
            "n": int(ok.size), "nan": int(v.size - ok.size)}


@dataclass
class SplitRecord:
    """One method on one split (and one test set): its figures and what it cost."""

    split: int
    method: str
    test: str                       # test set name (the dataset itself within a dataset)
    metrics: dict[str, float]       # lpfiqa.metrics.evaluate() on the test part
    n_train: int
    n_val: int
    n_test: int
    seconds: float                  # fit_predict wall time
    info: dict[str, Any] = field(default_factory=dict)


@dataclass
class TestPredictions:
    """Test predictions of one method on one split, next to the subjective scores."""

    __test__ = False  # not a pytest test class, despite the name

    split: int
    method: str
    test: str
    names: list[str]
    truth: np.ndarray               # subjective score, in the test set's own unit and direction
    pred: np.ndarray                # prediction (unit noted in ``ProtocolResult.settings["pred_unit"]``)


@dataclass
class ProtocolResult:
    """Everything a within- or cross-dataset run produced.

    ``assignments[k][i]`` is the part (``train``/``val``/``test``) of image ``names[i]`` in
    split ``k``; for a cross-dataset run it covers the training set only (its test sets are
    used whole).
    """

    kind: str                                   # "within" or "cross"
    train_set: str
    test_sets: list[str]
    methods: list[dict[str, Any]]               # Method.describe() of each
    settings: dict[str, Any]
    records: list[SplitRecord]
    predictions: list[TestPredictions]
    names: list[str]
    groups: list[str]
    assignments: list[np.ndarray]
    seeds: list[int]
    notes: list[str] = field(default_factory=list)
    timing: dict[str, float] = field(default_factory=dict)
    failures: list[tuple[str, str]] = field(default_factory=list)

    # ------------------------------------------------------------------ summaries
    def method_names(self) -> list[str]:
        return [m["name"] for m in self.methods]

    def summary(self) -> list[dict[str, Any]]:
        """Per (method, test set): :func:`spread` of every metric over splits."""
        out = []
        for method in self.method_names():
            for test in self.test_sets:
                recs = [r for r in self.records if r.method == method and r.test == test]
                if recs:
                    metrics = {k: spread([r.metrics.get(k, math.nan) for r in recs]) for k in _METRICS}
                out.append({"method": method, "test": test, "splits": len(recs), "metrics": metrics})
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (NaN becomes ``null``)."""
        splits = []
        for k, a in enumerate(self.assignments):
            parts = {p: int((a == p).sum()) for p in ("train", "val", "test")}
            g = np.asarray(self.groups)
            groups = {f"{p}_groups": len(set(g[a == p])) for p in ("train", "val", "test")}
            splits.append({"index": k, "seed": self.seeds[k], **parts, **groups})
        d = {"protocol": self.kind, "train_set": self.train_set, "test_sets": self.test_sets,
             "methods": self.methods, "settings": self.settings, "notes": self.notes, "splits": splits,
             "summary": self.summary(), "records": [r.__dict__ for r in self.records], "timing": self.timing,
             "failures": [{"path": p, "error": e} for p, e in self.failures]}
        return jsonable(d)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    # ------------------------------------------------------------------ markdown
    def to_markdown(self) -> str:
        """A paper-style table (median (IQR) over splits), mean ± std, per-split figures and timings."""
        n = len(self.assignments)
        title = (f"Within-dataset protocol: {self.train_set}" if self.kind == "within"
                 else f"Cross-dataset protocol: trained on {self.train_set}")
        lines = [f"# {title}", "", *[f"{s}" for s in self.notes], ""]
        cols = ["Method"] + (["Test set"] if self.kind == "cross" else []) + [t for _, t in HEADLINE]
        unit = "split" if self.kind == "within" else "repeat"
        for what, fmt in (("median (IQR)", _med_iqr), ("mean ± std", _mean_std)):
            lines += [f"**{what} over {n} {unit}{'s' if n != 1 else ''}**", "", _row(cols), _rule(len(cols))]
            for s in self.summary():
                lead = [s["method"]] + ([s["test"]] if self.kind == "cross" else [])
                lines.append(_row(lead + [fmt(s["metrics"][k]) for k, _ in HEADLINE]))
            lines.append("")
        lines += ["## Per split", ""]
        cols = ["Split", "Method"] + (["Test set"] if self.kind == "cross" else []) + \
            ["n train", "n val", "n test", "SRCC", "PLCC", "KRCC", "RMSE (l4)", "info"]
        lines += [_row(cols), _rule(len(cols))]
        for r in self.records:
            lead = [str(r.split), r.method] + ([r.test] if self.kind == "cross" else [])
            info = ", ".join(f"{k}={_num(v)}" for k, v in r.info.items())
            figures = [_num(r.metrics.get(k)) for k in ("srcc", "plcc", "krcc", "rmse_l4")]
            lines.append(_row(lead + [str(r.n_train), str(r.n_val), str(r.n_test)] + figures + [info]))
        lines += ["", "## Timing", "", self.timing_line(), ""]
        if self.failures:
            lines += [f"{len(self.failures)} image(s) could not be read and were left out "
                      f"(see results.json).", ""]
        return "\n".join(lines)

    def timing_line(self) -> str:
        """One sentence: feature extraction vs the training and testing of every split."""
        t = self.timing
        runs = len(self.records) // max(1, len(self.test_sets))
        return (f"Encoder features: {t.get('features_seconds', math.nan):.1f} s for "
                f"{int(t.get('images', 0))} images ({int(t.get('cache_misses', 0))} computed, "
                f"{int(t.get('cache_hits', 0))} from the cache), once; "
                f"training and testing {runs} run(s) ({len(self.assignments)} split(s) x "
                f"{len(self.methods)} method(s)) on them: {t.get('train_seconds', math.nan):.1f} s.")

    # ------------------------------------------------------------------ files
    def save(self, out: Path | str, plots: bool = True) -> dict[str, Path]:
        """Write the results folder (every file atomically); returns the paths written."""
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        paths = {"json": atomic_write_text(out / "results.json", self.to_json() + "\n"),
                 "markdown": atomic_write_text(out / "results.md", self.to_markdown()),
                 "splits": atomic_write_text(out / "splits.csv", self._splits_csv()),
                 "predictions": atomic_write_text(out / "predictions.csv", self._predictions_csv())}
        if plots:
            box = self.box_plot(out / "box.png")
            scatter = self.scatter_plot(out / "scatter.png")
            paths.update({k: v for k, v in (("box", box), ("scatter", scatter)) if v is not None})
        return paths

    def _splits_csv(self) -> str:
        return csv_text(["path", "group", *[f"split{k}" for k in range(len(self.assignments))]],
                        ([name, group, *[a[i] for a in self.assignments]]
                         for i, (name, group) in enumerate(zip(self.names, self.groups, strict=True))))

    def _predictions_csv(self) -> str:
        return csv_text(["split", "method", "test_set", "path", "score", "prediction"],
                        ([p.split, p.method, p.test, name, repr(float(y)), repr(float(q))]
                         for p in self.predictions for name, y, q in zip(p.names, p.truth, p.pred, strict=True)))

    def box_plot(self, path: Path) -> Path | None:
        """SRCC and PLCC over splits, one box per method (and test set)."""
        from ..plots import pyplot, save_figure

        plt = pyplot()
        if plt is None or not self.records:
            return None
        labels, data = [], {"srcc": [], "plcc": []}
        for s in self.summary():
            labels.append(s["method"] + (f"\n→ {s['test']}" if self.kind == "cross" else ""))
            recs = [r for r in self.records if r.method == s["method"] and r.test == s["test"]]
            for k in data:
                vals = [r.metrics.get(k, math.nan) for r in recs]
                data[k].append([v for v in vals if v is not None and math.isfinite(v)] or [math.nan])
        fig, axes = plt.subplots(1, 2, figsize=(max(7.0, 1.6 * len(labels) + 3), 3.8))
        for ax, (k, title) in zip(axes, (("srcc", "SRCC"), ("plcc", "PLCC")), strict=True):
            ax.boxplot(data[k], showmeans=True)
            ax.set_xticks(range(1, len(labels) + 1), labels)
            ax.set(title=f"{title} over {len(self.assignments)} split(s)", ylabel=title)
            ax.grid(alpha=0.3, axis="y")
        fig.tight_layout()
        out = save_figure(fig, path)
        plt.close(fig)
        return out

    def scatter_plot(self, path: Path) -> Path | None:
        """Pooled test predictions of the first method (first test set) with a 4-parameter logistic."""
        from ..plots import scatter_with_fit

        if not self.predictions:
            return None
        first, test = self.predictions[0].method, self.predictions[0].test
        chosen = [p for p in self.predictions if p.method == first and p.test == test]
        pred = np.concatenate([p.pred for p in chosen])
        truth = np.concatenate([p.truth for p in chosen])
        curve = None
        if pred.size >= 5 and np.ptp(pred) > 0:
            f = logistic_fit(pred, truth, 4)
            xs = np.linspace(float(pred.min()), float(pred.max()), 200)
            curve = (xs, f(xs))
        unit = self.settings.get("pred_unit", "prediction")
        return scatter_with_fit(pred, truth, path, title=f"{first} on {test}, {len(chosen)} split(s) pooled",
                                curve=curve, xlabel=f"prediction ({unit})", ylabel=f"{test} score")


def csv_text(header: list[str], rows: Iterable[list[Any]]) -> str:
    """A CSV file's text, ``\\n`` line ends (the results folders' CSVs).

    Example:
        >>> csv_text(["a", "b"], [[1, "x,y"]])
        'a,b\\n1,"x,y"\\n'
    """
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def jsonable(x: Any) -> Any:
    """Make ``x`` JSON-serialisable: NaN/inf -> None, numpy scalars -> Python, paths -> str."""
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return [jsonable(v) for v in x.tolist()]
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        return float(x) if math.isfinite(x) else None
    if isinstance(x, Path):
        return str(x)
    return x


def _num(v: Any) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "–"
    return f"{v:.4f}" if isinstance(v, float) else str(v)


def _med_iqr(s: dict[str, float]) -> str:
    return "–" if not s["n"] else f"{s['median']:.3f} ({s['iqr']:.3f})"


def _mean_std(s: dict[str, float]) -> str:
    return "–" if not s["n"] else f"{s['mean']:.3f} ± {s['std']:.3f}"


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _rule(n: int) -> str:
    return "|" + "---|" * n
