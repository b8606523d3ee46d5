"""Stage train: fit the estimator named in params.yaml and save it under models/<name>/.

Deterministic: the seed comes from train.seed and the skops bytes are canonicalised, so
the same data and params give the same sha256.
"""

from __future__ import annotations

from pathlib import Path

from sklearn.base import BaseEstimator

from . import estimators
from .config import ProjectPaths, TrainParams, load_train
from .errors import ProjectError, run_cli
from .model_io import save_model
from .schema import Schema, load_schema, read_csv


def fit(params: TrainParams, schema: Schema, frame) -> BaseEstimator:
    model = estimators.build(schema.task, params.estimator, params.hyperparams, params.seed)
    try:
        return model.fit(frame[schema.features], frame[schema.target])
    except (ValueError, TypeError) as exc:
        # scikit-learn validates hyperparameter values at fit time; name where they live.
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ProjectError(f"params.yaml: train.hyperparams: {message}") from exc


def run(project_dir: Path) -> dict:
    """Train and save; return the model's signature."""
    paths = ProjectPaths(project_dir)
    schema = load_schema(paths.schema)
    params = load_train(paths.params, schema.task)
    model = fit(params, schema, read_csv(paths.train_csv, schema))
    return save_model(model, paths.model_dir, schema)


def main() -> None:
    signature = run(Path("."))
    print(f"train: {signature['model']} sha256 {signature['weights']['sha256']}")


if __name__ == "__main__":
    run_cli(main)
