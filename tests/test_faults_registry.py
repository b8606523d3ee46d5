"""Faults in the registry, end to end on a baked default project (issue 8).

- a damaged read cache must never change what list, show, deploy and the gate say is in
  production (the case that let a worse model into production: one byte of a time);
- any --reason text round-trips through the tag message, rollbacks stay rollbacks, and
  nothing prints raw control characters; GTO still reads the tags;
- a refused `git push` names the server's reason, and nothing changes anywhere.

One project is built per module: v1.0.0 and v1.1.0 registered, production assigned to
v1.0.0 and then to v1.1.0 by plain annotated tags (as `gto assign` writes them).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import (
    copy_trained,
    dvc,
    git,
    project_env,
    pymod,
    retrain,
    run,
)

pytestmark = pytest.mark.slow

MODEL = "classifier"
GTO = str(Path(sys.executable).parent / "gto")
BLANK_LINE_REASON = "bad model\n\nsee ticket 42"
TERMINAL_REASON = "\x1b]0;owned\x07\x1b[2J\x1b[31mred\r\n\tand a bell\x07"


def registry(project: Path, *args: str, check: bool = True):
    return pymod(project, "registry", *args, check=check)


def registry_json(project: Path, *args: str):
    return json.loads(registry(project, *args, "--json").stdout)


def tag_time(project: Path, tag: str) -> int:
    listed = git(project, "for-each-ref", "--format=%(taggerdate:unix)", f"refs/tags/{tag}")
    return int(listed.stdout)


def assign_production(project: Path, counter: int, version: str, when: int) -> None:
    """A production assignment written with plain git, as another tool would."""
    commit = git(project, "rev-list", "-n1", f"{MODEL}@{version}").stdout.strip()
    name, message = f"{MODEL}#production#{counter}", f"Assign {version} to production"
    env = {"GIT_COMMITTER_DATE": f"{when} +0000"}
    run(["git", "tag", "-a", "-m", message, name, commit], project, env=env)


@pytest.fixture(scope="module")
def released(trained_default, tmp_path_factory) -> Path:
    project = copy_trained(trained_default, tmp_path_factory.mktemp("released"))  # C=1
    registry(project, "register")
    retrain(project, 0.5)
    registry(project, "register", "--bump", "minor")
    dvc(project, "push")
    last = tag_time(project, f"{MODEL}@v1.1.0")
    assign_production(project, 1, "v1.0.0", last + 1)
    assign_production(project, 2, "v1.1.0", last + 2)
    return project


def copy_of(project: Path, tmp_path: Path) -> Path:
    """The project without its DVC cache (these tests only write tags): cheap to copy."""
    copy = tmp_path / project.name
    shutil.copytree(
        project, copy, symlinks=True, ignore=lambda d, _: ["cache"] if d.endswith(".dvc") else []
    )
    return copy


def local_tags(project: Path) -> list[str]:
    return sorted(git(project, "tag").stdout.split())


# --- the read cache ------------------------------------------------------------------


GATES_PRODUCTION = (  # the production the gate compares with (registry/champion.py)
    "import sys; from pathlib import Path; from weighbridge.registry.champion import "
    "production_version; from weighbridge.config import ProjectPaths; project = Path(sys.argv[1]);"
    " v = production_version(project, ProjectPaths(project).model_name);"
    " print(v.version + '@' + v.commit)"
)


def production_answers(project: Path, tmp_path: Path, deploy_to: str) -> dict:
    """What list, show production, the gate and deploy --stage production say."""
    code = GATES_PRODUCTION
    gate = run([sys.executable, "-c", code, str(project)], project).stdout.strip()
    target = tmp_path / deploy_to
    registry(project, "deploy", "--stage", "production", "--to", str(target))
    return {
        "list": registry_json(project, "list"),
        "show": registry_json(project, "show", "production"),
        "gate": gate,
        "deployed": json.loads((target / "DEPLOYED.json").read_text())["version"],
    }


def test_a_damaged_cache_never_changes_production(released, tmp_path):
    cache = released / ".git" / "registry-cache"
    shutil.rmtree(cache, ignore_errors=True)
    truth = production_answers(released, tmp_path, "before")
    assert truth["list"]["stages"]["production"] == "v1.1.0" and truth["deployed"] == "v1.1.0"
    assert truth["gate"].startswith("v1.1.0@")
    # The second assignment's time, made older than the first's by changing one or two
    # bytes: production would be v1.0.0 again for list, show, deploy and the gate.
    later = tag_time(released, f"{MODEL}#production#2")
    stamp, older = (b"i" + t.to_bytes(4, "little") for t in (later, later - 256))
    assert sum(a != b for a, b in zip(stamp, older, strict=True)) <= 2
    records = cache / "records.marshal"
    data = records.read_bytes()
    assert data.count(stamp) == 1
    records.write_bytes(data.replace(stamp, older))
    try:
        assert production_answers(released, tmp_path, "after") == truth
    finally:
        shutil.rmtree(cache, ignore_errors=True)


# --- reasons -----------------------------------------------------------------------------


def test_a_blank_line_in_a_reason_keeps_the_rollback_a_rollback(released, tmp_path):
    project = copy_of(released, tmp_path)
    registry(project, "promote", "v1.0.0", "--stage", "staging")
    registry(project, "promote", "v1.1.0", "--stage", "staging")
    back = registry_json(project, "rollback", "--stage", "staging", "--reason", BLANK_LINE_REASON)
    assert (back["previous"], back["version"]) == ("v1.1.0", "v1.0.0")
    before = local_tags(project)

    again = registry(project, "rollback", "--stage", "staging", "--reason", "x", check=False)
    assert again.returncode == 1 and "Traceback" not in again.stderr
    nothing_earlier = f"no earlier version of {MODEL} in stage staging to roll back to"
    assert again.stderr == f"error: {nothing_earlier}\n"
    assert local_tags(project) == before
    history = registry_json(project, "history")
    assert history[-1]["reason"] == BLANK_LINE_REASON


def test_control_characters_round_trip_and_never_reach_the_terminal(released, tmp_path):
    project = copy_of(released, tmp_path)
    registry(project, "promote", "v1.0.0", "--stage", "qa", "--reason", TERMINAL_REASON)
    registry(project, "deprecate", "v1.0.0", "--reason", TERMINAL_REASON)
    history = registry_json(project, "history")
    assert [e["reason"] for e in history[-2:]] == [TERMINAL_REASON, TERMINAL_REASON]
    for command in (["history"], ["list"], ["show", "v1.0.0"], ["history", "--json"]):
        out = registry(project, *command).stdout
        assert all(char.isprintable() or char == "\n" for char in out), command
    assert "\\x1b]0;owned" in registry(project, "history").stdout
    # GTO reads the same tags, and sees the same events
    shown = subprocess.run(
        [GTO, "history", MODEL, "--json", "-r", str(project), "--ascending"],
        capture_output=True,
        text=True,
        env=project_env(project),
        check=True,
    )
    events = [(e["event"], e["version"], e["stage"]) for e in json.loads(shown.stdout)]
    assert events[-2:] == [("assignment", "v1.0.0", "qa"), ("deregistration", "v1.0.0", None)]


# --- refused pushes ----------------------------------------------------------------------


def remote_tags(origin: Path) -> list[str]:
    return sorted(git(origin, "tag").stdout.split())


def refuse_with_hook(origin: Path) -> None:
    hook = origin / "hooks" / "pre-receive"
    lines = ["#!/bin/sh", 'echo "tag protected by policy" >&2', 'echo "\x1b[31mred\x1b[0m" >&2']
    hook.write_text("\n".join([*lines, "exit 1", ""]))
    hook.chmod(0o755)


def refuse_by_config(origin: Path) -> None:
    git(origin, "config", "receive.maxInputSize", "10")


@pytest.mark.parametrize(
    ("refuse", "reason"),
    [
        (
            refuse_with_hook,
            r"tag protected by policy; \\x1b\[31mred\\x1b\[0m; "
            r"\[remote rejected\] \(pre-receive hook declined\)",
        ),
        (
            refuse_by_config,
            r"fatal: pack exceeds maximum allowed size; \[remote rejected\] \(unpacker error\)",
        ),
    ],
    ids=["pre-receive-hook", "receive-config"],
)
def test_a_refused_push_names_the_servers_reason(released, tmp_path, refuse, reason):
    project = copy_of(released, tmp_path)
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", str(origin))
    git(project, "remote", "add", "origin", str(origin))
    git(project, "push", "-q", "origin", "main", f"refs/tags/{MODEL}@v1.0.0")
    refuse(origin)
    before = local_tags(project), remote_tags(origin)

    result = registry(project, "promote", "v1.0.0", "--stage", "staging", "--push", check=False)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    expected = (
        rf"error: push of {MODEL}#staging#3 to origin was refused: {reason}; "
        r"the local tag was deleted, nothing changed\n"
    )
    assert re.fullmatch(expected, result.stderr), result.stderr
    assert (local_tags(project), remote_tags(origin)) == before


def test_a_push_of_a_tag_the_remote_has_says_so(released, tmp_path):
    project = copy_of(released, tmp_path)
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", str(origin))
    git(project, "remote", "add", "origin", str(origin))
    git(project, "push", "-q", "origin", "main", "--tags")
    taken = f"{MODEL}@v1.0.0!"
    git(origin, "tag", "-a", "-m", "someone was first", taken, f"{MODEL}@v1.0.0^{{commit}}")
    before = local_tags(project), remote_tags(origin)

    result = registry(project, "deprecate", "v1.0.0", "--reason", "leak", "--push", check=False)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr == (
        f"error: push of {taken} to origin was refused: [rejected] (already exists); the local "
        "tag was deleted, nothing changed: git fetch --tags, then try again\n"
    )
    assert (local_tags(project), remote_tags(origin)) == before
