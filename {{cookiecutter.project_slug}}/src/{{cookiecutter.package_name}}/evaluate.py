"""Stage evaluate: score the model on the hold-out set; write metrics and plot data."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from weighbridge import plots
from weighbridge.config import ProjectPaths
from weighbridge.errors import run_cli
from weighbridge.model_io import load_model
from weighbridge.reading import read_prepared
from weighbridge.schema import load_schema
from weighbridge.scoring import Predictions, predict, require_measurable, scores


def plot_tables(predictions: Predictions) -> dict[str, pd.DataFrame]:
    """plots/*.csv, each bounded in size whatever the hold-out size (see plots.py)."""
    p = predictions
    if p.classes is None:
        return {"predictions.csv": plots.predictions_table(p.y_true, p.y_pred)}
    return {
        "confusion.csv": plots.confusion_table(p.y_true, p.y_pred, p.classes),
        "roc.csv": plots.roc_table(p.y_true, p.proba, p.classes),
        "pr.csv": plots.pr_table(p.y_true, p.proba, p.classes),
    }


def run(project_dir: Path) -> dict[str, float]:
    """Write metrics/evaluation.json and plots/*.csv; return the metrics."""
    paths = ProjectPaths(project_dir)
    schema = load_schema(paths.schema)
    where = paths.shown(paths.holdout_data)
    model, holdout = load_model(paths.model_dir), read_prepared(paths.holdout_data, schema, where)
    require_measurable(model, holdout, schema, where, paths.shown(paths.model_dir))
    predictions = predict(model, holdout, schema)
    result = scores(predictions)
    paths.evaluation_json.parent.mkdir(parents=True, exist_ok=True)
    paths.evaluation_json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    paths.plots_dir.mkdir(parents=True, exist_ok=True)
    for name, table in plot_tables(predictions).items():
        table.to_csv(paths.plots_dir / name, index=False, lineterminator="\n")
    return result


def main() -> None:
    result = run(Path("."))
    print("evaluate: " + ", ".join(f"{name} {value:.4f}" for name, value in result.items()))


if __name__ == "__main__":
    run_cli(main)
