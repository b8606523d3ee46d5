"""The production gate: may this candidate become a release?

``judge`` takes everything it decides on as arguments (the candidate, the production
model already loaded and verified, the hold-out set, the gate's params) and imports
nothing of the registry. Its callers find production: the gate stage
(``gate_stage.py``) and the registry's ``check`` and ``promote``.

Checks: the absolute floor ``gate.min_value`` always; with a version in production, that
both models can be ranked by one metric (same inputs, same classes), and that the
candidate is not worse than production by more than ``gate.max_regression`` (optionally
with a paired test), both scored on the same hold-out rows.
"""

from __future__ import annotations

from ..config import GateParams
from ..scoring import predict, scores, unmeasurable
from .checks import (
    comparable_check,
    floor_check,
    incomparability,
    measurable_check,
    paired_test,
    production_check,
)
from .inputs import Candidate, Holdout, Production
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
    checks = [floor_check(value, params)]
    if production is None:
        passed = all(check.passed for check in checks)
        note = NO_PRODUCTION
        return GateResult(passed, candidate=value, baseline=None, checks=checks, note=note, **facts)
    problem = incomparability(production, candidate, holdout)
    if problem is not None:
        checks.append(comparable_check(problem))
        return GateResult(False, candidate=value, baseline=None, checks=checks, **facts)
    theirs = predict(production.model, frame, schema)
    baseline = scores(theirs)[params.metric]
    test = paired_test(params, predictions, theirs)
    checks.append(production_check(value, baseline, production.version, params, test))
    passed = all(check.passed for check in checks)
    return GateResult(passed, candidate=value, baseline=baseline, checks=checks, test=test, **facts)
