"""``registry verify``: a fresh clone at the version's commit, raw data pulled, ``dvc repro
train``, weight hashes compared with the manifest (toy pipeline, real git and DVC)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from pipeline_helpers import PACKAGE, PYTHONPATH
from registry_helpers import dvc, git, make_project, tool_env


def registry(repo: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**tool_env(), "PYTHONPATH": PYTHONPATH}
    command = [sys.executable, "-m", f"{PACKAGE}.registry", *args, "-C", str(repo)]
    return subprocess.run(command, cwd=repo, env=env, capture_output=True, text=True)


@pytest.fixture
def project(tmp_path) -> Path:
    repo = make_project(tmp_path)  # its default DVC remote is tmp_path / "dvc-remote"
    dvc(repo, "push", "--quiet")
    return repo


def test_verify_reports_reproducible(project):
    assert registry(project, "register").returncode == 0
    shown = json.loads(registry(project, "show", "v1.0.0", "--json").stdout)
    result = registry(project, "verify", "1.0.0", "--json")  # 1.0.0 is v1.0.0, as in show
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert {k: report[k] for k in ("model", "version", "commit", "reproducible")} == {
        "model": shown["model"],
        "version": "v1.0.0",
        "commit": shown["commit"],
        "reproducible": True,
    }
    expected = shown["manifest"]["artifact"]["files"]["model.skops"]["sha256"]
    assert report["files"]["model.skops"] == {
        "expected": expected,
        "actual": expected,
        "match": True,
    }
    assert "environment.json" not in report["files"]  # describes the machine: not compared


def test_verify_names_the_file_that_differs(project):
    pipeline = project / "toy_pipeline.py"
    text = pipeline.read_text()
    marker = '(model_dir / "model.skops").write_text(f"weights seed={seed} quality={quality}")'
    assert marker in text
    unstable = marker.replace('f"weights ', 'f"weights at={time.time_ns()} ')
    pipeline.write_text("import time\n" + text.replace(marker, unstable))
    dvc(project, "repro", "--quiet")
    git(project, "add", "-A")
    git(project, "commit", "--quiet", "-m", "train depends on the clock")
    dvc(project, "push", "--quiet")
    assert registry(project, "register").returncode == 0
    shown = registry(project, "show", "v1.0.0", "--json")
    expected = json.loads(shown.stdout)["manifest"]["artifact"]["files"]["model.skops"]["sha256"]
    result = registry(project, "verify", "v1.0.0")
    assert result.returncode == 1
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert "not reproducible" in result.stderr
    assert f"model.skops: expected sha256 {expected}, got " in result.stderr
    assert "environment.json" not in result.stderr  # the machine record may differ


def test_verify_unknown_version(project):
    result = registry(project, "verify", "v7.0.0")
    assert result.returncode == 1 and "v7.0.0" in result.stderr
