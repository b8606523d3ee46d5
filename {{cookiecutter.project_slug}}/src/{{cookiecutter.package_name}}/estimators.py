"""Estimator names per task, their hyperparameters, and how each one is built."""

from __future__ import annotations

from typing import Any

from sklearn.base import BaseEstimator
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

ESTIMATORS: dict[str, dict[str, type[BaseEstimator]]] = {
    "classification": {
        "logistic_regression": LogisticRegression,
        "random_forest": RandomForestClassifier,
        "hist_gradient_boosting": HistGradientBoostingClassifier,
    },
    "regression": {
        "ridge": Ridge,
        "random_forest": RandomForestRegressor,
        "hist_gradient_boosting": HistGradientBoostingRegressor,
    },
}
# Linear models need standardised features; trees do not care about scale.
SCALED = frozenset({"logistic_regression", "ridge"})
# The seed comes from train.seed so that one key controls every source of randomness.
SEED_PARAM = "random_state"


def estimator_names(task: str) -> tuple[str, ...]:
    return tuple(ESTIMATORS[task])


def known_hyperparams(task: str, estimator: str) -> list[str]:
    names = ESTIMATORS[task][estimator]().get_params(deep=False)
    return sorted(name for name in names if name != SEED_PARAM)


def hyperparam_problem(task: str, estimator: str, name: str) -> str | None:
    """Why ``name`` cannot be set on ``estimator``, or None when it can."""
    if name == SEED_PARAM:
        return "set train.seed instead"
    known = known_hyperparams(task, estimator)
    if name not in known:
        return f"unknown hyperparameter for {estimator} (known: {', '.join(known)})"
    return None


def build(task: str, estimator: str, hyperparams: dict[str, Any], seed: int) -> BaseEstimator:
    """The unfitted model: the estimator, behind a StandardScaler for linear models."""
    model = ESTIMATORS[task][estimator](**hyperparams)
    if SEED_PARAM in model.get_params(deep=False):
        model.set_params(**{SEED_PARAM: seed})
    if estimator in SCALED:
        return Pipeline([("scale", StandardScaler()), ("model", model)])
    return model
