"""What the gate judges: a candidate, the production model, the hold-out set.

The callers (the gate stage, the registry's check and promote) load them; the gate only
reads them. Production arrives already loaded and verified: where its weights come from
(git tags, DVC) is the registry's business, not the gate's.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from sklearn.base import BaseEstimator

from ..config import GateParams, ProjectPaths, load_gate
from ..errors import ProjectError
from ..model_io import load_model, sha256_file
from ..reading import read_prepared
from ..schema import Schema, load_schema


@dataclass(frozen=True)
class Candidate:
    """The model under test; ``name`` says which in messages, ``identity`` is set for a
    registered version ({"version", "commit", "weights_sha256"})."""

    model: BaseEstimator
    name: str
    identity: dict[str, str] | None = None


@dataclass(frozen=True)
class Production:
    """The version in production, its weights verified against its manifest."""

    model: BaseEstimator
    model_name: str
    version: str
    commit: str
    weights_sha256: str

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

    def record(self) -> dict[str, str]:
        return {"path": self.path, "sha256": self.sha256}


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
