"""Stage train: fit the estimator named in params.yaml and save it under models/<name>/.

Deterministic: the seed comes from train.seed and the skops bytes are canonicalised, so
the same data and params give the same sha256.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from sklearn.base import BaseEstimator

# a private module, but the one exception certainly about a parameter (scikit-learn >= 1.2)
from sklearn.utils._param_validation import InvalidParameterError
from weighbridge.config import MAX_SEED, ProjectPaths, load_section
from weighbridge.errors import ProjectError, run_cli
from weighbridge.model_io import save_model
from weighbridge.profiles import profile_of, write_profile
from weighbridge.reading import read_prepared
from weighbridge.schema import Schema, load_schema, require_two_classes

from . import estimators


@dataclass(frozen=True)
class TrainParams:
    estimator: str
    hyperparams: dict[str, Any]
    seed: int


def load_train(path: Path, task: str) -> TrainParams:
    section = load_section(path, "train")
    section.reject_unknown({"estimator", "hyperparams", "seed"})
    estimator = section.choice("estimator", estimators.estimator_names(task))
    hyperparams = section.mapping("hyperparams")
    for name in hyperparams:
        problem = estimators.hyperparam_problem(task, estimator, name)
        if problem:
            raise section.error(f"hyperparams.{name}", problem)
    return TrainParams(estimator, dict(hyperparams), section.integer("seed", 0, MAX_SEED))


def fit(
    params: TrainParams, schema: Schema, frame: pd.DataFrame, source: object = "the training data"
) -> BaseEstimator:
    """Fit after checking what the data must give the estimator, so that an error from
    ``fit`` itself is about params.yaml (prepare already refused non-numbers and
    magnitudes the estimators overflow on)."""
    if schema.task == "classification":
        require_two_classes(frame[schema.target], source)
    empty = estimators.empty_feature(schema, params.estimator, frame)
    if empty is not None:
        raise ProjectError(
            f"{source}: column {empty!r} has no value at all: {params.estimator} cannot learn "
            "from it (give it role: ignore in data/schema.yaml, or choose another estimator)"
        )
    model = estimators.build(schema, params.estimator, params.hyperparams, params.seed)
    try:
        return model.fit(frame[schema.features], frame[schema.target])
    except InvalidParameterError as exc:
        # scikit-learn validates hyperparameter values at fit time; name where they live.
        raise ProjectError(f"params.yaml: train.hyperparams: {first_line(exc)}") from exc
    except (ValueError, TypeError) as exc:
        # e.g. a combination no solver supports (penalty l1 with lbfgs): name both inputs.
        raise ProjectError(
            f"params.yaml: train: {params.estimator} with hyperparams {params.hyperparams} "
            f"cannot be fitted on {source}: {first_line(exc)}"
        ) from exc


def first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def run(project_dir: Path) -> dict:
    """Train and save; return the model's signature."""
    paths = ProjectPaths(project_dir)
    schema = load_schema(paths.schema)
    params = load_train(paths.params, schema.task)
    shown = paths.shown(paths.train_data)
    frame = read_prepared(paths.train_data, schema, shown)
    model = fit(params, schema, frame, shown)
    signature = save_model(model, paths.model_dir, schema, paths.model_name)
    write_profile(paths.model_dir, profile_of(frame, schema))  # beside the weights, for drift
    return signature


def main() -> None:
    signature = run(Path("."))
    print(f"train: {signature['model']} sha256 {signature['weights']['sha256']}")


if __name__ == "__main__":
    run_cli(main)
