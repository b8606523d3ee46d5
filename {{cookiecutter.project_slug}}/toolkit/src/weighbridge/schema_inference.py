"""Infer data/schema.yaml from a CSV (the bake does it for dataset=csv; the user may edit it).

Each column's dtype comes from its values, tried in this order: booleans (yes/no,
true/false), integers, other numbers, dates (ISO 8601 or one common format), and text,
read as a category. Identifier-like columns get role ignore: text unique per row, an
integer row number (0..n-1 or 1..n), or a name like ``id``/``customer_id``. A column is
nullable when it has gaps; the target never is (prepare drops rows without one).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .errors import ProjectError
from .reading import (
    FIRST_DATA_LINE,
    MISSING_TOKENS,
    Source,
    date_format,
    normalised,
    read_every_column,
    read_frame,
)
from .schema import Column, Schema, check_columns

# id, ID, customer_id, "order id", customerId, uuid, rownum, pandas' dumped index "Unnamed: 0"
ID_NAME = re.compile(r"(?i:id|index|uuid|guid|row_?(id|num|number)|unnamed: 0|.*[_ -]id)|.*[a-z]Id")
INTEGER = r"[+-]?\d+"
BOOL_WORDS = ("true", "false", "yes", "no")
# Text with more distinct values than this share of the rows is free text, not a category
# (one-hot encoding it would give most rows a column of their own).
FREE_TEXT_SHARE = 0.5
MIN_ROWS_FOR_SHARE = 20
# Dates have a separator or a month name; a bare word is no date even if pandas reads it.
DATE_SHAPE = r"\d[-/.]\d|\d \w|\w \d"
# A text column whose cells are dates but for fewer than this share: the summary names those
# cells, which alone kept it from being a date column (and may make it an identifier).
NEAR_DATE_SHARE = 0.9
SHOWN_CELLS = 3


@dataclass(frozen=True)
class Inferred:
    """The schema; for each ignored column, why; for each text column of dates but for a
    few cells, those cells."""

    schema: Schema
    reasons: dict[str, str]
    not_dates: dict[str, str] = field(default_factory=dict)

    def summary(self) -> str:
        """One line: what was inferred, and where to change it."""
        schema = self.schema
        features = Counter(column.dtype for column in schema.feature_columns)
        kinds = ", ".join(f"{count} {dtype}" for dtype, count in sorted(features.items()))
        target = schema.column(schema.target)
        ignored = [c.name for c in schema.columns if c.role == "ignore"]
        why = ", ".join(f"{name}: {self.reasons[name]}" for name in ignored)
        parts = [
            f"schema: {len(schema.columns)} columns — {len(schema.features)} features ({kinds})",
            f"target {target.name} ({target.dtype})",
        ]
        if ignored:
            parts.append(f"{len(ignored)} ignored ({why})")
        notes = [f"{name} is no datetime: {cells}" for name, cells in self.not_dates.items()]
        return "; ".join([", ".join(parts), *notes, "edit data/schema.yaml to change"])


def infer_file(path: Path, target: str, task: str) -> Inferred:
    # The C parser types the numeric columns (fast at a million rows); only the others are
    # looked at as text.
    header = list(read_frame(path, None, nrows=0).columns)
    options = {"na_values": list(MISSING_TOKENS), "keep_default_na": False}
    frame = read_every_column(path, header, Source(path), **options)  # a misshapen row: refused
    return infer_frame(frame, target, task)


def infer_frame(frame: pd.DataFrame, target: str, task: str) -> Inferred:
    """``frame``: the CSV as read, numbers parsed or not (text cells are looked at as text)."""
    if target not in frame.columns:
        raise ProjectError(f"target {target!r} is not a column of the CSV")
    columns, reasons, not_dates = [], {}, {}
    for name in frame.columns:
        values = normalised(frame[name])
        dtype = value_dtype(values)
        if dtype == "category":
            misfits = date_misfits(values.dropna())
            if misfits is not None and not misfits.empty:
                not_dates[name] = describe_misfits(misfits, int(values.notna().sum()))
        if name == target:
            columns.append(target_column(name, dtype, values, task))
            continue
        reason = identifier_reason(name, dtype, values)
        if reason:
            reasons[name] = reason
        role = "ignore" if reason else "feature"
        columns.append(Column(name, dtype, role, bool(values.isna().any())))
    schema = Schema(task, tuple(columns))
    try:
        check_columns("data/schema.yaml", task, schema.columns)
    except ProjectError as exc:  # e.g. every other column is an identifier
        raise ProjectError(f"cannot infer a schema: {exc}") from None
    return Inferred(schema, reasons, not_dates)


def value_dtype(values: pd.Series) -> str:
    present = values.dropna()
    if present.empty:
        return "category"
    if values.dtype.kind in "iu":
        return "int64" if fits_int64(present) else "float64"
    if values.dtype.kind == "f":  # the parser makes integers with gaps floats
        integral = present.eq(present.round()).all() and fits_int64(present)
        return "int64" if values.isna().any() and integral else "float64"
    lower = present.str.lower()
    if lower.isin(BOOL_WORDS).all():
        return "bool"
    if present.str.fullmatch(INTEGER).all() and fits_int64(present):
        return "int64"
    if pd.to_numeric(present, errors="coerce").notna().all():
        return "float64"
    if looks_like_dates(present):
        return "datetime"
    return "category"


def fits_int64(present: pd.Series) -> bool:
    return bool(pd.to_numeric(present, errors="coerce").abs().lt(2.0**63).all())


def looks_like_dates(present: pd.Series) -> bool:
    misfits = date_misfits(present)
    return misfits is not None and misfits.empty


def date_misfits(present: pd.Series) -> pd.Series | None:
    """The cells that are no date in the column's date format (empty: every cell is one);
    None when the column is not mostly dates."""
    shaped = present.str.contains(DATE_SHAPE, regex=True)
    if shaped.mean() < NEAR_DATE_SHARE:  # most text columns stop here, before any parsing
        return None
    nothing_missing = pd.Series(False, index=present.index)
    _, parsed = date_format(present, nothing_missing)
    dates = parsed.notna() & shaped
    return present[~dates] if dates.mean() >= NEAR_DATE_SHARE else None


def describe_misfits(misfits: pd.Series, present: int) -> str:
    """``3 of 300 cells are no date: 'soon' (line 12), …; fix or blank them``."""
    shown = ", ".join(
        f"{cell!r} (line {int(row) + FIRST_DATA_LINE})"
        for row, cell in misfits.head(SHOWN_CELLS).items()
    )
    more = ", …" if len(misfits) > SHOWN_CELLS else ""
    return (
        f"{len(misfits)} of {present} cells are no date like the others: {shown}{more} "
        "(fix or blank them, then set its dtype to datetime)"
    )


def identifier_reason(name: str, dtype: str, values: pd.Series) -> str | None:
    present = values.dropna()
    if present.empty:
        return "empty"
    if ID_NAME.fullmatch(name):
        return "identifier"
    if dtype == "int64" and is_row_number(present, len(values)):
        return "row number"
    if dtype == "category" and len(values) >= 2:
        distinct = present.nunique()
        if distinct == len(values):
            return "identifier"
        if len(values) >= MIN_ROWS_FOR_SHARE and distinct > FREE_TEXT_SHARE * len(values):
            return "free text"
    return None


def is_row_number(present: pd.Series, rows: int) -> bool:
    if len(present) != rows or rows < 2:
        return False
    numbers = pd.to_numeric(present).astype("int64")
    first = int(numbers.min())
    return first in (0, 1) and int(numbers.max()) == first + rows - 1 and numbers.is_unique


def target_column(name: str, dtype: str, values: pd.Series, task: str) -> Column:
    if task == "regression" and dtype not in ("int64", "float64"):
        raise ProjectError(f"target {name!r} is not numeric ({dtype}): a regression needs numbers")
    if task == "classification" and dtype == "float64":
        numbers = pd.to_numeric(values.dropna())
        if numbers.ne(numbers.round()).any():
            raise ProjectError(
                f"target {name!r} has non-integer numeric classes: use task regression"
            )
        dtype = "int64"
    if task == "classification" and dtype == "datetime":
        dtype = "category"
    return Column(name, dtype, "target", False)


def schema_document(schema: Schema) -> dict:
    """The schema as data/schema.yaml writes it."""
    return {
        "task": schema.task,
        "columns": [
            {"name": c.name, "dtype": c.dtype, "role": c.role, "nullable": c.nullable}
            for c in schema.columns
        ],
    }
