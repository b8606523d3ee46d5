"""The gate stage (``dvc.yaml`` runs ``python -m <package>.gate_stage``, which calls this
``main``): judge the
trained model against the version in production now, and record the verdict.

The stage records, the registry enforces. A rejection is written like any verdict
(``metrics/gate.json``: numbers; ``reports/gate.json``: bookkeeping) and the stage
succeeds, so ``dvc exp run`` keeps rejected experiments in ``dvc exp show``;
``registry check``, ``register`` and ``promote`` refuse them. Errors (bad params,
unreadable weights, a DVC remote that is down) still fail the stage.

Production lives in the git tags of the repository the pipeline runs for. ``dvc exp run
--queue`` and ``--temp`` run in a temporary copy without those tags; DVC then sets
``DVC_ROOT`` to the original repository, so the gate reads production's tags, and its
weights (DVC cache, then remote), there: the same production as in the work tree.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from ..balance import accuracy_warning
from ..config import ProjectPaths
from ..errors import ProjectError
from ..gate import GateResult, judge
from ..gate.inputs import Holdout, load_inputs, workspace_candidate
from .champion import load_history, load_production

# Where `dvc exp run --queue` and `--temp` copy the repository (dvc.repo.experiments).
EXPERIMENT_COPIES = Path(".dvc") / "tmp" / "exps"


def origin_repo(project_dir: Path) -> Path:
    """Where production's tags are: the repository ``dvc exp run`` was started from
    (DVC_ROOT, which DVC sets for every stage), else the project itself.

    DVC_ROOT is trusted only where DVC would set it: the project itself, or the repository
    whose ``.dvc/tmp/exps`` holds this copy; one left over in a shell elsewhere would
    silently compare with another project's production.
    """
    root = os.environ.get("DVC_ROOT")
    if not root:
        return project_dir
    origin, here = Path(root).resolve(), project_dir.resolve()
    if here == origin or here.is_relative_to(origin / EXPERIMENT_COPIES):
        return origin
    raise ProjectError(
        f"DVC_ROOT {root} is neither this project nor the repository whose experiment runs "
        "here (the gate reads production's tags there): unset it"
    )


def run(project_dir: Path) -> GateResult:
    """Judge the work tree's model, write both verdict files, return the verdict."""
    return run_on_holdout(project_dir)[0]


def run_on_holdout(project_dir: Path) -> tuple[GateResult, Holdout]:
    """``run``, also returning the hold-out set it judged on."""
    paths = ProjectPaths(project_dir)
    model = paths.model_name
    params, holdout = load_inputs(project_dir)
    candidate = workspace_candidate(project_dir, model)
    origin = origin_repo(project_dir)
    production = load_production(origin, model, project_dir)
    history = load_history(origin, model, project_dir) if production is not None else []
    result = judge(candidate, production, holdout, params, history)
    write_json(paths.gate_json, result.to_metrics())
    write_json(paths.gate_report, result.to_record())
    return result, holdout


def write_json(path: Path, payload: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")


def main() -> None:
    result, holdout = run_on_holdout(Path("."))
    schema = holdout.schema
    warning = accuracy_warning(result.metric, schema.task, holdout.frame[schema.target])
    if warning:  # plain accuracy on imbalanced classes (balance.py)
        print(warning, file=sys.stderr)
    print(result.summary() if result.passed else f"gate rejected: {result.details()}")
