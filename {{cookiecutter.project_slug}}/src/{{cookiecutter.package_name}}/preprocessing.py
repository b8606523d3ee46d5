"""From the schema's typed columns to the numbers an estimator learns from.

Everything here lives inside the saved model (the first step of its Pipeline), so that
predict applies exactly what train learned: medians for gaps, the known categories, the
date parts. Inputs arrive typed as the data floor reads them: numbers int64/float64 (NaN
for a gap), bool as float64 0/1/NaN, category as object str with np.nan, datetime as
datetime64 with NaT.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler
from sklearn.utils.validation import check_is_fitted

from .schema import Column

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
EPOCH = pd.Timestamp("1970-01-01")
# Calendar parts kept when they vary in the training data ("days" is always kept: the trend).
CALENDAR_PARTS: dict[str, Callable[[pd.Series], pd.Series]] = {
    "year": lambda dates: dates.dt.year,
    "month": lambda dates: dates.dt.month,
    "day": lambda dates: dates.dt.day,
    "dayofweek": lambda dates: dates.dt.day_of_week,
    "hour": lambda dates: dates.dt.hour,
    "minute": lambda dates: dates.dt.minute,
}


def days_since_epoch(dates: pd.Series) -> pd.Series:
    return (dates - EPOCH) / pd.Timedelta(days=1)


class DateParts(TransformerMixin, BaseEstimator):
    """Each datetime column as numbers: days since 1970 plus the calendar parts that vary
    in training (a date-only column gets no hour). NaT becomes NaN, for the imputer after
    it (or for hist_gradient_boosting, which handles NaN itself)."""

    def fit(self, X: pd.DataFrame, y: object = None) -> DateParts:
        frame = as_datetimes(X)
        self.feature_names_in_ = np.asarray(frame.columns, dtype=object)
        self.n_features_in_ = frame.shape[1]
        self.parts_ = [varying_parts(frame[name]) for name in frame.columns]
        return self

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        check_is_fitted(self, "parts_")
        frame = as_datetimes(X)
        parts = [
            part_values(frame.iloc[:, index], part)
            for index, names in enumerate(self.parts_)
            for part in names
        ]
        return np.column_stack(parts) if parts else np.empty((len(frame), 0))

    def get_feature_names_out(self, input_features: Iterable[str] | None = None) -> np.ndarray:
        check_is_fitted(self, "parts_")
        names = self.feature_names_in_ if input_features is None else list(input_features)
        return np.asarray(
            [
                f"{name}_{part}"
                for name, parts in zip(names, self.parts_, strict=True)
                for part in parts
            ],
            dtype=object,
        )


def as_datetimes(X: object) -> pd.DataFrame:
    """Naive datetime columns (an aware one in UTC), whatever array-like holds them."""
    frame = X if isinstance(X, pd.DataFrame) else pd.DataFrame(X)
    columns = {}
    for name in frame.columns:
        dates = pd.to_datetime(frame[name])
        if isinstance(dates.dtype, pd.DatetimeTZDtype):
            dates = dates.dt.tz_convert("UTC").dt.tz_localize(None)
        columns[name] = dates
    return pd.DataFrame(columns, index=frame.index)


def varying_parts(dates: pd.Series) -> list[str]:
    varying = [name for name, part in CALENDAR_PARTS.items() if part(dates).nunique() > 1]
    return ["days", *varying]


def part_values(dates: pd.Series, part: str) -> np.ndarray:
    values = days_since_epoch(dates) if part == "days" else CALENDAR_PARTS[part](dates)
    return values.to_numpy(dtype="float64", na_value=np.nan)


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


def known_categories(model: object) -> dict[str, list[str]]:
    """Each category column's categories seen in training, sorted; {} for other models."""
    if not isinstance(model, Pipeline) or not isinstance(model[0], ColumnTransformer):
        return {}
    encoder = model[0].named_transformers_.get(CATEGORY)
    if encoder is None:
        return {}
    return {
        str(name): sorted(value for value in values if isinstance(value, str))
        for name, values in zip(encoder.feature_names_in_, encoder.categories_, strict=True)
    }
