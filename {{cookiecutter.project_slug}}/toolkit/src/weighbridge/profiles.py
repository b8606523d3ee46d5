"""A small, deterministic profile of a typed data frame: what the training data looked like.

``train`` writes one beside the weights (``profile.json``); the registry compares two
versions' profiles, or a live batch against one (``psi``), bin by bin. Per feature: its
dtype, missing share, and either quantiles on a fixed grid with the share of rows between
consecutive deciles (numbers, datetimes) or the top categories' shares and the rest as
``other`` (categories, booleans, text). Every share is of all rows, so a feature's shares
and its missing share add up to 1. Floats are rounded and keys sorted: the same data
always gives the same bytes, and the size is bounded (a few hundred bytes a feature).

Input is typed as the data floor reads it: numbers as int64/float64, booleans as
float 0/1/NaN, categories as ``str`` objects with NaN, datetimes as datetime64 with NaT.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .model_io import write_atomic
from .psi import PROFILE_FILE

PROFILE_VERSION = 1
GRID = tuple(round(step / 10, 1) for step in range(11))  # 0, 0.1, … 1: deciles and the ends
TOP = 20  # categories kept by name; the rest is "other"
DIGITS = 6  # significant digits of values, decimals of shares
NUMERIC, CATEGORY, DATETIME = "numeric", "category", "datetime"
KINDS = {
    "int64": NUMERIC,
    "float64": NUMERIC,
    "datetime": DATETIME,
    "category": CATEGORY,
    "bool": CATEGORY,
    "string": CATEGORY,  # the target dtype of schemas written before categories existed
}
BOOL_NAMES = {0.0: "false", 1.0: "true"}


def kind_of(dtype: str) -> str:
    return KINDS.get(dtype, CATEGORY)


def profile_of(frame: pd.DataFrame, schema: Any) -> dict[str, Any]:
    """The profile of ``frame`` under a data schema (anything with ``features``, ``dtypes``,
    ``target`` and ``task``)."""
    features = {name: schema.dtypes[name] for name in schema.features}
    return profile(frame, features, schema.target, schema.dtypes.get(schema.target))


def profile(
    frame: pd.DataFrame,
    features: Mapping[str, str],
    target: str | None = None,
    target_dtype: str | None = None,
) -> dict[str, Any]:
    """Rows, each feature of ``features`` ({name: schema dtype}) and the target's
    distribution (its classes for a category or integer label, else its quantiles)."""
    result: dict[str, Any] = {
        "profile": PROFILE_VERSION,
        "rows": len(frame),
        "grid": list(GRID),
        "features": {name: column(frame[name], dtype) for name, dtype in features.items()},
    }
    if target is not None:
        dtype = target_dtype or "category"
        # a class label is a category even when it is written as an integer
        as_classes = dtype == "int64" and frame[target].nunique() <= TOP
        shown = column(frame[target], "category" if as_classes else dtype)
        result["target"] = {"name": target, **shown}
    return result


def column(values: pd.Series, dtype: str) -> dict[str, Any]:
    missing = values.isna()
    summary = {"dtype": dtype, "missing": share(missing.sum(), len(values))}
    present = values[~missing]
    kind = kind_of(dtype)
    if kind == NUMERIC:
        return {**summary, **numeric(present.astype("float64"), len(values))}
    if kind == DATETIME:
        return {**summary, **datetimes(present, len(values))}
    if dtype == "bool":
        present = present.map(lambda value: BOOL_NAMES.get(float(value), str(value)))
    return {**summary, **categories(present.astype(str), len(values))}


def numeric(present: pd.Series, rows: int) -> dict[str, Any]:
    if present.empty:
        return {"quantiles": None, "mean": None, "std": None, "bins": None}
    quantiles = [rounded(q) for q in np.quantile(present.to_numpy(), GRID)]
    return {
        "quantiles": quantiles,
        "mean": rounded(present.mean()),
        "std": rounded(present.std(ddof=0)),
        "bins": bins(present.to_numpy(), edges_of(quantiles), rows),
    }


def datetimes(present: pd.Series, rows: int) -> dict[str, Any]:
    if present.empty:
        return {"quantiles": None, "bins": None}
    nanos = nanoseconds(present)
    # whole seconds: short, and what datetime.fromisoformat reads on every Python
    stamps = pd.to_datetime(np.quantile(nanos, GRID).astype("int64")).floor("s")
    quantiles = [stamp.isoformat() for stamp in stamps]
    edges = edges_of(quantiles)
    binned = bins(nanos, timestamps(edges), rows)
    return {"quantiles": quantiles, "bins": {**binned, "edges": edges}}


def categories(present: pd.Series, rows: int) -> dict[str, Any]:
    counts = present.value_counts()
    # most frequent first, ties by name: the same data keeps the same top list
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    top = {str(name): share(count, rows) for name, count in ranked[:TOP]}
    rest = sum(count for _, count in ranked[TOP:])
    return {"top": top, "other": share(rest, rows), "distinct": len(ranked)}


def edges_of(quantiles: list[Any]) -> list[Any]:
    """The inner deciles without repeats: the bin edges (bins hold (edge_i-1, edge_i])."""
    return sorted(set(quantiles[1:-1]))


def bins(values: np.ndarray, edges: list[Any], rows: int) -> dict[str, Any]:
    return {"edges": edges, "shares": bin_shares(values, edges, rows)}


def bin_shares(values: np.ndarray, edges: list[Any], rows: int) -> list[float]:
    """Share of all ``rows`` in each bin (-inf, e1], (e1, e2], …, (ek, inf)."""
    counts = np.bincount(np.searchsorted(np.asarray(edges), values, side="left"))
    counts = np.pad(counts, (0, len(edges) + 1 - len(counts)))
    return [share(count, rows) for count in counts]


def batch_shares(values: pd.Series, reference: dict[str, Any]) -> list[float]:
    """How ``values`` fall into the bins of a reference feature profile, missing first:
    the order of ``psi.distribution``."""
    rows = len(values)
    missing = values.isna()
    present = values[~missing]
    kind = kind_of(reference["dtype"])
    head = [share(missing.sum(), rows)]
    if kind in (NUMERIC, DATETIME):
        edges = (reference.get("bins") or {}).get("edges")
        if edges is None:
            return [*head, share(len(present), rows)]  # the reference had no values
        if kind == DATETIME:
            return head + bin_shares(nanoseconds(present), timestamps(edges), rows)
        return head + bin_shares(present.astype("float64").to_numpy(), edges, rows)
    if reference["dtype"] == "bool":
        present = present.map(lambda value: BOOL_NAMES.get(float(value), str(value)))
    names = present.astype(str)
    known = sorted(reference.get("top") or {})
    found = [share(names.eq(name).sum(), rows) for name in known]
    return [*head, *found, share((~names.isin(known)).sum(), rows)]


def nanoseconds(present: pd.Series) -> np.ndarray:
    return present.astype("datetime64[ns]").to_numpy().astype("int64")


def timestamps(edges: list[str]) -> list[int]:
    return [pd.Timestamp(edge).as_unit("ns").value for edge in edges]


def rounded(value: Any) -> float:
    return float(f"{float(value):.{DIGITS}g}")


def share(count: Any, rows: int) -> float:
    return round(float(count) / rows, DIGITS) if rows else 0.0


def to_json(payload: dict[str, Any]) -> bytes:
    return (json.dumps(payload, sort_keys=True, separators=(",", ":")) + "\n").encode()


def write_profile(model_dir: Path, payload: dict[str, Any]) -> Path:
    path = model_dir / PROFILE_FILE
    write_atomic(path, to_json(payload))
    return path
