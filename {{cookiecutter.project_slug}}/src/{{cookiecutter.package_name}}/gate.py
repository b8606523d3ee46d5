"""Stage gate: may this candidate become a release?

Checks: the absolute floor ``gate.min_value`` always; against the production version (when
there is one) through ``compare_with_production``, the seam that champion.py fills. The
verdict goes to metrics/gate.json (deterministic: no timestamps, so a no-op ``dvc repro``
leaves the work tree clean) and a failed gate exits non-zero, so ``dvc repro`` fails.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from sklearn.base import BaseEstimator

from .config import GateParams, ProjectPaths, load_gate
from .errors import ProjectError, run_cli
from .evaluate import require_measurable, score_model, unmeasurable
from .model_io import load_model, sha256_file
from .schema import Schema, load_schema, read_csv


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    value: float | None
    threshold: float | None  # None when there is nothing to compare against (see champion)
    detail: str


@dataclass(frozen=True)
class Candidate:
    """The model under test and its hold-out scores (all metrics of evaluation.json)."""

    model: BaseEstimator
    scores: dict[str, float]
    schema: Schema
    model_dir: Path


@dataclass(frozen=True)
class Comparison:
    """What the production version contributes to the verdict."""

    production_version: str | None = None
    baseline: float | None = None
    checks: list[Check] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class GateResult:
    passed: bool
    metric: str
    greater_is_better: bool
    candidate: float | None  # None when the hold-out set cannot measure the candidate
    baseline: float | None
    production_version: str | None
    params: GateParams
    checks: list[Check]
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "metric": self.metric,
            "greater_is_better": self.greater_is_better,
            "candidate": self.candidate,
            "baseline": self.baseline,
            "production_version": self.production_version,
            "min_value": self.params.min_value,
            "max_regression": self.params.max_regression,
            "test": self.params.test,
            "alpha": self.params.alpha if self.params.test != "none" else None,
            "checks": [asdict(check) for check in self.checks],
            "summary": self.summary(),
            **self.details,
        }

    def summary(self) -> str:
        """One line: the failed checks (or all of them), each naming the metric, the
        values and the threshold."""
        shown = [check for check in self.checks if not check.passed] or self.checks
        verdict = "passed" if self.passed else "failed"
        return f"gate {verdict}: " + "; ".join(check.detail for check in shown)


def floor_check(value: float, params: GateParams) -> Check:
    """The absolute floor: min_value is the worst acceptable value, whichever way is better."""
    if params.greater_is_better:
        passed, relation = value >= params.min_value, "below"
    else:
        passed, relation = value <= params.min_value, "above"
    passed = passed and not math.isnan(value)
    detail = (
        f"{params.metric} {value:.4f} meets min_value {params.min_value}"
        if passed
        else f"{params.metric} {value:.4f} is {relation} min_value {params.min_value}"
    )
    return Check("min_value", passed, value, params.min_value, detail)


def compare_with_production(
    candidate: Candidate, holdout: pd.DataFrame, params: GateParams, project_dir: Path
) -> Comparison:
    """Checks against the version in production now (read from the registry tags), on the
    same hold-out set; none when nothing is in production."""
    from . import champion  # champion imports this module's types

    return champion.compare(candidate, holdout, params, project_dir)


def check_candidate(project_dir: Path) -> GateResult:
    """Run the whole gate for the model in ``project_dir`` without writing any file."""
    paths = ProjectPaths(project_dir)
    schema = load_schema(paths.schema)
    params = load_gate(paths.params, schema.task)
    holdout = read_holdout(paths, schema)
    model = load_model(paths.model_dir)
    require_measurable(
        model, holdout, schema, paths.shown(paths.holdout_csv), paths.shown(paths.model_dir)
    )
    candidate = Candidate(model, score_model(model, holdout, schema), schema, paths.model_dir)
    comparison = compare_with_production(candidate, holdout, params, project_dir)
    return verdict(candidate, params, comparison, holdout_record(paths))


def check_promotion(project_dir: Path, candidate: Any, production: Any) -> GateResult:
    """Promote's gate: the registered version ``candidate`` against ``production`` (the
    version in production at this moment, or None), both loaded from their commits through
    DVC and sha256-verified, both scored on the project's current hold-out set."""
    from . import champion

    project_dir = Path(project_dir)
    paths = ProjectPaths(project_dir)
    schema = load_schema(paths.schema)
    params = load_gate(paths.params, schema.task)
    holdout = read_holdout(paths, schema)
    loaded = champion.load_version(project_dir, candidate)
    identity = {"version": candidate.version, "commit": candidate.commit}
    identity["weights_sha256"] = loaded.weights_sha256
    extra = {**holdout_record(paths), "candidate_version": identity}
    name = f"{candidate.model} {candidate.version}"
    problem = unmeasurable(loaded.model, holdout, schema, paths.shown(paths.holdout_csv), name)
    if problem is not None:  # e.g. an older version, from before the data had a new class
        return unmeasured(params, problem, extra)
    artifact_path = (candidate.manifest.get("artifact") or {}).get("path", "")
    scored = Candidate(
        loaded.model,
        score_model(loaded.model, holdout, schema),
        schema,
        project_dir / artifact_path,
    )
    comparison = champion.compare_with(production, scored, holdout, params, project_dir)
    return verdict(scored, params, comparison, extra)


def unmeasured(params: GateParams, problem: str, extra: dict[str, Any]) -> GateResult:
    """A failed gate without numbers: recorded, so `promote --force --reason` can override."""
    return GateResult(
        passed=False,
        metric=params.metric,
        greater_is_better=params.greater_is_better,
        candidate=None,
        baseline=None,
        production_version=None,
        params=params,
        checks=[Check("measurable", False, None, None, problem)],
        details=extra,
    )


def read_holdout(paths: ProjectPaths, schema) -> pd.DataFrame:
    if not paths.holdout_csv.is_file():
        raise ProjectError(
            f"{paths.shown(paths.holdout_csv)}: not found, the gate scores on it "
            "(run `dvc pull` or `dvc repro`)"
        )
    return read_csv(paths.holdout_csv, schema)


def holdout_record(paths: ProjectPaths) -> dict[str, Any]:
    """Which hold-out set the verdict is about: its bytes' sha256 identifies it."""
    path = paths.shown(paths.holdout_csv)
    return {"holdout": {"path": path, "sha256": sha256_file(paths.holdout_csv)}}


def verdict(
    candidate: Candidate, params: GateParams, comparison: Comparison, extra: dict[str, Any]
) -> GateResult:
    value = candidate.scores[params.metric]
    checks = [floor_check(value, params), *comparison.checks]
    return GateResult(
        passed=all(check.passed for check in checks),
        metric=params.metric,
        greater_is_better=params.greater_is_better,
        candidate=value,
        baseline=comparison.baseline,
        production_version=comparison.production_version,
        params=params,
        checks=checks,
        details={**extra, **comparison.details},
    )


def run(project_dir: Path, inputs_sha256: str | None = None) -> GateResult:
    """Write metrics/gate.json; raise ProjectError when the gate fails (after writing).
    ``inputs_sha256`` (from gate_stage) is recorded so an unchanged re-run can skip scoring."""
    result = check_candidate(project_dir)
    record = result.to_dict()
    if inputs_sha256 is not None:
        record["inputs_sha256"] = inputs_sha256
    path = ProjectPaths(project_dir).gate_json
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    if not result.passed:
        raise ProjectError(f"{result.summary()}; see metrics/gate.json")
    return result


def main() -> None:
    print(run(Path(".")).summary())


if __name__ == "__main__":
    run_cli(main)
