"""prepare: missing targets dropped and counted, ignored columns left out, random or time
split, deterministic Parquet files."""

from __future__ import annotations

import hashlib

import pandas as pd
import pytest
import yaml
from pipeline_helpers import edit_params, run_module, synthetic_frame, write_project, write_yaml
from sample_project import prepare
from weighbridge.config import ProjectPaths
from weighbridge.errors import ProjectError
from weighbridge.reading import read_prepared
from weighbridge.schema import load_schema

ROWS = 160


def dated_project(root, task="classification"):
    """A project with a date column (one row a day, shuffled in the file), an id column
    and a category feature."""
    frame = synthetic_frame(task).sample(frac=1.0, random_state=3).reset_index(drop=True)
    frame.insert(0, "order_id", [f"o{i}" for i in range(ROWS)])
    days = pd.date_range("2024-01-01", periods=ROWS, freq="D")[frame.index.to_numpy()[::-1]]
    frame.insert(1, "day", days.strftime("%Y-%m-%d"))
    frame.insert(2, "colour", ["red", "blue", "green", "NA"] * (ROWS // 4))
    write_project(root, task, frame)
    path = root / "data" / "schema.yaml"
    document = yaml.safe_load(path.read_text())
    extra = [
        {"name": "order_id", "dtype": "category", "role": "ignore"},
        {"name": "day", "dtype": "datetime", "role": "feature", "nullable": False},
        {"name": "colour", "dtype": "category", "role": "feature", "nullable": True},
    ]
    names = {column["name"] for column in extra}
    document["columns"] = extra + [c for c in document["columns"] if c["name"] not in names]
    write_yaml(path, document)
    return root


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_rows_without_a_target_are_dropped_and_counted(classification_project):
    raw = classification_project / "data" / "raw" / "dataset.csv"
    frame = pd.read_csv(raw)
    frame["label"] = frame["label"].astype(object)
    frame.loc[[3, 50, 99], "label"] = ["NA", "", "null"]
    frame.to_csv(raw, index=False)
    result = run_module(classification_project, "prepare")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "prepare: dropped 3 row(s) whose target is missing",
        "prepare: 117 training rows, 40 hold-out rows",
    ]
    paths = ProjectPaths(classification_project)
    schema = load_schema(paths.schema)
    train = read_prepared(paths.train_data, schema)
    assert train["label"].dtype == "int64" and train["label"].notna().all()


def test_ignored_columns_are_left_out_and_types_kept(tmp_path):
    root = dated_project(tmp_path)
    assert prepare.run(root) == (120, 40, 0)
    paths = ProjectPaths(root)
    train = read_prepared(paths.train_data, load_schema(paths.schema))
    assert list(train.columns)[:2] == ["day", "colour"] and "order_id" not in train
    assert str(train["day"].dtype) == "datetime64[ns]" and train["colour"].dtype == object


def test_parquet_files_are_byte_identical_for_the_same_input(tmp_path):
    root = dated_project(tmp_path)
    paths = ProjectPaths(root)
    prepare.run(root)
    first = sha256(paths.train_data), sha256(paths.holdout_data)
    paths.train_data.unlink()
    prepare.run(root)
    assert (sha256(paths.train_data), sha256(paths.holdout_data)) == first


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_time_split_holds_out_the_latest_rows(tmp_path, task):
    root = dated_project(tmp_path, task)
    edit_params(root, "prepare", split="time", time_column="day")
    assert prepare.run(root)[:2] == (120, 40)
    paths = ProjectPaths(root)
    schema = load_schema(paths.schema)
    train, holdout = (
        read_prepared(path, schema) for path in (paths.train_data, paths.holdout_data)
    )
    assert train["day"].max() < holdout["day"].min()
    assert holdout["day"].min() == pd.Timestamp("2024-01-01") + pd.Timedelta(days=120)
    assert holdout["day"].is_monotonic_increasing


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"split": "time"},
         "params.yaml: prepare.time_column: required when prepare.split is time"),
        ({"split": "time", "time_column": "colour"},
         "params.yaml: prepare.time_column: 'colour' is a category column of data/schema.yaml"),
        ({"split": "time", "time_column": "when"},
         "params.yaml: prepare.time_column: 'when' is not a column of data/schema.yaml"),
        ({"split": "daily"}, "params.yaml: prepare.split: must be one of hash, random, time"),
    ],
)  # fmt: skip
def test_a_time_split_needs_a_datetime_column(tmp_path, params, message):
    root = dated_project(tmp_path)
    edit_params(root, "prepare", **params)
    result = run_module(root, "prepare")
    assert result.returncode == 1 and result.stderr.startswith(f"error: {message}")
    assert len(result.stderr.splitlines()) == 1
    assert not (root / "data" / "prepared").exists()


def test_a_time_split_refuses_rows_without_a_time(tmp_path):
    root = dated_project(tmp_path)
    path = root / "data" / "schema.yaml"
    document = yaml.safe_load(path.read_text())
    document["columns"][1]["nullable"] = True
    write_yaml(path, document)
    raw = root / "data" / "raw" / "dataset.csv"
    raw.write_text(raw.read_text().replace(",2024-01-05,", ",,", 1))
    edit_params(root, "prepare", split="time", time_column="day")
    with pytest.raises(ProjectError, match=r"'day' is missing in 1 row\(s\): a time split needs"):
        prepare.run(root)
