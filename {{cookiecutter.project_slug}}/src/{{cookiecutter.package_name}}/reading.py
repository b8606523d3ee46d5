"""Reading data: the tokens and date formats every reader shares.

A minimal stand-in for the data floor's reading.py (issue 10, data helper), holding only
what predict needs, copied verbatim from it: the data helper's file supersedes this one.
"""

from __future__ import annotations

import warnings

import pandas as pd

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
