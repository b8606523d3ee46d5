"""Rows of a raw CSV whose field count differs from the header's.

One unquoted comma inside a value shifts every later value of its row one column right: the
row must be refused, never read. pandas refuses a row with too many fields only while every
column is parsed (``usecols`` silently drops the extra field, and so does ``index_col=False``
when the first data row is the long one, with a ParserWarning), and it pads a row with too
few fields with gaps. So the reader parses every column, turns that warning into an error,
and asks ``has_misshapen_rows`` only when a short row is possible at all (the last column
has a gap); ``first_misshapen_row`` then finds the line on that error path only.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class MisshapenRow:
    line: int  # where the row starts (a quoted value may span lines)
    fields: int


def has_misshapen_rows(path: Path, width: int) -> bool:
    """Whether a non-blank data row has another field count than ``width``, the header's
    (pyarrow's parser: multithreaded, about half a second per million rows of 31 numbers)."""
    import pyarrow as pa
    import pyarrow.csv as pv

    found = []

    def note(row) -> str:
        found.append(row)
        return "skip"

    # Our own column names (the header's may be empty or repeated), the header row skipped,
    # one column kept, as bytes: only the row structure is wanted here.
    names = [f"field{i}" for i in range(width)]
    try:
        pv.read_csv(
            path,
            read_options=pv.ReadOptions(column_names=names, skip_rows=1),
            parse_options=pv.ParseOptions(newlines_in_values=True, invalid_row_handler=note),
            convert_options=pv.ConvertOptions(
                include_columns=names[:1], column_types={names[0]: pa.binary()}
            ),
        )
    except pa.ArrowException:  # a file pyarrow cannot parse: let the exact scan decide
        return True
    return bool(found)


def first_misshapen_row(path: Path) -> MisshapenRow | None:
    """The first non-blank row whose field count differs from the header's (a Python scan:
    used on the error path only)."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as stream:
            reader = csv.reader(stream)
            width = len(next(reader, []))
            start = reader.line_num + 1
            for row in reader:
                if row and len(row) != width:
                    return MisshapenRow(start, len(row))
                start = reader.line_num + 1
    except (csv.Error, UnicodeDecodeError):  # not this parser's CSV: pandas' message stands
        return None
    return None


def describe(row: MisshapenRow, width: int) -> str:
    hint = (
        "a value holding a comma must be quoted"
        if row.fields > width
        else "a missing value still needs its comma"
    )
    return f"line {row.line} has {row.fields} fields, the header has {width} ({hint})"
