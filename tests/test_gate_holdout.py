"""The static hold-out set, end to end: real bakes, real `dvc repro`, real tags.

Production is a random forest (unpruned: it memorises its training rows) trained on the
first 350 rows of breast_cancer; then the data grows to all 569 rows. The gate must never
score a row production trained on: with the hash split no row changes side, and with the
old random split (which reshuffles) the rows production trained on are left out.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tests.helpers import bake_ok, dvc, run
from tests.test_gate_e2e import commit_all, gate_metrics, gate_report, registry

pytestmark = pytest.mark.slow

FIRST_ROWS = 350
RAW = Path("data") / "raw" / "dataset.csv"
PREPARED = Path("data") / "prepared"


def edit_params(project: Path, section: str, **values) -> None:
    path = project / "params.yaml"
    params = yaml.safe_load(path.read_text())
    params[section].update(values)
    path.write_text(yaml.safe_dump(params, sort_keys=False))


def keep_rows(project: Path, lines: list[str], rows: int) -> None:
    """The raw data as its header and first ``rows`` rows, tracked again by DVC."""
    (project / RAW).write_text("".join(lines[: rows + 1]))
    dvc(project, "add", str(RAW))


def memorising_production(cookies, split: str) -> tuple[Path, list[str]]:
    """A bake whose v1.0.0, in production, is a random forest trained on the first 350
    rows under ``split``; returns the project and the full raw file's lines."""
    project = bake_ok(cookies)
    lines = (project / RAW).read_text().splitlines(keepends=True)
    keep_rows(project, lines, FIRST_ROWS)
    edit_params(project, "prepare", split=split)
    edit_params(project, "train", estimator="random_forest", hyperparams={"n_estimators": 50})
    dvc(project, "repro")
    commit_all(project, "train on the first rows")
    dvc(project, "push")
    registry(project, "register")
    registry(project, "promote", "v1.0.0", "--stage", "production")
    return project, lines


def rows_of(path: Path) -> set[tuple]:
    return set(pd.read_parquet(path).itertuples(index=False, name=None))


def production_accuracy_on(project: Path, weights: Path, rows: pd.DataFrame) -> float:
    """Production's accuracy on ``rows``, computed here, apart from the gate."""
    rows.to_parquet(project / "rows.parquet", index=False)
    code = (
        "import sys; from pathlib import Path\n"
        "import pandas as pd\n"
        "from weighbridge.model_io import load_model\n"
        "model = load_model(Path(sys.argv[1]))\n"
        "rows = pd.read_parquet('rows.parquet')\n"
        "print(float((model.predict(rows.drop(columns='target')) == rows['target']).mean()))\n"
    )
    result = run([sys.executable, "-c", code, str(weights)], project)
    (project / "rows.parquet").unlink()
    return float(result.stdout)


def test_after_a_random_split_the_rows_production_trained_on_are_left_out(cookies, tmp_path):
    project, lines = memorising_production(cookies, "random")
    trained_on = rows_of(project / PREPARED / "train.parquet")
    weights = tmp_path / "production"  # v1.0.0's weights, before the work tree retrains
    shutil.copytree(project / "models" / "classifier", weights)
    keep_rows(project, lines, len(lines) - 1)
    dvc(project, "repro")
    holdout = pd.read_parquet(project / PREPARED / "holdout.parquet")
    seen = holdout.apply(lambda row: tuple(row) in trained_on, axis=1)
    assert seen.sum() > 10  # the random split reshuffled: production trained on these
    report, metrics = gate_report(project), gate_metrics(project)
    assert report["holdout"]["rows_left_out"] == metrics["rows_left_out"] == int(seen.sum())
    assert report["holdout"]["rows_scored"] == metrics["rows_scored"] == int((~seen).sum())
    # production's recorded score is its score on the unseen rows alone, not inflated by
    # the rows it memorised
    unseen = holdout[~seen].reset_index(drop=True)
    assert report["baseline"] == pytest.approx(production_accuracy_on(project, weights, unseen))
    assert production_accuracy_on(project, weights, holdout[seen]) == 1.0  # memorised


def test_with_the_hash_split_no_row_changes_side_as_the_data_grows(cookies):
    project, lines = memorising_production(cookies, "hash")
    trained_on = rows_of(project / PREPARED / "train.parquet")
    first_holdout = rows_of(project / PREPARED / "holdout.parquet")
    keep_rows(project, lines, len(lines) - 1)
    dvc(project, "repro")
    holdout = rows_of(project / PREPARED / "holdout.parquet")
    assert first_holdout <= holdout and not holdout & trained_on
    assert trained_on <= rows_of(project / PREPARED / "train.parquet")
    metrics = gate_metrics(project)
    assert metrics["rows_left_out"] == 0 and metrics["rows_scored"] == len(holdout)
    assert "baseline" in metrics  # compared with production on every hold-out row
