"""Hostile data in the stages and the gate: each fault is one error naming the file, the
column and what is wrong with it, never a traceback and never a blame on params.yaml that
the data deserves."""

from __future__ import annotations

import csv
import json

import pandas as pd
import pytest
from pipeline_helpers import (
    MODEL_NAME,
    edit_params,
    rewrite_prepared,
    run_module,
    synthetic_frame,
    write_project,
)
from sample_project import evaluate, prepare, train
from sklearn.linear_model import LinearRegression, LogisticRegression
from weighbridge import scoring
from weighbridge.config import ProjectPaths, load_gate
from weighbridge.errors import ProjectError
from weighbridge.gate import Candidate, Holdout, Production, checks, judge
from weighbridge.registry import gate_stage
from weighbridge.schema import load_schema
from weighbridge.storage_errors import read_cause

SINGLE_CLASS = (
    "column 'label' has a single class (0): a classifier needs rows of at least two classes"
)
FEATURES = [f"feature {i}" for i in range(4)]
BEYOND_FLOAT32 = "is beyond ±3.4e+38, the float32 range the estimators compute in"


def edit_cell(path, row: int, column: str, text: str) -> None:
    """Write ``text`` verbatim into one cell (pandas would reformat the number)."""
    with path.open(newline="") as handle:
        rows = list(csv.reader(handle))
    rows[row + 1][rows[0].index(column)] = text
    with path.open("w", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)


def set_labels(path, labels) -> None:
    """Labels of a raw CSV or of a prepared Parquet file."""
    if path.suffix == ".parquet":
        rewrite_prepared(path, lambda frame: frame.assign(label=labels))
        return
    frame = pd.read_csv(path)
    frame["label"] = labels
    frame.to_csv(path, index=False)


def one_error_line(result) -> str:
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.splitlines()
    return line


def test_raw_data_with_a_single_class_is_refused_by_prepare(classification_project):
    set_labels(classification_project / "data" / "raw" / "dataset.csv", 0)
    with pytest.raises(ProjectError) as caught:
        prepare.run(classification_project)
    assert str(caught.value).endswith(f"data/raw/dataset.csv: {SINGLE_CLASS}")
    assert not (classification_project / "data" / "prepared").exists()


def test_training_data_with_a_single_class_blames_the_file_not_params(classification_project):
    prepare.run(classification_project)
    set_labels(ProjectPaths(classification_project).train_data, 0)
    line = one_error_line(run_module(classification_project, "train"))
    assert line == f"error: data/prepared/train.parquet: {SINGLE_CLASS}"
    assert not ProjectPaths(classification_project).model_dir.exists()


@pytest.mark.parametrize("value", ["1.7e308", "-3.5e38"])
def test_a_value_beyond_float32_names_file_column_and_line(classification_project, value):
    """It used to overflow inside StandardScaler and blame train.hyperparams for a NaN."""
    edit_cell(classification_project / "data" / "raw" / "dataset.csv", 2, "feature 1", value)
    line = one_error_line(run_module(classification_project, "prepare"))
    assert line == (
        f"error: data/raw/dataset.csv: column 'feature 1': '{value}' at line 4 "
        f"{BEYOND_FLOAT32}: rescale the column (another unit)"
    )
    assert not (classification_project / "data" / "prepared").exists()


@pytest.mark.parametrize("estimator", ["logistic_regression", "random_forest"])
def test_a_value_inside_float32_still_trains(classification_project, estimator):
    raw = classification_project / "data" / "raw" / "dataset.csv"
    for row in range(0, 160, 2):  # on both sides of the split, whatever the seed
        edit_cell(raw, row, "feature 1", "3.4e38")
    prepare.run(classification_project)
    edit_params(classification_project, "train", estimator=estimator, hyperparams={})
    assert train.run(classification_project)["output"]["classes"] == [0, 1]


def test_a_huge_raw_value_is_refused_before_the_split(classification_project):
    edit_cell(classification_project / "data" / "raw" / "dataset.csv", 0, "feature 3", "1e300")
    with pytest.raises(ProjectError) as caught:
        prepare.run(classification_project)
    assert f"dataset.csv: column 'feature 3': '1e300' at line 2 {BEYOND_FLOAT32}" in str(
        caught.value
    )


def test_a_combination_the_estimator_refuses_names_params_and_data(classification_project):
    prepare.run(classification_project)
    hyperparams = {"bootstrap": False, "oob_score": True}
    edit_params(classification_project, "train", estimator="random_forest", hyperparams=hyperparams)
    with pytest.raises(ProjectError) as caught:
        train.run(classification_project)
    assert str(caught.value) == (
        f"params.yaml: train: random_forest with hyperparams {hyperparams} cannot be fitted on "
        "data/prepared/train.parquet: Out of bag estimation only "
        "available if bootstrap=True"
    )


@pytest.mark.parametrize(("seed", "side"), [(0, "hold-out"), (11, "training")])
def test_a_class_the_split_puts_on_one_side_is_refused(tmp_path, seed, side):
    frame = synthetic_frame("classification")
    rare = frame.head(2).assign(label=7)
    root = write_project(tmp_path, "classification", pd.concat([frame, rare], ignore_index=True))
    edit_params(root, "prepare", stratify=False, seed=seed)
    with pytest.raises(ProjectError) as caught:
        prepare.run(root)
    assert str(caught.value).endswith(
        f"column 'label': class 7 has 2 row(s) and the split put none in the {side} set; every "
        "class needs rows on both sides: add rows of that class, or adjust prepare.test_size "
        "or prepare.stratify"
    )
    assert not (root / "data" / "prepared").exists()


def test_a_regression_hold_out_of_one_row_is_refused(tmp_path):
    root = write_project(tmp_path, "regression", synthetic_frame("regression", rows=8))
    edit_params(root, "prepare", test_size=0.1)
    with pytest.raises(ProjectError) as caught:
        prepare.run(root)
    assert str(caught.value).startswith(
        "params.yaml: prepare.test_size: 0.1 holds out 1 of the 8 rows of "
    )
    assert str(caught.value).endswith("dataset.csv; evaluate needs at least 2")


@pytest.fixture
def trained_classifier(classification_project):
    prepare.run(classification_project)
    train.run(classification_project)
    return classification_project


def test_evaluate_refuses_a_hold_out_class_the_model_never_learned(trained_classifier):
    """It used to crash: Target is multiclass but average='binary'."""
    holdout = ProjectPaths(trained_classifier).holdout_data
    labels = pd.read_parquet(holdout)["label"].to_numpy().copy()
    labels[:3] = 7
    set_labels(holdout, labels)
    line = one_error_line(run_module(trained_classifier, "evaluate"))
    assert line == (
        "error: data/prepared/holdout.parquet: column 'label' has class 7 (3 rows) that "
        f"models/{MODEL_NAME} was never trained on (it knows 0, 1); the training data needs "
        "rows of every class"
    )
    assert not ProjectPaths(trained_classifier).evaluation_json.exists()
    verdict = gate_stage.run(trained_classifier)  # recorded, like every rejection
    assert not verdict.passed and verdict.checks[0].name == "measurable"
    assert "has class 7 (3 rows) that" in verdict.checks[0].detail


def test_evaluate_refuses_a_hold_out_that_lacks_a_class(trained_classifier):
    """roc_auc used to be written as NaN (not JSON) with a warning."""
    set_labels(ProjectPaths(trained_classifier).holdout_data, 0)
    with pytest.raises(ProjectError) as caught:
        evaluate.run(trained_classifier)
    assert str(caught.value).endswith(
        "data/prepared/holdout.parquet: column 'label' has no row of class 1, which "
        f"models/{MODEL_NAME} was trained on: the hold-out set cannot measure it (roc_auc is "
        "undefined); the hold-out set needs rows of every class"
    )


# --- production against a candidate: one metric ranks them only if their classes agree ----


def fitted(labels, features=FEATURES, estimator=LogisticRegression):
    """A model fitted on the synthetic rows, ``labels`` cycled over them."""
    frame = synthetic_frame("classification").set_axis([*FEATURES, "label"], axis=1)
    frame["label"] = [labels[i % len(labels)] for i in range(len(frame))]
    frame = frame.rename(columns=dict(zip(FEATURES, features, strict=False)))
    return estimator().fit(frame[list(features)], frame["label"]), frame


def production(model) -> Production:
    return Production(model, "model", "v1.0.0", "c" * 40, "f" * 64)


def candidate_on(root, labels) -> tuple[Candidate, Holdout]:
    """A candidate trained on ``labels`` and its hold-out set (the same rows)."""
    model, frame = fitted(labels)
    schema = load_schema(root / "data" / "schema.yaml")
    holdout = Holdout(frame, schema, "data/prepared/holdout.parquet", "0" * 64)
    return Candidate(model, "models/model"), holdout


def test_a_class_production_never_saw_is_named_not_crashed(classification_project):
    root = classification_project
    candidate, holdout = candidate_on(root, [0, 1, 2])
    problem = checks.incomparability(production(fitted([0, 1])[0]), candidate, holdout)
    assert problem == (
        "data/prepared/holdout.parquet: column 'label' has class 2 (53 rows) that production "
        "model v1.0.0 was never trained on (it knows 0, 1; the candidate 0, 1, 2): one "
        "metric cannot rank models whose classes differ"
    )


@pytest.mark.parametrize(
    ("theirs", "ours", "message"),
    [
        ([0, 1, 2], [0, 1], "was trained on other classes (it knows 0, 1, 2; the candidate 0, 1)"),
        ([0, 1], ["0", "1"], "has class '0' (80 rows) that production model v1.0.0 was"),
        ([0, 1], [0, 1], None),
    ],
)
def test_classes_must_agree(classification_project, theirs, ours, message):
    root = classification_project
    candidate, holdout = candidate_on(root, ours)
    problem = checks.incomparability(production(fitted(theirs)[0]), candidate, holdout)
    assert problem is None if message is None else message in problem


def test_other_inputs_or_task_are_incomparable_too(classification_project):
    root = classification_project
    candidate, holdout = candidate_on(root, [0, 1])
    other_inputs = production(fitted([0, 1], features=["feature 0", "age"])[0])
    assert checks.incomparability(other_inputs, candidate, holdout) == (
        "production model v1.0.0 takes other input columns than data/schema.yaml lists "
        "(missing ['age'], new ['feature 1', 'feature 2', 'feature 3'])"
    )
    reordered = production(fitted([0, 1], features=FEATURES[::-1])[0])
    assert "(the same columns in another order)" in checks.incomparability(
        reordered, candidate, holdout
    )
    regression = production(fitted([0.5, 1.5], estimator=LinearRegression)[0])
    assert checks.incomparability(regression, candidate, holdout) == (
        "production model v1.0.0 is a regression model, data/schema.yaml says the task is "
        "classification"
    )


def test_promote_names_a_candidate_the_hold_out_set_cannot_score(classification_project):
    """An older version, from before data/schema.yaml changed: refused on record, not a
    scikit-learn traceback about feature names."""
    root = classification_project
    prepare.run(root)
    schema = load_schema(root / "data" / "schema.yaml")
    holdout = pd.read_parquet(ProjectPaths(root).holdout_data)
    older, _ = fitted([0, 1], features=["feature 0", "feature 1"])
    assert scoring.unmeasurable(older, holdout, schema, "holdout.parquet", "model v0.9.0") == (
        "model v0.9.0 takes other input columns than data/schema.yaml lists (missing none, "
        "new ['feature 2', 'feature 3'])"
    )


def test_incomparable_production_is_a_recorded_failed_check(classification_project):
    """Recorded, not raised: the verdict stays on file, promote --force can override it."""
    params = load_gate(classification_project / "params.yaml", "classification")
    candidate, holdout = candidate_on(classification_project, [0, 1])
    result = judge(candidate, production(fitted([0, 1, 2])[0]), holdout, params)
    assert not result.passed and result.baseline is None
    record = json.loads(json.dumps(result.to_record(), allow_nan=False))
    assert [check["name"] for check in record["checks"]] == ["min_value", "trivial", "comparable"]
    problem = record["checks"][2].pop("detail")
    assert record["checks"][2] == {
        "name": "comparable",
        "passed": False,
        "value": None,
        "threshold": None,
    }
    assert "production model v1.0.0 was trained on other classes" in problem
    assert record["production"] == {
        "version": "v1.0.0",
        "commit": "c" * 40,
        "weights_sha256": "f" * 64,
    }
    assert record["summary"] == f"gate failed: {problem}"
    assert result.to_metrics() == {
        "passed": False,
        "candidate": result.candidate,
        "trivial": result.trivial,
        "min_value": params.min_value,
        "trivial_margin": params.trivial_margin,
        "max_regression": params.max_regression,
        "rows_scored": len(holdout.frame),
        "rows_left_out": 0,
    }


# --- a failed DVC read names the storage fault (real DVC runs in the template's suite) ----


def failure(*chain: BaseException) -> BaseException:
    """``chain[0]`` raised while handling ``chain[1]``, itself while handling ``chain[2]``…"""
    for outer, inner in zip(chain[:-1], chain[1:], strict=True):
        outer.__cause__ = inner
    return chain[0]


NO_REMOTE = object()  # a DVC file system whose remote cannot be told


class NoCredentialsError(Exception):
    """botocore's is matched by name, so a project without S3 support needs no botocore."""


class ClientError(Exception):
    def __init__(self, code: str):
        super().__init__(f"An error occurred ({code})")
        self.response = {"Error": {"Code": code}}


@pytest.mark.parametrize(
    ("error", "cause"),
    [
        (
            failure(OSError("Cannot connect"), ConnectionRefusedError(111, "Connect call failed")),
            "cannot reach the DVC remote: connection refused",
        ),
        (
            failure(OSError("Cannot connect"), TimeoutError("slow")),
            "cannot reach the DVC remote: timed out talking to the remote",
        ),
        (
            failure(PermissionError("Forbidden")),
            "the DVC remote refused access (Forbidden): check its credentials and permissions",
        ),
        (
            failure(OSError("x"), PermissionError(13, "Permission denied", "/p/.dvc/cache/ab")),
            "permission denied on /p/.dvc/cache/ab: check its owner and mode",
        ),
        (
            failure(RuntimeError("index"), FileNotFoundError(2, "No storage files available")),
            "they are not in the DVC cache, and no default DVC remote is configured",
        ),
        (
            failure(RuntimeError("x"), NoCredentialsError("Unable to locate credentials")),
            "no credentials for the DVC remote (Unable to locate credentials): set them",
        ),
        (
            failure(OSError("x"), ClientError("InvalidAccessKeyId")),
            "the DVC remote refused access (An error occurred (InvalidAccessKeyId))",
        ),
        (ValueError("something else"), "something else"),
    ],
)
def test_storage_failure_names_the_cause(error, cause):
    assert read_cause(error, NO_REMOTE).startswith(cause)
