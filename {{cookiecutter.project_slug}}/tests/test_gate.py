"""The gate: the absolute floor, gate.json, the exit status, and the production seam."""

from __future__ import annotations

import hashlib
import json
import subprocess

import pytest
from pipeline_helpers import edit_params, run_module

from {{ cookiecutter.package_name }} import evaluate, gate, prepare, train
from {{ cookiecutter.package_name }}.config import ProjectPaths, load_gate
from {{ cookiecutter.package_name }}.errors import ProjectError


def test_passing_gate_writes_a_deterministic_verdict(trained, task):
    result = gate.run(trained)
    path = ProjectPaths(trained).gate_json
    verdict = json.loads(path.read_text())
    assert verdict["passed"] is True and result.passed
    assert verdict["metric"] == ("accuracy" if task == "classification" else "r2")
    assert verdict["baseline"] is None and verdict["production_version"] is None
    assert (
        verdict["candidate"]
        == json.loads(ProjectPaths(trained).evaluation_json.read_text())[verdict["metric"]]
    )
    assert [check["name"] for check in verdict["checks"]] == ["min_value"]
    assert verdict["checks"][0]["threshold"] == verdict["min_value"]
    assert verdict["production"] is None and "only the absolute floor" in verdict["note"]
    holdout = ProjectPaths(trained).holdout_csv
    assert verdict["holdout"]["sha256"] == hashlib.sha256(holdout.read_bytes()).hexdigest()
    assert verdict["summary"].startswith("gate passed: ")
    first = path.read_bytes()
    gate.run(trained)
    assert path.read_bytes() == first  # no timestamps: a no-op dvc repro keeps git clean


def test_failing_floor_writes_the_verdict_and_fails(trained):
    edit_params(trained, "gate", min_value=1.01)  # above any accuracy or r2
    with pytest.raises(ProjectError, match=r"gate failed: .* is below min_value 1\.01"):
        gate.run(trained)
    verdict = json.loads(ProjectPaths(trained).gate_json.read_text())
    assert verdict["passed"] is False and verdict["checks"][0]["passed"] is False


def test_lower_is_better_floor(tmp_path):
    from pipeline_helpers import write_project

    root = write_project(tmp_path, "regression")
    prepare.run(root)
    train.run(root)
    rmse = evaluate.run(root)["rmse"]
    edit_params(root, "gate", metric="rmse", min_value=rmse * 1.5)
    assert gate.check_candidate(root).passed
    edit_params(root, "gate", metric="rmse", min_value=rmse * 0.5)
    result = gate.check_candidate(root)
    assert not result.passed and result.greater_is_better is False
    assert "is above min_value" in result.checks[0].detail


def test_check_candidate_writes_nothing(trained):
    result = gate.check_candidate(trained)
    assert result.passed and not ProjectPaths(trained).gate_json.exists()
    assert result.to_dict()["checks"][0]["value"] == result.candidate


def test_no_production_version_means_no_production_checks(trained):
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=trained, check=True)
    paths = ProjectPaths(trained)
    schema = gate.load_schema(paths.schema)
    params = load_gate(paths.params, schema.task)
    holdout = gate.read_csv(paths.holdout_csv, schema)
    model = gate.load_model(paths.model_dir)
    candidate = gate.Candidate(
        model, evaluate.score_model(model, holdout, schema), schema, paths.model_dir
    )
    comparison = gate.compare_with_production(candidate, holdout, params, trained)
    assert comparison.checks == [] and comparison.baseline is None
    assert comparison.production_version is None


def test_failed_gate_exits_non_zero_with_one_line(classification_project):
    """A real process, as dvc runs it: dvc repro must fail when the gate fails."""
    trained = classification_project
    for stage in (prepare, train, evaluate):
        stage.run(trained)
    edit_params(trained, "gate", min_value=1e9, greater_is_better=True)
    result = run_module(trained, "gate")
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: gate failed:")
    assert json.loads(ProjectPaths(trained).gate_json.read_text())["passed"] is False
