"""The data schema (data/schema.yaml) and validation of a CSV file against it.

Features are numeric (int64 or float64). The target is numeric for regression and int64
or string for classification. Missing values are errors: the model has no imputer.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from .errors import ProjectError

TASKS = ("classification", "regression")
NUMERIC_DTYPES = ("int64", "float64")
TARGET_DTYPES = {"classification": ("int64", "string"), "regression": NUMERIC_DTYPES}
FIRST_DATA_LINE = 2  # line 1 is the header
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
# The tree estimators compute in float32: beyond its range a value becomes inf inside fit
# (and linear models square values, which overflows float64 far sooner than 1e308).
MAX_MAGNITUDE = float(np.finfo(np.float32).max)


@dataclass(frozen=True)
class Column:
    name: str
    dtype: str
    role: str = "feature"  # feature | target | ignore
    nullable: bool = False


@dataclass(frozen=True)
class Schema:
    task: str
    columns: tuple[Column, ...]

    @property
    def target(self) -> str:
        return next(column.name for column in self.columns if column.role == "target")

    @property
    def feature_columns(self) -> list[Column]:
        return [column for column in self.columns if column.role == "feature"]

    @property
    def features(self) -> list[str]:
        return [column.name for column in self.feature_columns]

    @property
    def dtypes(self) -> dict[str, str]:
        return {column.name: column.dtype for column in self.columns}


def load_schema(path: Path) -> Schema:
    name = path.name
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ProjectError(f"{name}: file not found in {path.parent}") from exc
    except yaml.YAMLError as exc:
        raise ProjectError(f"{name}: invalid YAML") from exc
    if not isinstance(raw, dict):
        raise ProjectError(f"{name}: must be a mapping with task, target and columns")
    task, target, entries = raw.get("task"), raw.get("target"), raw.get("columns")
    if task not in TASKS:
        raise ProjectError(f"{name}: task: must be one of {', '.join(TASKS)}, got {task!r}")
    if not isinstance(entries, list) or not entries:
        raise ProjectError(f"{name}: columns: must be a non-empty list")
    columns = tuple(parse_column(name, index, entry) for index, entry in enumerate(entries))
    check_columns(name, task, target, columns)
    columns = tuple(
        Column(column.name, column.dtype, "target" if column.name == target else "feature")
        for column in columns
    )
    return Schema(task=task, columns=columns)


def parse_column(name: str, index: int, entry: object) -> Column:
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
        raise ProjectError(f"{name}: columns[{index}]: must be a mapping with name and dtype")
    dtype = entry.get("dtype")
    if dtype not in (*NUMERIC_DTYPES, "string"):
        raise ProjectError(
            f"{name}: column {entry['name']!r}: dtype must be int64, float64 or string, "
            f"got {dtype!r}"
        )
    return Column(entry["name"], dtype)


def check_columns(name: str, task: str, target: object, columns: tuple[Column, ...]) -> None:
    names = [column.name for column in columns]
    if len(set(names)) != len(names):
        raise ProjectError(f"{name}: columns: names must be unique")
    if target not in names:
        raise ProjectError(f"{name}: target: {target!r} is not one of the columns")
    for column in columns:
        allowed = TARGET_DTYPES[task] if column.name == target else NUMERIC_DTYPES
        if column.dtype not in allowed:
            role = f"target of a {task}" if column.name == target else "feature"
            raise ProjectError(
                f"{name}: column {column.name!r}: dtype {column.dtype} is not allowed for a "
                f"{role} (allowed: {', '.join(allowed)})"
            )
    if len(names) < 2:
        raise ProjectError(f"{name}: columns: needs at least one feature besides the target")


def read_csv(path: Path, schema: Schema) -> pd.DataFrame:
    """Read a CSV and return it validated, in schema column order and dtypes."""
    try:
        # Everything as text first, so that garbage is reported, never silently coerced.
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, skip_blank_lines=False)
    except FileNotFoundError as exc:
        raise ProjectError(f"{path}: file not found") from exc
    except pd.errors.EmptyDataError as exc:
        raise ProjectError(f"{path}: file is empty") from exc
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise ProjectError(f"{path}: not a valid CSV file ({first_line})") from exc
    return validate_frame(frame, schema, str(path))


def validate_frame(frame: pd.DataFrame, schema: Schema, source: str) -> pd.DataFrame:
    """Check columns and values of text columns; return typed columns in schema order."""
    for column in schema.columns:
        if column.name not in frame.columns:
            raise ProjectError(f"{source}: column {column.name!r}: missing (data/schema.yaml)")
    for name in frame.columns:
        if name not in schema.dtypes:
            raise ProjectError(f"{source}: column {name!r}: not in data/schema.yaml")
    if frame.empty:
        raise ProjectError(f"{source}: no data rows")
    typed = {
        column.name: typed_column(frame[column.name], column, source) for column in schema.columns
    }
    return pd.DataFrame(typed)


def typed_column(values: pd.Series, column: Column, source: str) -> pd.Series:
    text = values.astype(str).str.strip()
    where = f"{source}: column {column.name!r}"
    missing = text.eq("") | values.isna()
    if missing.any():
        raise ProjectError(f"{where}: missing value at line {first_line(missing)}")
    if column.dtype == "string":
        return text.astype(object)
    numbers = pd.to_numeric(text, errors="coerce")
    bad = numbers.isna() | ~numbers.abs().lt(float("inf"))
    if bad.any():
        line = first_line(bad)
        raise ProjectError(f"{where}: {text[bad].iloc[0]!r} at line {line} is not a finite number")
    if column.dtype == "int64":
        fractional = numbers.ne(numbers.round())
        if fractional.any():
            raise ProjectError(
                f"{where}: {text[fractional].iloc[0]!r} at line "
                f"{first_line(fractional)} is not an integer"
            )
        return exact_int64(text, where)
    too_large = numbers.abs().gt(MAX_MAGNITUDE)
    if too_large.any():
        raise ProjectError(
            f"{where}: {text[too_large].iloc[0]!r} at line {first_line(too_large)} is beyond "
            f"±{MAX_MAGNITUDE:.1e}, the float32 range the estimators compute in: rescale the "
            "column (another unit)"
        )
    return numbers.astype("float64")


def exact_int64(text: pd.Series, where: str) -> pd.Series:
    """Integral text as int64, refusing values out of range (astype would silently wrap)."""
    # Decimal, not float: float loses the last digits of large integers near the bounds.
    exact = text.map(lambda value: int(Decimal(value)))
    out_of_range = exact.map(lambda value: not INT64_MIN <= value <= INT64_MAX).astype(bool)
    if out_of_range.any():
        raise ProjectError(
            f"{where}: value {text[out_of_range].iloc[0]} out of int64 range "
            f"(line {first_line(out_of_range)})"
        )
    return exact.astype("int64")


def first_line(mask: pd.Series) -> int:
    return int(mask.to_numpy().argmax()) + FIRST_DATA_LINE


def shown_class(label: object) -> str:
    """A class label as a message shows it: text quoted, numbers bare (so 0 and '0' differ)."""
    if isinstance(label, str):
        return repr(label)
    return str(label.item() if hasattr(label, "item") else label)


def require_two_classes(target: pd.Series, source: object) -> None:
    """A classifier learns to tell classes apart: its data must hold at least two."""
    classes = target.unique()
    if len(classes) < 2:
        raise ProjectError(
            f"{source}: column {target.name!r} has a single class ({shown_class(classes[0])}): "
            "a classifier needs rows of at least two classes"
        )
