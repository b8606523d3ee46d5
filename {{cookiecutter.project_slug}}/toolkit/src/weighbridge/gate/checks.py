"""The gate's checks: the absolute floor, whether production and the candidate can be
ranked by one metric at all, and the regression against production (optionally with a
paired test)."""

from __future__ import annotations

import math

import numpy as np
from sklearn.base import BaseEstimator

from ..config import GateParams
from ..errors import ProjectError
from ..model_io import plain
from ..schema import shown_class
from ..scoring import Predictions, inputs_problem, scores, task_problem
from . import stats
from .inputs import Candidate, Holdout, Production
from .verdict import Check

INCOMPARABLE = "one metric cannot rank models whose classes differ"


def floor_check(value: float, params: GateParams) -> Check:
    """The absolute floor: min_value is the worst acceptable value, whichever way is better
    (min_value null: no absolute floor, the trivial model's score is the floor)."""
    if params.min_value is None:
        detail = f"{params.metric} {value:.4f}: no absolute floor (min_value null)"
        return Check("min_value", not math.isnan(value), value, None, detail)
    if params.greater_is_better:
        passed, relation = value >= params.min_value, "below"
    else:
        passed, relation = value <= params.min_value, "above"
    passed = passed and not math.isnan(value)
    detail = (
        f"{params.metric} {value:.4f} meets min_value {params.min_value}"
        if passed
        else f"{params.metric} {value:.4f} is {relation} min_value {params.min_value}"
    )
    return Check("min_value", passed, value, params.min_value, detail)


def trivial_check(value: float, trivial: float, params: GateParams) -> Check:
    """The candidate must beat the trivial model (majority class, mean) on the same rows by
    more than trivial_margin: always answering "no" on data with 80% "no" scores 0.8 of
    accuracy, and a model that does not beat that has learnt nothing."""
    margin = params.trivial_margin
    better_by = -stats.regression_amount(value, trivial, params.greater_is_better)
    passed = better_by > margin + stats.TOLERANCE and not math.isnan(value)
    threshold = trivial + margin if params.greater_is_better else trivial - margin
    relation = "beats" if passed else "does not beat"
    detail = (
        f"{params.metric} {value:.4f} {relation} the trivial model's {trivial:.4f} "
        f"by more than trivial_margin {margin}"
    )
    return Check("trivial", passed, value, threshold, detail)


def slide_check(value: float, best: float, version: str, params: GateParams) -> Check:
    """A chain of promotions, each within max_regression of the last, must not walk
    production down: the candidate stays within max_total_regression of the best version
    production has held (``version``), scored on the same rows."""
    bound = params.max_total_regression
    threshold = best - bound if params.greater_is_better else best + bound
    regression = stats.regression_amount(value, best, params.greater_is_better)
    passed = not stats.exceeds(regression, bound) and not math.isnan(value)
    relation = "within" if passed else "beyond"
    detail = (
        f"{params.metric} {value:.4f} vs {version} {best:.4f}, the best version production "
        f"has held: {relation} max_total_regression {bound} (threshold {threshold:.4f})"
    )
    return Check("max_total_regression", passed, value, threshold, detail)


def measurable_check(problem: str) -> Check:
    """The hold-out set cannot score the candidate (e.g. an older version, from before the
    data had a new class): a failed check without numbers, so `--force --reason` can
    override it."""
    return Check("measurable", False, None, None, problem)


def comparable_check(problem: str) -> Check:
    """Recorded like any failed check: the verdict stays on file and `promote --force
    --reason` can still override it (an exception would leave no verdict)."""
    return Check("comparable", False, None, None, problem)


def incomparability(production: Production, candidate: Candidate, holdout: Holdout) -> str | None:
    """Why one metric cannot rank the candidate against production, or None when it can:
    production must take the same inputs and answer with the same classes."""
    name, schema = production.name, holdout.schema
    return (
        inputs_problem(production.model, schema, name)
        or task_problem(production.model, schema, name)
        or classes_differ(name, production.model, candidate, holdout)
    )


def classes_differ(
    production: str, model: BaseEstimator, candidate: Candidate, holdout: Holdout
) -> str | None:
    """Different classes (a new or dropped class, 0/1 become 'no'/'yes') change what the
    metric measures, and production cannot be right on a class it never learned."""
    theirs = [plain(label) for label in getattr(model, "classes_", [])]
    ours = [plain(label) for label in getattr(candidate.model, "classes_", [])]
    if theirs == ours:
        return None
    classes = (
        f"it knows {', '.join(map(shown_class, theirs))}; "
        f"the candidate {', '.join(map(shown_class, ours))}"
    )
    target = holdout.frame[holdout.schema.target]
    unseen = target[~target.isin(theirs)]
    if not len(unseen):
        return f"{production} was trained on other classes ({classes}): {INCOMPARABLE}"
    label = unseen.iloc[0]
    return (
        f"{holdout.path}: column {target.name!r} has class {shown_class(label)} "
        f"({int(target.eq(label).sum())} rows) that {production} was never trained on "
        f"({classes}): {INCOMPARABLE}"
    )


def tolerance(params: GateParams, y_true: np.ndarray) -> float:
    """How much worse than production the candidate may be: max_regression, but never less
    than one hold-out row when it is not zero. On 45 rows one row is 0.022 of accuracy, so a
    max_regression of 0.02 would fail a candidate for a single row, which is noise; zero
    still means "not one row worse"."""
    if params.max_regression == 0:
        return 0.0
    return max(params.max_regression, stats.one_row(params.metric, y_true))


def compare(
    params: GateParams, version: str, ours: Predictions, theirs: Predictions, margin: float
) -> tuple[float, Check, stats.PairedTest | None]:
    """Production's value, the check of the candidate (``ours``) against production
    (``theirs``, version ``version``) on the same rows, and the paired test (if one ran)."""
    value, baseline = scores(ours)[params.metric], scores(theirs)[params.metric]
    test = paired_test(params, ours, theirs, margin)
    return baseline, production_check(value, baseline, version, params, test, margin), test


def production_check(
    value: float,
    baseline: float,
    version: str,
    params: GateParams,
    test: stats.PairedTest | None,
    margin: float | None = None,
) -> Check:
    """Passes unless the candidate is worse than production by more than ``margin`` (the
    tolerance, max_regression by default); with a paired test, only when it is so with
    the test's confidence."""
    margin = params.max_regression if margin is None else margin
    threshold = baseline - margin if params.greater_is_better else baseline + margin
    regression = stats.regression_amount(value, baseline, params.greater_is_better)
    beyond = stats.exceeds(regression, margin)
    worse = test.worse if test is not None else beyond
    relation = "meets"
    if beyond:
        relation = "is below" if params.greater_is_better else "is above"
    allowed = f"max_regression {params.max_regression}"
    if margin > params.max_regression:
        allowed += f", raised to one hold-out row: {margin:.4f}"
    detail = (
        f"{params.metric} {value:.4f} vs production {version} {baseline:.4f}: {relation} "
        f"the threshold {threshold:.4f} ({allowed})"
    )
    if test is not None:
        detail += f"; {test.detail}"
    return Check("max_regression", not worse, value, threshold, detail)


def paired_test(
    params: GateParams, candidate: Predictions, production: Predictions, margin: float
) -> stats.PairedTest | None:
    """The paired test of params.test (None for none), with the tolerance ``margin``."""
    y_true = candidate.y_true.to_numpy()
    if params.test == "mcnemar":
        return stats.mcnemar(
            candidate.y_pred == y_true,
            production.y_pred == y_true,
            max_regression=margin,
            alpha=params.alpha,
        )
    if params.test != "bootstrap":
        return None
    try:
        return bootstrap(params, y_true, (candidate, production), margin)
    except ValueError as exc:
        raise ProjectError(f"params.yaml: gate.test: bootstrap of {params.metric}: {exc}") from None


def bootstrap(
    params: GateParams,
    y_true: np.ndarray,
    pair: tuple[Predictions, Predictions],
    margin: float,
) -> stats.PairedTest:
    candidate, production = pair
    return stats.paired_bootstrap(
        metric_on_rows(params.metric, y_true, candidate),
        metric_on_rows(params.metric, y_true, production),
        len(y_true),
        greater_is_better=params.greater_is_better,
        max_regression=margin,
        alpha=params.alpha,
        n_resamples=params.n_resamples,
        seed=params.seed,
    )


def metric_on_rows(metric: str, y_true: np.ndarray, predictions: Predictions):
    y_pred, proba = np.asarray(predictions.y_pred), predictions.proba

    def score(rows: np.ndarray) -> float:
        rows_proba = None if proba is None else proba[rows]
        return stats.metric_value(
            metric, y_true[rows], y_pred[rows], rows_proba, predictions.classes
        )

    return score
