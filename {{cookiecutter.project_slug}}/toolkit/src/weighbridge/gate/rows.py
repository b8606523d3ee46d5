"""Which hold-out rows the gate may score: those no compared model trained on.

A model that trained on a row is judged on its memory there, not on its skill, so a
comparison on such rows is biased in an unknown direction. Every model the gate compares
says which rows it trained on (``inputs.TrainedRows``); the gate leaves those rows out for
all of them, so every model is scored on the same unseen rows, and records how many it
scored and how many it left out.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ..splitting import row_keys
from .inputs import Holdout, TrainedRows


def unseen(holdout: Holdout, trained: Iterable[TrainedRows]) -> Holdout:
    """``holdout`` less the rows any of ``trained`` covers (loaded only when needed)."""
    loaders = [rows for rows in trained if rows is not None]
    if not loaders or holdout.frame.empty:
        return holdout
    keys = row_keys(holdout.frame, holdout.schema)
    seen = np.zeros(len(keys), dtype=bool)
    for load in loaders:
        seen |= np.isin(keys, load())
    return holdout.without(seen) if seen.any() else holdout
