"""gate_stage: an unchanged re-run keeps the recorded verdict without re-scoring."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from pipeline_helpers import SRC, edit_params, run_module

from {{ cookiecutter.package_name }} import gate_stage
from {{ cookiecutter.package_name }}.config import ProjectPaths

# A process that only reads the recorded verdict must not pay for these imports.
HEAVY = ("sklearn", "pandas", "dvc", "numpy")
PROBE = (
    "import sys, runpy\n"
    "try:\n"
    "    runpy.run_module('{{ cookiecutter.package_name }}.gate_stage', run_name='__main__')\n"
    "except SystemExit as exc:\n"
    "    status = exc.code\n"
    "print('HEAVY', sorted(m for m in {heavy!r} if m in sys.modules))\n"
    "sys.exit(status)\n"
)


def test_first_run_scores_and_records_the_fingerprint(trained):
    result = run_module(trained, "gate_stage")
    assert result.returncode == 0, result.stderr
    record = json.loads(ProjectPaths(trained).gate_json.read_text())
    assert record["passed"] is True
    assert record["inputs_sha256"] == gate_stage.inputs_fingerprint(trained)


def test_unchanged_inputs_keep_the_verdict_without_heavy_imports(trained):
    assert run_module(trained, "gate_stage").returncode == 0
    before = ProjectPaths(trained).gate_json.read_bytes()

    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=HEAVY)],
        cwd=trained,
        env={**os.environ, "PYTHONPATH": str(SRC)},
        capture_output=True,
        text=True,
    )

    assert result.returncode == 0, result.stderr
    assert "inputs unchanged" in result.stdout
    assert "HEAVY []" in result.stdout, result.stdout
    assert ProjectPaths(trained).gate_json.read_bytes() == before


@pytest.mark.parametrize("change", ["params", "model", "holdout"])
def test_any_changed_input_re_scores(trained, change):
    assert run_module(trained, "gate_stage").returncode == 0
    paths = ProjectPaths(trained)
    fingerprint = json.loads(paths.gate_json.read_text())["inputs_sha256"]
    if change == "params":
        edit_params(trained, "gate", min_value=1.01)  # above any accuracy or r2
    elif change == "model":
        with paths.environment_file.open("a") as handle:
            handle.write("\n")
    else:
        with paths.holdout_csv.open("a") as handle:
            handle.write(paths.holdout_csv.read_text().splitlines()[-1] + "\n")

    result = run_module(trained, "gate_stage")

    record = json.loads(paths.gate_json.read_text())
    assert record["inputs_sha256"] != fingerprint
    assert "inputs unchanged" not in result.stdout
    if change == "params":
        assert result.returncode == 1 and record["passed"] is False
        assert result.stderr.startswith("error: gate failed")


def test_recorded_failure_still_fails(trained):
    edit_params(trained, "gate", min_value=1.01)
    assert run_module(trained, "gate_stage").returncode == 1
    again = run_module(trained, "gate_stage")
    assert again.returncode == 1
    assert "inputs unchanged" in again.stderr


@pytest.mark.parametrize("content", ["", "not json", "[]", '{"inputs_sha256": "other"}'])
def test_unusable_record_means_re_score(tmp_path, content):
    path = tmp_path / "gate.json"
    path.write_text(content)
    assert gate_stage.recorded_verdict(path, "abc") is None


def test_outside_git_there_is_no_production(tmp_path):
    assert gate_stage.production_identity(tmp_path) == "none"
