"""The data behind the evaluate stage's plots (``plots/*.csv``, kept in git): small
whatever the hold-out size.

- ROC and precision-recall: one named curve each (``curve`` column): the positive class
  when binary; with more classes each class against the rest (up to ``MAX_CLASS_CURVES``
  classes) and their averages, named by how they average. Thinned to at most
  ``CURVE_POINTS`` points per file, evenly along each curve, keeping both ends.
- Confusion matrix: one row per (actual, predicted) pair seen, with its ``count``.
- Regression: actual, predicted and residual of at most ``SAMPLE_ROWS`` rows, a fixed
  random sample that keeps the extreme rows (the plots' ranges stay those of all rows).

A hold-out set no larger than the limits keeps every point.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn import metrics as skm

CURVE_POINTS = 1000  # per file, all curves together
SAMPLE_ROWS = 2000
SAMPLE_SEED = 0
MAX_CLASS_CURVES = 10  # more classes: the averages only (a legend of 50 classes is noise)
MICRO = "micro-average (one-vs-rest)"
MACRO = "macro-average (one-vs-rest)"


def thin(x: np.ndarray, y: np.ndarray, limit: int) -> np.ndarray:
    """Indices of at most ``limit`` points spread evenly along the path (x, y), both ends
    kept, in path order: the curve's shape survives wherever its points crowd."""
    if len(x) <= limit:
        return np.arange(len(x))
    along = np.concatenate([[0.0], np.cumsum(np.hypot(np.diff(x), np.diff(y)))])
    # limit - 1 marks from the start (index 0) to the end, plus the last point itself
    picked = np.searchsorted(along, np.linspace(0.0, along[-1], limit - 1))
    return np.unique(np.append(picked.clip(0, len(x) - 1), len(x) - 1))


def named_curves(curves: list[tuple[str, np.ndarray, np.ndarray]], columns: tuple[str, str]):
    """One long table (curve, x, y) of ``curves``, thinned to CURVE_POINTS in all."""
    limit = max(CURVE_POINTS // len(curves), 2)
    parts = []
    for name, x, y in curves:
        kept = thin(x, y, limit)
        parts.append(pd.DataFrame({"curve": name, columns[0]: x[kept], columns[1]: y[kept]}))
    return pd.concat(parts, ignore_index=True)


def one_vs_rest(y_true: pd.Series, proba: np.ndarray, classes: Sequence):
    """(name, labels, scores) per class, or for the positive class alone when binary."""
    if len(classes) == 2:
        return [(f"{classes[1]} (positive class)", (y_true == classes[1]).to_numpy(), proba[:, 1])]
    return [
        (f"{label} vs rest", (y_true == label).to_numpy(), proba[:, i])
        for i, label in enumerate(classes)
    ]


def pooled(y_true: pd.Series, proba: np.ndarray, classes: Sequence):
    """Every (row, class) pair as one binary decision: the micro-average's input."""
    onehot = np.column_stack([(y_true == label).to_numpy() for label in classes])
    return onehot.ravel(), proba.ravel()


def roc_table(y_true: pd.Series, proba: np.ndarray, classes: Sequence) -> pd.DataFrame:
    per_class = [
        (name, *skm.roc_curve(labels, scores)[:2])
        for name, labels, scores in one_vs_rest(y_true, proba, classes)
    ]
    if len(classes) == 2:
        return named_curves(per_class, ("fpr", "tpr"))
    micro = (MICRO, *skm.roc_curve(*pooled(y_true, proba, classes))[:2])
    # macro: the mean of the classes' true positive rates at every false positive rate
    # (the curve whose area is the mean of their areas, like the roc_auc metric)
    grid = np.unique(np.concatenate([fpr for _, fpr, _ in per_class]))
    mean_tpr = np.mean([np.interp(grid, fpr, tpr) for _, fpr, tpr in per_class], axis=0)
    # at fpr 0 interp takes the top of each class's first vertical step: start at (0, 0)
    macro = (MACRO, np.append(0.0, grid), np.append(0.0, mean_tpr))
    averages = [micro, macro]
    shown = per_class if len(classes) <= MAX_CLASS_CURVES else []
    return named_curves(averages + shown, ("fpr", "tpr"))


def pr_table(y_true: pd.Series, proba: np.ndarray, classes: Sequence) -> pd.DataFrame:
    per_class = [
        (name, *pr_points(labels, scores))
        for name, labels, scores in one_vs_rest(y_true, proba, classes)
    ]
    if len(classes) == 2:
        return named_curves(per_class, ("recall", "precision"))
    micro = (MICRO, *pr_points(*pooled(y_true, proba, classes)))
    shown = per_class if len(classes) <= MAX_CLASS_CURVES else []
    return named_curves([micro, *shown], ("recall", "precision"))


def pr_points(labels: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    precision, recall, _ = skm.precision_recall_curve(labels, scores)
    return recall, precision


def confusion_table(y_true: pd.Series, y_pred: np.ndarray, classes: Sequence) -> pd.DataFrame:
    """One row per (actual, predicted) pair seen, in class order, with its count."""
    pairs = pd.DataFrame({"actual": y_true.to_numpy(), "predicted": y_pred})
    counts = pairs.value_counts(sort=False).rename("count").reset_index()
    order = {label: i for i, label in enumerate(classes)}
    keys = [counts[column].map(order) for column in ("actual", "predicted")]
    ranked = counts.assign(_a=keys[0], _p=keys[1]).sort_values(["_a", "_p"], kind="stable")
    return ranked.drop(columns=["_a", "_p"]).reset_index(drop=True)


def sample_rows(columns: dict[str, np.ndarray], limit: int) -> np.ndarray:
    """Row indices, in file order: all rows up to ``limit``, else a fixed random sample
    that includes each column's smallest and largest row."""
    n_rows = len(next(iter(columns.values())))
    if n_rows <= limit:
        return np.arange(n_rows)
    extremes = np.unique([f(values) for values in columns.values() for f in (np.argmin, np.argmax)])
    rest = np.setdiff1d(np.arange(n_rows), extremes)
    rng = np.random.default_rng(SAMPLE_SEED)
    drawn = rng.choice(rest, limit - len(extremes), replace=False)
    return np.sort(np.concatenate([extremes, drawn]))


def predictions_table(y_true: pd.Series, y_pred: np.ndarray) -> pd.DataFrame:
    actual = y_true.to_numpy(dtype=float)
    predicted = np.asarray(y_pred, dtype=float)
    columns = {"actual": actual, "predicted": predicted, "residual": actual - predicted}
    rows = sample_rows(columns, SAMPLE_ROWS)
    return pd.DataFrame({name: values[rows] for name, values in columns.items()})
