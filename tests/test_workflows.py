"""The generated GitHub workflows: valid against GitHub's schema, clean under zizmor, rendered.

Both checkers run offline: check-jsonschema ships GitHub's workflow schema, zizmor --offline
needs no token.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.helpers import TEMPLATE_DIR, bake_ok

VENV_BIN = Path(sys.executable).parent
WORKFLOWS = ("ci.yml", "release.yml")
PINNED_USES = re.compile(r"^\s*(?:-\s*)?uses:\s*[\w.-]+/[\w.-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$")


def _tool(name: str) -> str:
    path = VENV_BIN / name
    assert path.exists(), f"{name} is missing from the test environment (requirements.txt)"
    return str(path)


def _check_schema(paths: list[Path]) -> subprocess.CompletedProcess[str]:
    args = [_tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows"]
    return subprocess.run([*args, *map(str, paths)], capture_output=True, text=True)


def _zizmor(paths: list[Path]) -> subprocess.CompletedProcess[str]:
    args = [_tool("zizmor"), "--offline", "--no-progress", *map(str, paths)]
    return subprocess.run(args, capture_output=True, text=True)


def _baked_workflows(cookies, **context: str) -> tuple[Path, list[Path]]:
    project = bake_ok(cookies, init_git="no", **context)
    return project, [project / ".github" / "workflows" / name for name in WORKFLOWS]


@pytest.fixture(scope="module")
def baked(cookies_session) -> dict[str, tuple[Path, list[Path]]]:
    """One bake per storage option (the workflows differ in their comments and secrets)."""
    return {
        "local": _baked_workflows(cookies_session, storage="local", python_version="3.12"),
        "s3": _baked_workflows(cookies_session, storage="s3", s3_endpoint_url=""),
    }


@pytest.mark.parametrize("storage", ["local", "s3"])
def test_workflows_are_rendered_without_leftover_template_syntax(baked, storage):
    _, paths = baked[storage]
    for path in paths:
        text = path.read_text()
        assert "{%" not in text and "cookiecutter" not in text, f"{path.name}: unrendered Jinja"
        # GitHub's own expressions must survive the rendering untouched.
        assert "${{ github." in text or "${{ secrets." in text, f"{path.name}: ${{{{ }}}} lost"
        yaml.safe_load(text)


def test_python_version_is_the_chosen_one(baked):
    _, paths = baked["local"]
    for path in paths:
        steps = [
            s for job in yaml.safe_load(path.read_text())["jobs"].values() for s in job["steps"]
        ]
        versions = [
            s["with"]["python-version"] for s in steps if "setup-python" in s.get("uses", "")
        ]
        assert versions == ["3.12"], f"{path.name}: {versions}"


@pytest.mark.parametrize("storage", ["local", "s3"])
def test_workflows_validate_against_github_schema(baked, storage):
    _, paths = baked[storage]
    result = _check_schema(paths)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("storage", ["local", "s3"])
def test_workflows_are_clean_under_zizmor(baked, storage):
    _, paths = baked[storage]
    result = _zizmor(paths)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actions_are_pinned_by_commit_with_the_version_beside(baked):
    _, paths = baked["s3"]
    uses = [line for p in paths for line in p.read_text().splitlines() if "uses:" in line]
    assert uses, "no actions found"
    for line in uses:
        assert PINNED_USES.match(line), f"not pinned to a commit with a # vX.Y.Z comment: {line}"


def test_ci_runs_the_pipeline_and_writes_both_diffs_to_the_summary(baked):
    _, (ci, _) = baked["s3"]
    workflow = yaml.safe_load(ci.read_text())
    assert set(workflow[True]) == {"pull_request", "push"}  # PyYAML reads `on:` as True
    assert workflow[True]["push"]["branches"] == ["main"]
    script = "\n".join(s.get("run", "") for s in workflow["jobs"]["pipeline"]["steps"])
    for command in ("dvc pull", "dvc repro", "pytest", "dvc metrics diff", "dvc params diff"):
        assert command in script, command
    assert "registry show production --json" in script
    assert "origin/main" in script and "$GITHUB_STEP_SUMMARY" in script


def _parse_tag_step(release: Path) -> str:
    steps = yaml.safe_load(release.read_text())["jobs"]["deploy"]["steps"]
    (step,) = [s for s in steps if s.get("id") == "tag"]
    return step["run"]


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("classifier@v1.2.0", {"model": "classifier", "kind": "version", "value": "v1.2.0"}),
        ("clf@v2.0.0-rc.1#7", {"model": "clf", "kind": "version", "value": "v2.0.0-rc.1"}),
        (
            "classifier#production#3",
            {"model": "classifier", "kind": "stage", "value": "production"},
        ),
        ("team=clf#staging#12", {"model": "team:clf", "kind": "stage", "value": "staging"}),
    ],
)
def test_release_parses_version_and_stage_tags(baked, tmp_path, tag, expected):
    _, (_, release) = baked["s3"]
    output = tmp_path / "github_output"
    env = {"TAG": tag, "GITHUB_OUTPUT": str(output), "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", _parse_tag_step(release)],
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert dict(line.split("=", 1) for line in output.read_text().splitlines()) == expected


@pytest.mark.parametrize("tag", ["classifier@latest", "v1.0.0", "classifier#production"])
def test_release_rejects_other_tags_with_one_line(baked, tmp_path, tag):
    _, (_, release) = baked["s3"]
    env = {"TAG": tag, "GITHUB_OUTPUT": str(tmp_path / "out"), "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", _parse_tag_step(release)],
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert result.stderr.strip().startswith("error: ") and tag in result.stderr


def test_release_deploys_verifies_and_uploads(baked):
    _, (_, release) = baked["s3"]
    workflow = yaml.safe_load(release.read_text())
    patterns = workflow[True]["push"]["tags"]
    assert "**@v*" in patterns and "**#*#*" in patterns and "!**!*" in patterns
    steps = workflow["jobs"]["deploy"]["steps"]
    script = "\n".join(s.get("run", "") for s in steps)
    assert "registry deploy" in script and "registry verify" in script
    assert any("upload-artifact" in s.get("uses", "") for s in steps)
    # Credentials reach the remote only through repository secrets.
    assert "${{ secrets.AWS_ACCESS_KEY_ID }}" in release.read_text()


def test_ci_none_writes_no_workflows(cookies):
    project = bake_ok(cookies, init_git="no", ci="none")
    assert not (project / ".github").exists()


def test_template_ci_runs_make_test_and_is_clean():
    path = TEMPLATE_DIR / ".github" / "workflows" / "test.yml"
    steps = yaml.safe_load(path.read_text())["jobs"]["test"]["steps"]
    assert any(s.get("run", "").startswith("make test") for s in steps)
    assert _check_schema([path]).returncode == 0
    result = _zizmor([path])
    assert result.returncode == 0, result.stdout + result.stderr


def _pip_installs(workflow: Path) -> list[str]:
    steps = [step for job in yaml.safe_load(workflow.read_text())["jobs"].values()
             for step in job["steps"]]  # fmt: skip
    return [step["run"] for step in steps if "pip install -e" in step.get("run", "")]


@pytest.mark.parametrize("storage", ["local", "s3"])
def test_every_install_step_resolves_with_the_vendored_toolkit(baked, storage):
    """The project needs weighbridge, which no package index has yet: each workflow's
    install must name ./toolkit. Resolved offline (--no-index) against this environment,
    as a dry run; without ./toolkit the same resolution fails."""
    project, workflows = baked[storage]
    offline = ["--dry-run", "--no-index", "--no-build-isolation", "--quiet"]
    commands = [line for workflow in workflows for line in _pip_installs(workflow)]
    assert len(commands) == len(WORKFLOWS), commands
    for command in commands:
        args = command.split("pip install", 1)[1].replace('"', "").split()
        pip = [sys.executable, "-m", "pip", "install", *offline]
        resolved = subprocess.run([*pip, *args], cwd=project, capture_output=True, text=True)
        assert resolved.returncode == 0, f"{command}\n{resolved.stderr}"
        without = " ".join(args).replace("-e ./toolkit", "").split()
        missing = subprocess.run([*pip, *without], cwd=project, capture_output=True, text=True)
        assert "No matching distribution found for weighbridge" in missing.stderr
