"""The gate's paired statistics on synthetic arrays (fast: no git, no DVC)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from pipeline_helpers import PARAMS, edit_params, write_project
from weighbridge import config, metrics
from weighbridge.errors import ProjectError
from weighbridge.gate import stats
from weighbridge.gate.checks import compare, production_check, tolerance
from weighbridge.scoring import Predictions

RNG = np.random.default_rng(0)


def gate_params(**overrides) -> config.GateParams:
    values = {
        "metric": "accuracy",
        "greater_is_better": True,
        "min_value": 0.5,
        "max_regression": 0.0,
        "test": "none",
        "alpha": 0.05,
        "n_resamples": 500,
        "seed": 1,
    }
    values.update(overrides)
    return config.GateParams(**values)


def accuracy_on(y_true: np.ndarray, y_pred: np.ndarray):
    return lambda rows: stats.metric_value("accuracy", y_true[rows], y_pred[rows])


def flip(labels: np.ndarray, count: int) -> np.ndarray:
    """A copy of ``labels`` with the first ``count`` binary labels wrong."""
    changed = labels.copy()
    changed[:count] = 1 - changed[:count]
    return changed


def bootstrap(y_true, candidate, production, **kwargs):
    options = {
        "greater_is_better": True,
        "max_regression": 0.0,
        "alpha": 0.05,
        "n_resamples": 500,
        "seed": 3,
    }
    options.update(kwargs)
    return stats.paired_bootstrap(
        accuracy_on(y_true, candidate), accuracy_on(y_true, production), len(y_true), **options
    )


@pytest.mark.parametrize("classes", [[0, 1], [0, 1, 2]])
def test_metric_value_matches_the_evaluation_metrics(classes):
    y_true = RNG.choice(classes, 200)
    proba = RNG.dirichlet(np.ones(len(classes)), 200)
    y_pred = np.where(RNG.random(200) < 0.7, y_true, RNG.choice(classes, 200))
    expected = metrics.classification_metrics(pd.Series(y_true), y_pred, proba, classes)
    for name, value in expected.items():
        assert stats.metric_value(name, y_true, y_pred, proba, classes) == pytest.approx(value)


def test_regression_metric_values_match_the_evaluation_metrics():
    y_true = RNG.normal(100, 30, 150)
    y_pred = y_true + RNG.normal(0, 10, 150)
    for name, value in metrics.regression_metrics(pd.Series(y_true), y_pred).items():
        assert stats.metric_value(name, y_true, y_pred) == pytest.approx(value)


def test_regression_amount_is_positive_when_worse_in_either_direction():
    assert stats.regression_amount(0.90, 0.95, greater_is_better=True) == pytest.approx(0.05)
    assert stats.regression_amount(12.0, 10.0, greater_is_better=False) == pytest.approx(2.0)
    assert stats.regression_amount(0.97, 0.95, greater_is_better=True) < 0
    assert not stats.exceeds(0.98 - 0.96, 0.02)  # float noise is not a regression


def test_bootstrap_of_identical_models_is_never_worse():
    y_true = RNG.integers(0, 2, 120)
    same = flip(y_true, 10)
    result = bootstrap(y_true, same, same)
    assert not result.worse and result.p_value == 1.0
    assert result.numbers["regression_lower_bound"] == 0.0


def test_bootstrap_flags_a_clear_regression_and_is_reproducible():
    y_true = RNG.integers(0, 2, 200)
    production, candidate = flip(y_true, 4), flip(y_true, 60)
    result = bootstrap(y_true, candidate, production)
    assert result.worse and result.p_value < 0.05
    assert result.numbers["regression_lower_bound"] > 0.2
    assert bootstrap(y_true, candidate, production) == result  # same seed, same verdict


def test_bootstrap_tolerates_noise_and_respects_the_margin():
    y_true = RNG.integers(0, 2, 150)
    production, candidate = flip(y_true, 3), flip(y_true, 5)  # two rows worse
    noisy = bootstrap(y_true, candidate, production)
    assert not noisy.worse and noisy.p_value > 0.05
    clear = flip(y_true, 40)
    assert bootstrap(y_true, clear, production).worse
    assert not bootstrap(y_true, clear, production, max_regression=0.5).worse


def test_bootstrap_for_lower_is_better_metrics():
    y_true = RNG.normal(0, 1, 100)
    good, bad = y_true + RNG.normal(0, 0.1, 100), y_true + RNG.normal(0, 1.0, 100)

    def rmse(pred):
        return lambda rows: stats.metric_value("rmse", y_true[rows], pred[rows])

    options = {"max_regression": 0.0, "alpha": 0.05, "n_resamples": 300, "seed": 0}
    worse = stats.paired_bootstrap(rmse(bad), rmse(good), 100, greater_is_better=False, **options)
    better = stats.paired_bootstrap(rmse(good), rmse(bad), 100, greater_is_better=False, **options)
    assert worse.worse and not better.worse


def test_bootstrap_without_usable_resamples_is_an_error():
    def never(rows):
        return math.nan

    with pytest.raises(ValueError, match="resamples gave a metric value"):
        stats.paired_bootstrap(
            never,
            never,
            10,
            greater_is_better=True,
            max_regression=0.0,
            alpha=0.05,
            n_resamples=50,
            seed=0,
        )


def test_mcnemar_exact_one_sided_p_value():
    # 10 rows only production gets right, 2 only the candidate: P(X >= 10 | Bin(12, 1/2))
    candidate = np.array([False] * 10 + [True] * 2 + [True] * 50)
    production = np.array([True] * 10 + [False] * 2 + [True] * 50)
    result = stats.mcnemar(candidate, production, max_regression=0.0, alpha=0.05)
    assert result.p_value == pytest.approx((66 + 12 + 1) / 4096)
    assert result.worse
    assert result.numbers["only_production_correct"] == 10
    assert result.numbers["only_candidate_correct"] == 2


def test_mcnemar_margin_and_degenerate_cases():
    candidate = np.array([False] * 10 + [True] * 2 + [True] * 50)
    production = np.array([True] * 10 + [False] * 2 + [True] * 50)
    # an allowed drop of 0.2 accuracy on 62 rows covers all 12 discordant rows
    allowed = stats.mcnemar(candidate, production, max_regression=0.2, alpha=0.05)
    assert allowed.p_value == 1.0 and not allowed.worse
    some_margin = stats.mcnemar(candidate, production, max_regression=0.05, alpha=0.05)
    assert 0.0193 < some_margin.p_value < 1.0
    same = stats.mcnemar(production, production, max_regression=0.0, alpha=0.05)
    assert same.p_value == 1.0 and not same.worse
    one_row = stats.mcnemar(production[1:12], production[:11], max_regression=0.0, alpha=0.05)
    assert one_row.p_value > 0.05


def test_production_check_names_metric_values_and_threshold():
    failing = production_check(0.90, 0.95, "v1.0.0", gate_params(max_regression=0.02), None)
    assert not failing.passed and failing.threshold == pytest.approx(0.93)
    assert failing.detail.startswith("accuracy 0.9000 vs production v1.0.0 0.9500: is below")
    lower = gate_params(metric="rmse", greater_is_better=False, max_regression=1.0)
    rmse = production_check(12.0, 10.0, "v2.0.0", lower, None)
    assert not rmse.passed and rmse.threshold == 11.0 and "is above the threshold" in rmse.detail
    assert production_check(10.5, 10.0, "v2.0.0", lower, None).passed


def test_production_check_defers_to_the_paired_test():
    not_significant = stats.PairedTest("bootstrap", False, 0.4, "bootstrap: noise", {})
    check = production_check(0.90, 0.95, "v1.0.0", gate_params(), not_significant)
    assert check.passed and "is below the threshold" in check.detail
    assert check.detail.endswith("bootstrap: noise")


@pytest.mark.parametrize(
    ("task", "gate", "message"),
    [
        ("regression", {"test": "mcnemar"}, "gate.test: mcnemar compares paired correctness"),
        ("classification", {"test": "mcnemar", "metric": "f1"}, "needs metric accuracy"),
        ("classification", {"test": "permutation"}, "gate.test: must be one of none, bootstrap"),
    ],
)
def test_gate_test_validation(tmp_path, task, gate, message):
    root = write_project(tmp_path, task)
    edit_params(root, "gate", **gate)
    with pytest.raises(ProjectError, match=f"^params.yaml: .*{message}"):
        config.load_gate(root / "params.yaml", task)


def test_mcnemar_with_accuracy_is_accepted(tmp_path):
    root = write_project(tmp_path, "classification")
    edit_params(root, "gate", test="mcnemar", alpha=0.01)
    params = config.load_gate(root / "params.yaml", "classification")
    assert (params.test, params.alpha) == ("mcnemar", 0.01)


# --- max_regression is never finer than one hold-out row ---------------------------------

WINE_HOLDOUT = np.arange(45) % 3  # the bundled wine set holds out 45 rows of 3 classes


def labelled(y_true: np.ndarray, y_pred: np.ndarray) -> Predictions:
    classes = sorted(set(y_true))
    proba = np.eye(len(classes))[y_pred]
    return Predictions(pd.Series(y_true), y_pred, proba, classes)


def wrong_on(y_true: np.ndarray, rows: int) -> np.ndarray:
    """Predictions right everywhere but on the first ``rows`` rows."""
    y_pred = y_true.copy()
    y_pred[:rows] = (y_pred[:rows] + 1) % 3
    return y_pred


def default_gate(**overrides) -> config.GateParams:
    """params.yaml's classification gate as a project is baked (max_regression 0.02)."""
    return gate_params(**{**PARAMS["classification"]["gate"], **overrides})


def test_tolerance_is_one_row_when_max_regression_is_finer():
    assert tolerance(default_gate(), WINE_HOLDOUT) == pytest.approx(1 / 45)  # 0.0222 > 0.02
    assert tolerance(default_gate(), np.arange(143) % 2) == 0.02  # one row is 0.007
    assert tolerance(default_gate(max_regression=0.0), WINE_HOLDOUT) == 0.0  # zero stays zero
    # balanced accuracy: one row of the smallest class (5 rows of 2 classes) moves it 1/10
    imbalanced = np.array([0] * 5 + [1] * 95)
    assert tolerance(default_gate(metric="balanced_accuracy"), imbalanced) == pytest.approx(0.1)
    assert tolerance(default_gate(metric="f1"), WINE_HOLDOUT) == 0.02  # no fixed row weight


@pytest.mark.parametrize("test", ["none", "bootstrap", "mcnemar"])
def test_one_row_worse_on_45_rows_passes_by_default(test):
    production = labelled(WINE_HOLDOUT, WINE_HOLDOUT)
    candidate = labelled(WINE_HOLDOUT, wrong_on(WINE_HOLDOUT, 1))
    params = default_gate(test=test)
    margin = tolerance(params, WINE_HOLDOUT)
    baseline, check, _ = compare(params, "v1.0.0", candidate, production, margin)
    assert baseline - check.value == pytest.approx(1 / 45)
    assert check.passed, check.detail
    assert "raised to one hold-out row: 0.0222" in check.detail


def test_more_than_one_row_worse_on_45_rows_fails_by_default():
    production = labelled(WINE_HOLDOUT, WINE_HOLDOUT)
    candidate = labelled(WINE_HOLDOUT, wrong_on(WINE_HOLDOUT, 2))
    params = default_gate()
    margin = tolerance(params, WINE_HOLDOUT)
    _, check, _ = compare(params, "v1.0.0", candidate, production, margin)
    assert not check.passed and check.threshold == pytest.approx(44 / 45)


def test_a_clearly_worse_candidate_is_still_rejected_by_default():
    """The demo's C=0.001 experiment on breast_cancer: 0.916 against production's 0.986."""
    y_true = np.arange(143) % 2
    production = labelled(y_true, np.where(np.arange(143) < 2, 1 - y_true, y_true))
    candidate = labelled(y_true, np.where(np.arange(143) < 12, 1 - y_true, y_true))
    params = default_gate()
    _, check, _ = compare(params, "v1.0.0", candidate, production, tolerance(params, y_true))
    assert not check.passed and "raised" not in check.detail
    assert check.detail.startswith("accuracy 0.9161 vs production v1.0.0 0.9860: is below")
