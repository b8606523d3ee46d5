"""The production model (the champion): resolve it, load it, compare a candidate with it.

The version in production is read from the registry's git tags. Its weights are read at
its commit through DVC (the local cache first, then the DVC remote) and checked against
the sha256 recorded in its manifest before they are loaded, so a corrupted cache or a
tampered remote object can never become the yardstick. Both models are scored on the
*current* hold-out set, so the comparison stays fair when the data changed since then.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from . import stats
from .config import MODEL_NAME, GateParams
from .errors import ProjectError
from .evaluate import Predictions, predict, scores
from .gate import Candidate, Check, Comparison
from .gate_stage import production_version
from .model_io import MODEL_FILE, SIGNATURE_FILE, load_trusted
from .registry.store import Version


@dataclass(frozen=True)
class VersionModel:
    """A registered version's model, loaded from its commit and verified."""

    version: Version
    model: BaseEstimator
    signature: dict[str, Any]
    weights_sha256: str


def load_version(project_dir: Path, version: Version) -> VersionModel:
    """Weights and signature of ``version`` at its commit, sha256-checked against its manifest."""
    label = f"{version.model} {version.version} (commit {version.commit[:12]})"
    artifact = version.manifest.get("artifact") or {}
    files = artifact.get("files") or {}
    expected = {
        name: (files.get(name) or {}).get("sha256") for name in (MODEL_FILE, SIGNATURE_FILE)
    }
    if not artifact.get("path") or not all(expected.values()):
        raise ProjectError(f"{label}: tag {version.tag} has no artifact sha256 in its manifest")
    contents = read_at_commit(project_dir, version, artifact["path"], list(expected), label)
    for name, data in contents.items():
        actual = hashlib.sha256(data).hexdigest()
        if actual != expected[name]:
            raise ProjectError(
                f"{label}: {artifact['path']}/{name} has sha256 {actual[:12]}…, its manifest "
                f"says {expected[name][:12]}…: refusing tampered or corrupted weights"
            )
    model = load_trusted(contents[MODEL_FILE], f"{label} {artifact['path']}/{MODEL_FILE}")
    signature = json.loads(contents[SIGNATURE_FILE])
    return VersionModel(version, model, signature, expected[MODEL_FILE])


def read_at_commit(
    project_dir: Path, version: Version, folder: str, names: list[str], label: str
) -> dict[str, bytes]:
    """Files of a DVC-tracked folder as of the version's commit (cache, then remote)."""
    from dvc.api import DVCFileSystem  # dvc is slow to import; only the comparison needs it

    try:
        fs = DVCFileSystem(str(project_dir), rev=version.commit)
        return {name: fs.read_bytes(f"{folder}/{name}") for name in names}
    except Exception as exc:  # dvc raises many types (scm, config, storage); all mean "cannot"
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise ProjectError(
            f"{label}: cannot load its weights {folder} from the DVC cache or the DVC remote "
            f"({reason}); push them from a machine that has them (`dvc push -T` pushes every tag)"
        ) from None


def compare(
    candidate: Candidate, holdout: pd.DataFrame, params: GateParams, project_dir: Path
) -> Comparison:
    """The gate stage's seam: compare with whatever is in production now."""
    return compare_with(production_version(project_dir), candidate, holdout, params, project_dir)


def compare_with(
    production: Version | None,
    candidate: Candidate,
    holdout: pd.DataFrame,
    params: GateParams,
    project_dir: Path,
) -> Comparison:
    if production is None:
        note = f"no version of {MODEL_NAME} is in production: only the absolute floor applies"
        return Comparison(details={"production": None, "note": note})
    champion = load_version(project_dir, production)
    require_same_inputs(champion, candidate)
    schema = candidate.schema
    candidate_predictions = predict(candidate.model, holdout, schema)
    production_predictions = predict(champion.model, holdout, schema)
    baseline = scores(production_predictions)[params.metric]
    value = candidate.scores[params.metric]
    test = paired_test(params, candidate_predictions, production_predictions)
    check = production_check(value, baseline, production.version, params, test)
    details = {
        "production": {
            "version": production.version,
            "commit": production.commit,
            "weights_sha256": champion.weights_sha256,
            "value": baseline,
        },
        "test_result": test.to_dict() if test is not None else None,
    }
    return Comparison(production.version, baseline, [check], details)


def require_same_inputs(champion: VersionModel, candidate: Candidate) -> None:
    """Production must be scorable on the current hold-out: same feature columns."""
    wanted = [column.get("name") for column in champion.signature.get("inputs", [])]
    if wanted != candidate.schema.features:
        missing = sorted(set(wanted) - set(candidate.schema.features))
        extra = sorted(set(candidate.schema.features) - set(wanted))
        version = champion.version.version
        raise ProjectError(
            f"production {version} cannot be scored on the current hold-out set: its inputs "
            f"differ (missing {missing or 'none'}, new {extra or 'none'}); promote with "
            "--force --reason TEXT"
        )


def production_check(
    value: float, baseline: float, version: str, params: GateParams, test: stats.PairedTest | None
) -> Check:
    """Passes unless the candidate is worse than production by more than max_regression;
    with a paired test, only when it is so with the test's confidence."""
    margin = params.max_regression
    threshold = baseline - margin if params.greater_is_better else baseline + margin
    regression = stats.regression_amount(value, baseline, params.greater_is_better)
    beyond = stats.exceeds(regression, margin)
    worse = test.worse if test is not None else beyond
    relation = "meets"
    if beyond:
        relation = "is below" if params.greater_is_better else "is above"
    detail = (
        f"{params.metric} {value:.4f} vs production {version} {baseline:.4f}: {relation} "
        f"the threshold {threshold:.4f} (max_regression {margin})"
    )
    if test is not None:
        detail += f"; {test.detail}"
    return Check("max_regression", not worse, value, threshold, detail)


def paired_test(
    params: GateParams, candidate: Predictions, production: Predictions
) -> stats.PairedTest | None:
    y_true = candidate.y_true.to_numpy()
    if params.test == "mcnemar":
        return stats.mcnemar(
            candidate.y_pred == y_true,
            production.y_pred == y_true,
            max_regression=params.max_regression,
            alpha=params.alpha,
        )
    if params.test != "bootstrap":
        return None
    try:
        return bootstrap(params, y_true, candidate, production)
    except ValueError as exc:
        raise ProjectError(f"params.yaml: gate.test: bootstrap of {params.metric}: {exc}") from None


def bootstrap(
    params: GateParams, y_true: np.ndarray, candidate: Predictions, production: Predictions
) -> stats.PairedTest:
    return stats.paired_bootstrap(
        metric_on_rows(params.metric, y_true, candidate),
        metric_on_rows(params.metric, y_true, production),
        len(y_true),
        greater_is_better=params.greater_is_better,
        max_regression=params.max_regression,
        alpha=params.alpha,
        n_resamples=params.n_resamples,
        seed=params.seed,
    )


def metric_on_rows(metric: str, y_true: np.ndarray, predictions: Predictions):
    y_pred, proba = np.asarray(predictions.y_pred), predictions.proba

    def score(rows: np.ndarray) -> float:
        rows_proba = None if proba is None else proba[rows]
        return stats.metric_value(
            metric, y_true[rows], y_pred[rows], rows_proba, predictions.classes
        )

    return score
