"""Stage prepare: validate the raw CSV against data/schema.yaml and split it.

The split is deterministic (train_test_split with prepare.seed, stratified for
classification when prepare.stratify), so the same data and params give the same files.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from sklearn.model_selection import train_test_split

from .config import PrepareParams, ProjectPaths, load_prepare
from .errors import ProjectError, run_cli
from .schema import Schema, load_schema, read_csv, require_two_classes, shown_class

MIN_ROWS_PER_CLASS = 2  # one row on each side of the split, at the very least
MIN_HOLDOUT_ROWS = 2


def split(frame: pd.DataFrame, schema: Schema, params: PrepareParams, source: Path):
    classification = schema.task == "classification"
    if classification:
        require_two_classes(frame[schema.target], source)
        check_classes_can_be_split(frame[schema.target], source)
    stratify = frame[schema.target] if params.stratify else None
    try:
        train, holdout = train_test_split(
            frame, test_size=params.test_size, random_state=params.seed, stratify=stratify
        )
    except ValueError as exc:
        raise ProjectError(
            f"params.yaml: prepare: cannot split the {len(frame)} rows of {source} ({exc})"
        ) from exc
    if classification:
        check_every_class_on_both_sides(train[schema.target], holdout[schema.target], source)
    elif len(holdout) < MIN_HOLDOUT_ROWS:  # r2 is undefined on a single row
        raise ProjectError(
            f"params.yaml: prepare.test_size: {params.test_size} holds out {len(holdout)} of the "
            f"{len(frame)} rows of {source}; evaluate needs at least {MIN_HOLDOUT_ROWS}"
        )
    return train, holdout


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


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    frame.to_csv(partial, index=False, lineterminator="\n")
    partial.replace(path)


def run(project_dir: Path) -> tuple[int, int]:
    """Write data/prepared/train.csv and holdout.csv; return their row counts."""
    paths = ProjectPaths(project_dir)
    schema = load_schema(paths.schema)
    params = load_prepare(paths.params, schema.task)
    train, holdout = split(read_csv(paths.raw_csv, schema), schema, params, paths.raw_csv)
    write_csv(train, paths.train_csv)
    write_csv(holdout, paths.holdout_csv)
    return len(train), len(holdout)


def main() -> None:
    train_rows, holdout_rows = run(Path("."))
    print(f"prepare: {train_rows} training rows, {holdout_rows} hold-out rows")


if __name__ == "__main__":
    run_cli(main)
