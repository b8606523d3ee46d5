"""Interop of the baked project's registry with GTO and DVC (real bake, git, dvc).

After sequences of our commands, `gto show --json` and `gto history --json` agree with
ours; tags written by `gto` are read by ours; `dvc artifacts get` fetches a version's
weights by version and by stage; two clones racing to push the same version: exactly one wins.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import copy_trained, dvc, git, package_of, project_env, pymod, retrain

GTO = str(Path(sys.executable).parent / "gto")
MODEL = "classifier"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def trained(trained_default, tmp_path_factory) -> Path:
    """A baked default project, trained and committed (a copy of the session's)."""
    return copy_trained(trained_default, tmp_path_factory.mktemp("trained"))


@pytest.fixture
def project(trained, tmp_path) -> Path:
    """A private copy (with its own bare git remote) of the trained project.

    The DVC remote stays the bake's local folder (content-addressed, so sharing it is
    harmless): `dvc artifacts get` and fresh clones read the committed DVC config.
    """
    copy = tmp_path / trained.name
    shutil.copytree(trained, copy, symlinks=True)
    bare = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    git(copy, "remote", "add", "origin", str(bare))
    git(copy, "push", "-q", "origin", "main")
    return copy


def registry(project: Path, *args: str, check: bool = True):
    return pymod(project, "registry", *args, check=check)


def registry_json(project: Path, *args: str):
    return json.loads(registry(project, *args, "--json").stdout)


def gto_state(project: Path) -> tuple[str | None, dict[str, str]]:
    shown = json.loads(
        subprocess.run(
            [GTO, "show", "--json", "-r", str(project)],
            capture_output=True,
            text=True,
            check=True,
            env=project_env(project),
        ).stdout
    )[MODEL]
    return shown["version"], {stage: v for stage, v in shown["stage"].items() if v}


def gto_history(project: Path) -> list[tuple[str, str | None, str | None]]:
    events = json.loads(
        subprocess.run(
            [GTO, "history", MODEL, "--json", "-r", str(project), "--ascending"],
            capture_output=True,
            text=True,
            check=True,
            env=project_env(project),
        ).stdout
    )
    kinds = {
        "registration": "register",
        "deregistration": "deregister",
        "assignment": "assign",
        "unassignment": "unassign",
    }
    return [(kinds[e["event"]], e["version"], e["stage"]) for e in events]


def assert_agree(project: Path) -> None:
    ours = registry_json(project, "list")
    assert gto_state(project) == (ours["latest"], ours["stages"])
    history = [(e["event"], e["version"], e["stage"]) for e in registry_json(project, "history")]
    assert gto_history(project) == history


def test_gto_agrees_after_our_commands(project):
    registry(project, "register")
    assert_agree(project)
    retrain(project, 0.5)
    registry(project, "register", "--bump", "minor")
    steps = [
        ("promote", "v1.0.0", "--stage", "staging"),
        ("promote", "v1.1.0", "--stage", "staging"),
        ("promote", "v1.0.0", "--stage", "qa"),
        ("rollback", "--stage", "staging", "--reason", "latency regression"),
        ("rollback", "--stage", "qa", "--to", "v1.1.0", "--reason", "retest"),
        ("deprecate", "v1.1.0", "--reason", "leaky feature"),
    ]
    for step in steps:
        registry(project, *step)
        assert_agree(project)
    # qa falls back to v1.0.0 once v1.1.0 is deregistered, as in GTO
    assert registry_json(project, "list")["stages"] == {"qa": "v1.0.0", "staging": "v1.0.0"}


def test_tags_written_by_gto_are_read_by_ours(project):
    registry(project, "register")
    git(project, "commit", "-q", "--allow-empty", "-m", "next")
    env = project_env(project)
    for args in (
        ["register", MODEL, "HEAD", "--version", "v1.4.0"],
        ["assign", MODEL, "--version", "v1.0.0", "--stage", "prod"],
        ["assign", MODEL, "--version", "v1.4.0", "--stage", "dev"],
        ["deprecate", MODEL, "v1.0.0"],
    ):
        subprocess.run([GTO, *args, "-r", str(project)], check=True, env=env, capture_output=True)
    listing = registry_json(project, "list")
    assert listing["latest"] == "v1.4.0"
    assert listing["stages"] == {"dev": "v1.4.0"}
    assert [v["deprecated"] for v in listing["versions"]] == [True, False]
    assert gto_state(project) == (listing["latest"], listing["stages"])


def test_dvc_artifacts_get_fetches_a_registered_version(project, tmp_path):
    registry(project, "register")
    manifest = registry_json(project, "show", "v1.0.0")["manifest"]
    dvc(project, "push")
    git(project, "push", "-q", "origin", "main", f"refs/tags/{MODEL}@v1.0.0")
    out, by_stage = tmp_path / "fetched", tmp_path / "by-stage"
    # dvc's --rev takes the version: it finds the tag classifier@v1.0.0 itself
    get = ["artifacts", "get", str(project), MODEL]
    dvc(tmp_path, *get, "--rev", "v1.0.0", "-o", str(out))
    registry(project, "promote", "v1.0.0", "--stage", "staging")
    dvc(tmp_path, *get, "--stage", "staging", "-o", str(by_stage))
    for name, expected in manifest["artifact"]["files"].items():
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == expected["sha256"]
        assert (by_stage / name).read_bytes() == (out / name).read_bytes()


def test_two_clones_racing_to_push_one_version(project, tmp_path):
    dvc(project, "push")
    origin = tmp_path / "origin.git"
    clones = []
    for name in ("alice", "bob"):
        clone = tmp_path / name
        git(tmp_path, "clone", "-q", str(origin), str(clone))
        dvc(clone, "pull", "-q")
        git(clone, "config", "user.name", name)
        git(clone, "config", "user.email", f"{name}@example.com")
        git(clone, "commit", "-q", "--allow-empty", "-m", f"{name}'s release")
        clones.append(clone)
    racers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                f"{package_of(c)}.registry",
                "register",
                "--version",
                "v1.5.0",
                "--push",
            ],
            cwd=c,
            env=project_env(c),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for c in clones
    ]
    outcomes = [(r.wait(), r.stderr.read()) for r in racers]
    assert sorted(code for code, _ in outcomes) == [0, 1], outcomes
    winner, loser = clones if outcomes[0][0] == 0 else clones[::-1]
    loser_err = next(err for code, err in outcomes if code == 1)
    assert loser_err.startswith("error: ") and loser_err.count("\n") == 1
    assert "refused" in loser_err or "exists" in loser_err
    remote_tag = git(winner, "ls-remote", "origin", f"refs/tags/{MODEL}@v1.5.0^" + "{}").stdout
    assert remote_tag.split()[0] == git(winner, "rev-parse", "HEAD").stdout.strip()
    assert git(loser, "tag", "-l", f"{MODEL}@v1.5.0").stdout == ""
    # nothing lost: the loser's commit is intact and registers the next version
    git(loser, "fetch", "-q", "--tags", "origin")
    assert json.loads(pymod(loser, "registry", "register", "--json").stdout)["version"] == "v1.5.1"


def test_production_promotion_runs_the_gate(project):
    registry(project, "register")
    promoted = registry_json(project, "promote", "v1.0.0", "--stage", "production")
    assert promoted["gate_summary"]
    message = git(project, "tag", "-l", "--format=%(contents)", promoted["tag"]).stdout
    details = json.loads(message.partition("\n\n")[2])
    assert details["gate"]["passed"] is True and details["forced"] is False
