"""Paired statistics for the production gate: is the candidate *really* worse?

Both models are scored on the same hold-out rows, so the comparison is paired. Two tests:

- ``bootstrap``: resample the hold-out rows with replacement, recompute both metrics on
  each resample and take the candidate's regression (how much worse it is, in the metric's
  units). The candidate is worse "with confidence 1 - alpha" when the one-sided lower bound
  of that regression (its alpha quantile) is above ``max_regression``. Works for every metric.
- ``mcnemar``: exact binomial test on the discordant pairs (rows exactly one model gets
  right), for accuracy only. With a margin ``max_regression`` the null hypothesis is "the
  accuracy drop is at most the margin": among the ``b + c`` discordant rows, the share the
  production model alone gets right is at most ``1/2 + margin * n / (2 (b + c))`` (the
  discordant rate estimated from the sample). With margin 0 this is the classic one-sided
  exact McNemar test.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import binomtest
from sklearn import metrics as skm

# a float difference this small is equality (0.96 - 0.98 is not exactly -0.02)
TOLERANCE = 1e-12
# below this many usable resamples (roc_auc needs both classes) the interval means nothing
MIN_VALID_RESAMPLES = 10


@dataclass(frozen=True)
class PairedTest:
    """Outcome of a paired test: ``worse`` means worse than allowed, with confidence."""

    name: str
    worse: bool
    p_value: float
    detail: str
    numbers: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "worse": self.worse, "p_value": self.p_value, **self.numbers}


def regression_amount(candidate: float, production: float, greater_is_better: bool) -> float:
    """How much worse the candidate is, in the metric's units (negative when it is better)."""
    return production - candidate if greater_is_better else candidate - production


def exceeds(regression: float, max_regression: float) -> bool:
    return regression > max_regression + TOLERANCE


def one_row(metric: str, y_true: np.ndarray) -> float:
    """The most one hold-out row can move ``metric`` (0.0 where a row has no fixed weight).

    Accuracy counts rows: one row is 1/n. Balanced accuracy averages the per-class recalls:
    one row of class c moves it by 1/(classes * rows of c), most for the smallest class.
    f1, roc_auc and the regression metrics weigh a row by what the other rows are."""
    if metric == "accuracy":
        return 1.0 / len(y_true) if len(y_true) else 0.0
    if metric == "balanced_accuracy":
        _, counts = np.unique(y_true, return_counts=True)
        return 1.0 / (len(counts) * counts.min()) if len(counts) else 0.0
    return 0.0


def metric_value(
    metric: str,
    y_true: np.ndarray,
    y_pred: np.ndarray,
    proba: np.ndarray | None = None,
    classes: Sequence | None = None,
) -> float:
    """One metric on plain arrays, defined exactly as metrics.py defines it (fast for the
    metrics that are plain averages, since the bootstrap calls this thousands of times)."""
    if metric == "accuracy":
        return float(np.mean(y_pred == y_true))
    if metric == "balanced_accuracy":
        recalls = [np.mean(y_pred[y_true == label] == label) for label in np.unique(y_true)]
        return float(np.mean(recalls))
    if metric == "mae":
        return float(np.mean(np.abs(y_true - y_pred)))
    if metric == "rmse":
        return float(np.sqrt(np.mean((y_true - y_pred) ** 2)))
    if metric == "r2":
        total = np.sum((y_true - np.mean(y_true)) ** 2)
        return float(1.0 - np.sum((y_true - y_pred) ** 2) / total) if total else float("nan")
    return classification_score(metric, y_true, y_pred, proba, list(classes or []))


def classification_score(
    metric: str, y_true: np.ndarray, y_pred: np.ndarray, proba: np.ndarray | None, classes: list
) -> float:
    binary = len(classes) == 2
    if metric == "f1" and binary:
        return float(skm.f1_score(y_true, y_pred, pos_label=classes[1], zero_division=0.0))
    if metric == "f1":
        return float(skm.f1_score(y_true, y_pred, average="macro", labels=classes, zero_division=0))
    if metric != "roc_auc" or proba is None:
        raise ValueError(f"unknown metric {metric!r}")
    try:
        if binary:
            return float(skm.roc_auc_score(y_true == classes[1], proba[:, 1]))
        return float(skm.roc_auc_score(y_true, proba, multi_class="ovr", labels=classes))
    except ValueError:
        return float("nan")  # a resample with a single class has no ROC curve


def paired_bootstrap(
    candidate_metric: Callable[[np.ndarray], float],
    production_metric: Callable[[np.ndarray], float],
    n_rows: int,
    *,
    greater_is_better: bool,
    max_regression: float,
    alpha: float,
    n_resamples: int,
    seed: int,
) -> PairedTest:
    """Each ``*_metric(rows)`` scores one model on the hold-out rows ``rows`` (indices)."""
    rng = np.random.default_rng(seed)
    regressions = np.empty(n_resamples)
    for i in range(n_resamples):
        rows = rng.integers(0, n_rows, n_rows)
        regressions[i] = regression_amount(
            candidate_metric(rows), production_metric(rows), greater_is_better
        )
    regressions = regressions[~np.isnan(regressions)]
    if len(regressions) < MIN_VALID_RESAMPLES:
        raise ValueError(
            f"only {len(regressions)} of {n_resamples} bootstrap resamples gave a metric value"
        )
    lower = float(np.quantile(regressions, alpha))
    allowed = int(np.sum(regressions <= max_regression + TOLERANCE))
    p_value = (1 + allowed) / (1 + len(regressions))
    worse = exceeds(lower, max_regression)
    confidence = f"{1 - alpha:.0%}"
    detail = (
        f"bootstrap: worse by at least {lower:.4f} with {confidence} confidence (p={p_value:.3g})"
        if worse
        else f"bootstrap: not worse by more than {max_regression} at {confidence} confidence "
        f"(regression lower bound {lower:.4f}, p={p_value:.3g})"
    )
    numbers = {
        "regression_lower_bound": lower,
        "regression_median": float(np.median(regressions)),
        "confidence": 1 - alpha,
        "n_resamples": n_resamples,
        "valid_resamples": len(regressions),
        "seed": seed,
    }
    return PairedTest("bootstrap", worse, p_value, detail, numbers)


def mcnemar(
    candidate_correct: np.ndarray,
    production_correct: np.ndarray,
    *,
    max_regression: float,
    alpha: float,
) -> PairedTest:
    """Exact one-sided McNemar test of "accuracy drops by more than max_regression"."""
    candidate_correct = np.asarray(candidate_correct, dtype=bool)
    production_correct = np.asarray(production_correct, dtype=bool)
    n_rows = len(candidate_correct)
    only_candidate = int(np.sum(candidate_correct & ~production_correct))
    only_production = int(np.sum(~candidate_correct & production_correct))
    discordant = only_candidate + only_production
    null_share = 0.5 + max_regression * n_rows / (2 * discordant) if discordant else 1.0
    if null_share >= 1.0:
        p_value = 1.0  # even production winning every discordant row stays within the margin
    else:
        test = binomtest(only_production, discordant, null_share, alternative="greater")
        p_value = float(test.pvalue)
    worse = p_value < alpha
    verdict = "significantly worse" if worse else "not significantly worse"
    detail = (
        f"mcnemar: {verdict} than allowed (only production right on {only_production} rows, "
        f"only the candidate on {only_candidate}; p={p_value:.3g}, alpha {alpha})"
    )
    numbers = {
        "only_candidate_correct": only_candidate,
        "only_production_correct": only_production,
        "rows": n_rows,
        "alpha": alpha,
    }
    return PairedTest("mcnemar", worse, p_value, detail, numbers)
