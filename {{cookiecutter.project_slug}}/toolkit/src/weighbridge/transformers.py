"""Transformers of the toolkit's own that a project's model may contain.

They live here, not in the project's package, because loading a model trusts them by name
(``model_io.TRUSTED_TYPES``): a trusted type must be code that every project shares.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

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
