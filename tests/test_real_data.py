"""Real data end to end: palmerpenguins' penguins.csv (shipped in the package, no download)
bakes with an inferred schema, prepares, trains, is registered, promoted, deployed and
predicts rows with gaps and unseen categories; one synthetic CSV covers what penguins lacks
(dates and a time split, an identifier, yes/no booleans, missing targets, a regression)."""

from __future__ import annotations

import ast
import hashlib
import importlib.resources
import io
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from tests.helpers import TEMPLATE_DIR, TOOLKIT_DIR, dvc, git, load_hook, pymod, train_and_register

PENGUINS = Path(str(importlib.resources.files("palmerpenguins") / "data" / "penguins.csv"))
SUMMARY = (
    "schema: 8 columns — 7 features (2 category, 2 float64, 3 int64), target species "
    "(category); edit data/schema.yaml to change"
)


pre_gen = load_hook("pre_gen_project")


def column(name: str, dtype: str, nullable: bool, role: str = "feature") -> dict:
    return {"name": name, "dtype": dtype, "role": role, "nullable": nullable}


def bake(out: Path, csv: Path, target: str, task: str) -> tuple[Path, str]:
    """Bake dataset=csv on ``csv`` as a user runs cookiecutter; the project and its stdout."""
    context = {
        "project_name": "Penguins",
        "dataset": "csv",
        "csv_path": str(csv),
        "target_column": target,
        "task": task,
        "ci": "none",
    }
    args = [f"{key}={value}" for key, value in context.items()]
    command = [sys.executable, "-m", "cookiecutter", "--no-input", "-o", str(out)]
    result = subprocess.run(
        [*command, str(TEMPLATE_DIR), *args], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    return out / "penguins", result.stdout


@pytest.fixture(scope="module")
def baked(tmp_path_factory) -> tuple[Path, str]:
    """One bake of dataset=csv on penguins.csv; its project and stdout."""
    return bake(tmp_path_factory.mktemp("penguins"), PENGUINS, "species", "classification")


@pytest.mark.slow
def test_the_bake_infers_the_schema_and_says_so(baked):
    project, stdout = baked
    assert SUMMARY in stdout.splitlines()
    schema = yaml.safe_load((project / "data" / "schema.yaml").read_text(encoding="utf-8"))
    assert schema == {
        "task": "classification",
        "columns": [
            column("species", "category", False, "target"),
            column("island", "category", False),
            column("bill_length_mm", "float64", True),
            column("bill_depth_mm", "float64", True),
            column("flipper_length_mm", "int64", True),
            column("body_mass_g", "int64", True),
            column("sex", "category", True),
            column("year", "int64", False),
        ],
    }
    assert git(project, "status", "--porcelain").stdout == ""  # committed with the bake


@pytest.mark.slow
def test_prepare_reads_text_and_gaps_into_deterministic_parquet(baked):
    project, _ = baked
    dvc(project, "repro", "prepare")
    prepared = project / "data" / "prepared"
    train = pd.read_parquet(prepared / "train.parquet")
    holdout = pd.read_parquet(prepared / "holdout.parquet")
    assert len(train) + len(holdout) == 344 and len(holdout) == 89  # the hash split
    assert train["sex"].isna().any() and train["island"].notna().all()
    assert set(holdout["species"]) == {"Adelie", "Chinstrap", "Gentoo"}
    digests = [
        hashlib.sha256((prepared / n).read_bytes()).hexdigest()
        for n in ("train.parquet", "holdout.parquet")
    ]
    dvc(project, "repro", "--force", "prepare")
    again = [
        hashlib.sha256((prepared / n).read_bytes()).hexdigest()
        for n in ("train.parquet", "holdout.parquet")
    ]
    assert again == digests


@pytest.mark.slow
def test_penguins_train_register_deploy_and_predict_rows_with_gaps(baked, tmp_path):
    project, _ = baked
    train_and_register(project)  # dvc repro (train, evaluate, gate), commit, push, v1.0.0
    assert json.loads((project / "metrics" / "gate.json").read_text())["passed"] is True
    pymod(project, "registry", "promote", "v1.0.0", "--stage", "production")
    served = tmp_path / "srv"
    pymod(project, "registry", "deploy", "--stage", "production", "--to", str(served))

    rows = pd.read_csv(PENGUINS, keep_default_na=False).drop(columns="species")
    rows = rows[~rows.isin(["NA"]).any(axis=1)].iloc[[0, 60, 130, 200]].copy()
    rows.iloc[1, rows.columns.get_loc("sex")] = "NA"  # a gap in a nullable feature
    rows.iloc[2, rows.columns.get_loc("island")] = "Atlantis"  # never seen in training
    rows.to_csv(tmp_path / "rows.csv", index=False)
    predicted = predict(project, served, tmp_path / "rows.csv")
    assert predicted.returncode == 0, predicted.stderr
    out = pd.read_csv(io.StringIO(predicted.stdout))
    assert len(out) == 4 and out["prediction"].isin(["Adelie", "Chinstrap", "Gentoo"]).all()
    (warning,) = predicted.stderr.splitlines()
    assert warning.startswith("warning: ") and "'island' (1 row)" in warning

    drift = pymod(
        project,
        "registry",
        "drift",
        "production",
        "--input",
        str(tmp_path / "rows.csv"),
        check=False,
    )
    assert drift.returncode in (0, 1) and "Traceback" not in drift.stderr
    assert "island" in drift.stdout

    rows.iloc[3, rows.columns.get_loc("bill_length_mm")] = "long"  # text in a numeric column
    rows.to_csv(tmp_path / "bad.csv", index=False)
    output = tmp_path / "bad-out.csv"
    refused = predict(project, served, tmp_path / "bad.csv", "--output", str(output))
    assert refused.returncode == 1 and refused.stdout == ""
    (error,) = refused.stderr.splitlines()
    assert error.startswith("error: ") and "'bill_length_mm'" in error
    assert not output.exists()


def predict(project: Path, served: Path, rows: Path, *args: str):
    """The deployed model's predict CLI, as a serving machine runs it."""
    return pymod(
        project, "predict", "--model", str(served), "--input", str(rows), *args, check=False
    )


def test_pre_gen_accepts_text_features_and_gaps():
    assert pre_gen.check_csv(str(PENGUINS), "species", "classification") is None
    assert pre_gen.check_csv(str(PENGUINS), "body_mass_g", "regression") is None  # 2 gaps


def test_pre_gen_still_refuses_what_no_model_can_learn(tmp_path):
    data = tmp_path / "data.csv"
    data.write_text("x,y\n" + "".join(f"{i},{'NA' if i > 7 else i % 2}\n" for i in range(20)))
    assert pre_gen.check_csv(str(data), "y", "classification") == (
        "csv_path",
        f"{data}: has 8 data rows with a target, needs at least 10",
    )
    assert pre_gen.check_csv(str(PENGUINS), "island", "regression") == (
        "csv_path",
        f"{PENGUINS}: line 2, column 'island': 'Torgersen' is not a number (task regression)",
    )


def test_pre_gen_knows_the_same_missing_tokens_as_the_project():
    text = (TOOLKIT_DIR / "src" / "weighbridge" / "reading.py").read_text()
    line = next(line for line in text.splitlines() if line.startswith("MISSING_TOKENS = "))
    assert ast.literal_eval(line.partition("=")[2].strip()) == pre_gen.MISSING_TOKENS


def shop_csv(path: Path, rows: int = 120) -> Path:
    """Synthetic sales: an order code unique per row, dates out of file order, yes/no members,
    a text region, and a price (the regression target) missing on every 20th row."""
    rng = np.random.default_rng(7)
    days = pd.date_range("2024-01-01", periods=rows, freq="D")[rng.permutation(rows)]
    region = rng.choice(["north", "south", "east"], rows)
    member = rng.choice(["yes", "no"], rows)
    size = rng.uniform(1, 10, rows).round(2)
    price = size * 3 + np.select([region == "north", region == "south"], [10, 20], 0)
    price = (price + (member == "yes") * 5 + rng.normal(0, 0.5, rows)).round(2).astype(object)
    price[::20] = "NA"
    frame = pd.DataFrame(
        {
            "order_code": [f"ord-{i:04d}x" for i in rng.permutation(rows)],
            "day": days.strftime("%Y-%m-%d"),
            "member": member,
            "region": region,
            "size": size,
            "price": price,
        }
    )
    frame.to_csv(path, index=False)
    return path


@pytest.mark.slow
def test_synthetic_dates_identifiers_booleans_and_missing_target_regression(tmp_path):
    project, _ = bake(tmp_path, shop_csv(tmp_path / "shop.csv"), "price", "regression")
    schema = yaml.safe_load((project / "data" / "schema.yaml").read_text(encoding="utf-8"))
    assert schema["columns"] == [
        column("order_code", "category", False, "ignore"),
        column("day", "datetime", False),
        column("member", "bool", False),
        column("region", "category", False),
        column("size", "float64", False),
        column("price", "float64", False, "target"),
    ]
    params = yaml.safe_load((project / "params.yaml").read_text(encoding="utf-8"))
    params["prepare"].update(split="time", time_column="day")
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))

    repro = dvc(project, "repro", "prepare")
    assert "prepare: dropped 6 row(s) whose target is missing" in repro.stdout
    prepared = project / "data" / "prepared"
    train = pd.read_parquet(prepared / "train.parquet")
    holdout = pd.read_parquet(prepared / "holdout.parquet")
    assert len(train) + len(holdout) == 114 and len(holdout) == 29
    assert train["price"].notna().all() and holdout["price"].notna().all()
    assert "order_code" not in train.columns
    assert holdout["day"].min() > train["day"].max()  # the hold-out is the latest days

    dvc(project, "repro")  # train, evaluate, gate
    (signature,) = (project / "models").glob("*/signature.json")
    inputs = json.loads(signature.read_text())["inputs"]
    assert [i["name"] for i in inputs] == ["day", "member", "region", "size"]
    r2 = json.loads((project / "metrics" / "evaluation.json").read_text())["r2"]
    assert math.isfinite(r2) and r2 > 0.5
