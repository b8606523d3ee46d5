"""The gate stage: the absolute floor, the two verdict files, and its exit status (a
rejection is recorded and succeeds; an error fails with one line)."""

from __future__ import annotations

import hashlib
import json
import subprocess

import pytest
from pipeline_helpers import edit_params, run_module, write_project
from sample_project import evaluate, prepare, train
from weighbridge.config import ProjectPaths
from weighbridge.errors import ProjectError
from weighbridge.registry import gate_stage


def verdict_files(root) -> tuple[dict, dict]:
    paths = ProjectPaths(root)
    return json.loads(paths.gate_json.read_text()), json.loads(paths.gate_report.read_text())


def test_passing_gate_writes_a_deterministic_verdict(trained, task):
    result = gate_stage.run(trained)
    metrics, report = verdict_files(trained)
    assert metrics["passed"] is True and report["passed"] is True and result.passed
    assert report["metric"] == ("accuracy" if task == "classification" else "r2")
    assert "baseline" not in metrics and report["production"] is None
    evaluation = json.loads(ProjectPaths(trained).evaluation_json.read_text())
    assert metrics["candidate"] == evaluation[report["metric"]] == report["candidate"]
    assert [check["name"] for check in report["checks"]] == ["min_value", "trivial"]
    assert report["checks"][0]["threshold"] == metrics["min_value"]
    assert "only the floors" in report["note"]
    holdout = ProjectPaths(trained).holdout_data
    assert report["holdout"]["sha256"] == hashlib.sha256(holdout.read_bytes()).hexdigest()
    assert report["summary"].startswith("gate passed: ")
    paths = ProjectPaths(trained)
    first = paths.gate_json.read_bytes(), paths.gate_report.read_bytes()
    gate_stage.run(trained)
    assert (paths.gate_json.read_bytes(), paths.gate_report.read_bytes()) == first  # no timestamps


def test_metrics_file_holds_only_numbers_and_booleans(trained):
    gate_stage.run(trained)
    metrics, _ = verdict_files(trained)
    # no baseline without production: an unknown value is left out, never null or text
    assert set(metrics) == {
        *("passed", "candidate", "trivial", "min_value", "trivial_margin", "max_regression"),
        *("rows_scored", "rows_left_out"),
    }
    assert all(isinstance(value, (bool, int, float)) for value in metrics.values())


def test_a_rejection_is_recorded_and_the_stage_succeeds(trained):
    """dvc exp run keeps a rejected experiment only if the stage succeeds."""
    edit_params(trained, "gate", min_value=1.01)  # above any accuracy or r2
    result = run_module(trained, "gate_stage")
    assert result.returncode == 0, result.stderr
    (line,) = result.stdout.splitlines()
    assert line.startswith("gate rejected: ") and "min_value 1.01" in line
    assert result.stderr == ""
    metrics, report = verdict_files(trained)
    assert metrics["passed"] is False and report["checks"][0]["passed"] is False
    assert report["summary"].startswith("gate failed: ")


def test_lower_is_better_floor(tmp_path):
    root = write_project(tmp_path, "regression")
    prepare.run(root)
    train.run(root)
    rmse = evaluate.run(root)["rmse"]
    edit_params(root, "gate", metric="rmse", min_value=rmse * 1.5)
    assert gate_stage.run(root).passed
    edit_params(root, "gate", metric="rmse", min_value=rmse * 0.5)
    result = gate_stage.run(root)
    assert not result.passed and result.greater_is_better is False
    assert "is above min_value" in result.checks[0].detail


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ({"metric": "precision"}, "error: params.yaml: gate.metric: "),
        ({"max_regression": -1}, "error: params.yaml: gate.max_regression: "),
    ],
)
def test_errors_fail_the_stage_with_one_line(classification_project, edit, message):
    trained = classification_project
    for stage in (prepare, train, evaluate):
        stage.run(trained)
    edit_params(trained, "gate", **edit)
    result = run_module(trained, "gate_stage")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    (line,) = result.stderr.splitlines()
    assert line.startswith(message)
    assert not ProjectPaths(trained).gate_json.exists()  # nothing half-written


def test_without_a_production_tag_only_the_floor_applies(trained):
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=trained, check=True)
    result = gate_stage.run(trained)
    assert result.production is None and result.baseline is None
    assert [check.name for check in result.checks] == ["min_value", "trivial"]


def test_dvc_root_names_where_production_is(trained, tmp_path_factory, monkeypatch):
    """Queued and temporary experiments run in a copy without tags, under the original
    repository's .dvc/tmp/exps: DVC_ROOT (DVC sets it for every stage) leads there."""
    monkeypatch.delenv("DVC_ROOT", raising=False)
    assert gate_stage.origin_repo(trained) == trained
    monkeypatch.setenv("DVC_ROOT", str(trained))
    assert gate_stage.origin_repo(trained) == trained.resolve()
    origin = tmp_path_factory.mktemp("origin")
    copy = origin / ".dvc" / "tmp" / "exps" / "standalone" / "tmpabc"
    copy.mkdir(parents=True)
    monkeypatch.setenv("DVC_ROOT", str(origin))
    assert gate_stage.origin_repo(copy) == origin.resolve()
    for elsewhere in (origin / "gone", origin):  # left over in a shell: never trusted
        monkeypatch.setenv("DVC_ROOT", str(elsewhere))
        with pytest.raises(ProjectError, match="^DVC_ROOT .* is neither this project nor"):
            gate_stage.origin_repo(trained)
