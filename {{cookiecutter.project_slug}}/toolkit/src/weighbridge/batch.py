"""A batch of rows given to a model (``predict``) or scored for drift (``registry drift``):
read from CSV or JSON and checked against the model's inputs, one error line naming the
column and the problem. The data floor: both callers share it, neither imports the other.
"""

from __future__ import annotations

import json
import math
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pandas as pd

from .errors import ProjectError
from .reading import FALSE_TOKENS, MISSING_TOKENS, TRUE_TOKENS, date_format

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def read_input(path: Path) -> pd.DataFrame:
    """The input as given (CSV: text cells; JSON: native values), not yet validated."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".json"):
        raise ProjectError(f"--input {path}: use a .csv or .json file")
    try:
        with path.open("rb") as handle:  # missing, a folder, unreadable: all fail here
            if suffix == ".csv":
                return read_csv_text(path, handle)
            return read_json_records(path, handle)
    except FileNotFoundError:
        raise ProjectError(f"--input {path}: file not found") from None
    except OSError as exc:  # opening it, or a disk error while reading it
        raise ProjectError(f"--input {path}: cannot read it ({cause_of(exc)})") from None


def read_csv_text(path: Path, handle: BinaryIO) -> pd.DataFrame:
    try:
        # Text first, so that garbage is reported, never silently coerced to NaN.
        return pd.read_csv(handle, dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError:
        raise ProjectError(f"--input {path}: file is empty") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ProjectError(f"--input {path}: not a valid CSV file ({one_line(exc)})") from None


def read_json_records(path: Path, handle: BinaryIO) -> pd.DataFrame:
    """A list of records ``[{"col": value, …}, …]`` or columns ``{"col": [values…], …}``."""
    try:
        payload = json.loads(handle.read().decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ProjectError(f"--input {path}: not valid JSON ({one_line(exc)})") from None
    if isinstance(payload, list) and all(isinstance(row, dict) for row in payload):
        return pd.DataFrame.from_records(payload, columns=_keys_in_order(payload))
    if isinstance(payload, dict) and all(isinstance(col, list) for col in payload.values()):
        if len({len(col) for col in payload.values()}) > 1:
            raise ProjectError(f"--input {path}: columns have different lengths")
        return pd.DataFrame(
            {name: pd.Series(values, dtype=object) for name, values in payload.items()}
        )
    raise ProjectError(
        f"--input {path}: expected a list of records or an object of columns (lists)"
    )


def _keys_in_order(records: list[dict]) -> list[str]:
    return list(dict.fromkeys(key for record in records for key in record))


def validate_input(
    frame: pd.DataFrame, signature: dict[str, Any], source: Path, from_text: bool = True
) -> pd.DataFrame:
    """The signature's columns, in its order and dtypes; one error line naming the column."""
    inputs = signature.get("inputs") or []
    expected = [column["name"] for column in inputs]
    for name in expected:
        if name not in frame.columns:
            raise ProjectError(f"{source}: column {name!r}: missing (the model needs it)")
    for name in frame.columns:
        if name not in expected:
            raise ProjectError(f"{source}: column {name!r}: not an input of the model")
    if frame.empty:
        raise ProjectError(f"{source}: no data rows")
    columns = {col["name"]: typed(frame[col["name"]], col, source, from_text) for col in inputs}
    return pd.DataFrame(columns)


def typed(values: pd.Series, column: dict[str, Any], source: Path, from_text: bool) -> pd.Series:
    """One input column as the model's pipeline reads it (see reading.py): numbers, bools as
    0.0/1.0, categories as text, datetimes; a gap as NaN/NaT where the signature allows it."""
    name, dtype = column["name"], column["dtype"]
    where = f"{source}: column {name!r}"
    missing = values.map(is_missing).astype(bool)
    if missing.any() and not column.get("nullable", False):
        raise ProjectError(
            f"{where}: missing value in row {row_of(missing)} (the model accepts no gaps here)"
        )
    convert = CONVERTERS.get(dtype)
    if convert is None:
        raise ProjectError(f"{where}: dtype {dtype!r} of the model's signature is unknown here")
    return convert(values, missing, dtype, where, from_text)


def refuse_bad(values: pd.Series, bad: pd.Series, expected: str, where: str) -> None:
    if bad.any():
        raise ProjectError(
            f"{where}: expected {expected}, got {values[bad].iloc[0]!r} in row {row_of(bad)}"
        )


def numbers(
    values: pd.Series, missing: pd.Series, dtype: str, where: str, from_text: bool
) -> pd.Series:
    parsed = values.map(lambda v: as_number(v, dtype, from_text))
    refuse_bad(values, parsed.isna() & ~missing, dtype, where)
    if dtype == "int64":
        check_int64_range(values, parsed, missing, where)
    return parsed.astype("float64" if dtype == "float64" or missing.any() else "int64")


def booleans(
    values: pd.Series, missing: pd.Series, dtype: str, where: str, from_text: bool
) -> pd.Series:
    parsed = values.map(as_bool)
    refuse_bad(values, parsed.isna() & ~missing, "bool (true/false, yes/no, 1/0)", where)
    return parsed.astype("float64")


def categories(
    values: pd.Series, missing: pd.Series, dtype: str, where: str, from_text: bool
) -> pd.Series:
    parsed = values.map(as_category)
    refuse_bad(values, parsed.isna() & ~missing, "a category (text)", where)
    return parsed.where(~missing, np.nan).astype(object)


def datetimes(
    values: pd.Series, missing: pd.Series, dtype: str, where: str, from_text: bool
) -> pd.Series:
    text = values.map(lambda v: v.strip() if isinstance(v, str) else None)
    refuse_bad(values, text.isna() & ~missing, "a datetime (text such as 2024-12-31)", where)
    _, parsed = date_format(text.where(~missing), missing)
    refuse_bad(values, parsed.isna() & ~missing, "a datetime such as 2024-12-31", where)
    try:
        return parsed.astype("datetime64[ns]")
    except (OverflowError, ValueError):  # years before 1677 or after 2262
        raise ProjectError(f"{where}: a date out of the supported range") from None


CONVERTERS = {
    "int64": numbers,
    "float64": numbers,
    "bool": booleans,
    "category": categories,
    "string": categories,  # signatures written before dtype category
    "datetime": datetimes,
}


def is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    return isinstance(value, str) and value.strip() in MISSING_TOKENS


def as_bool(value: Any) -> float | None:
    """1.0 or 0.0 for a JSON boolean, a JSON 0/1 or a token (true/yes/1, false/no/0)."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        token = value.strip().lower()
        return 1.0 if token in TRUE_TOKENS else 0.0 if token in FALSE_TOKENS else None
    if isinstance(value, (int, float)) and value in (0, 1):
        return float(value)
    return None


def as_category(value: Any) -> str | None:
    """Text as the training data read it (stripped); a JSON integer as its digits."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def as_number(value: Any, dtype: str, from_text: bool) -> float | int | None:
    """The value as a finite number of ``dtype`` (an exact int for int64), or None if not one."""
    if isinstance(value, bool) or is_missing(value):
        return None
    if isinstance(value, str) and from_text:
        try:
            # Decimal, not float: float loses the last digits of large integers.
            value = Decimal(value.strip())
        except InvalidOperation:
            return None
    if not isinstance(value, (int, float, Decimal)) or not is_finite(value):
        return None
    if dtype == "int64":
        return int(value) if value == int(value) else None
    try:
        number = float(value)
    except OverflowError:  # a JSON integer beyond float's range
        return None
    return number if math.isfinite(number) else None


def is_finite(value: int | float | Decimal) -> bool:
    if isinstance(value, Decimal):
        return value.is_finite()
    return isinstance(value, int) or math.isfinite(value)


def check_int64_range(
    values: pd.Series, numbers: pd.Series, missing: pd.Series, where: str
) -> None:
    """astype("int64") silently wraps values beyond its range: refuse them instead."""
    in_range = numbers.map(lambda n: INT64_MIN <= n <= INT64_MAX if n is not None else True)
    out_of_range = ~missing & ~in_range.astype(bool)
    if out_of_range.any():
        raise ProjectError(
            f"{where}: value {values[out_of_range].iloc[0]} out of int64 range "
            f"(row {row_of(out_of_range)})"
        )


def row_of(mask: pd.Series) -> int:
    return int(mask.to_numpy().argmax()) + 1


def cause_of(exc: OSError) -> str:
    return exc.strerror or one_line(exc)


def one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
