"""A penguins-like frame with every dtype the schema knows, typed as the data floor reads it:
a category with gaps, an int with gaps (float64 + NaN), a float, a bool (0.0/1.0/NaN) and a
date (NaT for a gap). The targets depend on the category, the bool and the date, so a model
that ignored any of them would score visibly worse."""

from __future__ import annotations

import numpy as np
import pandas as pd
from weighbridge.schema import Column, Schema

ISLANDS = ("Biscoe", "Dream", "Torgersen")
FEATURES = (
    Column("island", "category", nullable=True),
    Column("bill_length", "float64"),
    Column("flipper_length", "int64", nullable=True),
    Column("male", "bool", nullable=True),
    Column("observed", "datetime", nullable=True),
)
TARGETS = {
    "classification": Column("species", "category", role="target"),
    "regression": Column("body_mass", "float64", role="target"),
}
ESTIMATORS = {
    "classification": ("logistic_regression", "random_forest", "hist_gradient_boosting"),
    "regression": ("ridge", "random_forest", "hist_gradient_boosting"),
}
# Small settings so that every estimator trains in a fraction of a second.
FAST_HYPERPARAMS = {
    "logistic_regression": {"C": 1.0},
    "ridge": {"alpha": 1.0},
    "random_forest": {"n_estimators": 10, "max_depth": 5},
    "hist_gradient_boosting": {"max_iter": 20},
}


def mixed_schema(task: str) -> Schema:
    return Schema(task=task, columns=(*FEATURES, TARGETS[task]))


def gaps(values: pd.Series, rng: np.random.Generator, share: float) -> pd.Series:
    return values.where(rng.random(len(values)) >= share)


def mixed_frame(rows: int = 240, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    island = pd.Series(rng.choice(ISLANDS, rows), dtype=object)
    male = pd.Series(rng.integers(0, 2, rows).astype("float64"))
    days = pd.to_timedelta(rng.integers(0, 900, rows), "D")
    observed = pd.Series(pd.Timestamp("2007-11-01") + days).astype("datetime64[ns]")
    bill = pd.Series(rng.normal(44.0, 5.0, rows))
    flipper = pd.Series(rng.integers(172, 231, rows).astype("float64"))
    late = (observed > pd.Timestamp("2008-12-31")).astype(float)
    score = (island == "Dream") * 2.0 + male * 1.5 + late * 1.5 + (bill - 44.0) / 5.0
    return pd.DataFrame(
        {
            "island": gaps(island, rng, 0.1).astype(object),
            "bill_length": bill,
            "flipper_length": gaps(flipper, rng, 0.1),
            "male": gaps(male, rng, 0.1),
            "observed": gaps(observed, rng, 0.05),
            "species": pd.Series(np.where(score > 2.5, "Gentoo", "Adelie"), dtype=object),
            "body_mass": 3000.0 + 400.0 * score + rng.normal(0.0, 50.0, rows),
        }
    )
