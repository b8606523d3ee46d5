"""storage=s3 against a real S3-compatible server (moto, on 127.0.0.1): push, fresh clone,
pull, deploy; and the server going away in the middle, then coming back."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import bake_ok, package_of, project_pythonpath
from tests.s3_server import S3Server
from tests.test_gate_e2e import set_params

pytestmark = pytest.mark.slow
PREFIX = "models-team/project"


def sh(cwd: Path, s3: S3Server, project: Path, *args: str, check: bool = True):
    """A command with the S3 credentials and endpoint in its environment (only there)."""
    env = s3.env()
    env["PYTHONPATH"] = project_pythonpath(project)
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(args)} exited {result.returncode}\n{result.stderr}")
    return result


def dvc(cwd: Path, s3: S3Server, project: Path, *args: str, check: bool = True):
    return sh(cwd, s3, project, sys.executable, "-m", "dvc", *args, check=check)


def git(cwd: Path, *args: str) -> str:
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return result.stdout


def registry(cwd: Path, s3: S3Server, project: Path, *args: str, check: bool = True):
    module = f"{package_of(project)}.registry"
    return sh(cwd, s3, project, sys.executable, "-m", module, *args, check=check)


def workspace_changes(cwd: Path, s3: S3Server, project: Path) -> dict:
    """`dvc status` minus the gate, which is always changed by design."""
    status = json.loads(dvc(cwd, s3, project, "status", "--json").stdout or "{}")
    return {stage: what for stage, what in status.items() if what != ["always changed"]}


def remote_objects_are_intact(s3: S3Server, bucket: str) -> int:
    """Every object in the remote hashes to its own name (DVC's md5 layout)."""
    objects = s3.objects(bucket, PREFIX)
    client = s3.client()
    for key in objects:
        expected = "".join(key.split("/files/md5/")[1].split("/")).removesuffix(".dir")
        body = client.get_object(Bucket=bucket, Key=key)["Body"].read()
        assert hashlib.md5(body).hexdigest() == expected, key
    return len(objects)


@pytest.fixture
def s3_project(cookies, s3_server, s3_bucket, tmp_path) -> Path:
    """An s3 bake, trained and committed (nothing pushed yet), with a bare git remote."""
    project = bake_ok(
        cookies,
        storage="s3",
        s3_bucket=s3_bucket,
        s3_prefix=PREFIX,
        s3_endpoint_url=s3_server.url,
    )
    config = (project / ".dvc" / "config").read_text()
    assert f"s3://{s3_bucket}/{PREFIX}" in config and s3_server.url in config
    assert "secret" not in config.lower() and "access_key" not in config.lower()
    dvc(project, s3_server, project, "repro")
    git(project, "add", "-A")
    git(project, "commit", "--quiet", "-m", "train")
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "--quiet", "--bare", str(origin))
    git(project, "remote", "add", "origin", str(origin))
    return project


def test_push_clone_pull_deploy(s3_project, s3_server, s3_bucket, tmp_path):
    project = s3_project
    dvc(project, s3_server, project, "push")
    assert remote_objects_are_intact(s3_server, s3_bucket) > 0
    registry(project, s3_server, project, "register")
    git(project, "push", "--quiet", "origin", "main", "--tags")

    clone = tmp_path / "clone"
    git(tmp_path, "clone", "--quiet", str(tmp_path / "origin.git"), str(clone))
    dvc(clone, s3_server, project, "pull")
    assert workspace_changes(clone, s3_server, project) == {}
    lock = (project / "dvc.lock").read_text()
    assert lock == (clone / "dvc.lock").read_text()

    target = tmp_path / "serving" / "model"
    origin = str(tmp_path / "origin.git")
    registry(
        tmp_path,
        s3_server,
        project,
        "deploy",
        "--version",
        "v1.0.0",
        "--repo",
        origin,
        "--to",
        str(target),
    )
    record = json.loads((target / "DEPLOYED.json").read_text())
    for name, meta in record["files"].items():
        assert hashlib.sha256((target / name).read_bytes()).hexdigest() == meta["sha256"]


def test_server_down_during_push_then_retry(s3_project, s3_server, s3_bucket):
    project = s3_project
    s3_server.stop()
    try:
        failed = dvc(project, s3_server, project, "push", check=False)
    finally:
        s3_server.start()
    assert failed.returncode != 0
    assert "ERROR" in failed.stderr
    dvc(project, s3_server, project, "push")
    in_sync = dvc(project, s3_server, project, "status", "--cloud")
    assert "in sync" in in_sync.stdout, in_sync.stdout
    assert remote_objects_are_intact(s3_server, s3_bucket) > 0


def test_server_down_during_pull_and_deploy_then_retry(s3_project, s3_server, tmp_path):
    project = s3_project
    dvc(project, s3_server, project, "push")
    registry(project, s3_server, project, "register")
    git(project, "push", "--quiet", "origin", "main", "--tags")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "--quiet", str(tmp_path / "origin.git"), str(clone))
    target = tmp_path / "serving" / "model"
    deploy = ("deploy", "--version", "v1.0.0", "--repo", str(tmp_path / "origin.git"))
    deploy += ("--to", str(target))

    s3_server.stop()
    try:
        pulled = dvc(clone, s3_server, project, "pull", check=False)
        deployed = registry(tmp_path, s3_server, project, *deploy, check=False)
    finally:
        s3_server.start()
    assert pulled.returncode != 0 and "ERROR" in pulled.stderr
    assert deployed.returncode == 1 and deployed.stderr.count("\n") == 1
    assert deployed.stderr.startswith("error: could not fetch")
    assert not (tmp_path / "serving").exists() or list((tmp_path / "serving").iterdir()) == []

    dvc(clone, s3_server, project, "pull")
    assert workspace_changes(clone, s3_server, project) == {}  # matches dvc.lock: nothing corrupt
    in_sync = dvc(clone, s3_server, project, "status", "--cloud")
    assert "in sync" in in_sync.stdout, in_sync.stdout
    registry(tmp_path, s3_server, project, *deploy)
    assert json.loads((target / "DEPLOYED.json").read_text())["version"] == "v1.0.0"


def test_gc_keeps_what_another_clone_pushed_before_its_tag(s3_project, s3_server, s3_bucket,
                                                           tmp_path):  # fmt: skip
    """The grace period on S3 (the age is the object's LastModified): clone A's v1.0.1 is
    pushed to the bucket, its tag is not on the git remote, clone B's gc keeps it."""
    clone_b = s3_project
    dvc(clone_b, s3_server, clone_b, "push")
    registry(clone_b, s3_server, clone_b, "register")
    git(clone_b, "push", "--quiet", "origin", "main", "--tags")
    clone_a = tmp_path / "clone-a"
    shutil.copytree(clone_b, clone_a, symlinks=True)
    before = s3_server.objects(s3_bucket, PREFIX)
    set_params(clone_a, "train", hyperparams={"C": 3.0})
    dvc(clone_a, s3_server, clone_a, "repro")
    git(clone_a, "commit", "--quiet", "-am", "C=3")
    dvc(clone_a, s3_server, clone_a, "push")
    registry(clone_a, s3_server, clone_a, "register")  # the tag stays in clone A
    from_a = set(s3_server.objects(s3_bucket, PREFIX)) - set(before)
    assert from_a

    def keys(paths: list[str]) -> set[str]:  # "bucket/prefix/files/…" -> "prefix/files/…"
        return {path.split("/", 1)[1] for path in paths}

    gc = ("gc", "--json")
    dry = json.loads(registry(clone_b, s3_server, clone_b, *gc, "--dry-run").stdout)
    assert keys(dry["kept_young"]) == from_a and not keys(dry["would_remove"]) & from_a
    done = json.loads(registry(clone_b, s3_server, clone_b, *gc).stdout)
    assert keys(done["kept_young"]) == from_a and done["kept_unknown_age"] == []
    assert from_a <= set(s3_server.objects(s3_bucket, PREFIX))
    remote_objects_are_intact(s3_server, s3_bucket)

    # Without the grace period they would go (old enough: the clock has moved on since).
    unsafe = json.loads(registry(clone_b, s3_server, clone_b, *gc, "--grace-days", "0").stdout)
    assert unsafe["removed"]["remote"] == len(from_a) and unsafe["kept_young"] == []
    assert not from_a & set(s3_server.objects(s3_bucket, PREFIX))
