"""Fault suite for ``registry deploy`` on a real baked project (issue 8).

Deploy never destroys what it does not own: the project, a folder with anyone else's
files, a link to either. A deploy killed with SIGKILL leaves the deployed folder valid and
the next deploy removes what it left. A disk that refuses, or a DVC remote that is gone,
down or refuses the credentials, is one ``error:`` line naming the real cause.

Every case checks the exit code, the one error line, that no traceback was printed, and
that the folders around are byte for byte as they were (every file re-hashed, ``.git``
included).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import (
    copy_trained,
    dvc,
    git,
    package_of,
    project_pythonpath,
    pymod,
    register_first,
)

# One worker runs the whole module (make test: -n 2 --dist loadgroup), so the bake and
# training below happen once, not once per worker.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("faults-deploy")]

MODEL_DIR = "models/classifier"  # the default bake's model (model_name "classifier")


@pytest.fixture(scope="module")
def released(trained_default, tmp_path_factory) -> Path:
    """Default bake trained, pushed, v1.0.0 and v1.1.0 registered and pushed to a bare origin.

    v1.1.0 tags a later commit with the same weights: training twice costs 20 s, and a
    deploy of another version replaces the folder all the same (new DEPLOYED.json).
    """
    project = copy_trained(trained_default, tmp_path_factory.mktemp("released"))
    register_first(project)
    with (project / "README.md").open("a") as readme:
        readme.write("\nServed from a deployed folder.\n")
    git(project, "commit", "--quiet", "-am", "docs")
    pymod(project, "registry", "register", "--bump", "minor")
    origin = tmp_path_factory.mktemp("origin") / "project.git"
    git(project, "init", "--quiet", "--bare", str(origin))
    git(project, "remote", "add", "origin", str(origin))
    git(project, "push", "--quiet", "origin", "main", "--tags")
    return project


@pytest.fixture(scope="module")
def deployment(released, tmp_path_factory) -> Path:
    """A folder v1.0.0 was deployed into: copy it to get an earlier deployment."""
    target = tmp_path_factory.mktemp("deployed") / "model"
    args = ("--version", "v1.0.0", "--repo", origin_of(released), "--to", str(target))
    result = deploy(released, target.parent, *args)
    assert result.returncode == 0, result.stderr
    return target


def origin_of(project: Path) -> str:
    return git(project, "remote", "get-url", "origin").stdout.strip()


def deploy_command(project: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", f"{package_of(project)}.registry", "deploy", *args]


def deploy_env(project: Path, env: dict | None = None) -> dict[str, str]:
    """env (default: this process's) with the baked project's code importable."""
    return {**(os.environ if env is None else env), "PYTHONPATH": project_pythonpath(project)}


def deploy(
    project: Path, cwd: Path, *args: str, env: dict | None = None
) -> subprocess.CompletedProcess:
    """``registry deploy`` as a separate process, in cwd (a serving machine, or the project)."""
    return subprocess.run(
        deploy_command(project, *args),
        cwd=cwd,
        env=deploy_env(project, env),
        capture_output=True,
        text=True,
        timeout=300,
    )


def tree(folder: Path) -> dict[str, str]:
    """Every entry under folder (hidden ones and .git included): sha256, link, dir or mode."""
    state = {}
    for path in sorted(folder.rglob("*")):
        name = path.relative_to(folder).as_posix()
        if path.is_symlink():
            state[name] = "link:" + os.readlink(path)
        elif path.is_dir():
            state[name] = "dir"
        elif not path.is_file():
            state[name] = f"special:{path.stat().st_mode:o}"  # a FIFO: reading it would block
        else:
            state[name] = hashlib.sha256(path.read_bytes()).hexdigest()
    return state


def assert_one_error(result: subprocess.CompletedProcess, pattern: str) -> None:
    """Non-zero exit, exactly one ``error:`` line matching pattern, no traceback."""
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert re.fullmatch(pattern, lines[0]), f"{lines[0]!r} !~ {pattern!r}"


def assert_valid_deployment(target: Path, versions: set[str]) -> str:
    """What predict checks: DEPLOYED.json lists every file, each with its sha256."""
    record = json.loads((target / "DEPLOYED.json").read_text())
    assert record["version"] in versions, record["version"]
    present = {p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file()}
    assert present == {*record["files"], "DEPLOYED.json"}
    for name, meta in record["files"].items():
        assert hashlib.sha256((target / name).read_bytes()).hexdigest() == meta["sha256"], name
    return record["version"]


# --- data loss: deploy never replaces what it does not own ---------------------------------


@pytest.fixture
def project_copy(released, tmp_path) -> Path:
    """A copy of the project with uncommitted work in it (a deploy there would lose it)."""
    copy = tmp_path / "work" / released.name
    shutil.copytree(released, copy, symlinks=True)
    (copy / "NOTES.md").write_text("uncommitted work\n")
    (tmp_path / "link-to-project").symlink_to(copy, target_is_directory=True)
    return copy


@pytest.mark.parametrize(
    ("to", "what"),
    [(".", "is"), ("..", "contains"), ("../../link-to-project", "is")],
    ids=["dot", "parent", "link-to-it"],
)
def test_deploy_into_the_project_is_refused_untouched(project_copy, tmp_path, to, what):
    before = tree(tmp_path)
    result = deploy(project_copy, project_copy, "--version", "v1.0.0", "--to", to)
    target = re.escape(str((project_copy / to).resolve()))
    assert_one_error(
        result,
        rf"error: --to {target}: {what} the project {re.escape(str(project_copy))}; "
        r"deploy into a folder of its own \(nothing was changed\)",
    )
    assert tree(tmp_path) == before


def user_files(folder: Path, deployment: Path) -> None:
    folder.mkdir()
    (folder / "keep.txt").write_text("mine\n")


def hidden_file(folder: Path, deployment: Path) -> None:
    folder.mkdir()
    (folder / ".env").write_text("SECRET=1\n")


def deployment_plus_user_file(folder: Path, deployment: Path) -> None:
    shutil.copytree(deployment, folder)
    (folder / "notes.txt").write_text("mine\n")


def deployment_plus_folder(folder: Path, deployment: Path) -> None:
    shutil.copytree(deployment, folder)
    (folder / "logs").mkdir()


def record_is_a_link(folder: Path, deployment: Path) -> None:
    shutil.copytree(deployment, folder)
    (folder / "DEPLOYED.json").unlink()
    (folder / "DEPLOYED.json").symlink_to(deployment / "DEPLOYED.json")


def record_is_a_fifo(folder: Path, deployment: Path) -> None:
    """Opening a FIFO for reading waits for a writer: forever, unless deploy never does."""
    shutil.copytree(deployment, folder)
    (folder / "DEPLOYED.json").unlink()
    os.mkfifo(folder / "DEPLOYED.json")


def weights_are_a_link(folder: Path, deployment: Path) -> None:
    shutil.copytree(deployment, folder)
    (folder / "model.skops").unlink()
    (folder / "model.skops").symlink_to(deployment / "model.skops")


def record_not_json(folder: Path, deployment: Path) -> None:
    shutil.copytree(deployment, folder)
    (folder / "DEPLOYED.json").write_text("{")


def record_lists_outside(folder: Path, deployment: Path) -> None:
    """A record that claims a file outside the folder is no record deploy wrote."""
    shutil.copytree(deployment, folder)
    record = json.loads((folder / "DEPLOYED.json").read_text())
    record["files"]["../escape.txt"] = {"sha256": "0" * 64}
    (folder / "DEPLOYED.json").write_text(json.dumps(record))


def a_file(folder: Path, deployment: Path) -> None:
    folder.write_text("not a folder\n")


FOREIGN = {
    user_files: r"it holds keep\.txt and no DEPLOYED\.json",
    hidden_file: r"it holds \.env and no DEPLOYED\.json",
    deployment_plus_user_file: r"it holds notes\.txt, which its DEPLOYED\.json does not list",
    deployment_plus_folder: r"it holds logs/, which its DEPLOYED\.json does not list",
    record_is_a_link: r"its DEPLOYED\.json is a symbolic link",
    record_is_a_fifo: r"its DEPLOYED\.json is not a file deploy wrote",
    weights_are_a_link: r"it holds model\.skops, a symbolic link no deployment makes",
    record_not_json: r"its DEPLOYED\.json is not valid JSON",
    record_lists_outside: r"its DEPLOYED\.json is not one deploy writes "
    r"\(model, version, commit, files\)",
    a_file: r"it exists and is not a folder",
}


@pytest.mark.parametrize("make", list(FOREIGN), ids=[make.__name__ for make in FOREIGN])
def test_a_folder_deploy_does_not_own_is_refused_untouched(released, deployment, tmp_path, make):
    target = tmp_path / "srv"
    make(target, deployment)
    before = tree(tmp_path)
    result = deploy(
        released, tmp_path, "--version", "v1.1.0", "--repo", origin_of(released), "--to", "srv"
    )
    rule = r"deploy replaces only an empty folder or an earlier deployment \(nothing was changed\)"
    assert_one_error(result, rf"error: --to {re.escape(str(target))}: {FOREIGN[make]}; {rule}")
    assert tree(tmp_path) == before


def test_a_link_to_nowhere_is_refused(released, tmp_path):
    (tmp_path / "srv").symlink_to(tmp_path / "nowhere")
    before = tree(tmp_path)
    result = deploy(released, tmp_path, "--version", "v1.0.0", "--to", "srv")
    link = re.escape(str(tmp_path / "srv"))
    assert_one_error(result, rf"error: --to {link}: a symbolic link to nowhere \(.*\)")
    assert tree(tmp_path) == before


def test_an_empty_folder_or_a_damaged_deployment_is_ours(released, deployment, tmp_path):
    """The strict rules still let deploy do its job: fill an empty folder, repair its own."""
    origin = origin_of(released)
    empty = tmp_path / "empty"
    empty.mkdir()
    result = deploy(released, tmp_path, "--version", "v1.0.0", "--repo", origin, "--to", "empty")
    assert result.returncode == 0, result.stderr
    assert_valid_deployment(empty, {"v1.0.0"})

    damaged = tmp_path / "damaged"
    shutil.copytree(deployment, damaged)
    (damaged / "model.skops").write_bytes(b"truncated")
    (damaged / "signature.json").unlink()
    result = deploy(released, tmp_path, "--version", "v1.1.0", "--repo", origin, "--to", "damaged")
    assert result.returncode == 0, result.stderr
    assert_valid_deployment(damaged, {"v1.1.0"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["damaged", "empty"]


# --- kill -9 at random moments ---------------------------------------------------------------

MAX_KILLS = 8
KILL_BUDGET_S = 40.0


def test_kill_9_keeps_the_deployment_valid_and_the_next_deploy_cleans_up(released, tmp_path):
    """Real SIGKILLs at random moments of real deploys (--repo: tag fetch, dvc clone too).

    After each kill the folder is the previous deployment or the new one, whole; the final
    deploy leaves no staging folder beside it and nothing in TMPDIR (tag repositories,
    dvc's clones), whatever the kills left.
    """
    server, tmp = tmp_path / "server", tmp_path / "tmp"
    server.mkdir()
    tmp.mkdir()
    target = server / "model"
    env = {**os.environ, "TMPDIR": str(tmp)}
    args = ("--repo", origin_of(released), "--to", str(target), "--version")

    started = time.monotonic()
    first = deploy(released, server, *args, "v1.0.0", env=env)
    assert first.returncode == 0, first.stderr
    duration = time.monotonic() - started
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    current, kills = "v1.0.0", 0
    deadline = time.monotonic() + KILL_BUDGET_S
    while kills < MAX_KILLS and time.monotonic() < deadline:
        wanted = "v1.1.0" if current == "v1.0.0" else "v1.0.0"
        process = subprocess.Popen(
            deploy_command(released, *args, wanted),
            cwd=server,
            env=deploy_env(released, env),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(0.05, duration))
        process.kill()  # SIGKILL: no handler, no clean-up, like the OOM killer or a power cut
        kills += process.wait() == -signal.SIGKILL
        current = assert_valid_deployment(target, {current, wanted})
    assert kills >= 3, f"only {kills} deploys were killed before they ended (seed {seed})"

    final = "v1.1.0" if current == "v1.0.0" else "v1.0.0"
    result = deploy(released, server, *args, final, env=env)
    assert result.returncode == 0, result.stderr
    assert_valid_deployment(target, {final})
    assert os.listdir(server) == ["model"], f"seed {seed}: leftovers beside the target"
    assert os.listdir(tmp) == [], f"seed {seed}: leftovers in TMPDIR"


# --- a disk that refuses ---------------------------------------------------------------------


@pytest.fixture
def read_only_folder(tmp_path) -> Path:
    """A folder nobody may create anything in, root included (tests often run as root).

    As root, chmod stops nothing: the immutable attribute (chattr +i) does.
    """
    folder = tmp_path / "read-only"
    folder.mkdir()
    if os.geteuid() != 0:
        folder.chmod(0o555)
        try:
            yield folder
        finally:
            folder.chmod(0o755)
        return
    if shutil.which("chattr") is None:
        pytest.skip("running as root without chattr: no folder root cannot write into")
    made = subprocess.run(["chattr", "+i", str(folder)], capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"running as root and chattr +i is refused here: {made.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["chattr", "-i", str(folder)], check=True)


def test_deploy_under_a_file_names_it(released, tmp_path):
    (tmp_path / "afile").write_text("a file\n")
    before = tree(tmp_path)
    for to in ("afile/model", "afile/deeper/model"):
        result = deploy(released, tmp_path, "--version", "v1.0.0", "--to", to)
        target = re.escape(str(tmp_path / to))
        where = re.escape(str(tmp_path / "afile"))
        assert_one_error(
            result,
            rf"error: --to {target}: cannot create it: {where} is a file, "
            r"not a folder",
        )
        assert tree(tmp_path) == before


def test_deploy_into_a_read_only_folder_names_it(released, read_only_folder, tmp_path):
    before = tree(tmp_path)
    cause = r"\((Operation not permitted|Permission denied)\)"
    cases = {
        "model": rf"cannot write into {re.escape(str(read_only_folder))} {cause}",
        "new/model": rf"cannot create {re.escape(str(read_only_folder / 'new'))} {cause}",
    }
    for to, expected in cases.items():
        target = read_only_folder / to
        result = deploy(released, tmp_path, "--version", "v1.0.0", "--to", str(target))
        assert_one_error(result, rf"error: --to {re.escape(str(target))}: {expected}")
    assert tree(tmp_path) == before


# --- a DVC remote that is gone, down or refuses the credentials ------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def s3_env(empty: Path) -> dict[str, str]:
    """Dummy credentials and no way to reach AWS; one attempt, so a refusal is quick.

    ``empty`` is an empty file for botocore's config and credentials files.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    empty.write_text("")
    env.update(
        AWS_ACCESS_KEY_ID="not-a-key",
        AWS_SECRET_ACCESS_KEY="not-a-secret",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_EC2_METADATA_DISABLED="true",
        AWS_MAX_ATTEMPTS="1",
        AWS_CONFIG_FILE=str(empty),
        AWS_SHARED_CREDENTIALS_FILE=str(empty),
        NO_PROXY="127.0.0.1",
    )
    return env


@pytest.fixture
def refusing_s3(tmp_path) -> str:
    """A real S3 server (moto) that checks credentials: ours are unknown to it."""
    port = free_port()
    env = {**s3_env(tmp_path / "aws-empty"), "INITIAL_NO_AUTH_ACTION_COUNT": "0"}
    command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    server = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        else:
            pytest.fail("moto server did not start")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture
def offline_copy(released, deployment, tmp_path) -> tuple[Path, Path]:
    """A project copy with no DVC cache (so deploy must use the remote) and a deployment."""
    copy = tmp_path / released.name
    shutil.copytree(released, copy, symlinks=True)
    shutil.rmtree(copy / ".dvc" / "cache")
    target = tmp_path / "serving" / "model"
    shutil.copytree(deployment, target)
    return copy, target


def assert_remote_fault(copy: Path, target: Path, cause: str, env: dict | None = None) -> None:
    before = tree(target.parent)
    result = deploy(copy, copy, "--version", "v1.1.0", "--to", str(target), env=env)
    what = rf"could not fetch {MODEL_DIR} of classifier v1\.1\.0 \(commit [0-9a-f]{{12}}\)"
    assert_one_error(result, rf"error: {what} from the DVC remote 'storage' {cause}")
    assert tree(target.parent) == before  # the previous deployment, no staging left


def test_remote_folder_gone(offline_copy, tmp_path):
    copy, target = offline_copy
    gone = tmp_path / "gone-remote"
    dvc(copy, "remote", "modify", "storage", "url", str(gone))
    cause = rf"\({re.escape(str(gone))}\): the remote storage does not exist"
    assert_remote_fault(copy, target, cause)


def test_s3_remote_down(offline_copy, tmp_path):
    copy, target = offline_copy
    port = free_port()  # closed again: nothing listens there
    dvc(copy, "remote", "modify", "storage", "url", "s3://bucket/prefix")
    dvc(copy, "remote", "modify", "storage", "endpointurl", f"http://127.0.0.1:{port}")
    cause = rf"\(s3://bucket/prefix at http://127\.0\.0\.1:{port}\): "
    cause += rf"connection refused by 127\.0\.0\.1:{port}"
    assert_remote_fault(copy, target, cause, env=s3_env(tmp_path / "aws-empty"))


def test_s3_remote_refuses_the_credentials(offline_copy, refusing_s3, tmp_path):
    copy, target = offline_copy
    dvc(copy, "remote", "modify", "storage", "url", "s3://bucket/prefix")
    dvc(copy, "remote", "modify", "storage", "endpointurl", refusing_s3)
    cause = rf"\(s3://bucket/prefix at {re.escape(refusing_s3)}\): access denied by the remote "
    cause += r"\(InvalidAccessKeyId: The AWS Access Key Id you provided does not exist in our "
    cause += r"records\.\)"
    assert_remote_fault(copy, target, cause, env=s3_env(tmp_path / "aws-empty"))
