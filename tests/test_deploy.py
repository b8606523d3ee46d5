"""End to end on a baked default project (local DVC remote): train, push, register, then
deploy on a 'serving machine' folder from the bare git remote, predict, verify."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest

from tests.helpers import (
    copy_trained,
    git,
    package_of,
    project_pythonpath,
    pymod,
    register_first,
    remote_url,
    run,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def released(trained_default, tmp_path_factory) -> Path:
    """Default bake, pipeline run and committed, data pushed, v1.0.0 registered and pushed."""
    project = copy_trained(trained_default, tmp_path_factory.mktemp("released"))
    register_first(project)
    origin = tmp_path_factory.mktemp("origin") / "project.git"
    git(project, "init", "--quiet", "--bare", str(origin))
    git(project, "remote", "add", "origin", str(origin))
    git(project, "push", "--quiet", "origin", "main", "--tags")
    return project


def registry_from(project: Path, cwd: Path, *args: str, check: bool = True):
    """The baked project's registry CLI run from another folder (a serving machine)."""
    command = ["python", "-m", f"{package_of(project)}.registry", *args]
    return run(command, cwd, check=check, env={"PYTHONPATH": project_pythonpath(project)})


def manifest(project: Path, version: str) -> dict:
    shown = pymod(project, "registry", "show", version, "--json").stdout
    return json.loads(shown)["manifest"]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_deploy_from_git_remote_then_predict(released, tmp_path):
    origin = Path(git(released, "remote", "get-url", "origin").stdout.strip())
    target = tmp_path / "serving" / "model"
    args = ("deploy", "--version", "v1.0.0", "--repo", str(origin), "--to", str(target))
    result = registry_from(released, tmp_path, *args)
    assert "deployed" in result.stdout
    files = manifest(released, "v1.0.0")["artifact"]["files"]
    assert sorted(p.name for p in target.iterdir()) == sorted([*files, "DEPLOYED.json"])
    for name, meta in files.items():
        assert sha256(target / name) == meta["sha256"], name
    record = json.loads((target / "DEPLOYED.json").read_text())
    assert record["version"] == "v1.0.0" and record["files"] == files

    again = registry_from(released, tmp_path, *args)
    assert "already deployed" in again.stdout

    rows = pd.read_csv(released / "data" / "raw" / "dataset.csv").head(7)
    signature = json.loads((target / "signature.json").read_text())
    rows = rows[[column["name"] for column in signature["inputs"]]]
    rows.to_csv(tmp_path / "rows.csv", index=False)
    command = ["python", "-m", f"{package_of(released)}.predict", "--model", str(target)]
    command += ["--input", str(tmp_path / "rows.csv"), "--output", str(tmp_path / "out.json")]
    run(command, tmp_path, env={"PYTHONPATH": project_pythonpath(released)})
    predictions = json.loads((tmp_path / "out.json").read_text())
    assert len(predictions) == 7 and "prediction" in predictions[0]

    bad = rows.drop(columns=rows.columns[0])
    bad.to_csv(tmp_path / "bad.csv", index=False)
    command[-4:] = ["--input", str(tmp_path / "bad.csv")]
    result = run(command, tmp_path, check=False, env={"PYTHONPATH": project_pythonpath(released)})
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"error: {tmp_path / 'bad.csv'}: column {rows.columns[0]!r}: missing (the model needs it)"
    )


def test_verify_rebuilds_the_same_weights(released):
    result = pymod(released, "registry", "verify", "v1.0.0")
    assert result.stdout.startswith("reproducible: ")
    assert "model.skops" in result.stdout


def test_tampered_remote_is_refused_and_previous_deployment_kept(released, tmp_path):
    origin = Path(git(released, "remote", "get-url", "origin").stdout.strip())
    target = tmp_path / "model"
    args = ("deploy", "--version", "v1.0.0", "--repo", str(origin), "--to", str(target))
    remote = Path(remote_url(released))
    weights = manifest(released, "v1.0.0")["artifact"]["files"]["model.skops"]
    (obj,) = [
        p
        for p in (remote / "files" / "md5").rglob("*")
        if p.is_file() and p.stat().st_size == weights["bytes"] and sha256(p) == weights["sha256"]
    ]
    original = obj.read_bytes()
    obj.chmod(0o644)
    try:
        obj.write_bytes(original[:-1] + bytes([original[-1] ^ 1]))
        result = registry_from(released, tmp_path, *args, check=False)
    finally:
        obj.write_bytes(original)
    assert result.returncode == 1
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert "model.skops: sha256" in result.stderr
    assert list(tmp_path.iterdir()) == []  # no folder, no staging leftovers
