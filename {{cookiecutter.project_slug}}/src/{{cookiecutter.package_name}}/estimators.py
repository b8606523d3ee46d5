"""Estimator names per task, their hyperparameters, and how each model is built: one
scikit-learn Pipeline, the schema's preprocessing (preprocessing.py) then the estimator."""

from __future__ import annotations

from typing import Any

import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline
from weighbridge.schema import Schema

from .preprocessing import category_positions, column_transformer

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
# Estimators that take gaps and categories natively (NaN, ordinal codes + their positions).
NATIVE = frozenset({"hist_gradient_boosting"})
CATEGORICAL_PARAM = "categorical_features"
DEFAULT_MAX_BINS = 255


def estimator_names(task: str) -> tuple[str, ...]:
    return tuple(ESTIMATORS[task])


def known_hyperparams(task: str, estimator: str) -> list[str]:
    names = ESTIMATORS[task][estimator]().get_params(deep=False)
    return sorted(name for name in names if name not in (SEED_PARAM, CATEGORICAL_PARAM))


def hyperparam_problem(task: str, estimator: str, name: str) -> str | None:
    """Why ``name`` cannot be set on ``estimator``, or None when it can."""
    if name == SEED_PARAM:
        return "set train.seed instead"
    if name == CATEGORICAL_PARAM and estimator in NATIVE:
        return "set by data/schema.yaml (the columns of dtype category)"
    known = known_hyperparams(task, estimator)
    if name not in known:
        return f"unknown hyperparameter for {estimator} (known: {', '.join(known)})"
    return None


def build(schema: Schema, estimator: str, hyperparams: dict[str, Any], seed: int) -> Pipeline:
    """The unfitted model: the schema's preprocessing, then the estimator."""
    model = ESTIMATORS[schema.task][estimator](**hyperparams)
    if SEED_PARAM in model.get_params(deep=False):
        model.set_params(**{SEED_PARAM: seed})
    native = estimator in NATIVE
    columns = schema.feature_columns
    prepare = column_transformer(
        columns,
        scale=estimator in SCALED,
        native=native,
        max_bins=max_bins(hyperparams),
    )
    if native and category_positions(columns):
        model.set_params(**{CATEGORICAL_PARAM: category_positions(columns)})
    return Pipeline([("prepare", prepare), ("model", model)])


def empty_feature(schema: Schema, estimator: str, features: pd.DataFrame) -> str | None:
    """A feature without a single value in the training data, when the estimator cannot
    take one (hist_gradient_boosting fails inside scikit-learn); None when all is well."""
    if estimator not in NATIVE:
        return None  # imputed: such a column becomes a constant
    empty = features[schema.features].isna().all()
    return str(empty.index[empty.to_numpy().argmax()]) if empty.any() else None


def max_bins(hyperparams: dict[str, Any]) -> int:
    """hist_gradient_boosting's bins per feature, which bounds its categories; a bad value
    is left for the estimator itself to name."""
    value = hyperparams.get("max_bins", DEFAULT_MAX_BINS)
    valid = isinstance(value, int) and not isinstance(value, bool) and 2 <= value <= 255
    return value if valid else DEFAULT_MAX_BINS
