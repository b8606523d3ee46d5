"""A recorded verdict is a record, never a credential: `register` and `promote` judge the
candidate themselves, from its weights and the hold-out set, and refuse a recorded
"passed" that their own verdict contradicts (issue 16). Real bakes, real tags.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import dvc, git
from tests.test_gate_e2e import (  # noqa: F401 (champion_project is a fixture)
    CLEARLY_WORSE,
    champion_project,
    commit_all,
    copy_project,
    registry,
    set_params,
    tags,
)

pytestmark = pytest.mark.slow


@pytest.fixture
def forged(champion_project, tmp_path) -> Path:  # noqa: F811
    """A copy whose HEAD is a clearly worse model (C=1e-3) with both verdict files edited
    to say passed, committed to DVC and git as the issue describes."""
    project = copy_project(champion_project["project"], tmp_path)
    set_params(project, "train", hyperparams={"C": CLEARLY_WORSE})
    dvc(project, "repro")
    for name in ("metrics/gate.json", "reports/gate.json"):
        path = project / name
        verdict = json.loads(path.read_text())
        assert verdict["passed"] is False  # the gate rejected it
        path.write_text(json.dumps({**verdict, "passed": True}, indent=2) + "\n")
    dvc(project, "commit", "-f", "gate")
    commit_all(project, "a worse model, its verdict edited")
    return project


def state(project: Path) -> tuple[set[str], str]:
    return tags(project), git(project, "status", "--porcelain").stdout


def test_register_refuses_a_verdict_file_that_says_passed(forged):
    before = state(forged)
    result = registry(forged, "register", check=False)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: the recorded verdict differs from the gate's verdict now")
    assert "metrics/gate.json says passed: true" in line
    assert "reports/gate.json says passed: true" in line
    assert "judged now: gate failed: accuracy" in line and line.endswith("not registering")
    assert state(forged) == before


def test_promote_refuses_a_version_whose_recorded_verdict_the_gate_contradicts(forged):
    """Registered by another tool (GTO's plain tag), its manifest is derived from the
    edited files at its commit: promote must not take their word for it, whatever the
    stage."""
    git(forged, "tag", "-a", "classifier@v1.1.0", "-m", "Registered by another tool")
    before = state(forged)
    for stage in ("staging", "production"):
        result = registry(forged, "promote", "v1.1.0", "--stage", stage, check=False)
        assert result.returncode == 1 and "Traceback" not in result.stderr
        (line,) = result.stderr.splitlines()
        assert "the verdict recorded for classifier v1.1.0 says passed, but the gate" in line
        assert "against production v1.0.0" in line and "not promoting" in line
        assert state(forged) == before
