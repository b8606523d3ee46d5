"""One end-to-end run of the lifecycle on a private copy of this project: dvc repro,
register, promote to production, deploy, predict. The copy pushes to a DVC remote in a
temporary folder, so the project, its git history and its real remote are never touched."""

from __future__ import annotations

import csv
import itertools
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

PROJECT = Path(__file__).resolve().parents[1]
PACKAGE = "{{ cookiecutter.package_name }}"
# Not copied: what the copy rebuilds or never needs.
LEFT_BEHIND = shutil.ignore_patterns(".venv", "__pycache__", ".pytest_cache", ".ruff_cache")

pytestmark = pytest.mark.slow


def run(copy: Path, *args: str) -> str:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(copy / "src"), str(copy / "toolkit" / "src")]),
        "GIT_AUTHOR_NAME": "Lifecycle Test",
        "GIT_AUTHOR_EMAIL": "lifecycle@example.invalid",
        "GIT_COMMITTER_NAME": "Lifecycle Test",
        "GIT_COMMITTER_EMAIL": "lifecycle@example.invalid",
        "DVC_NO_ANALYTICS": "1",
    }
    result = subprocess.run(args, cwd=copy, env=env, capture_output=True, text=True)
    assert result.returncode == 0, f"{' '.join(args)}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def python(copy: Path, *args: str) -> str:
    return run(copy, sys.executable, "-m", *args)


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    if not (PROJECT / ".git").is_dir():
        pytest.skip("this project has no git repository yet: run git init and dvc init first")
    copy = tmp_path / PROJECT.name
    shutil.copytree(PROJECT, copy, symlinks=True, ignore=LEFT_BEHIND)
    # config.local wins over the committed remote, and stays out of git
    remote = str(tmp_path / "remote")
    python(copy, "dvc", "remote", "add", "--local", "--default", "lifecycle", remote)
    # The copy starts from an empty registry whatever this project's history: the tags
    # deleted are the copy's own (the project's are untouched), and it has no git remote.
    tags = run(copy, "git", "tag", "--list").split()
    if tags:
        run(copy, "git", "tag", "--delete", *tags)
    for name in run(copy, "git", "remote").split():
        run(copy, "git", "remote", "remove", name)
    return copy


def model_name(copy: Path) -> str:
    artifacts = yaml.safe_load((copy / "dvc.yaml").read_text())["artifacts"]
    return next(name for name, entry in artifacts.items() if entry.get("type") == "model")


def rows_without_target(copy: Path, out: Path, count: int = 5) -> None:
    schema = yaml.safe_load((copy / "data" / "schema.yaml").read_text())
    target = next(column["name"] for column in schema["columns"] if column["role"] == "target")
    with (copy / "data" / "raw" / "dataset.csv").open(newline="", encoding="utf-8") as source:
        reader = csv.DictReader(source)
        kept = [name for name in reader.fieldnames if name != target]
        with out.open("w", newline="", encoding="utf-8") as sink:
            writer = csv.DictWriter(sink, kept, extrasaction="ignore")
            writer.writeheader()
            for row in itertools.islice(reader, count):
                writer.writerow(row)


def test_train_register_promote_deploy_predict(copy, tmp_path):
    python(copy, "dvc", "repro")
    run(copy, "git", "add", "-A")
    run(copy, "git", "commit", "-q", "--allow-empty", "-m", "Train the first model")
    model = model_name(copy)

    registered = python(copy, f"{PACKAGE}.registry", "register")
    assert f"registered {model} v1.0.0" in registered
    python(copy, f"{PACKAGE}.registry", "promote", "v1.0.0", "--stage", "production")
    serving = tmp_path / "serving"
    python(copy, f"{PACKAGE}.registry", "deploy", "--stage", "production", "--to", str(serving))
    rows_without_target(copy, tmp_path / "rows.csv")
    predictions = python(
        copy, f"{PACKAGE}.predict", "--model", str(serving), "--input", str(tmp_path / "rows.csv")
    )

    assert len(predictions.strip().splitlines()) == 1 + 5  # a header, then one line per row
    assert python(copy, "dvc", "status").strip() in ("", "Data and pipelines are up to date.")
