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
from .schema import Schema, load_schema, read_csv

MIN_ROWS_PER_CLASS = 2  # a stratified split puts at least one row of each class on each side


def split(frame: pd.DataFrame, schema: Schema, params: PrepareParams, source: Path):
    stratify = frame[schema.target] if params.stratify else None
    if params.stratify:
        check_classes_can_be_stratified(frame[schema.target], source)
    try:
        return train_test_split(
            frame, test_size=params.test_size, random_state=params.seed, stratify=stratify
        )
    except ValueError as exc:
        raise ProjectError(
            f"params.yaml: prepare: cannot split the {len(frame)} rows of {source} ({exc})"
        ) from exc


def check_classes_can_be_stratified(target: pd.Series, source: Path) -> None:
    """The data, not params.yaml, is at fault when a class is too rare to stratify."""
    counts = target.value_counts(sort=True, ascending=True)
    if counts.iloc[0] < MIN_ROWS_PER_CLASS:
        label, rows = counts.index[0], int(counts.iloc[0])
        shown = repr(label) if isinstance(label, str) else str(label)
        raise ProjectError(
            f"{source}: column {target.name!r}: class {shown} has only {rows} row(s), a "
            f"stratified split needs at least {MIN_ROWS_PER_CLASS} per class; add rows of "
            "that class, or set prepare.stratify: false in params.yaml"
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
