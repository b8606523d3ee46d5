"""data/schema.yaml and the raw CSV against it: each problem is one line naming file and
column (or key)."""

from __future__ import annotations

import pytest
import yaml
from pipeline_helpers import edit_params, run_module, synthetic_frame, write_project, write_yaml
from sample_project import prepare
from weighbridge.errors import ProjectError
from weighbridge.reading import read_raw
from weighbridge.schema import load_schema

RAW = "data/raw/dataset.csv"


def rewrite_raw(root, transform):
    path = root / RAW
    lines = path.read_text().splitlines()
    path.write_text("\n".join(transform(lines)) + "\n")


def expect_error(root, pattern):
    with pytest.raises(ProjectError, match=pattern) as caught:
        prepare.run(root)
    assert "\n" not in str(caught.value)
    assert not (root / "data" / "prepared").exists()  # nothing half-written


def test_valid_csv_is_typed_in_schema_order(classification_project):
    schema = load_schema(classification_project / "data" / "schema.yaml")
    frame = read_raw(classification_project / RAW, schema)
    assert list(frame.columns) == [column.name for column in schema.columns]
    assert str(frame["label"].dtype) == "int64"
    assert str(frame["feature 0"].dtype) == "float64"


def test_missing_feature_column(classification_project):
    rewrite_raw(classification_project, lambda ls: [",".join(line.split(",")[1:]) for line in ls])
    expect_error(classification_project, r"dataset\.csv: column 'feature 0': missing")


def test_missing_target_column(classification_project):
    rewrite_raw(classification_project, lambda ls: [",".join(line.split(",")[:-1]) for line in ls])
    expect_error(classification_project, r"dataset\.csv: column 'label': missing")


def test_unexpected_column(classification_project):
    rewrite_raw(
        classification_project, lambda ls: [ls[0] + ",extra"] + [line + ",1" for line in ls[1:]]
    )
    expect_error(classification_project, r"column 'extra': not in data/schema\.yaml")


def test_non_numeric_value_names_column_and_line(classification_project):
    def garbage(lines):
        fields = lines[5].split(",")
        fields[2] = "n/a-ish"
        return lines[:5] + [",".join(fields)] + lines[6:]

    rewrite_raw(classification_project, garbage)
    expect_error(
        classification_project,
        r"dataset\.csv: column 'feature 2': 'n/a-ish' at line 6 is not a number$",
    )


def test_missing_value(classification_project):
    def blank(lines):
        fields = lines[3].split(",")
        fields[1] = ""
        return lines[:3] + [",".join(fields)] + lines[4:]

    rewrite_raw(classification_project, blank)
    expect_error(
        classification_project,
        r"dataset\.csv: column 'feature 1': missing value at line 4 \(data/schema\.yaml: "
        r"nullable: false\)$",
    )


def test_non_integer_class_label(classification_project):
    rewrite_raw(
        classification_project, lambda ls: ls[:2] + [ls[2].rsplit(",", 1)[0] + ",0.5"] + ls[3:]
    )
    expect_error(classification_project, r"column 'label': '0.5' at line 3 is not an integer")


def test_empty_file_and_header_only(classification_project):
    raw = classification_project / RAW
    header = raw.read_text().splitlines()[0]
    raw.write_text("")
    expect_error(classification_project, r"dataset\.csv: file is empty")
    raw.write_text(header + "\n")
    expect_error(classification_project, r"dataset\.csv: no data rows")


def test_missing_raw_file(classification_project):
    (classification_project / RAW).unlink()
    expect_error(classification_project, r"dataset\.csv: file not found")


def test_text_classes_are_allowed(tmp_path):
    frame = synthetic_frame("classification")
    frame["label"] = frame["label"].map({0: "benign", 1: "malignant"})
    root = write_project(tmp_path, "classification", frame)
    set_column(root, "label", dtype="category")
    assert prepare.run(root)[:2] == (120, 40)


def set_column(root, name, **changes):
    """Edit one column's entry of the project's data/schema.yaml."""
    path = root / "data" / "schema.yaml"
    document = yaml.safe_load(path.read_text())
    for column in document["columns"]:
        if column["name"] == name:
            column.update(changes)
    write_yaml(path, document)


def feature(name, dtype="float64", **extra):
    return {"name": name, "dtype": dtype, "role": "feature", **extra}


def target(name, dtype="float64", **extra):
    return {"name": name, "dtype": dtype, "role": "target", **extra}


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        ("- a list", r"^schema\.yaml: must be a mapping with task and columns$"),
        ({"task": "clustering"}, r"^schema\.yaml: task: must be one of classification, regression"),
        (
            {"task": "regression", "columns": []},
            r"^schema\.yaml: columns: must be a non-empty list$",
        ),
        (
            {"task": "regression", "columns": [feature("x", "date"), target("y")]},
            r"^schema\.yaml: column 'x': dtype: must be one of int64, float64, bool, category, "
            r"datetime, got 'date'$",
        ),
        (
            {"task": "regression", "columns": [feature("x", role="label"), target("y")]},
            r"^schema\.yaml: column 'x': role: must be one of feature, target, ignore, "
            r"got 'label'$",
        ),
        (
            {"task": "regression", "columns": [feature("x", nullable="yes"), target("y")]},
            r"^schema\.yaml: column 'x': nullable: must be true or false, got 'yes'$",
        ),
        (
            {"task": "regression", "columns": [feature("x", unit="cm"), target("y")]},
            r"^schema\.yaml: column 'x': unit: unknown key \(name, dtype, role, nullable\)$",
        ),
        (
            {"task": "regression", "columns": [{"dtype": "int64"}, target("y")]},
            r"^schema\.yaml: columns\[0\]: name: must be a non-empty text, got None$",
        ),
        (
            {"task": "regression", "columns": [feature("x"), feature("y")]},
            r"^schema\.yaml: columns: exactly one needs role: target \(found none\)$",
        ),
        (
            {"task": "regression", "columns": [target("x"), target("y")]},
            r"^schema\.yaml: columns: exactly one needs role: target \(found 'x', 'y'\)$",
        ),
        (
            {"task": "regression", "columns": [feature("x"), feature("x"), target("y")]},
            r"^schema\.yaml: column 'x': name: listed twice$",
        ),
        (
            {"task": "regression", "columns": [feature("x"), target("y", "category")]},
            r"^schema\.yaml: column 'y': dtype: category cannot be the target of a regression",
        ),
        (
            {"task": "classification", "columns": [feature("x"), target("y", "float64")]},
            r"^schema\.yaml: column 'y': dtype: float64 cannot be the target of a classification",
        ),
        (
            {"task": "regression", "columns": [feature("x"), target("y", nullable=True)]},
            r"^schema\.yaml: column 'y': nullable: must be false for the target",
        ),
        (
            {"task": "regression", "columns": [feature("x", role="ignore"), target("y")]},
            r"^schema\.yaml: columns: needs at least one column with role: feature$",
        ),
    ],
)
def test_bad_schema_files(tmp_path, schema, message):
    path = tmp_path / "schema.yaml"
    write_yaml(path, schema) if isinstance(schema, dict) else path.write_text(schema)
    with pytest.raises(ProjectError, match=message):
        load_schema(path)


def test_schema_roles_and_defaults(tmp_path):
    path = tmp_path / "schema.yaml"
    columns = [feature("a", "category", nullable=True), target("y"), feature("b", "bool")]
    write_yaml(
        path,
        {
            "task": "regression",
            "columns": [*columns, {"name": "id", "dtype": "int64", "role": "ignore"}],
        },
    )
    schema = load_schema(path)
    assert schema.target == "y"
    assert schema.features == ["a", "b"]
    assert [c.nullable for c in schema.feature_columns] == [True, False]
    assert schema.column("id").nullable is True  # an ignored column may have gaps
    assert schema.dtypes == {"a": "category", "y": "float64", "b": "bool", "id": "int64"}


def test_a_schema_from_before_roles_still_loads(tmp_path):
    path = tmp_path / "schema.yaml"
    legacy = {
        "task": "classification",
        "target": "label",
        "columns": [{"name": "x", "dtype": "float64"}, {"name": "label", "dtype": "string"}],
    }
    write_yaml(path, legacy)
    schema = load_schema(path)
    assert schema.target == "label" and schema.features == ["x"]
    assert schema.dtypes == {"x": "float64", "label": "category"}


def int64_feature_project(root, value):
    """A project whose feature 'count' is int64, with ``value`` in the third data row."""
    frame = synthetic_frame("classification")
    frame.insert(0, "count", range(len(frame)))
    write_project(root, "classification", frame)
    set_column(root, "count", dtype="int64")
    rewrite_raw(root, lambda ls: ls[:3] + [value + ls[3][ls[3].index(",") :]] + ls[4:])
    return root


@pytest.mark.parametrize("value", ["99999999999999999999999", "-9223372036854775809"])
def test_int64_value_out_of_range_is_refused_not_wrapped(tmp_path, value):
    root = int64_feature_project(tmp_path, value)
    expect_error(
        root, rf"dataset\.csv: column 'count': value {value} out of int64 range \(line 4\)"
    )


def test_int64_bounds_are_read_exactly(tmp_path):
    # float64 cannot hold 2**63 - 1: reading through float would round it out of range.
    root = int64_feature_project(tmp_path, "9223372036854775807")
    frame = read_raw(root / RAW, load_schema(root / "data" / "schema.yaml"))
    assert frame["count"].iloc[2] == 2**63 - 1
    assert str(frame["count"].dtype) == "int64"


def test_out_of_range_refused_by_the_prepare_command(tmp_path):
    root = int64_feature_project(tmp_path, "99999999999999999999999")
    result = run_module(root, "prepare")
    assert result.returncode == 1
    assert result.stderr == (
        "error: data/raw/dataset.csv: column 'count': value 99999999999999999999999 "
        "out of int64 range (line 4)\n"
    )
    assert not (root / "data" / "prepared").exists()


def test_a_class_with_one_row_blames_the_data_not_params(classification_project):
    rewrite_raw(classification_project, lambda ls: ls + [ls[1].rsplit(",", 1)[0] + ",7"])
    expect_error(
        classification_project,
        r"^\S*data/raw/dataset\.csv: column 'label': class 7 has only 1 row\(s\), the split "
        r"needs at least 2 per class .*add rows of that class, or remove its rows$",
    )


def test_a_class_with_one_row_is_refused_without_stratify_too(classification_project):
    # a random split puts its one row on one side: unlearnable, or unmeasurable
    rewrite_raw(classification_project, lambda ls: ls + [ls[1].rsplit(",", 1)[0] + ",7"])
    edit_params(classification_project, "prepare", stratify=False)
    expect_error(classification_project, r"column 'label': class 7 has only 1 row\(s\)")
