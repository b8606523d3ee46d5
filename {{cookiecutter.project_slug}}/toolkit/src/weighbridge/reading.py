"""Reading data: the raw CSV validated against the schema, and the prepared Parquet files.

What every consumer sees after reading (the model's pipeline, profiles, predict):
int64 -> int64 (float64 with NaN when the column has gaps); float64 -> float64;
bool -> float64 0.0/1.0/NaN; category -> object column of str, np.nan when missing;
datetime -> datetime64[ns], NaT when missing.

Validation is vectorised: pandas' C parser types the numeric columns, and only a column it
could not type (a stray word, padded cells, a huge integer) is looked at as text, with
column-wide string operations, never a Python loop over values.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import ProjectError
from .row_shape import describe, first_misshapen_row, has_misshapen_rows
from .schema import Column, Schema

# Cells that mean "no value" (compared after stripping spaces).
MISSING_TOKENS = ("", "NA", "N/A", "NaN", "nan", "null", "NULL", "None")
TRUE_TOKENS = ("true", "yes", "1")  # compared lower-cased
FALSE_TOKENS = ("false", "no", "0")
# Tried in order; the first that reads every value of a column is its format. Month-first
# before day-first, as pandas does: 01/02/2024 is January the 2nd.
DATE_FORMATS = (
    "ISO8601",
    "%m/%d/%Y",
    "%d/%m/%Y",
    "%d.%m.%Y",
    "%Y/%m/%d",
    "%m/%d/%Y %H:%M",
    "%d/%m/%Y %H:%M",
    "%m/%d/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M:%S",
    "%Y/%m/%d %H:%M:%S",
    "%d %b %Y",
    "%b %d, %Y",
    "%d %B %Y",
    "%B %d, %Y",
)
NUMERIC = ("int64", "float64")
FIRST_DATA_LINE = 2  # line 1 is the header
INT64_DIGITS, INT64_MAX_TEXT, INT64_MIN_TEXT = 19, "9223372036854775807", "9223372036854775808"
# The tree estimators compute in float32: beyond its range a value becomes inf inside fit
# (and linear models square values, which overflows float64 far sooner than 1e308).
MAX_MAGNITUDE = float(np.finfo(np.float32).max)


class Source:
    """The file being read, as messages name it, and its raw text when a message quotes it."""

    def __init__(self, path: Path, shown: str | None = None):
        self.path, self.shown = path, shown or str(path)

    def error(self, column: str, problem: str) -> ProjectError:
        return ProjectError(f"{self.shown}: column {column!r}: {problem}")

    def cell(self, column: str, mask: pd.Series) -> tuple[str, int]:
        """The first cell under ``mask`` as written in the file, and its line."""
        row = int(mask.to_numpy().argmax())
        text = read_text(self.path, [column])[column].iloc[row]
        return str(text).strip(), row + FIRST_DATA_LINE


# --- the raw CSV ------------------------------------------------------------------------------


def read_text(path: Path, columns: list[str] | None = None, nrows: int | None = None):
    """Cells as text, nothing coerced (used on error paths and by schema inference)."""
    return read_frame(path, columns, dtype=str, keep_default_na=False, nrows=nrows)


def read_frame(path: Path, columns: list[str] | None, **options) -> pd.DataFrame:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", pd.errors.DtypeWarning)  # a mixed column: handled
            # "Length of header ... does not match length of data": a long first data row
            warnings.simplefilter("error", pd.errors.ParserWarning)
            return pd.read_csv(
                path, usecols=columns, skip_blank_lines=False, encoding="utf-8-sig", **options
            )
    except FileNotFoundError as exc:
        raise ProjectError(f"{path}: file not found") from exc
    except pd.errors.EmptyDataError as exc:
        raise ProjectError(f"{path}: file is empty") from exc
    except pd.errors.ParserWarning as exc:
        raise ProjectError(f"{path}: a row has more fields than the header ({exc})") from exc
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise ProjectError(f"{path}: not a valid CSV file ({first_line})") from exc


def read_raw(
    path: Path, schema: Schema, *, shown: str | None = None, with_ignored: bool = True
) -> pd.DataFrame:
    """Read a raw CSV once, validate it against the schema, return typed columns in schema
    order (the target may have gaps: prepare drops those rows)."""
    source = Source(path, shown)
    header = list(read_frame(path, None, nrows=0).columns)
    check_header(header, schema, source)
    columns = [c for c in schema.columns if with_ignored or c.role != "ignore"]
    # Numbers through the C parser (fast); text-like and ignored columns as text.
    text = {c.name: str for c in schema.columns if c.dtype not in NUMERIC or c.role == "ignore"}
    frame = read_every_column(
        path, header, source, dtype=text, na_values=list(MISSING_TOKENS), keep_default_na=False
    )
    if frame.empty:
        raise ProjectError(f"{source.shown}: no data rows")
    return typed_in_place(frame, columns, lambda values, column: typed(values, column, source))


def read_every_column(path: Path, header: list[str], source: Source, **options) -> pd.DataFrame:
    """Every column: then pandas refuses a row with too many fields (``usecols`` would let
    it drop the extra field silently). A row with too few, which pandas pads with gaps, is
    looked for only when the last column has a gap."""
    try:
        frame = read_frame(path, None, index_col=False, **options)
    except ProjectError as exc:
        if isinstance(exc.__cause__, (pd.errors.ParserError, pd.errors.ParserWarning)):
            refuse_misshapen_rows(path, len(header), source)  # names the line, both counts
        raise
    # A short row leaves the last column empty: only then is the whole file scanned.
    if frame[header[-1]].isna().any() and has_misshapen_rows(path, len(header)):
        refuse_misshapen_rows(path, len(header), source)
    return frame


def refuse_misshapen_rows(path: Path, width: int, source: Source) -> None:
    row = first_misshapen_row(path)
    if row is not None:
        raise ProjectError(f"{source.shown}: {describe(row, width)}")


def typed_in_place(frame: pd.DataFrame, columns: list[Column], convert) -> pd.DataFrame:
    """``frame`` with each column converted; a column whose dtype stays (the numbers the
    parser typed) is not replaced, so a million-row frame is not copied again."""
    for column in columns:
        values = frame[column.name]
        converted = convert(values, column)
        if converted.dtype != values.dtype or values.dtype == object:
            frame[column.name] = converted
    names = [column.name for column in columns]
    return frame if list(frame.columns) == names else frame[names]


def check_header(header: list[str], schema: Schema, source: Source) -> None:
    for column in schema.columns:
        if column.name not in header:
            raise source.error(column.name, "missing (data/schema.yaml lists it)")
    for name in header:
        if name not in schema.dtypes:
            raise source.error(name, "not in data/schema.yaml")


def typed(values: pd.Series, column: Column, source: Source) -> pd.Series:
    if column.role == "ignore":  # read, never given to the model: no check beyond existing
        return values.astype(object)
    values = normalised(values)
    missing = values.isna()
    if missing.any() and not column.nullable and column.role != "target":
        line = int(missing.to_numpy().argmax()) + FIRST_DATA_LINE
        raise source.error(
            column.name, f"missing value at line {line} (data/schema.yaml: nullable: false)"
        )
    convert = {
        "int64": to_int64,
        "float64": to_float64,
        "bool": to_bool,
        "category": to_category,
        "datetime": to_datetime,
    }[column.dtype]
    return convert(values, missing, column.name, source)


def normalised(values: pd.Series) -> pd.Series:
    """Numbers as parsed; text stripped, with missing tokens (padded ones too) as NaN."""
    if values.dtype.kind in "iuf":
        return values
    text = values.astype("str").str.strip()
    return text.mask(text.isin(MISSING_TOKENS) | values.isna())


def to_float64(values: pd.Series, missing: pd.Series, name: str, source: Source) -> pd.Series:
    numbers = as_numbers(values, missing, name, source)
    infinite = ~np.isfinite(numbers) & ~missing
    if infinite.any():
        text, line = source.cell(name, infinite)
        raise source.error(name, f"{text!r} at line {line} is not a finite number")
    too_large = numbers.abs().gt(MAX_MAGNITUDE)
    if too_large.any():
        text, line = source.cell(name, too_large)
        raise source.error(
            name,
            f"{text!r} at line {line} is beyond ±{MAX_MAGNITUDE:.1e}, the float32 range the "
            "estimators compute in: rescale the column (another unit)",
        )
    return numbers.astype("float64")


def as_numbers(values: pd.Series, missing: pd.Series, name: str, source: Source) -> pd.Series:
    if values.dtype.kind in "iuf":
        return values.astype("float64")
    numbers = pd.to_numeric(values, errors="coerce").astype("float64")
    bad = numbers.isna() & ~missing
    if bad.any():
        text, line = source.cell(name, bad)
        raise source.error(name, f"{text!r} at line {line} is not a number")
    return numbers


def to_int64(values: pd.Series, missing: pd.Series, name: str, source: Source) -> pd.Series:
    if values.dtype.kind == "i":
        return values.astype("int64")
    if values.dtype.kind == "f":
        fractional = values.ne(values.round()) & ~missing
        if fractional.any():
            text, line = source.cell(name, fractional)
            raise source.error(name, f"{text!r} at line {line} is not an integer")
        out_of_range = values.ge(2.0**63) | values.lt(-(2.0**63))
        if out_of_range.any():
            text, line = source.cell(name, out_of_range)
            raise source.error(name, f"value {text} out of int64 range (line {line})")
        return values.astype("float64" if missing.any() else "int64")
    # Text the parser could not type (uint64 too): check it as text, exactly (float would
    # lose the last digits of large integers near the bounds).
    text = values.astype("str")
    integral = text.str.fullmatch(r"[+-]?\d+(\.0*)?")
    bad = ~integral.fillna(True).astype(bool) & ~missing
    if bad.any():
        cell, line = source.cell(name, bad)
        number = pd.to_numeric(pd.Series([cell]), errors="coerce").notna().iloc[0]
        kind = "an integer" if number else "a number"
        raise source.error(name, f"{cell!r} at line {line} is not {kind}")
    whole = text.str.replace(r"\.0*$", "", regex=True)
    check_int64_range(whole, name, source)
    return whole.astype("float64" if missing.any() else "int64")


def check_int64_range(text: pd.Series, name: str, source: Source) -> None:
    text = text.fillna("0")  # gaps are in range (and never compared as floats with text)
    negative = text.str.startswith("-").fillna(False).astype(bool)
    digits = text.str.lstrip("+-").str.lstrip("0")
    length = digits.str.len().fillna(0)
    bound = pd.Series(INT64_MAX_TEXT, index=text.index).where(~negative, INT64_MIN_TEXT)
    beyond = length.gt(INT64_DIGITS) | (length.eq(INT64_DIGITS) & digits.gt(bound).fillna(False))
    beyond = beyond.astype(bool)
    if beyond.any():
        cell, line = source.cell(name, beyond)
        raise source.error(name, f"value {cell} out of int64 range (line {line})")


def to_bool(values: pd.Series, missing: pd.Series, name: str, source: Source) -> pd.Series:
    lower = values.astype("str").str.lower()
    true, false = lower.isin(TRUE_TOKENS), lower.isin(FALSE_TOKENS)
    bad = ~(true | false | missing)
    if bad.any():
        text, line = source.cell(name, bad)
        raise source.error(
            name, f"{text!r} at line {line} is not a boolean (true/false, yes/no, 1/0)"
        )
    return pd.Series(np.where(true, 1.0, np.where(false, 0.0, np.nan)), index=values.index)


def to_category(values: pd.Series, missing: pd.Series, name: str, source: Source) -> pd.Series:
    text = values.to_numpy(dtype=object, na_value=np.nan)
    return pd.Series(text, index=values.index, dtype=object)


def to_datetime(values: pd.Series, missing: pd.Series, name: str, source: Source) -> pd.Series:
    fmt, parsed = date_format(values, missing)
    bad = parsed.isna() & ~missing
    if bad.any():
        text, line = source.cell(name, bad)
        raise source.error(
            name,
            f"{text!r} at line {line} is not a date (ISO 8601, or one format such as "
            "12/31/2024 or 31.12.2024 for the whole column)",
        )
    try:
        return parsed.astype("datetime64[ns]")
    except (OverflowError, ValueError) as exc:  # years before 1677 or after 2262
        raise source.error(name, f"a date out of the supported range ({exc})") from None


def date_format(values: pd.Series, missing: pd.Series) -> tuple[str, pd.Series]:
    """The first format of DATE_FORMATS that reads every value, else the one that reads
    most, with what it read (NaT where it could not)."""
    best = None
    for fmt in DATE_FORMATS:
        parsed = parse_dates(values, fmt)
        failures = int((parsed.isna() & ~missing).sum())
        if failures == 0:
            return fmt, parsed
        if best is None or failures < best[0]:
            best = (failures, fmt, parsed)
    return best[1], best[2]


def parse_dates(values: pd.Series, fmt: str) -> pd.Series:
    """Dates in one format; times with a UTC offset converted to UTC, then naive."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            parsed = pd.to_datetime(values, format=fmt, errors="coerce", utc=True)
    except (ValueError, OverflowError):
        return pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    return parsed.dt.tz_localize(None)


# --- the prepared Parquet files ------------------------------------------------------------


def read_prepared(path: Path, schema: Schema, shown: str | None = None) -> pd.DataFrame:
    """A file prepare wrote: its columns and dtypes are checked (its values were checked
    when the raw CSV was read), and returned as read_raw returns them."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    shown = shown or str(path)
    try:
        frame = pq.read_table(path).to_pandas()
    except FileNotFoundError:
        raise ProjectError(f"{shown}: not found (run `dvc repro` or `dvc pull`)") from None
    except (pa.ArrowException, OSError) as exc:
        raise ProjectError(f"{shown}: not a Parquet file prepare wrote ({exc})") from None
    expected = [column.name for column in schema.used_columns]
    if list(frame.columns) != expected:
        raise ProjectError(
            f"{shown}: has columns {list(frame.columns)}, data/schema.yaml needs {expected} "
            "(re-run prepare: dvc repro)"
        )

    def convert(values: pd.Series, column: Column) -> pd.Series:
        return prepared_column(values, column, shown)

    return typed_in_place(frame, schema.used_columns, convert)


PREPARED_KINDS = {"int64": "if", "float64": "f", "bool": "f", "category": "OSUT", "datetime": "M"}


def prepared_column(values: pd.Series, column: Column, shown: str) -> pd.Series:
    kind = values.dtype.kind if isinstance(values.dtype, np.dtype) else "T"
    if kind not in PREPARED_KINDS[column.dtype] and not values.isna().all():
        raise ProjectError(
            f"{shown}: column {column.name!r}: holds {values.dtype} values, data/schema.yaml "
            f"says {column.dtype} (re-run prepare: dvc repro)"
        )
    if column.dtype == "category":
        return to_category(values, values.isna(), column.name, None)
    if column.dtype == "datetime":
        return values.astype("datetime64[ns]")
    return values
