"""Inferring data/schema.yaml from a CSV's cells (what the bake does for dataset=csv)."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from weighbridge.errors import ProjectError
from weighbridge.reading import read_raw
from weighbridge.schema_inference import infer_file, infer_frame


def cells(columns: dict[str, list[str]]) -> pd.DataFrame:
    """A CSV as read_text gives it: every cell text."""
    return pd.DataFrame(columns, dtype=object)


def penguins_like(rows: int = 12) -> pd.DataFrame:
    species = ["Adelie", "Gentoo", "Chinstrap"]
    return cells({
        "rowid": [str(i + 1) for i in range(rows)],
        "species": [species[i % 3] if i != 4 else "NA" for i in range(rows)],
        "island": [["Biscoe", "Dream"][i % 2] for i in range(rows)],
        "bill_length_mm": [f"{39 + i * 0.7:.1f}" if i != 3 else "NA" for i in range(rows)],
        "body_mass_g": [str(3000 + 50 * i) if i != 3 else "NA" for i in range(rows)],
        "sex": [["male", "female", ""][i % 3] for i in range(rows)],
        "year": [str(2007 + i % 3) for i in range(rows)],
    })  # fmt: skip


def test_a_penguins_like_frame():
    inferred = infer_frame(penguins_like(), "species", "classification")
    got = {c.name: (c.dtype, c.role, c.nullable) for c in inferred.schema.columns}
    assert got == {
        "rowid": ("int64", "ignore", False),  # named like an identifier
        "species": ("category", "target", False),  # gaps, but a target never is nullable
        "island": ("category", "feature", False),
        "bill_length_mm": ("float64", "feature", True),
        "body_mass_g": ("int64", "feature", True),
        "sex": ("category", "feature", True),
        "year": ("int64", "feature", False),
    }
    assert inferred.summary() == (
        "schema: 7 columns — 5 features (2 category, 1 float64, 2 int64), target species "
        "(category), 1 ignored (rowid: identifier); edit data/schema.yaml to change"
    )


def test_a_date_column():
    frame = cells({"day": [f"2024-01-0{i}" for i in range(1, 10)], "y": list("123456789")})
    assert infer_frame(frame, "y", "regression").schema.dtypes["day"] == "datetime"
    frame["day"] = [f"0{i}/02/2024" for i in range(1, 10)]
    assert infer_frame(frame, "y", "regression").schema.dtypes["day"] == "datetime"


def test_the_cells_that_keep_a_column_from_being_dates_are_named():
    """3 unreadable cells of 300 used to make it text, unique per row: silently ignored."""
    days = pd.date_range("2023-01-01", periods=300).strftime("%Y-%m-%d").tolist()
    days[10], days[41], days[99] = "2023-02-30", "soon", "11/04/2023"  # lines 12, 43, 101
    frame = cells({"signup": days, "x": [str(i % 7) for i in range(300)], "y": ["1", "2"] * 150})
    inferred = infer_frame(frame, "y", "regression")
    assert inferred.schema.column("signup").role == "ignore"
    assert inferred.summary() == (
        "schema: 3 columns — 1 features (1 int64), target y (int64), 1 ignored (signup: "
        "identifier); signup is no datetime: 3 of 300 cells are no date like the others: "
        "'2023-02-30' (line 12), 'soon' (line 43), '11/04/2023' (line 101) (fix or blank "
        "them, then set its dtype to datetime); edit data/schema.yaml to change"
    )
    days[10], days[41], days[99] = "2023-01-11", "2023-02-11", "2023-04-10"
    fixed = infer_frame(cells({"signup": days, "y": ["1", "2"] * 150}), "y", "regression")
    assert fixed.schema.dtypes["signup"] == "datetime" and not fixed.not_dates


@pytest.mark.parametrize(
    ("name", "values", "reason"),
    [
        ("customer", [f"C-{i:04d}" for i in range(30)], "identifier"),  # unique per row
        ("customer_id", [str(i % 5) for i in range(30)], "identifier"),  # named like one
        ("Unnamed: 0", [str(i) for i in range(30)], "identifier"),  # pandas' dumped index
        ("n", [str(i) for i in range(30)][::-1], "row number"),  # 0..n-1 in any order
        ("note", [f"w{i % 20}" for i in range(30)], "free text"),  # 20 values in 30 rows
    ],
)
def test_identifier_like_columns_are_ignored(name, values, reason):
    frame = cells({name: values, "x": [str(i % 7) for i in range(30)], "y": ["a", "b"] * 15})
    inferred = infer_frame(frame, "y", "classification")
    assert inferred.schema.column(name).role == "ignore"
    assert inferred.reasons == {name: reason}
    assert inferred.schema.column("x").role == "feature"


def test_a_counted_integer_is_not_a_row_number():
    frame = cells({"count": [str(i) for i in range(2, 32)], "y": ["a", "b"] * 15})
    assert infer_frame(frame, "y", "classification").schema.column("count").role == "feature"


def test_booleans_numbers_and_text():
    frame = cells({
        "flag": ["yes", "No", "", "YES"],
        "truth": ["true", "FALSE", "true", "false"],
        "ints": ["1", "-2", "3", "4"],
        "floats": ["1", "2.5", "1e3", "NaN"],
        "label": ["a", "b", "a", "b"],
    })  # fmt: skip
    schema = infer_frame(frame, "label", "classification").schema
    assert schema.dtypes == {"flag": "bool", "truth": "bool", "ints": "int64",
                             "floats": "float64", "label": "category"}  # fmt: skip
    assert schema.column("flag").nullable and not schema.column("truth").nullable


@pytest.mark.parametrize(
    ("column", "task", "message"),
    [
        (["a", "b", "a", "b"], "regression", "target 'y' is not numeric (category)"),
        (["0.5", "1", "0", "1"], "classification", "target 'y' has non-integer numeric classes"),
    ],
)
def test_a_target_that_cannot_serve_the_task_is_refused(column, task, message):
    with pytest.raises(ProjectError, match=re.escape(message)):
        infer_frame(cells({"x": ["5", "2", "5", "4"], "y": column}), "y", task)


def test_integral_float_classes_are_int64():
    frame = cells({"x": ["5", "2", "5", "4"], "y": ["0.0", "1.0", "1.0", "0.0"]})
    assert infer_frame(frame, "y", "classification").schema.dtypes["y"] == "int64"


def test_an_inferred_schema_reads_its_own_file(tmp_path):
    """What the bake infers, prepare reads (the same missing tokens, the same date rule)."""
    path = tmp_path / "data.csv"
    frame = penguins_like(30)
    frame["when"] = [f"{(i % 28) + 1:02d}.01.2024" for i in range(30)]
    frame["ok"] = ["TRUE", "false", "NA"] * 10
    frame.to_csv(path, index=False)
    schema = infer_file(path, "species", "classification").schema
    typed = read_raw(path, schema)
    assert str(typed["when"].dtype) == "datetime64[ns]" and typed["ok"].isna().sum() == 10
    assert typed["species"].isna().sum() == 1 and typed["body_mass_g"].dtype == "float64"


def test_a_row_of_another_width_is_refused_at_inference(tmp_path):
    """A long first data row used to become pandas' index: every column shifted by one."""
    path = tmp_path / "data.csv"
    path.write_text("a,b,y\n1,2.5,3,4\n5,6.5,7\n")
    with pytest.raises(ProjectError) as caught:
        infer_file(path, "y", "regression")
    assert str(caught.value) == (
        f"{path}: line 2 has 4 fields, the header has 3 (a value holding a comma must be quoted)"
    )


def test_a_dumped_index_and_a_gap_in_the_last_column_are_read(tmp_path):
    """The short-row scan names its own columns: pandas' dumped index has no header name."""
    path = tmp_path / "data.csv"
    path.write_text(",x,y,note\n0,1.5,1,a\n1,2.5,2,\n2,3.5,3,b\n")
    inferred = infer_file(path, "y", "regression")
    assert inferred.reasons["Unnamed: 0"] == "identifier"
    assert inferred.schema.column("note").nullable
