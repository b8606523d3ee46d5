"""The model floor on mixed data: one Pipeline per estimator that imputes gaps, encodes
categories (unseen ones too), expands dates, and saves deterministically with skops."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from mixed_data import ESTIMATORS, FAST_HYPERPARAMS, mixed_frame, mixed_schema
from pipeline_helpers import PYTHONPATH, TESTS
from sample_project import estimators, train
from sample_project.preprocessing import MAX_ONE_HOT, DateParts, column_groups
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits
from weighbridge import model_io
from weighbridge.errors import ProjectError
from weighbridge.schema import Column, Schema


# hist_gradient_boosting's OpenMP threads crawl on a busy machine (seconds for 240 rows);
# one thread keeps these small fits fast and changes no result.
@pytest.fixture(autouse=True, scope="module")
def one_thread():
    with threadpool_limits(1):
        yield


CASES = [(task, name) for task in ESTIMATORS for name in ESTIMATORS[task]]
IDS = [name if task == "classification" else f"{name}-regression" for task, name in CASES]


def fitted(task: str, estimator: str, frame: pd.DataFrame | None = None) -> Pipeline:
    schema = mixed_schema(task)
    frame = mixed_frame() if frame is None else frame
    model = estimators.build(schema, estimator, FAST_HYPERPARAMS[estimator], seed=7)
    return model.fit(frame[schema.features], frame[schema.target])


def unusual_rows() -> pd.DataFrame:
    """Rows unlike any in training: an unseen island, and a gap in every nullable column."""
    rows = mixed_frame(rows=4, seed=1).drop(columns=["species", "body_mass"])
    rows.loc[0, "island"] = "Atlantis"
    rows.loc[1, "island"] = np.nan
    rows.loc[1, "flipper_length"] = np.nan
    rows.loc[1, "male"] = np.nan
    rows.loc[1, "observed"] = pd.NaT
    return rows


@pytest.mark.parametrize(("task", "estimator"), CASES, ids=IDS)
def test_every_estimator_learns_from_categories_gaps_bools_and_dates(task, estimator):
    model = fitted(task, estimator)
    assert isinstance(model, Pipeline)
    schema = mixed_schema(task)
    unseen = mixed_frame(rows=400, seed=2)
    score = model.score(unseen[schema.features], unseen[schema.target])
    # The target hangs on island, male and the date: ignoring them scores far lower.
    assert score > (0.85 if task == "classification" else 0.75)
    predictions = model.predict(unusual_rows())
    assert len(predictions) == 4
    if task == "regression":
        assert np.isfinite(predictions).all()


@pytest.mark.parametrize(("task", "estimator"), CASES, ids=IDS)
def test_same_data_and_params_give_the_same_bytes(task, estimator):
    first, second = fitted(task, estimator), fitted(task, estimator)
    assert model_io.canonical_skops(first) == model_io.canonical_skops(second)
    other = fitted(task, estimator, mixed_frame(seed=3))
    assert model_io.canonical_skops(other) != model_io.canonical_skops(first)


@pytest.mark.parametrize(("task", "estimator"), CASES, ids=IDS)
def test_every_type_in_the_saved_model_is_listed_as_trusted(task, estimator):
    data = model_io.canonical_skops(fitted(task, estimator))
    assert set(sio.get_untrusted_types(data=data)) <= set(model_io.TRUSTED_TYPES)


def test_the_date_transformer_is_refused_unless_listed():
    data = model_io.canonical_skops(fitted("classification", "logistic_regression"))
    listed = f"{DateParts.__module__}.DateParts"
    assert listed in sio.get_untrusted_types(data=data)
    with pytest.raises(Exception, match="DateParts"):
        sio.loads(data, trusted=[t for t in model_io.TRUSTED_TYPES if t != listed])


FRESH_PROCESS = """
import json, sys
import pandas as pd
from weighbridge import model_io
from test_preprocessing import CASES, fitted, unusual_rows
out = {}
for (task, estimator), path in zip(CASES, sys.argv[1:]):
    with open(path, "rb") as handle:
        model = model_io.load_trusted(handle.read(), path)
    refit = model_io.canonical_skops(fitted(task, estimator))
    out[path] = {
        "predictions": pd.Series(model.predict(unusual_rows())).astype(str).tolist(),
        "same_bytes": refit == open(path, "rb").read(),
    }
print(json.dumps(out))
"""


def test_models_load_and_refit_identically_in_a_fresh_process(tmp_path):
    """skops loads every pipeline (the date transformer included) with the listed trusted
    types only, in another interpreter (other addresses, other string hashes)."""
    paths, expected = [], {}
    for task, estimator in CASES:
        model = fitted(task, estimator)
        path = tmp_path / f"{task}-{estimator}.skops"
        path.write_bytes(model_io.canonical_skops(model))
        paths.append(str(path))
        expected[str(path)] = {
            "predictions": pd.Series(model.predict(unusual_rows())).astype(str).tolist(),
            "same_bytes": True,
        }
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([PYTHONPATH, str(TESTS)])}
    env.update(PYTHONHASHSEED="4321", OMP_NUM_THREADS="1")
    child = subprocess.run(
        [sys.executable, "-c", FRESH_PROCESS, *paths],
        env=env, capture_output=True, text=True, cwd=tmp_path,
    )  # fmt: skip
    assert child.returncode == 0, child.stderr
    assert json.loads(child.stdout) == expected


def test_untrusted_type_in_a_pipeline_is_refused():
    from sklearn.preprocessing import FunctionTransformer

    model = Pipeline([("evil", FunctionTransformer(func=os.system))])
    with pytest.raises(ProjectError, match="untrusted types"):
        model_io.load_trusted(model_io.canonical_skops(model), "model.skops")


def test_date_parts_are_days_since_1970_and_the_calendar_parts_that_vary():
    dates = pd.DataFrame(
        {
            "day": pd.to_datetime(["1970-01-02", "1970-03-05", None]).astype("datetime64[ns]"),
            "moment": pd.to_datetime(["2024-01-01 10:30", "2024-01-01 11:30", "2024-01-01 12:30"]),
        }
    )
    parts = DateParts().fit(dates)
    assert parts.parts_ == [["days", "month", "day", "dayofweek"], ["days", "hour"]]
    assert list(parts.get_feature_names_out()) == [
        "day_days", "day_month", "day_day", "day_dayofweek", "moment_days", "moment_hour",
    ]  # fmt: skip
    values = parts.transform(dates)
    assert values.shape == (3, 6)
    assert values[0, :4].tolist() == [1.0, 1.0, 2.0, 4.0]  # 1970-01-02 was a Friday
    assert np.isnan(values[2, :4]).all()  # NaT -> NaN, imputed later
    assert values[:, 5].tolist() == [10.0, 11.0, 12.0]


def test_date_parts_read_aware_times_in_utc():
    aware = pd.DataFrame(
        {"at": pd.Series(pd.to_datetime(["2024-01-01T01:00+01:00", "2024-01-02T01:00+01:00"]))}
    )
    naive = pd.DataFrame({"at": pd.to_datetime(["2024-01-01T00:00", "2024-01-02T00:00"])})
    assert aware["at"].dt.tz is not None
    assert (
        DateParts().fit(aware).transform(aware) == DateParts().fit(naive).transform(naive)
    ).all()


def test_unseen_categories_encode_as_unknown():
    rows = unusual_rows()
    one_hot = fitted("classification", "logistic_regression")[0]
    island = [i for i, name in enumerate(one_hot.get_feature_names_out()) if "island" in name]
    assert one_hot.transform(rows)[0, island].tolist() == [0.0] * len(island)
    ordinal = fitted("classification", "hist_gradient_boosting")[0]
    assert np.isnan(ordinal.transform(rows)[0, 0])  # native: unknown is missing


def high_cardinality_frame(categories: int) -> tuple[Schema, pd.DataFrame]:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "code": pd.Series([f"c{i}" for i in rng.integers(0, categories, 2000)], dtype=object),
            "x": rng.normal(size=2000),
        }
    )
    frame["y"] = (frame["x"] > 0).astype("int64")
    columns = (Column("code", "category"), Column("x", "float64"), Column("y", "int64", "target"))
    return Schema("classification", columns), frame


def test_one_hot_width_is_bounded_whatever_the_cardinality():
    schema, frame = high_cardinality_frame(500)
    model = estimators.build(schema, "logistic_regression", {}, seed=7)
    model.fit(frame[schema.features], frame[schema.target])
    assert model[0].transform(frame[schema.features]).shape[1] == MAX_ONE_HOT + 1


def test_native_categories_beyond_max_bins_still_train():
    schema, frame = high_cardinality_frame(400)
    model = estimators.build(schema, "hist_gradient_boosting", {"max_iter": 3}, seed=7)
    model.fit(frame[schema.features], frame[schema.target])
    assert model[-1].categorical_features == [0] and model[-1].is_categorical_.tolist() == [
        True,
        False,
    ]


def test_signature_lists_dtypes_nullability_and_known_categories(tmp_path):
    for estimator in ("logistic_regression", "hist_gradient_boosting"):
        signature = model_io.save_model(
            fitted("classification", estimator),
            tmp_path / estimator,
            mixed_schema("classification"),
            "classifier",
        )
        assert signature["inputs"] == [
            {"name": "island", "dtype": "category", "nullable": True,
             "categories": ["Biscoe", "Dream", "Torgersen"]},
            {"name": "bill_length", "dtype": "float64", "nullable": False},
            {"name": "flipper_length", "dtype": "int64", "nullable": True},
            {"name": "male", "dtype": "bool", "nullable": True},
            {"name": "observed", "dtype": "datetime", "nullable": True},
        ]  # fmt: skip
        assert signature["output"]["classes"] == ["Adelie", "Gentoo"]
        assert set(signature["weights"]) == {"file", "sha256", "bytes"}


def test_categorical_features_is_the_schemas_to_set():
    problem = estimators.hyperparam_problem(
        "classification", "hist_gradient_boosting", "categorical_features"
    )
    assert problem == "set by data/schema.yaml (the columns of dtype category)"
    assert "categorical_features" not in estimators.known_hyperparams(
        "regression", "hist_gradient_boosting"
    )
    other = estimators.hyperparam_problem("classification", "random_forest", "categorical_features")
    assert other.startswith("unknown hyperparameter for random_forest")


def test_only_columns_that_may_have_gaps_pay_for_an_imputer():
    groups = column_groups(mixed_schema("regression").feature_columns)
    assert groups == {
        "category": ["island"],
        "number": ["bill_length"],
        "number_gaps": ["flipper_length"],
        "bool_gaps": ["male"],
        "datetime_gaps": ["observed"],
    }
    model = fitted("regression", "ridge")
    imputed = {
        name
        for name, step, _ in model[0].transformers_
        if isinstance(step, Pipeline) and "impute" in step.named_steps
    }
    assert imputed == {"number_gaps", "bool_gaps", "datetime_gaps"}
    assert model[0].named_transformers_["number"].named_steps["scale"].copy  # not in place


@pytest.mark.parametrize(("task", "estimator"), CASES, ids=IDS)
def test_a_column_without_any_value_in_training(task, estimator):
    """Imputed, it is a constant; hist_gradient_boosting fails on one (inside scikit-learn),
    so train names the column instead."""
    frame = mixed_frame()
    frame["observed"] = pd.NaT
    params = train.TrainParams(estimator=estimator, hyperparams=FAST_HYPERPARAMS[estimator], seed=7)
    if estimator in estimators.NATIVE:
        with pytest.raises(ProjectError) as error:
            train.fit(params, mixed_schema(task), frame, "train.parquet")
        assert str(error.value) == (
            "train.parquet: column 'observed' has no value at all: hist_gradient_boosting "
            "cannot learn from it (give it role: ignore in data/schema.yaml, or choose another "
            "estimator)"
        )
    else:
        model = train.fit(params, mixed_schema(task), frame)
        assert len(model.predict(unusual_rows())) == 4


def test_numeric_data_trains_exactly_as_the_bare_estimators_did():
    """The bundled datasets are all numbers without gaps: the imputer changes nothing, so the
    pipeline predicts what the estimator alone (behind a scaler for linear models) did."""
    rng = np.random.default_rng(5)
    frame = pd.DataFrame(rng.normal(size=(300, 3)), columns=["a", "b", "c"])
    frame["n"] = rng.integers(0, 50, 300)
    frame["y"] = ((frame["a"] + frame["n"] / 25) > 1).astype("int64")
    columns = (
        *(Column(n, "float64") for n in "abc"),
        Column("n", "int64"),
        Column("y", "int64", "target"),
    )
    schema = Schema("classification", columns)
    features, target = frame[schema.features], frame["y"]
    bare = {
        "logistic_regression": Pipeline(
            [("scale", StandardScaler()), ("model", LogisticRegression(random_state=7))]
        ),
        "random_forest": RandomForestClassifier(n_estimators=10, random_state=7),
    }
    for name, reference in bare.items():
        hyperparams = {"n_estimators": 10} if name == "random_forest" else {}
        ours = estimators.build(schema, name, hyperparams, seed=7).fit(features, target)
        reference.fit(features, target)
        assert np.array_equal(ours.predict_proba(features), reference.predict_proba(features)), name
