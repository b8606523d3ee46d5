"""prepare -> train -> evaluate on real files: determinism, skops, metrics, plots."""

from __future__ import annotations

import hashlib
import io
import json
import operator
import os
import subprocess
import sys
import zipfile

import pandas as pd
import pytest
import skops.io as sio
from pipeline_helpers import PYTHONPATH, TESTS, edit_params, train_every_estimator
from sample_project import evaluate, prepare, train
from sklearn.preprocessing import FunctionTransformer
from weighbridge import model_io
from weighbridge.config import ProjectPaths
from weighbridge.errors import ProjectError
from weighbridge.reading import read_prepared
from weighbridge.schema import load_schema


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_split_is_deterministic_and_complete(project):
    paths = ProjectPaths(project)
    assert prepare.run(project) == (120, 40, 0)
    first = (sha256(paths.train_data), sha256(paths.holdout_data))
    prepare.run(project)
    assert (sha256(paths.train_data), sha256(paths.holdout_data)) == first
    raw = pd.read_csv(paths.raw_csv)
    both = pd.concat([pd.read_parquet(paths.train_data), pd.read_parquet(paths.holdout_data)])
    assert len(both) == len(raw) and not both.duplicated().any()


def test_another_seed_gives_another_split(classification_project):
    paths = ProjectPaths(classification_project)
    prepare.run(classification_project)
    before = paths.holdout_data.read_bytes()
    edit_params(classification_project, "prepare", seed=8)
    prepare.run(classification_project)
    assert paths.holdout_data.read_bytes() != before


def test_stratified_split_keeps_class_proportions(classification_project):
    paths = ProjectPaths(classification_project)
    prepare.run(classification_project)
    share = pd.read_parquet(paths.holdout_data)["label"].mean()
    assert share == pytest.approx(pd.read_csv(paths.raw_csv)["label"].mean(), abs=0.01)


TRAIN_EVERY_ESTIMATOR = """
import json, sys
from pathlib import Path
from pipeline_helpers import train_every_estimator
print(json.dumps(train_every_estimator(Path(sys.argv[1]), sys.argv[2])))
"""


def test_training_is_bit_identical_across_processes(project, task):
    """Here and in a child process (other memory addresses, other string hashes)."""
    prepare.run(project)
    here = train_every_estimator(project, task)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([PYTHONPATH, str(TESTS)])}
    env["PYTHONHASHSEED"] = "12345"
    child = subprocess.run(
        [sys.executable, "-c", TRAIN_EVERY_ESTIMATOR, str(project), task],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert json.loads(child.stdout) == here
    assert len(set(here.values())) == 3  # three different models, each reproducible


def test_canonical_file_loads_and_predicts_like_the_fitted_model(project, task):
    prepare.run(project)
    paths = ProjectPaths(project)
    schema = load_schema(paths.schema)
    params = train.load_train(paths.params, task)
    fitted = train.fit(params, schema, read_prepared(paths.train_data, schema))
    model_io.save_model(fitted, paths.model_dir, schema, paths.model_name)
    loaded = model_io.load_model(paths.model_dir)
    holdout = read_prepared(paths.holdout_data, schema)[schema.features]
    assert (loaded.predict(holdout) == fitted.predict(holdout)).all()
    # The canonical archive is a plain skops file: members renamed, no timestamps.
    with zipfile.ZipFile(paths.model_file) as archive:
        names = archive.namelist()
        assert names[0] == "schema.json"
        assert all(info.date_time == (1980, 1, 1, 0, 0, 0) for info in archive.infolist())
        assert all(name.split(".")[0].isdigit() for name in names[1:])
    assert sio.load(paths.model_file, trusted=model_io.TRUSTED_TYPES).get_params()


def test_raw_skops_dump_is_not_deterministic_but_ours_is(classification_project):
    prepare.run(classification_project)
    paths = ProjectPaths(classification_project)
    schema = load_schema(paths.schema)
    params = train.load_train(paths.params, "classification")
    frame = read_prepared(paths.train_data, schema)
    first, second = (train.fit(params, schema, frame) for _ in range(2))
    assert sio.dumps(first) != sio.dumps(second)  # ids differ: why canonicalisation exists
    assert model_io.canonical_skops(first) == model_io.canonical_skops(second)


def test_signature_and_environment(project, task):
    prepare.run(project)
    signature = train.run(project)
    paths = ProjectPaths(project)
    assert json.loads(paths.signature_file.read_text()) == signature
    assert [column["name"] for column in signature["inputs"]] == [f"feature {i}" for i in range(4)]
    assert all(
        column["dtype"] == "float64" and not column["nullable"] for column in signature["inputs"]
    )
    assert signature["output"]["name"] == "label" and signature["output"]["kind"] == task
    expected_classes = [0, 1] if task == "classification" else None
    assert signature["output"]["classes"] == expected_classes
    assert signature["weights"]["bytes"] == paths.model_file.stat().st_size
    environment = json.loads(paths.environment_file.read_text())
    assert set(environment["packages"]) >= {"scikit-learn", "skops", "numpy", "pandas", "dvc"}
    assert environment["python"].count(".") == 2


def test_load_refuses_tampered_weights(classification_project):
    prepare.run(classification_project)
    train.run(classification_project)
    paths = ProjectPaths(classification_project)
    paths.model_file.write_bytes(paths.model_file.read_bytes() + b"\0")
    with pytest.raises(ProjectError, match="sha256 .* does not match signature.json"):
        model_io.load_model(paths.model_dir)


def test_load_refuses_untrusted_types():
    data = model_io.canonical_skops(FunctionTransformer(func=operator.add))
    with pytest.raises(ProjectError, match="untrusted types"):
        model_io.load_trusted(data, "model.skops")


def test_invalid_hyperparameter_value_names_params(classification_project):
    edit_params(classification_project, "train", hyperparams={"C": -1.0})
    prepare.run(classification_project)
    with pytest.raises(ProjectError, match=r"^params\.yaml: train\.hyperparams: The 'C' parameter"):
        train.run(classification_project)


def test_evaluate_writes_metrics_and_plots(project, task):
    prepare.run(project)
    train.run(project)
    result = evaluate.run(project)
    paths = ProjectPaths(project)
    saved = paths.evaluation_json.read_bytes()
    assert json.loads(saved) == result
    if task == "classification":
        assert list(result) == ["accuracy", "balanced_accuracy", "f1", "roc_auc"]
        assert all(0.5 < value <= 1.0 for value in result.values())
        plots = {"confusion.csv": ["actual", "predicted", "count"],
                 "roc.csv": ["curve", "fpr", "tpr"],
                 "pr.csv": ["curve", "recall", "precision"]}  # fmt: skip
    else:
        assert list(result) == ["mae", "rmse", "r2"]
        assert result["r2"] > 0.9 and 0 < result["mae"] <= result["rmse"]
        plots = {"predictions.csv": ["actual", "predicted", "residual"]}
    assert sorted(p.name for p in paths.plots_dir.iterdir()) == sorted(plots)
    for name, columns in plots.items():
        assert list(pd.read_csv(paths.plots_dir / name).columns) == columns
    assert len(pd.read_csv(paths.plots_dir / next(iter(plots)))) > 1
    evaluate.run(project)
    assert paths.evaluation_json.read_bytes() == saved  # deterministic


def test_multiclass_metrics(tmp_path):
    from pipeline_helpers import synthetic_frame, write_project

    root = write_project(tmp_path, "classification", synthetic_frame("classification", classes=3))
    prepare.run(root)
    train.run(root)
    result = evaluate.run(root)
    assert set(result) == {"accuracy", "balanced_accuracy", "f1", "roc_auc"}
    assert 0.34 < result["f1"] <= 1.0 and 0.5 < result["roc_auc"] <= 1.0
    confusion = pd.read_csv(ProjectPaths(root).plots_dir / "confusion.csv")
    assert set(confusion["actual"]) == {0, 1, 2}


def test_model_bytes_are_a_zip_readable_from_memory(classification_project):
    prepare.run(classification_project)
    train.run(classification_project)
    data = ProjectPaths(classification_project).model_file.read_bytes()
    assert zipfile.is_zipfile(io.BytesIO(data))
