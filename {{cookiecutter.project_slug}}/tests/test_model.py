"""The model-building code of this project (src/{{ cookiecutter.package_name }}/estimators.py,
preprocessing.py, train.py): every estimator fits every kind of column, training is
deterministic, and params.yaml's mistakes are named. Edit these with your own code."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from weighbridge import config
from weighbridge.errors import ProjectError
from weighbridge.model_io import canonical_skops
from weighbridge.schema import Column, Schema

from {{ cookiecutter.package_name }} import estimators, train

ROWS = 60
PROJECT = Path(__file__).resolve().parents[1]


def test_the_projects_params_yaml_is_valid():
    task = yaml.safe_load((PROJECT / "data" / "schema.yaml").read_text())["task"]
    params = PROJECT / "params.yaml"
    assert config.load_prepare(params, task).test_size > 0
    assert train.load_train(params, task).estimator in estimators.estimator_names(task)
    assert config.load_gate(params, task).metric


def every_kind_of_column(task: str) -> tuple[Schema, pd.DataFrame]:
    """One column of each dtype the schema knows, with gaps where it allows them."""
    rng = np.random.default_rng(0)
    number = rng.normal(size=ROWS)
    frame = pd.DataFrame(
        {
            "size": number,
            "count": rng.integers(0, 9, ROWS),
            "colour": pd.Series(rng.choice(["red", "green", None], ROWS), dtype=object),
            "member": rng.choice([0.0, 1.0], ROWS),
            "seen": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 900, ROWS), "D"),
        }
    )
    frame["label"] = (number > 0).astype("int64") if task == "classification" else number * 3
    columns = (
        Column("size", "float64"),
        Column("count", "int64"),
        Column("colour", "category", nullable=True),
        Column("member", "bool"),
        Column("seen", "datetime"),
        Column("label", "int64" if task == "classification" else "float64", role="target"),
    )
    return Schema(task, columns), frame


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_every_estimator_fits_every_kind_of_column(task):
    schema, frame = every_kind_of_column(task)
    for name in estimators.estimator_names(task):
        model = estimators.build(schema, name, {}, seed=0)
        model.fit(frame[schema.features], frame[schema.target])
        predicted = model.predict(frame[schema.features])
        assert len(predicted) == ROWS and not np.isnan(predicted.astype(float)).any(), name


def test_training_is_deterministic():
    schema, frame = every_kind_of_column("classification")
    weights = [
        canonical_skops(
            estimators.build(schema, "random_forest", {"n_estimators": 5}, seed=3).fit(
                frame[schema.features], frame[schema.target]
            )
        )
        for _ in range(2)
    ]
    assert weights[0] == weights[1]


def test_an_unknown_hyperparameter_is_refused_by_name(tmp_path):
    params = tmp_path / "params.yaml"
    section = {"estimator": "random_forest", "hyperparams": {"n_trees": 5}, "seed": 0}
    params.write_text(yaml.safe_dump({"train": section}))
    with pytest.raises(ProjectError, match=r"params.yaml: train.hyperparams.n_trees: "):
        train.load_train(params, "classification")
