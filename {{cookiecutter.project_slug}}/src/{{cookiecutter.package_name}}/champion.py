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
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from . import stats
from .config import MODEL_NAME, GateParams, ProjectPaths
from .errors import ProjectError
from .evaluate import Predictions, inputs_problem, predict, scores, task_problem
from .gate import Candidate, Check, Comparison
from .gate_stage import production_version
from .model_io import MODEL_FILE, SIGNATURE_FILE, load_trusted, plain
from .registry import derived
from .registry.store import Version
from .schema import shown_class

INCOMPARABLE = "one metric cannot rank models whose classes differ"


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
    if version.derived:  # registered by another tool: checked against dvc.lock instead
        return load_derived(project_dir, version, label)
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


def load_derived(project_dir: Path, version: Version, label: str) -> VersionModel:
    """A version without a manifest in its tag: every file of its artifact folder, checked
    against the md5 its commit's dvc.lock records; the sha256 is computed from them."""
    folder, md5 = derived.artifact_of(version)
    contents = read_at_commit(project_dir, version, folder, None, label)
    digests = {name: derived.digests_of_bytes(data) for name, data in contents.items()}
    files = derived.verified_files(digests, md5, label)
    for name in (MODEL_FILE, SIGNATURE_FILE):
        if name not in contents:
            raise ProjectError(f"{label}: {folder}/ has no {name}")
    model = load_trusted(contents[MODEL_FILE], f"{label} {folder}/{MODEL_FILE}")
    signature = json.loads(contents[SIGNATURE_FILE])
    return VersionModel(version, model, signature, files[MODEL_FILE]["sha256"])


def read_at_commit(
    project_dir: Path, version: Version, folder: str, names: list[str] | None, label: str
) -> dict[str, bytes]:
    """Files of a DVC-tracked folder as of the version's commit (cache, then remote);
    ``names=None``: every file in it."""
    from dvc.api import DVCFileSystem  # dvc is slow to import; only the comparison needs it

    fs = None
    try:
        fs = DVCFileSystem(str(project_dir), rev=version.commit)
        if names is None:
            names = [path[len(folder) + 1 :] for path in fs.find(folder)]
        return {name: fs.read_bytes(f"{folder}/{name}") for name in names}
    except Exception as exc:  # dvc raises many types (scm, config, storage); all mean "cannot"
        cause = storage_failure(exc, fs)
        raise ProjectError(f"{label}: cannot load its weights {folder}: {cause}") from None


# --- why DVC could not read: the storage fault in the user's terms ------------------------
# (deploy names the same faults; the two are to be folded into one module)

# Exceptions of optional storage libraries (botocore, aiohttp…), matched by class name so
# that a project without them needs no import.
CONNECTION_ERRORS = frozenset(
    {"EndpointConnectionError", "ConnectTimeoutError", "ClientConnectorError",
     "ServerDisconnectedError", "ConnectionClosedError", "ReadTimeoutError"}
)  # fmt: skip
CREDENTIAL_ERRORS = frozenset({"NoCredentialsError", "PartialCredentialsError"})
# Reading at a commit, DVC stands this in (the project's own cache) when no remote is set.
DVC_STAND_IN_REMOTE = "auto-generated-upstream"
WHERE_CREDENTIALS_GO = "(`dvc remote modify --local`, or the environment)"
ACCESS_DENIED_CODES = frozenset(
    {"403", "401", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch",
     "ExpiredToken", "InvalidToken", "AllAccessDisabled", "AuthorizationHeaderMalformed"}
)  # fmt: skip


def storage_failure(exc: BaseException, fs: Any) -> str:
    """The real cause behind a failed DVC read: an unreachable remote, refused or missing
    credentials, a remote location that does not exist, or files never pushed."""
    if fs is None:  # DVC could not even open the repository at that commit
        return one_line(exc)
    chain = exception_chain(exc)
    remote = default_remote(fs)
    where = remote.shown if remote else "the DVC remote"
    refused = unreachable(chain)
    if refused:
        return f"cannot reach {where}: {refused}"
    uncredited = next((e for e in chain if class_names(e) & CREDENTIAL_ERRORS), None)
    if uncredited is not None:
        missing = one_line(uncredited)
        return f"no credentials for {where} ({missing}): set them {WHERE_CREDENTIALS_GO}"
    local = next((e for e in chain if isinstance(e, PermissionError) and e.filename), None)
    if local is not None:  # a file on this machine: the DVC cache, or a folder remote
        return f"permission denied on {local.filename}: check its owner and mode"
    denied = access_denied(chain)
    if denied:
        return (
            f"{where} refused access ({denied}): check its credentials and permissions "
            f"{WHERE_CREDENTIALS_GO}"
        )
    if any(isinstance(error, (FileNotFoundError, NotADirectoryError)) for error in chain):
        return missing_files(remote)
    return one_line(exc)


def exception_chain(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not seen for seen in chain):
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def class_names(error: BaseException) -> set[str]:
    return {cls.__name__ for cls in type(error).__mro__}


def unreachable(chain: list[BaseException]) -> str | None:
    """'connection refused by host:port' and the like, or None when the network was fine."""
    faults = [
        error
        for error in chain
        if isinstance(error, (ConnectionError, TimeoutError, socket.gaierror))
        or class_names(error) & CONNECTION_ERRORS
    ]
    if not faults:
        return None
    address = next((endpoint(error) for error in chain if endpoint(error)), None)
    to = f" {address}" if address else ""
    if any(isinstance(error, ConnectionRefusedError) for error in chain):
        return f"connection refused by{to}" if to else "connection refused"
    if any(isinstance(error, socket.gaierror) for error in chain):
        return f"cannot resolve the host of{to}" if to else "cannot resolve its host name"
    if any(isinstance(error, TimeoutError) for error in chain):
        return f"timed out connecting to{to}" if to else "connection timed out"
    return one_line(faults[-1])


def endpoint(error: BaseException) -> str | None:
    """host:port of a connection error: aiohttp keeps them, botocore keeps the URL."""
    host, port = getattr(error, "host", None), getattr(error, "port", None)
    if isinstance(host, str) and port:
        return f"{host}:{port}"
    url = (getattr(error, "kwargs", None) or {}).get("endpoint_url")
    return (urlsplit(url).netloc or None) if isinstance(url, str) else None


def access_denied(chain: list[BaseException]) -> str | None:
    for error in chain:
        code = str(((getattr(error, "response", None) or {}).get("Error") or {}).get("Code", ""))
        if isinstance(error, PermissionError) or code in ACCESS_DENIED_CODES:
            return one_line(error)
    return None


@dataclass(frozen=True)
class Remote:
    fs: Any
    path: str
    shown: str


def default_remote(fs: Any) -> Remote | None:
    """The DVC remote the read used (the version's config with config.local), or None."""
    try:
        remote = fs.repo.cloud.get_remote()
        if remote.name == DVC_STAND_IN_REMOTE:
            return None
        url = remote.fs.unstrip_protocol(remote.path)
        return Remote(remote.fs, remote.path, f"the DVC remote {remote.name!r} ({url})")
    except Exception:  # no remote configured, or a broken config: nothing more to say
        return None


def missing_files(remote: Remote | None) -> str:
    if remote is None:
        return (
            "they are not in the DVC cache, and no default DVC remote is configured "
            "(`dvc remote add -d`)"
        )
    try:
        exists = remote.fs.isdir(remote.path)
    except Exception:  # the probe is a courtesy; the read already failed
        exists = True
    if not exists:
        return (
            f"they are not in the DVC cache, and {remote.shown} does not exist or holds "
            "nothing: check its url (`dvc remote list`)"
        )
    return (
        f"they are neither in the DVC cache nor on {remote.shown}; push them from a machine "
        "that has them (`dvc push -T` pushes every tag)"
    )


def one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__


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
    problem = incomparability(champion, candidate, holdout, project_dir)
    if problem is not None:
        return not_comparable(champion, problem)
    schema = candidate.schema
    candidate_predictions = predict(candidate.model, holdout, schema)
    production_predictions = predict(champion.model, holdout, schema)
    baseline = scores(production_predictions)[params.metric]
    value = candidate.scores[params.metric]
    test = paired_test(params, candidate_predictions, production_predictions)
    check = production_check(value, baseline, production.version, params, test)
    details = {
        "production": production_record(champion, baseline),
        "test_result": test.to_dict() if test is not None else None,
    }
    return Comparison(production.version, baseline, [check], details)


def production_record(champion: VersionModel, value: float | None) -> dict[str, Any]:
    version = champion.version
    return {
        "version": version.version,
        "commit": version.commit,
        "weights_sha256": champion.weights_sha256,
        "value": value,
    }


def incomparability(
    champion: VersionModel, candidate: Candidate, holdout: pd.DataFrame, project_dir: Path
) -> str | None:
    """Why one metric cannot rank the candidate against production, or None when it can:
    production must take the same inputs and answer with the same classes."""
    production = f"production {champion.version.model} {champion.version.version}"
    schema = candidate.schema
    return (
        inputs_problem(champion.model, schema, production)
        or task_problem(champion.model, schema, production)
        or classes_differ(production, champion.model, candidate, holdout, project_dir)
    )


def classes_differ(
    production: str,
    model: BaseEstimator,
    candidate: Candidate,
    holdout: pd.DataFrame,
    project_dir: Path,
) -> str | None:
    """Different classes (a new or dropped class, 0/1 become 'no'/'yes') change what the
    metric measures, and production cannot be right on a class it never learned."""
    theirs = [plain(label) for label in getattr(model, "classes_", [])]
    ours = [plain(label) for label in getattr(candidate.model, "classes_", [])]
    if theirs == ours:
        return None
    classes = (
        f"it knows {', '.join(map(shown_class, theirs))}; "
        f"the candidate {', '.join(map(shown_class, ours))}"
    )
    target = holdout[candidate.schema.target]
    unseen = target[~target.isin(theirs)]
    if not len(unseen):
        return f"{production} was trained on other classes ({classes}): {INCOMPARABLE}"
    paths = ProjectPaths(project_dir)
    label = unseen.iloc[0]
    return (
        f"{paths.shown(paths.holdout_csv)}: column {target.name!r} has class "
        f"{shown_class(label)} ({int(target.eq(label).sum())} rows) that {production} was "
        f"never trained on ({classes}): {INCOMPARABLE}"
    )


def not_comparable(champion: VersionModel, problem: str) -> Comparison:
    """A failed check, recorded like any other: the verdict stays on file and `promote
    --force --reason` can still override it (an exception would leave no verdict)."""
    check = Check("comparable", False, None, None, problem)
    details = {"production": production_record(champion, None), "test_result": None}
    return Comparison(champion.version.version, None, [check], details)


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
