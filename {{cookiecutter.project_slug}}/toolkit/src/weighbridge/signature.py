"""The model's signature: what predict must be given (each input's name, dtype, whether it
may be missing, the categories seen in training) and what it returns."""

from __future__ import annotations

from typing import Any

from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder

from .schema import Column, Schema

# 2: inputs carry nullable and, for category columns, the categories seen in training.
SIGNATURE_VERSION = 2


def plain(value: Any) -> Any:
    """numpy scalars to Python values, for JSON."""
    return value.item() if hasattr(value, "item") else value


def describe(model: object, schema: Schema, model_name: str) -> dict[str, Any]:
    """The signature of a model fitted on ``schema``'s features (without the weights block)."""
    classes = getattr(model, "classes_", None)
    categories = known_categories(model)
    return {
        "signature": SIGNATURE_VERSION,
        "model": model_name,
        "inputs": [model_input(column, categories) for column in schema.feature_columns],
        "output": {
            "name": schema.target,
            "kind": schema.task,
            "dtype": schema.dtypes[schema.target],
            "classes": None if classes is None else [plain(label) for label in classes],
        },
    }


def model_input(column: Column, categories: dict[str, list[str]]) -> dict[str, Any]:
    entry = {"name": column.name, "dtype": column.dtype, "nullable": column.nullable}
    if column.dtype == "category":
        entry["categories"] = categories.get(column.name, [])
    return entry


def known_categories(model: object) -> dict[str, list[str]]:
    """Each text column's categories seen in training, sorted: read from the fitted category
    encoders in the model's first step (a ColumnTransformer); {} for other models."""
    if not isinstance(model, Pipeline) or not isinstance(model[0], ColumnTransformer):
        return {}
    found: dict[str, list[str]] = {}
    for _, fitted, columns in model[0].transformers_:
        first = fitted[0] if isinstance(fitted, Pipeline) else fitted
        if isinstance(first, (OneHotEncoder, OrdinalEncoder)):  # it sees the column names
            for name, values in zip(columns, first.categories_, strict=True):
                found[str(name)] = sorted(value for value in values if isinstance(value, str))
    return found
