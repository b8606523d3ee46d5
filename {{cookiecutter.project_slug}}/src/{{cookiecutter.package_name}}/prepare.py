"""Stage prepare: read the raw CSV once against data/schema.yaml, split it, write Parquet.

Rows whose target is missing are dropped (and counted), ignored columns are not kept.
The split is deterministic (splitting.py): hash (a row's side is fixed by its content, so
the hold-out set never moves when rows are added), random (train_test_split with
prepare.seed, stratified for classification when prepare.stratify) or time (the latest
rows by prepare.time_column are held out); the same data and params give the same bytes.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import pandas as pd
from weighbridge.config import PrepareParams, ProjectPaths, load_prepare
from weighbridge.errors import ProjectError, run_cli
from weighbridge.reading import read_raw
from weighbridge.schema import Schema, load_schema, require_two_classes, shown_class
from weighbridge.splitting import split_rows

MIN_ROWS_PER_CLASS = 2  # one row on each side of the split, at the very least
MIN_HOLDOUT_ROWS = 2


class Prepared(NamedTuple):
    train_rows: int
    holdout_rows: int
    dropped_rows: int  # rows without a target


def drop_missing_target(frame: pd.DataFrame, schema: Schema) -> tuple[pd.DataFrame, int]:
    """Rows without a target teach nothing and measure nothing: dropped, and counted."""
    target = frame[schema.target]
    if target.notna().all():  # the usual case: no copy of the whole frame
        return frame, 0
    kept = frame[target.notna()].reset_index(drop=True)
    if schema.column(schema.target).dtype == "int64":  # no gaps left: integers again
        kept[schema.target] = kept[schema.target].astype("int64")
    return kept, len(frame) - len(kept)


def split(frame: pd.DataFrame, schema: Schema, params: PrepareParams, source: Path):
    classification = schema.task == "classification"
    if classification:
        require_two_classes(frame[schema.target], source)
        check_classes_can_be_split(frame[schema.target], source)
    train, holdout = split_rows(frame, schema, params, source)
    if classification:
        check_every_class_on_both_sides(train[schema.target], holdout[schema.target], source)
    elif len(holdout) < MIN_HOLDOUT_ROWS:  # r2 is undefined on a single row
        raise ProjectError(
            f"params.yaml: prepare.test_size: {params.test_size} holds out {len(holdout)} of the "
            f"{len(frame)} rows of {source}; evaluate needs at least {MIN_HOLDOUT_ROWS}"
        )
    return train, holdout


def check_time_column(schema: Schema, params: PrepareParams) -> None:
    name = params.time_column
    if params.split != "time":
        return
    dtypes = schema.dtypes
    if dtypes.get(name) != "datetime" or schema.column(name).role == "ignore":
        found = f"a {dtypes[name]} column" if name in dtypes else "not a column"
        if name in dtypes and schema.column(name).role == "ignore":
            found = "an ignored column"
        raise ProjectError(
            f"params.yaml: prepare.time_column: {name!r} is {found} of data/schema.yaml; a "
            "time split needs a datetime column (dtype: datetime, role feature or target)"
        )


def check_classes_can_be_split(target: pd.Series, source: Path) -> None:
    """The data, not params.yaml, is at fault when a class is too rare to split."""
    counts = target.value_counts(sort=True, ascending=True)
    if counts.iloc[0] < MIN_ROWS_PER_CLASS:
        label, rows = counts.index[0], int(counts.iloc[0])
        raise ProjectError(
            f"{source}: column {target.name!r}: class {shown_class(label)} has only {rows} "
            f"row(s), the split needs at least {MIN_ROWS_PER_CLASS} per class (one to learn "
            "it from, one to measure it on); add rows of that class, or remove its rows"
        )


def check_every_class_on_both_sides(train: pd.Series, holdout: pd.Series, source: Path) -> None:
    """Training must see every class to learn it, and the hold-out set to measure it: a class
    on one side only makes evaluate's metrics undefined (or the model blind to it)."""
    for side, present, other in (("training", train, holdout), ("hold-out", holdout, train)):
        lacking = other[~other.isin(present.unique())]
        if len(lacking):
            label = lacking.iloc[0]
            rows = int((train == label).sum() + (holdout == label).sum())
            raise ProjectError(
                f"{source}: column {train.name!r}: class {shown_class(label)} has {rows} "
                f"row(s) and the split put none in the {side} set; every class needs rows on "
                "both sides: add rows of that class, or adjust prepare.test_size or "
                "prepare.stratify"
            )


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    """Whole or not at all (a hidden file renamed into place); the same frame gives the
    same bytes (no index, no timestamps in the file)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=False)
    for index, (name, values) in enumerate(frame.items()):
        if values.dtype == object:  # text, even when all missing (pyarrow would say "null")
            column = table.column(index).cast(pa.string())
            table = table.set_column(index, pa.field(name, pa.string()), column)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    pq.write_table(table, partial)
    partial.replace(path)


def run(project_dir: Path) -> Prepared:
    """Write data/prepared/train.parquet and holdout.parquet; return the row counts."""
    paths = ProjectPaths(project_dir)
    schema = load_schema(paths.schema)
    params = load_prepare(paths.params, schema.task)
    check_time_column(schema, params)
    raw = read_raw(paths.raw_csv, schema, shown=paths.shown(paths.raw_csv), with_ignored=False)
    frame, dropped = drop_missing_target(raw, schema)
    train, holdout = split(frame, schema, params, paths.raw_csv)
    write_parquet(train, paths.train_data)
    write_parquet(holdout, paths.holdout_data)
    return Prepared(len(train), len(holdout), dropped)


def main() -> None:
    prepared = run(Path("."))
    if prepared.dropped_rows:
        print(f"prepare: dropped {prepared.dropped_rows} row(s) whose target is missing")
    print(f"prepare: {prepared.train_rows} training rows, {prepared.holdout_rows} hold-out rows")


if __name__ == "__main__":
    run_cli(main)
