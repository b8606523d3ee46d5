"""Reading a raw CSV against the schema: missing tokens, booleans, dates, gaps, typed output."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from weighbridge.errors import ProjectError
from weighbridge.reading import MISSING_TOKENS, read_prepared, read_raw
from weighbridge.schema import Column, Schema


def schema_of(*columns: Column, task: str = "regression") -> Schema:
    return Schema(task, (*columns, Column("y", "float64", "target")))


def read(tmp_path, header: str, rows: list[str], *columns: Column) -> pd.DataFrame:
    path = tmp_path / "data.csv"
    path.write_text(
        "\n".join([f"{header},y", *(f"{row},{i}" for i, row in enumerate(rows))]) + "\n"
    )
    return read_raw(path, schema_of(*columns), shown="data.csv")


def read_error(tmp_path, header, rows, *columns) -> str:
    with pytest.raises(ProjectError) as caught:
        read(tmp_path, header, rows, *columns)
    assert "\n" not in str(caught.value)
    return str(caught.value)


@pytest.mark.parametrize("token", [*MISSING_TOKENS, " NA ", "  "])
@pytest.mark.parametrize("dtype", ["float64", "category", "bool", "datetime", "int64"])
def test_every_missing_token_is_a_gap(tmp_path, token, dtype):
    value = {"float64": "1.5", "category": "red", "bool": "yes", "datetime": "2024-01-02",
             "int64": "3"}[dtype]  # fmt: skip
    frame = read(tmp_path, "x", [value, token, value], Column("x", dtype, nullable=True))
    assert frame["x"].isna().tolist() == [False, True, False]


def test_the_missing_tokens_are_the_documented_ones():
    assert set(MISSING_TOKENS) == {"", "NA", "N/A", "NaN", "nan", "null", "NULL", "None"}


def test_typed_output_of_each_dtype(tmp_path):
    header = "i,gappy,f,b,c,d"
    rows = ["1,4,0.5,Yes,red,2024-01-31", "2,,1e3,no,blue,2024-02-29", "3,6,-2,TRUE,red,"]
    frame = read(
        tmp_path, header, rows,
        Column("i", "int64"), Column("gappy", "int64", nullable=True), Column("f", "float64"),
        Column("b", "bool"), Column("c", "category"), Column("d", "datetime", nullable=True),
    )  # fmt: skip
    assert frame["i"].dtype == "int64" and frame["i"].tolist() == [1, 2, 3]
    assert frame["gappy"].dtype == "float64" and frame["gappy"].isna().tolist() == [
        False,
        True,
        False,
    ]
    assert frame["f"].tolist() == [0.5, 1000.0, -2.0]
    assert frame["b"].dtype == "float64" and frame["b"].tolist() == [1.0, 0.0, 1.0]
    assert frame["c"].dtype == object and frame["c"].tolist() == ["red", "blue", "red"]
    assert all(type(value) is str for value in frame["c"])
    assert str(frame["d"].dtype) == "datetime64[ns]"
    assert frame["d"].iloc[1] == pd.Timestamp("2024-02-29") and pd.isna(frame["d"].iloc[2])


def test_a_category_gap_is_nan_not_none(tmp_path):
    frame = read(tmp_path, "c", ["a", "NA"], Column("c", "category", nullable=True))
    assert frame["c"].dtype == object and frame["c"].iloc[1] is np.nan


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["yes", "No", "YES"], [1.0, 0.0, 1.0]),
        (["true", "False", "TRUE"], [1.0, 0.0, 1.0]),
        (["1", "0", "1"], [1.0, 0.0, 1.0]),
    ],
)
def test_booleans(tmp_path, values, expected):
    assert read(tmp_path, "b", values, Column("b", "bool"))["b"].tolist() == expected


@pytest.mark.parametrize(
    ("values", "first"),
    [
        (["2024-03-01", "2024-03-02T10:30:00"], pd.Timestamp("2024-03-01")),
        (["2024-03-01T10:00:00+02:00", "2024-03-02T10:00:00Z"], pd.Timestamp("2024-03-01 08:00")),
        (["03/01/2024", "12/31/2024"], pd.Timestamp("2024-03-01")),  # month first
        (["13/01/2024", "31/12/2024"], pd.Timestamp("2024-01-13")),  # day first: 13 is no month
        (["01.03.2024", "31.12.2024"], pd.Timestamp("2024-03-01")),
        (["2024/03/01", "2024/12/31"], pd.Timestamp("2024-03-01")),
        (["1 Mar 2024", "31 Dec 2024"], pd.Timestamp("2024-03-01")),
    ],
)
def test_dates_in_iso_and_common_formats(tmp_path, values, first):
    frame = read(tmp_path, "d", values, Column("d", "datetime"))
    assert str(frame["d"].dtype) == "datetime64[ns]" and frame["d"].iloc[0] == first


def test_one_date_format_per_column(tmp_path):
    message = read_error(tmp_path, "d", ["2024-03-01", "03/02/2024"], Column("d", "datetime"))
    assert message.startswith("data.csv: column 'd': '03/02/2024' at line 3 is not a date")


def test_a_gap_where_none_is_allowed_names_file_column_and_line(tmp_path):
    message = read_error(tmp_path, "x", ["1", "2", "N/A"], Column("x", "float64"))
    assert message == (
        "data.csv: column 'x': missing value at line 4 (data/schema.yaml: nullable: false)"
    )


@pytest.mark.parametrize(
    ("dtype", "values", "message"),
    [
        ("float64", ["1", "abc"], "'abc' at line 3 is not a number"),
        ("float64", ["1", " 2 ", "inf"], "'inf' at line 4 is not a finite number"),
        ("int64", ["1", "2.5"], "'2.5' at line 3 is not an integer"),
        ("int64", ["1", "two"], "'two' at line 3 is not a number"),
        ("bool", ["yes", "maybe"], "'maybe' at line 3 is not a boolean (true/false, yes/no, 1/0)"),
    ],
)
def test_a_wrong_value_names_file_column_value_and_line(tmp_path, dtype, values, message):
    assert (
        read_error(tmp_path, "x", values, Column("x", dtype)) == f"data.csv: column 'x': {message}"
    )


def test_padded_numbers_and_tokens_are_read(tmp_path):
    frame = read(tmp_path, "x", [" 1.5", " NA ", "2 "], Column("x", "float64", nullable=True))
    assert frame["x"].tolist()[::2] == [1.5, 2.0] and np.isnan(frame["x"].iloc[1])


def test_ignored_columns_are_read_but_not_validated(tmp_path):
    frame = read(tmp_path, "note,x", ["anything,1", ",2"], Column("note", "int64", "ignore"),
                 Column("x", "float64"))  # fmt: skip
    assert frame["note"].tolist()[0] == "anything"


def test_the_target_may_have_gaps_when_read(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("x,y\n1,a\n2,\n3,b\n")
    schema = Schema("classification", (Column("x", "float64"), Column("y", "category", "target")))
    assert read_raw(path, schema)["y"].isna().tolist() == [False, True, False]


def test_read_prepared_checks_columns_and_dtypes(tmp_path):
    schema = schema_of(Column("c", "category", nullable=True), Column("x", "float64"))
    path = tmp_path / "train.parquet"
    pd.DataFrame({"c": ["a", None], "x": [1.0, 2.0], "y": [0.5, 1.5]}).to_parquet(path)
    frame = read_prepared(path, schema, "train.parquet")
    assert frame["c"].dtype == object and frame["c"].iloc[1] is np.nan
    pd.DataFrame({"c": [1, 2], "x": [1.0, 2.0], "y": [0.5, 1.5]}).to_parquet(path)
    with pytest.raises(ProjectError, match=r"^train.parquet: column 'c': holds int64 values, "):
        read_prepared(path, schema, "train.parquet")
    pd.DataFrame({"x": [1.0], "y": [0.5]}).to_parquet(path)
    with pytest.raises(ProjectError, match=r"^train.parquet: has columns \['x', 'y'\], "):
        read_prepared(path, schema, "train.parquet")
    path.write_text("x,y\n")
    with pytest.raises(ProjectError, match=r"^train.parquet: not a Parquet file prepare wrote"):
        read_prepared(path, schema, "train.parquet")
    with pytest.raises(ProjectError, match=r"^gone.parquet: not found"):
        read_prepared(tmp_path / "gone.parquet", schema, "gone.parquet")


def test_integers_the_parser_leaves_as_text_are_checked_exactly(tmp_path):
    column = Column("x", "int64", nullable=True)
    frame = read(tmp_path, "x", [" 7", "NA", "-9223372036854775808"], column)
    assert frame["x"].dtype == "float64" and frame["x"].isna().tolist() == [False, True, False]
    message = read_error(tmp_path, "x", [" 7", "", "99999999999999999999999"], column)
    assert message == (
        "data.csv: column 'x': value 99999999999999999999999 out of int64 range (line 4)"
    )


# --- rows whose field count differs from the header's ----------------------------------------

WIDE_SCHEMA = (Column("a", "float64"), Column("b", "float64", nullable=True))


def misshapen_error(tmp_path, text: str, *columns: Column) -> str:
    path = tmp_path / "data.csv"
    path.write_text(text)
    with pytest.raises(ProjectError) as caught:
        read_raw(path, schema_of(*(columns or WIDE_SCHEMA)), shown="data.csv")
    assert "\n" not in str(caught.value)
    return str(caught.value)


@pytest.mark.parametrize(
    ("rows", "line", "fields"),
    [
        # one unquoted comma inside a value: every later value moves one column right, and
        # all of them are still numbers (pandas' usecols used to drop the extra field)
        (["1,2,3", "4,5,6", "7,8,9", "1,0,5,10", "2,3,4"], 5, 4),
        (["1,0,5,10", "2,3,4"], 2, 4),  # the first data row: pandas warns, it does not refuse
        (["1,2,3", "4,5,6,"], 3, 4),  # a trailing comma: an empty fourth field
        (["1,2,3", "4,5"], 3, 2),  # too few: pandas pads the row with a gap
        (["1,2,", '"4",5,6', "7,8"], 4, 2),  # the last column has gaps: only then scanned
        (['1,2,"multi\nline"', "4,5"], 4, 2),  # a quoted value spanning lines: the row's line
    ],
)
def test_a_row_of_another_width_is_refused_with_its_line_and_both_counts(
    tmp_path, rows, line, fields
):
    message = misshapen_error(tmp_path, "\n".join(["a,b,y", *rows]) + "\n")
    assert message.startswith(f"data.csv: line {line} has {fields} fields, the header has 3 (")


def test_a_shifted_row_is_named_not_the_target_it_broke(tmp_path):
    """A word shifted into the target used to be reported as a bad target value."""
    text = "a,note,y\n1,fine,2\n3,one, two,4\n"
    columns = (Column("a", "float64"), Column("note", "category"))
    assert misshapen_error(tmp_path, text, *columns) == (
        "data.csv: line 3 has 4 fields, the header has 3 (a value holding a comma must be quoted)"
    )


def test_quoted_commas_blank_lines_and_gaps_are_not_misshapen(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text('a,b,y\n1,"2",3\n4,,\n\n"5",6,7\n')
    columns = (Column("a", "float64", nullable=True), Column("b", "category", nullable=True))
    frame = read_raw(path, schema_of(*columns))
    assert frame["b"].tolist()[0] == "2" and frame["y"].isna().tolist() == [0, 1, 1, 0]


def test_a_file_pandas_cannot_parse_keeps_its_message(tmp_path):
    """The row locator only runs for a row of another width; bad bytes are pandas' to name."""
    path = tmp_path / "data.csv"
    path.write_bytes(b"a,b,y\n1,2,3\n4,\xff\xfe,6\n")
    with pytest.raises(ProjectError) as caught:
        read_raw(path, schema_of(*WIDE_SCHEMA), shown="data.csv")
    assert "not a valid CSV file" in str(caught.value) and "\n" not in str(caught.value)
