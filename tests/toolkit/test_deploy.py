"""``registry deploy`` on real git + DVC repositories: a bare git remote, a local DVC remote.

Deploys run as a serving machine would: from another folder, reading the tags of the bare
git remote (``--repo``) and the weights from the DVC remote, never from the project's cache.
"""

import json
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from pipeline_helpers import MODEL_NAME, PACKAGE, PYTHONPATH
from registry_helpers import dvc, git, make_project, retrain, tool_env
from weighbridge.model_io import sha256_file
from weighbridge.registry import deploy_folder
from weighbridge.registry.deploy_folder import (
    MARKER,
    remove_leftovers,
    staging_beside,
)
from weighbridge.storage_errors import one_line, public_url, storage_cause


def registry(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    """The registry CLI as a separate process (deploy may be interrupted with a signal)."""
    env = {**tool_env(), "PYTHONPATH": PYTHONPATH}
    command = [sys.executable, "-m", f"{PACKAGE}.registry", *args]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens once the socket is closed


@pytest.fixture(scope="module")
def hole():
    """A remote endpoint that accepts connections and never answers."""
    black_hole = BlackHole()
    yield black_hole
    black_hole.close()


@pytest.fixture(scope="module")
def published(tmp_path_factory, hole) -> Path:
    """Tags pushed to a bare git remote, weights to a local DVC remote.

    v1.0.0 and v1.1.0 are two trainings; v1.1.1 has v1.1.0's weights but its DVC config
    also names two broken remotes: ``dead`` (nothing listens) and ``hang`` (never answers).
    """
    root = tmp_path_factory.mktemp("published")
    repo = make_project(root)  # its default DVC remote is root / "dvc-remote"
    dvc(repo, "push", "--quiet")
    call_json_ok(repo, "register")
    retrain(repo, 0.95)
    dvc(repo, "push", "--quiet")
    call_json_ok(repo, "register", "--bump", "minor")
    dvc(repo, "remote", "add", "dead", f"http://127.0.0.1:{closed_port()}/dvc")
    dvc(repo, "remote", "add", "hang", f"http://127.0.0.1:{hole.port}/dvc")
    git(repo, "commit", "--quiet", "-am", "broken remotes")
    call_json_ok(repo, "register", "--bump", "patch")
    git(repo, "push", "--quiet", "origin", "main", "--tags")
    shutil.copytree(root / "dvc-remote", root / "dvc-remote.pristine")
    return repo


@pytest.fixture
def project(published) -> Path:
    """The published project; whatever a test does to the DVC remote is undone after it."""
    yield published
    remote = published.parent / "dvc-remote"
    shutil.rmtree(remote)
    shutil.copytree(published.parent / "dvc-remote.pristine", remote)


def call_json_ok(repo: Path, *args: str) -> dict:
    result = registry(repo, *args, "-C", str(repo), "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture
def server(tmp_path) -> Path:
    """A folder on the 'serving machine', outside the project."""
    path = tmp_path / "server"
    path.mkdir()
    return path


def deploy(project: Path, server: Path, *args: str) -> subprocess.CompletedProcess:
    origin = project.parent / "remote.git"
    return registry(server, "deploy", *args, "--repo", str(origin), "--to", str(server / "model"))


def manifest_files(project: Path, version: str) -> dict:
    shown = call_json_ok(project, "show", version)
    return shown["manifest"]["artifact"]["files"]


def remote_object(project: Path, version: str, name: str) -> Path:
    """Where the DVC remote keeps one file of a version (through the .dir listing)."""
    remote = project.parent / "dvc-remote" / "files" / "md5"
    dir_md5 = call_json_ok(project, "show", version)["manifest"]["artifact"]["md5"]
    listing = json.loads((remote / dir_md5[:2] / dir_md5[2:]).read_text())
    (entry,) = [e for e in listing if e["relpath"] == name]
    return remote / entry["md5"][:2] / entry["md5"][2:]


def snapshot(folder: Path) -> dict:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())} if folder.exists() else {}


def leftovers(server: Path) -> list:
    return sorted(p.name for p in server.iterdir() if p.name != "model")


def assert_one_error_line(result: subprocess.CompletedProcess, *words: str) -> None:
    assert result.returncode != 0, result.stdout
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    for word in words:
        assert word in result.stderr, result.stderr


def test_deploy_installs_only_the_model_files_verified(project, server):
    result = deploy(project, server, "--version", "v1.0.0")
    assert result.returncode == 0, result.stderr
    expected = manifest_files(project, "v1.0.0")
    model = server / "model"
    assert sorted(p.name for p in model.iterdir()) == sorted([*expected, "DEPLOYED.json"])
    for name, meta in expected.items():
        assert sha256_file(model / name) == meta["sha256"]
    record = json.loads((model / "DEPLOYED.json").read_text())
    assert record["model"] == MODEL_NAME and record["version"] == "v1.0.0"
    assert record["files"] == expected and record["deployed_at"].endswith("Z")
    assert len(record["commit"]) == 40
    assert leftovers(server) == []


def test_deploy_by_stage_and_replace(project, server):
    assert deploy(project, server, "--version", "v1.0.0").returncode == 0
    if "staging" not in call_json_ok(project, "list")["stages"]:
        call_json_ok(project, "promote", "v1.1.0", "--stage", "staging")
        git(project, "push", "--quiet", "origin", "--tags")
    result = deploy(project, server, "--stage", "staging")
    assert result.returncode == 0, result.stderr
    record = json.loads((server / "model" / "DEPLOYED.json").read_text())
    assert (record["version"], record["stage"]) == ("v1.1.0", "staging")
    expected = manifest_files(project, "v1.1.0")
    assert sha256_file(server / "model" / "model.skops") == expected["model.skops"]["sha256"]
    assert leftovers(server) == []


def test_deploying_the_same_version_again_is_a_noop(project, server):
    assert deploy(project, server, "--version", "v1.0.0").returncode == 0
    before = snapshot(server / "model")
    result = deploy(project, server, "--version", "1.0.0")  # the same version, as in show
    assert result.returncode == 0, result.stderr
    assert "v1.0.0 is already deployed" in result.stdout
    assert snapshot(server / "model") == before


def test_tampered_remote_object_is_refused_and_nothing_changes(project, server):
    assert deploy(project, server, "--version", "v1.0.0").returncode == 0
    before = snapshot(server / "model")
    obj = remote_object(project, "v1.1.0", "model.skops")
    obj.chmod(0o644)
    obj.write_text("not the weights")
    result = deploy(project, server, "--version", "v1.1.0")
    assert_one_error_line(result, "model.skops", "sha256")
    assert snapshot(server / "model") == before
    assert leftovers(server) == []


def test_missing_remote_object_is_refused_and_nothing_changes(project, server):
    assert deploy(project, server, "--version", "v1.0.0").returncode == 0
    before = snapshot(server / "model")
    remote_object(project, "v1.1.0", "model.skops").unlink()
    result = deploy(project, server, "--version", "v1.1.0")
    # The remote answers: the file really is missing, and the line says which.
    assert_one_error_line(result, "v1.1.0", "model.skops is not in the remote storage")
    assert snapshot(server / "model") == before
    assert leftovers(server) == []


def test_the_advice_for_a_missing_remote_object_restores_it(project, server):
    """The advice used to be "dvc push it": dvc answers "Everything is up to date" while the
    remote has the folder's listing, and the object stays missing."""
    remote_object(project, "v1.1.0", "model.skops").unlink()
    assert "Everything is up to date" in dvc(project, "push", "-T").stdout
    refused = deploy(project, server, "--version", "v1.1.0")
    assert refused.returncode == 1
    error = refused.stderr
    dir_md5 = call_json_ok(project, "show", "v1.1.0")["manifest"]["artifact"]["md5"]
    listing = project.parent / "dvc-remote" / "files" / "md5" / dir_md5[:2] / dir_md5[2:]
    assert error.endswith(
        f"model.skops is not in the remote storage (the remote still has the folder's listing "
        f"{listing}, so `dvc push` takes the folder for complete: delete that listing from the "
        "remote, then run `dvc push -T` in a clone whose DVC cache has the files)\n"
    )
    listing.unlink()  # as advised
    dvc(project, "push", "-T")
    assert deploy(project, server, "--version", "v1.1.0").returncode == 0
    deployed = json.loads((server / "model" / "DEPLOYED.json").read_text())
    assert deployed["version"] == "v1.1.0"


def test_dead_remote_endpoint_is_a_clear_error(project, server):
    assert deploy(project, server, "--version", "v1.0.0").returncode == 0
    before = snapshot(server / "model")
    result = deploy(project, server, "--version", "v1.1.1", "--remote", "dead")
    assert_one_error_line(result, "could not fetch", "'dead'", "connection refused by 127.0.0.1:")
    assert snapshot(server / "model") == before
    assert leftovers(server) == []


def test_first_deploy_that_fails_leaves_no_folder(project, server):
    remote_object(project, "v1.0.0", "model.skops").unlink()
    assert deploy(project, server, "--version", "v1.0.0").returncode != 0
    assert list(server.iterdir()) == []


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--version", "v9.9.9"), ("v9.9.9",)),
        (("--stage", "production"), ("production",)),
    ],
)
def test_unknown_version_or_stage(project, server, args, words):
    assert_one_error_line(deploy(project, server, *args), *words)
    assert list(server.iterdir()) == []


def test_unreachable_git_repo(server, tmp_path):
    result = registry(
        server,
        "deploy",
        "--version",
        "v1.0.0",
        "--repo",
        str(tmp_path / "nowhere.git"),
        "--to",
        str(server / "model"),
    )
    nowhere = tmp_path / "nowhere.git"
    # git's cause, not the generic advice on its last line ("… and the repository exists.")
    assert_one_error_line(result, f"{nowhere}: '{nowhere}' does not appear to be a git repository")


class BlackHole:
    """An HTTP 'server' that accepts connections and never answers: a fetch that hangs."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.held = []
        threading.Thread(target=self._hold, daemon=True).start()

    def _hold(self) -> None:
        while True:
            try:
                self.held.append(self.sock.accept()[0])
            except OSError:
                return

    def close(self) -> None:
        for conn in self.held:
            conn.close()
        self.sock.close()


def test_interrupt_during_fetch_keeps_the_previous_deployment(project, server, hole):
    assert deploy(project, server, "--version", "v1.0.0").returncode == 0
    before = snapshot(server / "model")
    origin = project.parent / "remote.git"
    args = ["deploy", "--version", "v1.1.1", "--remote", "hang", "--repo", str(origin)]
    command = [sys.executable, "-m", f"{PACKAGE}.registry", *args, "--to", str(server / "model")]
    env = {**tool_env(), "PYTHONPATH": PYTHONPATH}
    connections = len(hole.held)
    process = subprocess.Popen(command, cwd=server, env=env, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while len(hole.held) == connections and time.monotonic() < deadline:
        time.sleep(0.1)  # wait until the fetch is under way
    assert len(hole.held) > connections, "deploy never reached the remote"
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode != 0
    assert "interrupted" in stderr
    assert snapshot(server / "model") == before
    assert leftovers(server) == []


def test_deploy_from_the_local_project(project, tmp_path):
    # No --repo: the tags of -C's repository, the weights through its own DVC config.
    target = tmp_path / "local-deploy"
    result = registry(
        project, "deploy", "-C", str(project), "--version", "v1.1.0", "--to", str(target)
    )
    assert result.returncode == 0, result.stderr
    assert json.loads((target / "DEPLOYED.json").read_text())["version"] == "v1.1.0"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


# --- what a killed deploy leaves, and who may remove it ------------------------------------


def hold_lock(folder: Path) -> subprocess.Popen:
    """Another process that holds folder locked, as a running deploy holds its staging."""
    code = (
        "import fcntl, os, sys, time\n"
        "fd = os.open(sys.argv[1], os.O_RDONLY)\n"
        "fcntl.flock(fd, fcntl.LOCK_EX)\n"
        "print('locked', flush=True)\n"
        "time.sleep(120)\n"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code, str(folder)], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout.readline() == "locked\n"
    return holder


def test_only_dead_staging_folders_of_this_target_are_removed(tmp_path):
    target = tmp_path / "model"
    staging = {
        name: tmp_path / name
        for name in (
            ".model.deploy-dead0001",  # killed: marker, no lock
            ".model.deploy-dead0002",  # killed before it wrote the marker: empty
            ".model.deploy-live0003",  # a deploy running now: locked
            ".model.deploy-user0004",  # the pattern, but no marker and not empty: not ours
            ".other.deploy-dead0005",  # another target's
            "model.deploy-dead0006",  # not hidden: not a name deploy makes
        )
    }
    for name, folder in staging.items():
        folder.mkdir()
        if "dead" in name or "live" in name:
            (folder / MARKER).write_text("pid 1\n")
            (folder / "model").mkdir()
        if "user" in name:
            (folder / "notes.txt").write_text("mine\n")
    (staging[".model.deploy-dead0002"] / MARKER).unlink()
    shutil.rmtree(staging[".model.deploy-dead0002"] / "model")
    (tmp_path / ".model.deploy-link0007").symlink_to(staging[".other.deploy-dead0005"])
    holder = hold_lock(staging[".model.deploy-live0003"])
    try:
        removed = remove_leftovers(target)
    finally:
        holder.kill()
        holder.wait()
    assert sorted(removed) == [".model.deploy-dead0001", ".model.deploy-dead0002"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".model.deploy-link0007",
        ".model.deploy-live0003",
        ".model.deploy-user0004",
        ".other.deploy-dead0005",
        "model.deploy-dead0006",
    ]
    assert remove_leftovers(target) == [".model.deploy-live0003"]  # its deploy died now


def test_a_running_deploys_staging_is_never_removed(tmp_path):
    target = tmp_path / "model"
    with staging_beside(target) as staging:
        assert (staging / MARKER).is_file()
        assert remove_leftovers(target) == []
        assert staging.is_dir()
    assert list(tmp_path.iterdir()) == []


def test_a_parent_folder_locked_for_long_blocks_no_deploy(tmp_path, monkeypatch):
    monkeypatch.setattr(deploy_folder, "PARENT_LOCK_WAIT_S", 0.2)
    dead = tmp_path / ".model.deploy-dead0001"
    dead.mkdir()
    (dead / MARKER).write_text("pid 1\n")
    holder = hold_lock(tmp_path)  # someone else keeps the parent folder locked
    try:
        with staging_beside(tmp_path / "model") as staging:
            assert staging.is_dir()
    finally:
        holder.kill()
        holder.wait()
    assert sorted(p.name for p in tmp_path.iterdir()) == [dead.name]  # removed only when locked


def test_remote_urls_are_shown_without_credentials():
    assert public_url("https://alice:s3cr3t@dvc.example.com/x") == "https://dvc.example.com/x"
    assert public_url("s3://bucket/prefix") == "s3://bucket/prefix"
    error = OSError("cannot reach https://bob:token@dvc.example.com/x")
    assert one_line(error) == "cannot reach https://dvc.example.com/x"


def test_a_refused_connection_is_named_under_any_wrapper():
    try:
        socket.create_connection(("127.0.0.1", closed_port()), timeout=5)
    except ConnectionRefusedError as refused:
        wrapped = FileNotFoundError(2, "No storage files available", "models/model.skops")
        wrapped.__context__ = PermissionError("Forbidden")
        wrapped.__context__.__cause__ = refused
        assert storage_cause(wrapped) == "connection refused by the remote"
    else:
        pytest.fail("something listens on a closed port")
    assert storage_cause(FileNotFoundError(2, "No storage files available")) is None
