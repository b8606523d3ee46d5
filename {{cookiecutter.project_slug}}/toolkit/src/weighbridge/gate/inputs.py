"""What the gate judges: a candidate, the production model, the hold-out set.

The callers (the gate stage, the registry's check and promote) load them; the gate only
reads them. Production arrives already loaded and verified: where its weights come from
(git tags, DVC) is the registry's business, not the gate's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from ..config import GateParams, ProjectPaths, load_gate
from ..errors import ProjectError
from ..model_io import load_model, sha256_file
from ..reading import read_prepared
from ..schema import Schema, load_schema

# The row keys (splitting.row_keys) of the rows a model trained on, loaded when the gate
# needs them; None when its split rule provably kept every row of this hold-out set out of
# its training (the work tree's model, or a version split by the same hash rule).
TrainedRows = Callable[[], np.ndarray] | None


@dataclass(frozen=True)
class Candidate:
    """The model under test; ``name`` says which in messages, ``identity`` is set for a
    registered version ({"version", "commit", "weights_sha256"})."""

    model: BaseEstimator
    name: str
    identity: dict[str, str] | None = None
    trained_rows: TrainedRows = None


@dataclass(frozen=True)
class Production:
    """The version in production, its weights verified against its manifest."""

    model: BaseEstimator
    model_name: str
    version: str
    commit: str
    weights_sha256: str
    trained_rows: TrainedRows = None

    @property
    def name(self) -> str:
        return f"production {self.model_name} {self.version}"

    def identity(self) -> dict[str, str]:
        return {
            "version": self.version,
            "commit": self.commit,
            "weights_sha256": self.weights_sha256,
        }


@dataclass(frozen=True)
class Holdout:
    """The validated hold-out rows, and which file (by its bytes' sha256) they came from."""

    frame: pd.DataFrame
    schema: Schema
    path: str
    sha256: str
    left_out: int = 0  # rows of the file a compared model trained on: not scored

    def record(self) -> dict[str, str | int]:
        return {
            "path": self.path,
            "sha256": self.sha256,
            "rows_scored": len(self.frame),
            "rows_left_out": self.left_out,
        }

    def without(self, rows: np.ndarray) -> Holdout:
        """The hold-out set less ``rows`` (a boolean mask over its rows)."""
        kept = self.frame[~rows].reset_index(drop=True)
        return replace(self, frame=kept, left_out=self.left_out + int(rows.sum()))


def load_inputs(project_dir: Path) -> tuple[GateParams, Holdout]:
    """params.yaml's gate section and the hold-out set of the project's work tree."""
    paths = ProjectPaths(project_dir)
    schema = load_schema(paths.schema)
    params = load_gate(paths.params, schema.task)
    return params, read_holdout(paths, schema)


def read_holdout(paths: ProjectPaths, schema: Schema) -> Holdout:
    shown = paths.shown(paths.holdout_data)
    if not paths.holdout_data.is_file():
        raise ProjectError(
            f"{shown}: not found, the gate scores on it (run `dvc pull` or `dvc repro`)"
        )
    frame = read_prepared(paths.holdout_data, schema, shown)
    return Holdout(frame, schema, shown, sha256_file(paths.holdout_data))


def workspace_candidate(project_dir: Path, model_name: str) -> Candidate:
    """The model the pipeline trained in the work tree (its signature's sha256 checked)."""
    model_dir = f"models/{model_name}"
    return Candidate(load_model(project_dir / model_dir), model_dir)
