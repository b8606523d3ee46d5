"""Metric functions by name, and which way is better (the plots' data: plots.py)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn import metrics as skm

CLASSIFICATION_METRICS = ("accuracy", "balanced_accuracy", "f1", "roc_auc")
REGRESSION_METRICS = ("mae", "rmse", "r2")
GREATER_IS_BETTER = {
    "accuracy": True,
    "balanced_accuracy": True,
    "f1": True,
    "roc_auc": True,
    "mae": False,
    "rmse": False,
    "r2": True,
}


def metric_names(task: str) -> tuple[str, ...]:
    return CLASSIFICATION_METRICS if task == "classification" else REGRESSION_METRICS


def classification_metrics(
    y_true: pd.Series, y_pred: np.ndarray, proba: np.ndarray, classes: Sequence
) -> dict[str, float]:
    """f1 is binary for two classes (positive = the second class) and macro otherwise;
    roc_auc is one-vs-rest for more than two classes."""
    binary = len(classes) == 2
    if binary:
        f1 = skm.f1_score(y_true, y_pred, pos_label=classes[1])
        roc_auc = skm.roc_auc_score(y_true == classes[1], proba[:, 1])
    else:
        f1 = skm.f1_score(y_true, y_pred, average="macro", labels=list(classes))
        roc_auc = skm.roc_auc_score(y_true, proba, multi_class="ovr", labels=list(classes))
    return {
        "accuracy": float(skm.accuracy_score(y_true, y_pred)),
        "balanced_accuracy": float(skm.balanced_accuracy_score(y_true, y_pred)),
        "f1": float(f1),
        "roc_auc": float(roc_auc),
    }


def regression_metrics(y_true: pd.Series, y_pred: np.ndarray) -> dict[str, float]:
    return {
        "mae": float(skm.mean_absolute_error(y_true, y_pred)),
        "rmse": float(np.sqrt(skm.mean_squared_error(y_true, y_pred))),
        "r2": float(skm.r2_score(y_true, y_pred)),
    }
