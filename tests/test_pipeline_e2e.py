"""`dvc repro` end to end in baked projects: real data, real training, real caching."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tests.helpers import bake_ok, dvc, git

pytestmark = pytest.mark.slow

RAN = re.compile(r"Running stage '([\w-]+)'")


def repro(project: Path, *args: str) -> list[str]:
    """Run `dvc repro` and return the stages that actually ran, in order."""
    return RAN.findall(dvc(project, "repro", *args).stdout)


def weights_sha256(project: Path, model: str = "classifier") -> str:
    return hashlib.sha256((project / "models" / model / "model.skops").read_bytes()).hexdigest()


def set_param(project: Path, section: str, key: str, value) -> None:
    params_file = project / "params.yaml"
    params = yaml.safe_load(params_file.read_text())
    params[section][key] = value
    params_file.write_text(yaml.safe_dump(params, sort_keys=False))


@pytest.mark.parametrize(
    ("dataset", "metrics"),
    [
        ("breast_cancer", {"accuracy", "balanced_accuracy", "f1", "roc_auc"}),
        ("wine", {"accuracy", "balanced_accuracy", "f1", "roc_auc"}),
        ("diabetes", {"mae", "rmse", "r2"}),
    ],
)
def test_repro_trains_evaluates_and_passes_gate(cookies, dataset, metrics):
    project = bake_ok(cookies, dataset=dataset)

    assert repro(project) == ["prepare", "train", "evaluate", "gate"]

    evaluation = json.loads((project / "metrics" / "evaluation.json").read_text())
    assert metrics <= set(evaluation), evaluation
    gate = json.loads((project / "reports" / "gate.json").read_text())
    assert gate["passed"] is True, gate
    assert gate["candidate"] == pytest.approx(evaluation[gate["metric"]])
    numbers = json.loads((project / "metrics" / "gate.json").read_text())
    assert numbers["passed"] is True and numbers["candidate"] == gate["candidate"]
    signature = json.loads((project / "models" / "classifier" / "signature.json").read_text())
    assert signature["weights"]["sha256"] == weights_sha256(project)
    holdout = pd.read_parquet(project / "data" / "prepared" / "holdout.parquet")
    assert len(holdout) > 20

    assert_plots_render(project, dataset)

    git(project, "add", "-A")
    git(project, "commit", "-qm", "Train the first model")
    assert git(project, "status", "--porcelain").stdout == ""


# What `dvc plots show` draws, by plot id (dvc.yaml's top-level plots).
PLOTS = {
    "classification": ["plots/confusion.csv", "plots/roc.csv", "plots/pr.csv"],
    "regression": ["predicted_vs_actual", "residuals"],
}


def assert_plots_render(project: Path, dataset: str) -> None:
    """Every plot of dvc.yaml renders with its template: no error, no anchor left unfilled,
    the regression's predicted-vs-actual with its y = x line."""
    shown = dvc(project, "plots", "show", "--json").stdout
    assert "<DVC_METRIC_" not in shown
    rendered = json.loads(shown)
    assert "errors" not in rendered, rendered["errors"]
    task = "regression" if dataset == "diabetes" else "classification"
    assert list(rendered["data"]) == PLOTS[task]
    for plot_id, renders in rendered["data"].items():
        (render,) = renders
        assert render["type"] == "vega" and render["content"]["data"]["values"], plot_id
    if task == "regression":
        (scatter,) = rendered["data"]["predicted_vs_actual"]
        diagonal = scatter["content"]["layer"][1]
        assert diagonal["encoding"]["x"]["field"] == diagonal["encoding"]["y"]["field"]
    else:
        (roc,) = rendered["data"]["plots/roc.csv"]
        curves = {point["curve"] for point in roc["content"]["data"]["values"]}
        averaged = "micro-average (one-vs-rest)" in curves
        assert averaged is (dataset == "wine"), curves
        assert ("micro- and macro-average" in roc["content"]["title"]["text"]) is averaged


def test_same_options_give_bit_identical_weights(cookies):
    first, second = bake_ok(cookies), bake_ok(cookies)
    repro(first)
    repro(second)
    assert weights_sha256(first) == weights_sha256(second)


def test_caching_reruns_only_what_changed(cookies):
    project = bake_ok(cookies)
    repro(project)
    git(project, "add", "-A")
    git(project, "commit", "-qm", "Train")

    assert repro(project) == [], "a no-op repro runs nothing, not even the gate"
    assert git(project, "status", "--porcelain").stdout == "", "no-op repro changed files"

    set_param(project, "gate", "min_value", 0.5)
    assert repro(project) == ["gate"]

    set_param(project, "train", "seed", 7)
    ran = repro(project)
    assert "prepare" not in ran and "train" in ran, ran


def test_a_failing_gate_is_recorded_and_repro_succeeds(cookies):
    """The gate stage records, the registry enforces: `dvc exp run` keeps rejected
    experiments only if the stage succeeds."""
    project = bake_ok(cookies)
    set_param(project, "gate", "min_value", 1.01)  # no model can reach an accuracy above 1
    result = dvc(project, "repro")
    assert "gate rejected: accuracy" in result.stdout and "below min_value 1.01" in result.stdout
    gate = json.loads((project / "metrics" / "gate.json").read_text())
    assert gate["passed"] is False and gate["min_value"] == 1.01
