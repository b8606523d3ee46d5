"""Score any model on any validated frame: predictions, the metrics of evaluation.json,
and why a frame cannot measure a model.

A bottom layer: the evaluate stage, the gate and the registry's promotion check all score
with it, so the numbers they compare are computed one way.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from . import metrics
from .errors import ProjectError
from .model_io import plain
from .schema import Schema, shown_class


@dataclass(frozen=True)
class Predictions:
    y_true: pd.Series
    y_pred: np.ndarray
    proba: np.ndarray | None
    classes: list | None


def predict(model: BaseEstimator, frame: pd.DataFrame, schema: Schema) -> Predictions:
    features, y_true = frame[schema.features], frame[schema.target]
    if schema.task == "classification":
        return Predictions(
            y_true, model.predict(features), model.predict_proba(features), list(model.classes_)
        )
    return Predictions(y_true, model.predict(features), None, None)


def require_measurable(
    model: BaseEstimator, frame: pd.DataFrame, schema: Schema, source: str, name: str
) -> None:
    problem = unmeasurable(model, frame, schema, source, name)
    if problem is not None:
        raise ProjectError(problem)


def unmeasurable(
    model: BaseEstimator, frame: pd.DataFrame, schema: Schema, source: str, name: str
) -> str | None:
    """Why ``frame`` (read from ``source``) cannot measure ``model``, or None when it can:
    the model must take the schema's columns and answer its task, and a hold-out set
    measures a classifier on exactly the classes it was trained on (a class it never
    learned has no probability column, one it lacks leaves roc_auc undefined)."""
    problem = inputs_problem(model, schema, name) or task_problem(model, schema, name)
    if problem is not None:
        return problem
    target = frame[schema.target]
    if schema.task == "regression":
        return f"{source}: has a single row, r2 needs at least two" if len(target) < 2 else None
    known = pd.Series([plain(label) for label in model.classes_])
    unknown = target[~target.isin(known)]
    if len(unknown):
        label = unknown.iloc[0]
        return (
            f"{source}: column {target.name!r} has class {shown_class(label)} "
            f"({int(target.eq(label).sum())} rows) that {name} was never trained on (it knows "
            f"{', '.join(map(shown_class, known))}); the training data needs rows of every class"
        )
    absent = known[~known.isin(target)]
    if len(absent):
        return (
            f"{source}: column {target.name!r} has no row of class {shown_class(absent.iloc[0])}, "
            f"which {name} was trained on: the hold-out set cannot measure it (roc_auc is "
            "undefined); the hold-out set needs rows of every class"
        )
    return None


def inputs_problem(model: BaseEstimator, schema: Schema, name: str) -> str | None:
    """A model takes the columns it was fitted on, in that order; data/schema.yaml may list
    others since (an older version, or a schema edited without re-training)."""
    fitted = [str(column) for column in getattr(model, "feature_names_in_", schema.features)]
    if fitted == schema.features:
        return None
    missing = sorted(set(fitted) - set(schema.features))
    new = sorted(set(schema.features) - set(fitted))
    difference = (
        f"missing {missing or 'none'}, new {new or 'none'}"
        if missing or new
        else "the same columns in another order"
    )
    return f"{name} takes other input columns than data/schema.yaml lists ({difference})"


def task_problem(model: BaseEstimator, schema: Schema, name: str) -> str | None:
    kind = "classification" if hasattr(model, "classes_") else "regression"
    if kind == schema.task:
        return None
    return f"{name} is a {kind} model, data/schema.yaml says the task is {schema.task}"


def scores(predictions: Predictions) -> dict[str, float]:
    p = predictions
    if p.classes is None:
        return metrics.regression_metrics(p.y_true, p.y_pred)
    return metrics.classification_metrics(p.y_true, p.y_pred, p.proba, p.classes)


def score_model(model: BaseEstimator, frame: pd.DataFrame, schema: Schema) -> dict[str, float]:
    """The metrics of metrics/evaluation.json for any model on any (validated) frame."""
    return scores(predict(model, frame, schema))
