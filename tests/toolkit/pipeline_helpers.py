"""Helpers: a small real project in a temporary folder (params, schema, raw CSV, the
model artifact in dvc.yaml).

Stage functions take the project folder, so tests run them on real files without a DVC
pipeline; the few command-line tests run ``python -m`` with ``PYTHONPATH``: the toolkit's
own source, and the project's package as the template ships it, copied under the name
``sample_project`` (its folder name in the template is a cookiecutter variable).
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd
import yaml
from sklearn.datasets import make_classification, make_regression

TESTS = Path(__file__).resolve().parent
TEMPLATE_PROJECT = TESTS.parent.parent / "{{cookiecutter.project_slug}}"
TOOLKIT_SRC = TEMPLATE_PROJECT / "toolkit" / "src"
PACKAGE = "sample_project"
MODEL_NAME = "classifier"  # write_project's dvc.yaml declares it
SRC = Path(tempfile.mkdtemp(prefix="sample-project-")) / "src"
atexit.register(shutil.rmtree, SRC.parent, ignore_errors=True)
shutil.copytree(TEMPLATE_PROJECT / "src" / "{{cookiecutter.package_name}}", SRC / PACKAGE)
sys.path[:0] = [str(SRC), str(TOOLKIT_SRC)]
PYTHONPATH = os.pathsep.join([str(SRC), str(TOOLKIT_SRC)])

PARAMS = {
    "classification": {
        "prepare": {"test_size": 0.25, "seed": 7, "stratify": True},
        "train": {"estimator": "logistic_regression", "hyperparams": {"C": 1.0}, "seed": 7},
        "gate": {"metric": "accuracy", "min_value": 0.6, "max_regression": 0.02},
    },
    "regression": {
        "prepare": {"test_size": 0.25, "seed": 7, "stratify": False},
        "train": {"estimator": "ridge", "hyperparams": {"alpha": 1.0}, "seed": 7},
        "gate": {"metric": "r2", "min_value": 0.3, "max_regression": 0.05},
    },
}
# What the toolkit reads of dvc.yaml here: the model artifact (the stages run as functions).
DVC_YAML = {"artifacts": {MODEL_NAME: {"path": f"models/{MODEL_NAME}", "type": "model"}}}
# Small settings so that every estimator trains in a fraction of a second.
FAST_HYPERPARAMS = {
    "logistic_regression": {"C": 1.0},
    "ridge": {"alpha": 1.0},
    "random_forest": {"n_estimators": 5, "max_depth": 3},
    "hist_gradient_boosting": {"max_iter": 5},
}


def synthetic_frame(task: str, rows: int = 160, classes: int = 2) -> pd.DataFrame:
    if task == "classification":
        features, target = make_classification(
            n_samples=rows,
            n_features=4,
            n_informative=3,
            n_redundant=0,
            n_classes=classes,
            random_state=0,
        )
    else:
        features, target = make_regression(n_samples=rows, n_features=4, noise=5.0, random_state=0)
    frame = pd.DataFrame(features, columns=[f"feature {i}" for i in range(4)])
    frame["label"] = target
    return frame


def schema_for(frame: pd.DataFrame, task: str) -> dict:
    target_dtype = "int64" if task == "classification" else "float64"
    columns = [
        {"name": name, "dtype": "float64", "role": "feature", "nullable": False}
        for name in frame.columns
        if name != "label"
    ]
    target = {"name": "label", "dtype": target_dtype, "role": "target", "nullable": False}
    return {"task": task, "columns": [*columns, target]}


def write_project(root: Path, task: str, frame: pd.DataFrame | None = None) -> Path:
    frame = synthetic_frame(task) if frame is None else frame
    (root / "data" / "raw").mkdir(parents=True, exist_ok=True)
    frame.to_csv(root / "data" / "raw" / "dataset.csv", index=False)
    write_yaml(root / "data" / "schema.yaml", schema_for(frame, task))
    write_yaml(root / "params.yaml", PARAMS[task])
    write_yaml(root / "dvc.yaml", DVC_YAML)
    return root


def write_yaml(path: Path, payload: dict) -> None:
    path.write_text(yaml.safe_dump(payload, sort_keys=False), encoding="utf-8")


def rewrite_prepared(path: Path, transform) -> None:
    """Replace a prepared Parquet file by ``transform(frame)`` (a test's tampering)."""
    frame = pd.read_parquet(path)
    transform(frame).to_parquet(path, index=False)


def edit_params(root: Path, section: str, **values) -> None:
    params = yaml.safe_load((root / "params.yaml").read_text())
    params[section].update(values)
    write_yaml(root / "params.yaml", params)


def run_module(root: Path, module: str, **env) -> subprocess.CompletedProcess:
    """``python -m <package>.<module>`` in ``root``, as dvc.yaml runs it."""
    environment = {**os.environ, "PYTHONPATH": PYTHONPATH, **env}
    return subprocess.run(
        [sys.executable, "-m", f"{PACKAGE}.{module}"],
        cwd=root,
        env=environment,
        capture_output=True,
        text=True,
    )


ESTIMATORS = {
    "classification": ["logistic_regression", "random_forest", "hist_gradient_boosting"],
    "regression": ["ridge", "random_forest", "hist_gradient_boosting"],
}


def train_every_estimator(root: Path, task: str) -> dict[str, str]:
    """Train each estimator of the task on the prepared data; return their sha256."""
    from sample_project import train

    digests = {}
    for estimator in ESTIMATORS[task]:
        edit_params(root, "train", estimator=estimator, hyperparams=FAST_HYPERPARAMS[estimator])
        digests[estimator] = train.run(root)["weights"]["sha256"]
    return digests
