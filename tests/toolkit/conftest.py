"""Fixtures: a small real project (params, schema, raw CSV) in a temporary folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from pipeline_helpers import write_project


@pytest.fixture(params=["classification", "regression"])
def task(request) -> str:
    return request.param


@pytest.fixture
def project(tmp_path: Path, task: str) -> Path:
    return write_project(tmp_path, task)


@pytest.fixture
def classification_project(tmp_path: Path) -> Path:
    return write_project(tmp_path, "classification")


@pytest.fixture
def trained(project: Path) -> Path:
    """The project after prepare, train and evaluate: ready for the gate."""
    from sample_project import evaluate, prepare, train

    prepare.run(project)
    train.run(project)
    evaluate.run(project)
    return project
