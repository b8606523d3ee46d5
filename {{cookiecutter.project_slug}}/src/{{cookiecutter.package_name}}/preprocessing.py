"""From the schema's typed columns to the numbers an estimator learns from.

Everything here lives inside the saved model (the first step of its Pipeline), so that
predict applies exactly what train learned: medians for gaps, the known categories, the
date parts. Inputs arrive typed as the data floor reads them: numbers int64/float64 (NaN
for a gap), bool as float64 0/1/NaN, category as object str with np.nan, datetime as
datetime64 with NaT.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler
from weighbridge.schema import Column
from weighbridge.transformers import DateParts

# Group names inside the ColumnTransformer (``<group>_gaps`` for nullable columns); category
# comes first so that its encoded columns are the first ones (hist_gradient_boosting is
# told their positions).
CATEGORY, NUMBER, BOOL, DATETIME = "category", "number", "bool", "datetime"
GROUP_OF_DTYPE = {
    "category": CATEGORY,
    "string": CATEGORY,  # schemas written before dtype category existed
    "int64": NUMBER,
    "float64": NUMBER,
    "bool": BOOL,
    "datetime": DATETIME,
}
# Beyond this many categories in a column, the rarest share one "infrequent" one-hot
# column: the encoded width (rows x columns floats) stays bounded whatever the cardinality.
MAX_ONE_HOT = 32


# --- the ColumnTransformer -----------------------------------------------------------------


def column_groups(columns: Sequence[Column]) -> dict[str, list[str]]:
    """Feature names by transformer, in group order then file order; empty ones left out.

    Columns that may have gaps get a transformer of their own (``<group>_gaps``): only
    they pay for an imputer, which costs a copy of the data and a median per column. A
    column whose schema says nullable: false has none in training, and predict refuses one.
    Categories are not split: a gap is simply one more category.
    """
    groups: dict[str, list[str]] = {}
    for group in (CATEGORY, NUMBER, BOOL, DATETIME):
        for column in columns:
            if GROUP_OF_DTYPE[column.dtype] == group:
                gaps = column.nullable and group != CATEGORY
                groups.setdefault(f"{group}_gaps" if gaps else group, []).append(column.name)
    return groups


def column_transformer(
    columns: Sequence[Column], *, scale: bool, native: bool, max_bins: int
) -> ColumnTransformer:
    """Impute, encode and (for linear models) scale each group of feature columns.

    ``native``: the estimator (hist_gradient_boosting) handles gaps and categories itself,
    so gaps stay NaN and categories become ordinal codes it is told are categorical.
    """
    return ColumnTransformer(
        [
            (name, transformer(name, scale=scale, native=native, max_bins=max_bins), names)
            for name, names in column_groups(columns).items()
        ],
        sparse_threshold=0.0,
    )


def transformer(name: str, *, scale: bool, native: bool, max_bins: int) -> object:
    group, gaps = name.removesuffix("_gaps"), name.endswith("_gaps") and not native
    if group == CATEGORY:
        return category_encoder(native, max_bins)
    steps: list[tuple[str, object]] = []
    if group == DATETIME:
        steps.append(("parts", DateParts()))
    if gaps:
        strategy = "most_frequent" if group == BOOL else "median"
        # keep_empty_features: a column with no value at all in training becomes a constant
        # 0 instead of vanishing (a scaler after it would then get no column to scale).
        steps.append(("impute", SimpleImputer(strategy=strategy, keep_empty_features=True)))
    if scale and group != BOOL:
        # In place when a step before made a fresh array: one copy of the data, not two
        # (never in place on the caller's frame).
        steps.append(("scale", StandardScaler(copy=not steps)))
    return Pipeline(steps) if steps else "passthrough"


def category_encoder(native: bool, max_bins: int) -> OneHotEncoder | OrdinalEncoder:
    """A gap is a category of its own; an unseen category is never an error."""
    if native:
        # Unseen -> NaN, which the estimator treats as missing; at most max_bins codes, the
        # most the estimator accepts per categorical feature (the rarest share the last).
        return OrdinalEncoder(
            handle_unknown="use_encoded_value", unknown_value=np.nan, max_categories=max_bins
        )
    # Unseen -> the infrequent column when there is one, else all zeros.
    return OneHotEncoder(
        handle_unknown="infrequent_if_exist", max_categories=MAX_ONE_HOT, sparse_output=False
    )


def category_positions(columns: Sequence[Column]) -> list[int]:
    """Where the encoded category columns sit in the transformer's output (the first ones)."""
    return list(range(len(column_groups(columns).get(CATEGORY, []))))
