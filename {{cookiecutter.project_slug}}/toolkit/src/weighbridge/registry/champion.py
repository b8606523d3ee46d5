"""The production model (the champion) for the gate: which version the tags put in
production, and its weights, read at its commit and verified.

The weights are read through DVC (the local cache first, then the DVC remote) and checked
against the sha256 recorded in the version's manifest before they are loaded, so a
corrupted cache or a tampered remote object can never become the yardstick.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sklearn.base import BaseEstimator

from ..gate import Candidate, Production
from ..model_io import MODEL_FILE, SIGNATURE_FILE, load_trusted
from . import tags as grammar
from .committed import read_verified
from .errors import RegistryError
from .store import Version, load_registry
from .trained_rows import trained_rows

PRODUCTION = "production"


def production_version(repo_dir: Path, model: str) -> Version | None:
    """The version the tags put in production now; None without one (or without git)."""
    try:
        registry = load_registry(repo_dir)
    except RegistryError:
        return None  # not a git repository: there is no registry, hence no production
    return registry.stage_version(model, PRODUCTION)


def load_production(repo_dir: Path, model: str, workspace: Path | None = None) -> Production | None:
    """The version in production now, loaded and verified; None when there is none.
    ``workspace``: the project whose hold-out set it is judged on (an experiment's copy),
    ``repo_dir`` by default."""
    version = production_version(repo_dir, model)
    return as_production(repo_dir, version, workspace) if version is not None else None


def as_production(repo_dir: Path, version: Version, workspace: Path | None = None) -> Production:
    """``version`` as the gate's yardstick, loaded from its commit and verified, with the
    rows it trained on (the gate leaves them out of ``workspace``'s hold-out set)."""
    weights = load_weights(repo_dir, version)
    rows = trained_rows(repo_dir, version, workspace or repo_dir)
    return Production(
        weights.model, version.model, version.version, version.commit, weights.sha256, rows
    )


def load_candidate(repo_dir: Path, version: Version) -> Candidate:
    """A registered version as promote's candidate, loaded from its commit like production."""
    weights = load_weights(repo_dir, version)
    identity = {"version": version.version, "commit": version.commit}
    identity["weights_sha256"] = weights.sha256
    name = f"{version.model} {version.version}"
    return Candidate(weights.model, name, identity, trained_rows(repo_dir, version, repo_dir))


def load_history(repo_dir: Path, model: str, workspace: Path | None = None) -> list[Production]:
    """Every version production has held (deprecated ones aside: withdrawn, they set no
    bar), for the gate's max_total_regression; empty without a registry."""
    try:
        registry = load_registry(repo_dir)
    except RegistryError:
        return []
    held = []
    for event in registry.events(model):
        promoted = event.action == grammar.ASSIGN and event.stage == PRODUCTION
        if promoted and event.version and event.version not in held:
            held.append(event.version)
    versions = [registry.version(model, name) for name in held]
    return [as_production(repo_dir, v, workspace) for v in versions if not v.deprecated]


@dataclass(frozen=True)
class Weights:
    """A version's model, loaded from its verified ``model.skops``."""

    model: BaseEstimator
    sha256: str


def load_weights(repo_dir: Path, version: Version) -> Weights:
    """``model.skops`` and ``signature.json`` of ``version`` at its commit, verified
    (``committed.read_verified``), then the model loaded with the explicit trusted-types
    list."""
    files = read_verified(repo_dir, version, [MODEL_FILE, SIGNATURE_FILE])
    model = load_trusted(files.contents[MODEL_FILE], f"{files.label} {files.folder}/{MODEL_FILE}")
    return Weights(model, files.sha256[MODEL_FILE])
