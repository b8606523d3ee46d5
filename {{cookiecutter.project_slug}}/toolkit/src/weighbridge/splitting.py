"""The split rules of prepare, as pure functions of the rows and prepare's params.

``hash`` (the default of new projects) puts a row on the hold-out side when a hash of its
content, salted with prepare.seed, falls below test_size: a row's side never changes when
other rows are added or removed, so the hold-out set is static and a model in production
never trained on a row that a later hold-out set holds (unless its split params differ,
which the gate detects: gate/rows.py). ``random`` (train_test_split, stratified for
classification) and ``time`` (the latest rows held out) depend on the whole file.

A hash split cannot be stratified: each class's hold-out share is test_size plus binomial
noise, about sqrt(test_size (1 - test_size) / rows of the class), e.g. 0.25 +- 0.02 for
a class of 500 rows.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from pandas.util import hash_pandas_object

from .errors import ProjectError
from .schema import Schema

if TYPE_CHECKING:  # config imports the estimators (scikit-learn); the bake hook splits without
    from .config import PrepareParams

# splitmix64's finaliser: spreads the seed into every bit of the row hash
MIX_1, MIX_2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
SEED_SALT = np.uint64(0x9E3779B97F4A7C15)
FRACTION_BITS = 53  # a float64 holds 53 bits exactly


def row_keys(frame: pd.DataFrame, schema: Schema) -> np.ndarray:
    """One uint64 per row from the values of the columns prepare keeps (features and
    target), as read (reading.py). Numbers are hashed as float64 so that an integer column
    that gains a gap (and becomes float64) keeps every row's key; identical rows share a
    key, so duplicates always land on the same side."""
    names = [column.name for column in schema.used_columns]
    canonical = pd.DataFrame(
        {
            name: frame[name].astype("float64")
            if pd.api.types.is_numeric_dtype(frame[name]) and frame[name].dtype != bool
            else frame[name]
            for name in names
        }
    )
    return hash_pandas_object(canonical, index=False).to_numpy(dtype=np.uint64)


def held_out(keys: np.ndarray, params: PrepareParams) -> np.ndarray:
    """The hash rule: True where a row (by its key) belongs to the hold-out set."""
    with np.errstate(over="ignore"):  # uint64 arithmetic wraps by design
        mixed = keys ^ (np.uint64(params.seed) * SEED_SALT)
        mixed = (mixed ^ (mixed >> np.uint64(30))) * MIX_1
        mixed = (mixed ^ (mixed >> np.uint64(27))) * MIX_2
        mixed = mixed ^ (mixed >> np.uint64(31))
    fraction = (mixed >> np.uint64(64 - FRACTION_BITS)).astype(np.float64) / 2.0**FRACTION_BITS
    return fraction < params.test_size


def hash_split(frame: pd.DataFrame, schema: Schema, params: PrepareParams):
    holdout = held_out(row_keys(frame, schema), params)
    return frame[~holdout], frame[holdout]


def random_split(frame: pd.DataFrame, schema: Schema, params: PrepareParams, source: object):
    from sklearn.model_selection import train_test_split  # only this split needs it

    stratify = frame[schema.target] if params.stratify else None
    try:
        return train_test_split(
            frame, test_size=params.test_size, random_state=params.seed, stratify=stratify
        )
    except ValueError as exc:
        raise ProjectError(
            f"params.yaml: prepare: cannot split the {len(frame)} rows of {source} ({exc})"
        ) from exc


def time_split(frame: pd.DataFrame, params: PrepareParams):
    """The latest test_size share of rows (by time_column) is held out: the model is
    measured on a future it did not see, as it will be used."""
    name = params.time_column
    times = frame[name]
    if times.isna().any():
        raise ProjectError(
            f"params.yaml: prepare.time_column: {name!r} is missing in {int(times.isna().sum())} "
            "row(s): a time split needs every row's time (fill them, or split random)"
        )
    ordered = frame.iloc[times.argsort(kind="stable")]  # ties keep file order
    cut = len(ordered) - math.ceil(params.test_size * len(ordered))
    return ordered.iloc[:cut], ordered.iloc[cut:]


def split_rows(frame: pd.DataFrame, schema: Schema, params: PrepareParams, source: object):
    """(training rows, hold-out rows) by prepare.split."""
    if params.split == "time":
        return time_split(frame, params)
    if params.split == "hash":
        return hash_split(frame, schema, params)
    return random_split(frame, schema, params, source)
