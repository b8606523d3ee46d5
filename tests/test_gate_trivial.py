"""The trivial-model floor and the defaults from the data, on a churn-like CSV (20% churners,
weak signals), end to end: a real bake, real `dvc repro`, real tags.

A plain logistic regression there barely beats always answering "no" on accuracy and is
no better on balanced accuracy: the gate refuses it. A class-weighted one is far better on
balanced accuracy (the default the bake picks for such data) and is promoted.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from tests.helpers import bake_ok, dvc
from tests.test_gate_e2e import commit_all, gate_metrics, registry, tags

pytestmark = pytest.mark.slow


def churn_csv(path: Path, rows: int = 6000) -> Path:
    """About 20% churners; each feature tells them apart only a little."""
    rng = np.random.default_rng(0)
    churned = rng.random(rows) < 0.2
    frame = pd.DataFrame(
        {
            "tenure": (rng.normal(30, 12, rows) - 4 * churned).round(1),
            "monthly_charges": (rng.normal(70, 20, rows) + 5 * churned).round(2),
            "support_calls": rng.poisson(1.0 + 0.3 * churned),
            "plan": np.where(rng.random(rows) < 0.5 + 0.1 * churned, "monthly", "yearly"),
            "churn": np.where(churned, "yes", "no"),
        }
    )
    frame.to_csv(path, index=False)
    return path


def set_gate_and_train(project: Path, metric: str, **hyperparams) -> None:
    path = project / "params.yaml"
    params = yaml.safe_load(path.read_text())
    params["gate"]["metric"] = metric
    params["train"]["hyperparams"].update(hyperparams)
    path.write_text(yaml.safe_dump(params, sort_keys=False))


def test_a_model_no_better_than_always_no_is_refused_a_class_weighted_one_promoted(
    cookies, tmp_path
):
    csv = churn_csv(tmp_path / "churn.csv")
    project = bake_ok(cookies, dataset="csv", csv_path=str(csv), target_column="churn")
    params_text = (project / "params.yaml").read_text()
    params = yaml.safe_load(params_text)
    assert params["gate"]["metric"] == "balanced_accuracy" and params["gate"]["min_value"] is None
    assert "the classes are imbalanced ('no' 79.3%, 'yes' 20.7%)" in params_text
    assert "1501 hold-out rows; one row is 0.0007 of accuracy" in params_text
    assert "45 rows" not in params_text

    dvc(project, "repro")  # the plain model: refused on balanced accuracy
    plain = gate_metrics(project)
    assert plain["passed"] is False and plain["trivial"] == 0.5
    assert plain["candidate"] < plain["trivial"] + params["gate"]["trivial_margin"]
    commit_all(project, "plain model")
    before = tags(project)
    refused = registry(project, "register", check=False)
    assert refused.returncode == 1 and "trivial model" in refused.stderr
    assert tags(project) == before

    set_gate_and_train(project, "accuracy")  # kept plain accuracy: warned, still refused
    ran = dvc(project, "repro")
    assert "warning: gate.metric accuracy on imbalanced classes" in ran.stderr + ran.stdout
    accuracy = gate_metrics(project)
    assert accuracy["passed"] is False and accuracy["trivial"] > 0.75  # always "no"

    set_gate_and_train(project, "balanced_accuracy", class_weight="balanced")
    dvc(project, "repro")
    weighted = gate_metrics(project)
    assert weighted["passed"] is True and weighted["candidate"] > plain["candidate"] + 0.1
    commit_all(project, "class-weighted model")
    dvc(project, "push")
    registry(project, "register")
    registry(project, "promote", "v1.0.0", "--stage", "production")
    assert {"classifier@v1.0.0", "classifier#production#1"} <= tags(project)
    shown = registry(project, "show", "v1.0.0", "--json").stdout
    manifest = json.loads(shown)["manifest"]
    assert manifest["gate"]["trivial"] == manifest["metrics"]["gate"]["trivial"] == 0.5
    table = registry(project, "show", "v1.0.0").stdout
    assert re.search(r"^\S*gate\.trivial\s+0\.5$", table, re.MULTILINE), table
    print(
        f"churn-like: balanced_accuracy plain {plain['candidate']:.4f}, class-weighted "
        f"{weighted['candidate']:.4f}, trivial {weighted['trivial']:.4f}; accuracy plain "
        f"{accuracy['candidate']:.4f}, trivial {accuracy['trivial']:.4f}"
    )
