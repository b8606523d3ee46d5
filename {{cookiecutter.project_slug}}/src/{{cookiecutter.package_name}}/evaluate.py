"""Stage evaluate: score the model on the hold-out set; write metrics and plot data."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from . import metrics
from .config import ProjectPaths
from .errors import ProjectError, run_cli
from .model_io import load_model, plain
from .schema import Schema, load_schema, read_csv, shown_class


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


def plot_tables(predictions: Predictions) -> dict[str, pd.DataFrame]:
    p = predictions
    if p.classes is None:
        return {"predictions.csv": metrics.predictions_table(p.y_true, p.y_pred)}
    return {
        "confusion.csv": metrics.confusion_table(p.y_true, p.y_pred),
        "roc.csv": metrics.roc_table(p.y_true, p.proba, p.classes),
        "pr.csv": metrics.pr_table(p.y_true, p.proba, p.classes),
    }


def run(project_dir: Path) -> dict[str, float]:
    """Write metrics/evaluation.json and plots/*.csv; return the metrics."""
    paths = ProjectPaths(project_dir)
    schema = load_schema(paths.schema)
    model, holdout = load_model(paths.model_dir), read_csv(paths.holdout_csv, schema)
    where = paths.shown(paths.holdout_csv)
    require_measurable(model, holdout, schema, where, paths.shown(paths.model_dir))
    predictions = predict(model, holdout, schema)
    result = scores(predictions)
    paths.evaluation_json.parent.mkdir(parents=True, exist_ok=True)
    paths.evaluation_json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    paths.plots_dir.mkdir(parents=True, exist_ok=True)
    for name, table in plot_tables(predictions).items():
        table.to_csv(paths.plots_dir / name, index=False, lineterminator="\n")
    return result


def main() -> None:
    result = run(Path("."))
    print("evaluate: " + ", ".join(f"{name} {value:.4f}" for name, value in result.items()))


if __name__ == "__main__":
    run_cli(main)
