"""params.yaml validation: every bad value stops with one line naming the file and key."""

from __future__ import annotations

import pytest
from pipeline_helpers import edit_params, write_yaml
from sample_project import prepare, train
from weighbridge import config
from weighbridge.errors import ProjectError, run_cli


def test_each_section_loads_with_its_types(project, task):
    params = project / "params.yaml"
    assert config.load_prepare(params, task) == config.PrepareParams(
        0.25, 7, task == "classification"
    )
    train_params = train.load_train(params, task)
    assert train_params.seed == 7 and isinstance(train_params.hyperparams, dict)
    gate = config.load_gate(params, task)
    assert gate.greater_is_better is True  # accuracy and r2: greater is better by default
    assert (gate.test, gate.alpha, gate.n_resamples) == ("none", 0.05, 1000)


@pytest.mark.parametrize(
    ("section", "values", "message"),
    [
        ("prepare", {"test_size": "a quarter"}, "params.yaml: prepare.test_size: must be a number"),
        ("prepare", {"test_size": 1.5}, "params.yaml: prepare.test_size: must be in (0.0, 1.0)"),
        ("prepare", {"seed": 1.5}, "params.yaml: prepare.seed: must be an integer"),
        ("prepare", {"stratify": "yes"}, "params.yaml: prepare.stratify: must be true or false"),
        ("prepare", {"shuffle": True}, "params.yaml: prepare.shuffle: unknown key"),
        ("train", {"estimator": "svm"}, "params.yaml: train.estimator: must be one of"),
        ("train", {"hyperparams": [1, 2]}, "params.yaml: train.hyperparams: must be a mapping"),
        ("train", {"seed": True}, "params.yaml: train.seed: must be an integer"),
        ("gate", {"metric": "precision"}, "params.yaml: gate.metric: must be one of"),
        ("gate", {"min_value": "high"}, "params.yaml: gate.min_value: must be a number"),
        ("gate", {"max_regression": -0.1}, "params.yaml: gate.max_regression: must be in"),
        ("gate", {"greater_is_better": "yes"}, "params.yaml: gate.greater_is_better: must be"),
        ("gate", {"test": "t-test"}, "params.yaml: gate.test: must be one of"),
        ("gate", {"alpha": 1.0}, "params.yaml: gate.alpha: must be in (0.0, 1.0)"),
        ("gate", {"n_resamples": 0}, "params.yaml: gate.n_resamples: must be between"),
    ],
)
def test_bad_values_name_file_and_key(classification_project, section, values, message):
    edit_params(classification_project, section, **values)
    loader = {"prepare": config.load_prepare, "train": train.load_train, "gate": config.load_gate}
    with pytest.raises(ProjectError, match="^" + message.replace("(", r"\(").replace(")", r"\)")):
        loader[section](classification_project / "params.yaml", "classification")


def test_unknown_hyperparameter_is_named(classification_project):
    edit_params(classification_project, "train", hyperparams={"C": 1.0, "n_trees": 3})
    with pytest.raises(ProjectError) as caught:
        train.load_train(classification_project / "params.yaml", "classification")
    assert str(caught.value).startswith("params.yaml: train.hyperparams.n_trees: unknown")
    assert "max_iter" in str(caught.value)  # the known names are listed


def test_random_state_belongs_to_train_seed(classification_project):
    edit_params(classification_project, "train", hyperparams={"random_state": 1})
    with pytest.raises(ProjectError, match=r"train\.hyperparams\.random_state: set train\.seed"):
        train.load_train(classification_project / "params.yaml", "classification")


def test_estimators_depend_on_the_task(project, task):
    other = "ridge" if task == "classification" else "logistic_regression"
    edit_params(project, "train", estimator=other, hyperparams={})
    with pytest.raises(ProjectError, match="params.yaml: train.estimator"):
        train.load_train(project / "params.yaml", task)


def test_stratify_is_for_classification_only(tmp_path):
    from pipeline_helpers import write_project

    root = write_project(tmp_path, "regression")
    edit_params(root, "prepare", stratify=True)
    with pytest.raises(ProjectError, match="prepare.stratify: can only be true"):
        config.load_prepare(root / "params.yaml", "regression")


def test_lower_is_better_metrics_default_direction(tmp_path):
    from pipeline_helpers import write_project

    root = write_project(tmp_path, "regression")
    edit_params(root, "gate", metric="rmse", min_value=50.0)
    assert config.load_gate(root / "params.yaml", "regression").greater_is_better is False


def test_a_broken_section_does_not_stop_other_stages(classification_project):
    edit_params(classification_project, "gate", metric="nonsense")
    params = classification_project / "params.yaml"
    assert config.load_prepare(params, "classification").seed == 7
    with pytest.raises(ProjectError):
        config.load_gate(params, "classification")


def test_missing_section_and_bad_yaml(classification_project):
    params = classification_project / "params.yaml"
    write_yaml(params, {"prepare": {"test_size": 0.2, "seed": 1, "stratify": False}})
    with pytest.raises(ProjectError, match="^params.yaml: gate: missing section$"):
        config.load_gate(params, "classification")
    params.write_text("prepare: [unclosed\n")
    with pytest.raises(ProjectError, match="^params.yaml: invalid YAML at line"):
        config.load_prepare(params, "classification")


def test_command_line_error_is_one_line(classification_project, monkeypatch, capsys):
    edit_params(classification_project, "prepare", test_size="half")
    monkeypatch.chdir(classification_project)
    with pytest.raises(SystemExit) as exited:
        run_cli(prepare.main)
    assert exited.value.code == 1
    assert capsys.readouterr().err.splitlines() == [
        "error: params.yaml: prepare.test_size: must be a number, got 'half'"
    ]
    assert not (classification_project / "data" / "prepared").exists()
