"""The plots' data (plots/*.csv, kept in git): every point of a small hold-out set, a
bounded file for a large one, and curves that say how they average."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm
from weighbridge import plots

MAX_BYTES = 256 * 1024  # "a few hundred KB at most", whatever the hold-out size


def classified(rows: int, classes: int, seed: int = 1):
    """Labels, probabilities and predictions of a plausible, imperfect classifier."""
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, classes, rows)
    logits = rng.normal(0.0, 1.0, (rows, classes))
    logits[np.arange(rows), y_true] += 1.5
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return pd.Series(y_true), proba, proba.argmax(axis=1)


def regressed(rows: int, seed: int = 1):
    rng = np.random.default_rng(seed)
    actual = rng.normal(150.0, 50.0, rows)
    return pd.Series(actual), actual + rng.normal(0.0, 30.0, rows)


def classification_files(rows: int, classes: int) -> dict[str, pd.DataFrame]:
    y_true, proba, y_pred = classified(rows, classes)
    labels = list(range(classes))
    return {
        "confusion.csv": plots.confusion_table(y_true, y_pred, labels),
        "roc.csv": plots.roc_table(y_true, proba, labels),
        "pr.csv": plots.pr_table(y_true, proba, labels),
    }


def written(table: pd.DataFrame, path) -> bytes:
    table.to_csv(path, index=False, lineterminator="\n")  # as evaluate writes it
    return path.read_bytes()


def area(table: pd.DataFrame, curve: str) -> float:
    points = table[table["curve"] == curve]
    return float(skm.auc(points["fpr"], points["tpr"]))


@pytest.mark.parametrize("classes", [2, 3])
def test_a_large_holdout_gives_small_deterministic_files(tmp_path, classes):
    files = classification_files(200_000, classes)
    actual, predicted = regressed(200_000)
    files["predictions.csv"] = plots.predictions_table(actual, predicted)
    for name, table in files.items():
        data = written(table, tmp_path / name)
        assert len(data) < MAX_BYTES, (name, len(data))
    assert len(files["roc.csv"]) <= plots.CURVE_POINTS >= len(files["pr.csv"])
    assert len(files["predictions.csv"]) == plots.SAMPLE_ROWS
    assert files["confusion.csv"]["count"].sum() == 200_000
    again = classification_files(200_000, classes)["roc.csv"]
    assert written(again, tmp_path / "again.csv") == (tmp_path / "roc.csv").read_bytes()


def test_thinned_curves_keep_their_ends_and_their_shape():
    y_true, proba, _ = classified(200_000, 3)
    roc = plots.roc_table(y_true, proba, [0, 1, 2])
    for _, points in roc.groupby("curve", sort=False):
        first, last = points.iloc[0], points.iloc[-1]
        assert (first["fpr"], first["tpr"]) == (0.0, 0.0)
        assert (last["fpr"], last["tpr"]) == (1.0, 1.0)
    fpr, tpr, _ = skm.roc_curve(np.eye(3)[y_true].ravel(), proba.ravel())
    assert len(fpr) > 10 * plots.CURVE_POINTS  # thinning had work to do
    assert area(roc, plots.MICRO) == pytest.approx(skm.auc(fpr, tpr), abs=1e-3)


def test_a_small_holdout_keeps_every_point():
    y_true, proba, y_pred = classified(45, 2)
    fpr, tpr, _ = skm.roc_curve(y_true == 1, proba[:, 1])
    roc = plots.roc_table(y_true, proba, [0, 1])
    assert roc["fpr"].tolist() == fpr.tolist() and roc["tpr"].tolist() == tpr.tolist()
    actual, predicted = regressed(300)
    table = plots.predictions_table(actual, predicted)
    assert table["actual"].tolist() == actual.tolist()  # every row, in file order
    assert table["residual"].tolist() == (actual - predicted).tolist()


def test_a_sample_keeps_the_extreme_rows():
    actual, predicted = regressed(50_000)
    table = plots.predictions_table(actual, predicted)
    assert table["actual"].max() == actual.max() and table["actual"].min() == actual.min()
    assert table["predicted"].max() == predicted.max()
    assert table["residual"].abs().max() == np.abs(actual - predicted).max()


def test_multiclass_curves_say_how_they_average():
    y_true, proba, _ = classified(600, 3)
    roc = plots.roc_table(y_true, proba, [0, 1, 2])
    assert list(roc["curve"].unique()) == [
        "micro-average (one-vs-rest)",
        "macro-average (one-vs-rest)",
        "0 vs rest",
        "1 vs rest",
        "2 vs rest",
    ]
    # the macro-average curve's area is the mean of the classes' (the roc_auc metric)
    expected = skm.roc_auc_score(y_true, proba, multi_class="ovr", average="macro")
    assert area(roc, plots.MACRO) == pytest.approx(expected, abs=0.01)
    pr = plots.pr_table(y_true, proba, [0, 1, 2])
    assert list(pr["curve"].unique())[0] == "micro-average (one-vs-rest)"
    y_true, proba, _ = classified(100, 2)
    binary = plots.roc_table(y_true.map({0: "no", 1: "yes"}), proba, ["no", "yes"])
    assert list(binary["curve"].unique()) == ["yes (positive class)"]


def test_many_classes_plot_the_averages_only():
    y_true, proba, _ = classified(2_000, plots.MAX_CLASS_CURVES + 1)
    roc = plots.roc_table(y_true, proba, list(range(plots.MAX_CLASS_CURVES + 1)))
    assert set(roc["curve"]) == {plots.MICRO, plots.MACRO}


def test_the_confusion_matrix_is_counted_in_class_order():
    y_true = pd.Series(["b", "a", "b", "b", "a"])
    table = plots.confusion_table(y_true, np.array(["b", "b", "b", "a", "a"]), ["b", "a"])
    assert table.to_dict("records") == [
        {"actual": "b", "predicted": "b", "count": 2},
        {"actual": "b", "predicted": "a", "count": 1},
        {"actual": "a", "predicted": "b", "count": 1},
        {"actual": "a", "predicted": "a", "count": 1},
    ]
