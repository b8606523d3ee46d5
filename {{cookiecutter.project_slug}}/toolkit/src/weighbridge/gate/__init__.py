"""The production gate: may this candidate become a release?

``judge`` takes everything it decides on as arguments (the candidate, the production
model already loaded and verified, the hold-out set, the gate's params) and imports
nothing of the registry. Its callers find production: the gate stage
(``gate_stage.py``) and the registry's ``check`` and ``promote``.

Checks: the absolute floor ``gate.min_value`` always; with a version in production, that
both models can be ranked by one metric (same inputs, same classes), and that the
candidate is not worse than production by more than ``gate.max_regression`` (optionally
with a paired test), both scored on the same hold-out rows. A non-zero max_regression is
never finer than one hold-out row (``checks.tolerance``): the verdict records the tolerance
it applied.
"""

from __future__ import annotations

from ..config import GateParams
from ..scoring import Predictions, predict, scores, unmeasurable
from .checks import (
    comparable_check,
    compare,
    floor_check,
    incomparability,
    measurable_check,
    tolerance,
)
from .inputs import Candidate, Holdout, Production
from .stats import PairedTest
from .verdict import Check, GateResult

__all__ = ["Candidate", "Check", "GateResult", "Holdout", "Production", "judge"]

NO_PRODUCTION = "nothing is in production: only the absolute floor applies"


def judge(
    candidate: Candidate, production: Production | None, holdout: Holdout, params: GateParams
) -> GateResult:
    """The verdict on ``candidate`` against ``production`` (None: nothing in production)."""
    frame, schema = holdout.frame, holdout.schema
    facts = {
        "params": params,
        "holdout": holdout.record(),
        "production": production.identity() if production is not None else None,
        "candidate_version": candidate.identity,
    }
    problem = unmeasurable(candidate.model, frame, schema, holdout.path, candidate.name)
    if problem is not None:
        checks = [measurable_check(problem)]
        return GateResult(False, candidate=None, baseline=None, checks=checks, **facts)
    predictions = predict(candidate.model, frame, schema)
    value = scores(predictions)[params.metric]
    floor = floor_check(value, params)
    if production is None:
        checks, note = [floor], NO_PRODUCTION
        return GateResult(
            floor.passed, candidate=value, baseline=None, checks=checks, note=note, **facts
        )
    margin = tolerance(params, predictions.y_true.to_numpy())
    baseline, check, test = against_production(
        production, candidate, holdout, params, (predictions, margin)
    )
    passed = floor.passed and check.passed
    return GateResult(
        passed,
        candidate=value,
        baseline=baseline,
        checks=[floor, check],
        test=test,
        tolerance=margin if baseline is not None else None,
        **facts,
    )


def against_production(
    production: Production,
    candidate: Candidate,
    holdout: Holdout,
    params: GateParams,
    scored: tuple[Predictions, float],
) -> tuple[float | None, Check, PairedTest | None]:
    """Production's value, the check against it, and the paired test (if one ran);
    ``scored`` is the candidate's predictions and the tolerance."""
    predictions, margin = scored
    problem = incomparability(production, candidate, holdout)
    if problem is not None:
        return None, comparable_check(problem), None
    theirs = predict(production.model, holdout.frame, holdout.schema)
    return compare(params, production.version, predictions, theirs, margin)
