"""Fault suite, data and storage: hostile data in the pipeline stages and the gate, and a DVC
remote that is down, refuses the credentials or is not there. Each fault ends in exactly one
`error:` line naming the real cause (file, column, class; host and port; the remote), exit 1,
no traceback, and nothing changed: tags, work tree, DVC cache and remote re-hashed.

One project is built per module: v1.0.0 trained on the two classes of breast_cancer; then a
third class added to the raw data and v1.0.1 trained on it (registered before anything was
in production, so its gate had only the floor); then v1.0.0 promoted to production. Every
test works on a private copy (with a private copy of the DVC remote).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import socket
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

import pandas as pd
import pytest

from tests.helpers import copy_trained, dvc, git, pymod
from tests.test_gate_e2e import commit_all, copy_project, gate_report, registry, set_params, tags

pytestmark = pytest.mark.slow

TARGET = "target"
NEW_CLASS_ROWS = 40
SCRATCH = {".git", "tmp", "__pycache__"}  # git's and DVC's own working space
INCOMPARABLE = "one metric cannot rank models whose classes differ"


def add_a_class(project: Path) -> None:
    """Rows of a new class 2: copies of real rows with a far larger mean radius, so the
    class is learnable and the pipeline passes its floor."""
    raw = project / "data" / "raw" / "dataset.csv"
    frame = pd.read_csv(raw)
    extra = frame.head(NEW_CLASS_ROWS).assign(**{TARGET: 2})
    extra["mean radius"] += 100.0
    pd.concat([frame, extra]).to_csv(raw, index=False)


@pytest.fixture(scope="module")
def built(trained_default, tmp_path_factory) -> Path:
    """v1.0.0 (classes 0, 1) in production; v1.0.1 (classes 0, 1, 2) registered at HEAD."""
    project = copy_trained(trained_default, tmp_path_factory.mktemp("built"))  # two classes
    registry(project, "register")
    add_a_class(project)
    dvc(project, "add", "data/raw/dataset.csv")
    dvc(project, "repro")
    commit_all(project, "A third class")
    registry(project, "register")
    # promoted on the hold-out set it was trained with (the gate scores the work tree's)
    checkout(project, "classifier@v1.0.0")
    registry(project, "promote", "v1.0.0", "--stage", "production")
    checkout(project, "main")
    return project


def checkout(project: Path, revision: str) -> None:
    git(project, "checkout", "--quiet", revision)
    dvc(project, "checkout", "--quiet")


@pytest.fixture
def project(built, tmp_path) -> Path:
    return copy_project(built, tmp_path)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def snapshot(project: Path) -> dict:
    """The tags, and every file of the project and of its DVC remote, re-hashed."""
    files = {}
    for root in (project, project.parent / "remote"):
        for path in sorted(root.rglob("*")):
            relative = path.relative_to(project.parent)
            if path.is_file() and not SCRATCH & set(relative.parts):
                files[relative.as_posix()] = sha256(path)
    return {"tags": tags(project), "files": files}


def one_error_line(result) -> str:
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.splitlines()
    return line


def holdout_rows_of(project: Path, label: int) -> int:
    holdout = pd.read_parquet(project / "data" / "prepared" / "holdout.parquet")
    return int((holdout[TARGET] == label).sum())


def new_class_line(project: Path) -> str:
    return (
        f"data/prepared/holdout.parquet: column '{TARGET}' has class 2 "
        f"({holdout_rows_of(project, 2)} rows) that production classifier v1.0.0 was never "
        f"trained on (it knows 0, 1; the candidate 0, 1, 2): {INCOMPARABLE}"
    )


# --- a class production never saw: recorded as a failed check, never a crash -------------


def test_gate_names_the_class_production_never_saw(project):
    """It used to crash: Target is multiclass but average='binary'."""
    before = snapshot(project)
    result = pymod(project, "gate_stage")  # a rejection is recorded: the stage succeeds
    assert (result.stdout, result.stderr) == (f"gate rejected: {new_class_line(project)}\n", "")
    verdict = gate_report(project)
    assert verdict["passed"] is False and verdict["baseline"] is None
    assert verdict["production"]["version"] == "v1.0.0"
    comparable = next(check for check in verdict["checks"] if check["name"] == "comparable")
    assert comparable["passed"] is False
    after = snapshot(project)
    assert after["files"].keys() == before["files"].keys() and after["tags"] == before["tags"]
    changed = {name for name, digest in before["files"].items() if after["files"][name] != digest}
    recorded = {f"{project.name}/metrics/gate.json", f"{project.name}/reports/gate.json"}
    assert changed == recorded  # the recorded verdict, only


def test_promote_refuses_other_classes(project):
    """--force --reason overrides it like any failed gate (as the next test shows)."""
    before = snapshot(project)
    refused = registry(project, "promote", "v1.0.1", "--stage", "production", check=False)
    assert one_error_line(refused) == (
        f"error: gate refused v1.0.1 for production: gate failed: {new_class_line(project)} "
        "(override with --force --reason TEXT)"
    )
    assert snapshot(project) == before


def test_promoting_a_version_that_never_saw_a_class_needs_force(project):
    """Its f1 on today's hold-out set used to crash the promotion gate; now the gate fails,
    on record, and --force --reason overrides it like any failed gate."""
    set_params(project, "gate", stages=["staging"])
    before = snapshot(project)
    promote = ("promote", "v1.0.0", "--stage", "staging")
    assert one_error_line(registry(project, *promote, check=False)) == (
        f"error: gate refused v1.0.0 for staging: gate failed: data/prepared/holdout.parquet: "
        f"column '{TARGET}' has class 2 ({holdout_rows_of(project, 2)} rows) that classifier "
        "v1.0.0 was never trained on (it knows 0, 1); the training data needs rows of every "
        "class (override with --force --reason TEXT)"
    )
    assert snapshot(project) == before
    registry(project, *promote, "--force", "--reason", "the last two-class model")
    (tag,) = tags(project) - before["tags"]
    message = git(project, "tag", "-l", "--format=%(contents)", tag).stdout
    recorded = json.loads(message.partition("\n\n")[2])["gate"]
    assert recorded["passed"] is False and recorded["candidate"] is None
    (check,) = recorded["checks"]
    assert (check["name"], check["value"], check["threshold"]) == ("measurable", None, None)


# --- data the model cannot be measured or trained on: the file and the column are named ---


def test_evaluate_names_a_hold_out_class_the_model_never_learned(project):
    holdout = project / "data" / "prepared" / "holdout.parquet"
    frame = pd.read_parquet(holdout)
    frame.loc[:1, TARGET] = 9
    frame.to_parquet(holdout, index=False)
    before = snapshot(project)
    expected = (
        f"error: data/prepared/holdout.parquet: column '{TARGET}' has class 9 (2 rows) that "
        "models/classifier was never trained on (it knows 0, 1, 2); the training data needs "
        "rows of every class"
    )
    assert one_error_line(pymod(project, "evaluate", check=False)) == expected
    assert snapshot(project) == before  # evaluation.json and the plots untouched


@pytest.mark.parametrize(
    ("fault", "stage", "cause"),
    [
        ("single class", "train", f"data/prepared/train.parquet: column '{TARGET}' has a single "
         "class (0): a classifier needs rows of at least two classes"),
        ("1.7e308", "prepare", "data/raw/dataset.csv: column 'mean radius': '1.7e308' at line 4 "
         "is beyond ±3.4e+38, the float32 range the estimators compute in: rescale the column "
         "(another unit)"),
        ("17,99", "prepare", "data/raw/dataset.csv: line 4 has 32 fields, the header has 31 "
         "(a value holding a comma must be quoted)"),
    ],
)  # fmt: skip
def test_training_data_at_fault_is_named_not_params(project, fault, stage, cause):
    """The first two used to blame params.yaml: train.hyperparams (the second for "contains
    NaN"); the unquoted comma (every later value of its row one column right) used to be
    trained on: pandas' usecols dropped the extra field."""
    if fault == "single class":
        train = project / "data" / "prepared" / "train.parquet"
        pd.read_parquet(train).assign(**{TARGET: 0}).to_parquet(train, index=False)
    else:
        raw = project / "data" / "raw" / "dataset.csv"
        lines = raw.read_text().splitlines()
        lines[3] = fault + lines[3][lines[3].index(",") :]  # 'mean radius' is the first column
        raw.write_text("\n".join(lines) + "\n")
    before = snapshot(project)
    line = one_error_line(pymod(project, stage, check=False))
    assert line == f"error: {cause}"
    assert snapshot(project) == before  # the prepared data and the model files are untouched


# --- the DVC remote down, refusing, or not there: the gate says so -----------------------


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def enforced_credentials(server) -> Iterator[None]:
    """moto checks credentials only when told to (its reset-auth API); dummy keys then get
    403, as a real store refuses a wrong key."""

    def reset_auth(count: bytes) -> None:
        url = f"{server.url}/moto-api/reset-auth"
        # not form-encoded (urllib's default), or moto reads an empty body
        headers = {"Content-Type": "text/plain"}
        request = urllib.request.Request(url, data=count, headers=headers)
        urllib.request.urlopen(request, timeout=10).close()

    reset_auth(b"0")
    try:
        yield
    finally:
        reset_auth(b"inf")


def use_s3_remote(project: Path, endpoint: str) -> str:
    url = "s3://weights-bucket/classifier"
    dvc(project, "remote", "modify", "--local", "storage", "url", url)
    dvc(project, "remote", "modify", "--local", "storage", "endpointurl", endpoint)
    return url


@pytest.mark.parametrize("fault", ["folder missing", "refused", "denied"])
def test_gate_names_what_is_wrong_with_the_remote(project, s3_server, fault):
    """Each used to say the weights were missing and advise pushing them."""
    commit = git(project, "rev-list", "-n1", "classifier@v1.0.0").stdout.strip()
    env = {**s3_server.env(), "AWS_MAX_ATTEMPTS": "1"}  # one attempt: the test stays fast
    if fault == "folder missing":
        missing = project.parent / "no-such-remote"
        dvc(project, "remote", "modify", "--local", "storage", "url", str(missing))
        cause = (
            f"they are not in the DVC cache, and the DVC remote 'storage' ({missing}) does not "
            "exist or holds nothing: check its url (`dvc remote list`)"
        )
    elif fault == "refused":
        port = closed_port()
        url = use_s3_remote(project, f"http://127.0.0.1:{port}")
        refused = f"connection refused by 127.0.0.1:{port}"
        cause = f"cannot reach the DVC remote 'storage' ({url}): {refused}"
    else:
        url = use_s3_remote(project, s3_server.url)
        cause = (
            f"the DVC remote 'storage' ({url}) refused access (Forbidden): check its "
            "credentials and permissions (`dvc remote modify --local`, or the environment)"
        )
    shutil.rmtree(project / ".dvc" / "cache")  # production's weights must come from the remote
    before = snapshot(project)
    with enforced_credentials(s3_server) if fault == "denied" else nullcontext():
        result = pymod(project, "gate_stage", check=False, env=env)
    assert one_error_line(result) == (
        f"error: classifier v1.0.0 (commit {commit[:12]}): cannot load its weights "
        f"models/classifier: {cause}"
    )
    assert snapshot(project) == before
