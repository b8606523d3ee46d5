"""The registry enforces what the gate stage only records (issue 9), end to end on a bake.

- `register` puts the version's weights on the DVC remote before it writes the tag: a
  version never `dvc push`ed deploys from a fresh clone; a remote that is down is named
  in one line, and nothing is written anywhere.
- `register` re-checks a verdict recorded against another production than the one there
  now (the verdict of a run before a promotion, or of a run that saw no tags).

One bake per module: the default project trained with C=1.0 and committed, never pushed.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import pytest

from tests.helpers import (
    copy_trained,
    dvc,
    git,
    package_of,
    project_pythonpath,
    pymod,
    retrain,
    run,
)

pytestmark = pytest.mark.slow

MODEL = "classifier"
REMOTE_SUFFIX = "-dvc-remote"


@pytest.fixture(scope="module")
def trained(trained_default, tmp_path_factory) -> Path:
    """The default bake trained with C=1.0 and committed (a copy of the session's)."""
    return copy_trained(trained_default, tmp_path_factory.mktemp("trained"))


def copy_of(project: Path, tmp_path: Path, remote_url: str | None = None) -> Path:
    """The project with its DVC cache and its own (empty) remote, committed as such so that
    a clone of it uses that remote too."""
    copy = tmp_path / project.name
    shutil.copytree(project, copy, symlinks=True)
    remote = tmp_path / f"{project.name}{REMOTE_SUFFIX}"
    remote.mkdir()
    dvc(copy, "remote", "modify", "storage", "url", remote_url or str(remote))
    git(copy, "commit", "--quiet", "-am", "this copy's DVC remote")
    return copy


def registry(project: Path, *args: str, check: bool = True, **kwargs):
    return pymod(project, "registry", *args, check=check, **kwargs)


def tags(project: Path) -> list[str]:
    return sorted(git(project, "tag").stdout.split())


def one_error(result) -> str:
    assert result.returncode == 1, result.stdout
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def files_of(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


# --- the weights are on the remote before the tag names them -----------------------------


def test_a_version_never_pushed_deploys_from_a_fresh_clone(trained, tmp_path):
    project = copy_of(trained, tmp_path)
    remote = tmp_path / f"{project.name}{REMOTE_SUFFIX}"
    assert files_of(remote) == {}  # nobody ran dvc push
    registry(project, "register")
    weights = files_of(project / "models" / MODEL)
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "--quiet", "--bare", str(origin))
    git(project, "push", "--quiet", str(origin), "main", "--tags")
    server, target = tmp_path / "server", tmp_path / "server" / "serving"
    server.mkdir()
    args = ("deploy", "--version", "v1.0.0", "--repo", str(origin), "--to", str(target))
    command = ["python", "-m", f"{package_of(project)}.registry", *args]
    run(command, server, env={"PYTHONPATH": project_pythonpath(project)})
    assert json.loads((target / "DEPLOYED.json").read_text())["version"] == "v1.0.0"
    deployed = {name: digest for name, digest in files_of(target).items() if name in weights}
    assert deployed == weights


def test_a_remote_that_is_down_refuses_the_register_and_writes_nothing(
    trained, tmp_path, s3_server, s3_bucket
):
    url = f"s3://{s3_bucket}/dvc"
    project = copy_of(trained, tmp_path, remote_url=url)
    dvc(project, "remote", "modify", "storage", "endpointurl", s3_server.url)
    git(project, "commit", "--quiet", "-am", "remote on S3")
    env = s3_server.env()
    dvc(project, "push", "prepare", env=env)  # the data is there already: it must stay intact
    before = remote_objects(s3_server, s3_bucket)
    assert before
    s3_server.stop()
    try:
        failed = registry(project, "register", check=False, env=env)
    finally:
        s3_server.start()
    port = s3_server.url.rsplit(":", 1)[1]
    assert one_error(failed) == (
        f"error: cannot put the weights of {MODEL} v1.0.0 (models/{MODEL}) on DVC remote "
        f"'storage' ({url} at {s3_server.url}): connection refused by 127.0.0.1:{port}"
    )
    assert tags(project) == []
    assert remote_objects(s3_server, s3_bucket) == before
    assert git(project, "status", "--porcelain").stdout == ""


def remote_objects(server, bucket: str) -> dict[str, str]:
    client = server.client()
    return {
        key: hashlib.sha256(client.get_object(Bucket=bucket, Key=key)["Body"].read()).hexdigest()
        for key in server.objects(bucket)
    }


# --- a verdict about another production is judged again ------------------------------------


def recorded_production(project: Path):
    return json.loads((project / "reports" / "gate.json").read_text())["production"]


def test_a_verdict_recorded_against_another_production_is_judged_again(trained, tmp_path):
    project = copy_of(trained, tmp_path)
    registry(project, "register")  # v1.0.0: C=1.0, accuracy 0.966
    retrain(project, 0.003)  # accuracy 0.932: passes the floor while nothing is in production
    git(project, "checkout", "--quiet", "-b", "better", "main~1")
    retrain(project, 0.1)  # accuracy 0.979
    assert recorded_production(project) is None
    registry(project, "promote", "v1.0.0", "--stage", "production")

    # 0.979 is better than production's 0.966: registered, with the verdict judged now
    registry(project, "register")
    manifest = json.loads(registry(project, "show", "v1.0.1", "--json").stdout)["manifest"]
    assert manifest["gate"]["production"]["version"] == "v1.0.0"
    assert manifest["gate"]["passed"] is True and manifest["metrics"]["gate"]["baseline"] > 0.96

    # 0.932 passed against no production; against v1.0.0 it is 0.034 worse: refused
    git(project, "checkout", "--quiet", "main")
    dvc(project, "checkout")
    assert recorded_production(project) is None
    before = tags(project)
    refused = one_error(registry(project, "register", check=False))
    assert re.fullmatch(
        r"error: HEAD's gate verdict was recorded against no production; re-checked against "
        r"production v1\.0\.0 \(commit [0-9a-f]{8}\): gate failed: accuracy 0\.9315 vs "
        r"production v1\.0\.0 0\.9658: .*\(max_regression 0\.02\); not registering "
        r"\(override with --force --reason TEXT\)",
        refused,
    ), refused
    assert tags(project) == before
