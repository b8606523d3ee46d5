"""The production gate: may this candidate become a release?

``judge`` takes everything it decides on as arguments (the candidate, the production
model already loaded and verified, the hold-out set, the gate's params) and imports
nothing of the registry. Its callers find production: the gate stage
(``gate_stage.py``) and the registry's ``check`` and ``promote``.

Checks: the absolute floor ``gate.min_value`` and the trivial model (majority class,
mean: ``gate.trivial_margin``) always; with a version in production, that both models can
be ranked by one metric (same inputs, same classes), that the candidate is not worse than
production by more than ``gate.max_regression`` (optionally with a paired test), and not
worse than the best version production has held by more than
``gate.max_total_regression``. Every model is scored on the same hold-out rows, those no
compared model trained on (``rows.py``). A non-zero max_regression is
never finer than one hold-out row (``checks.tolerance``): the verdict records the tolerance
it applied.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..config import GateParams
from ..scoring import Predictions, predict, scores, unmeasurable
from .checks import (
    comparable_check,
    compare,
    floor_check,
    incomparability,
    measurable_check,
    slide_check,
    tolerance,
    trivial_check,
)
from .inputs import Candidate, Holdout, Production
from .rows import unseen
from .trivial import trivial_value
from .verdict import Check, GateResult

__all__ = ["Candidate", "Check", "GateResult", "Holdout", "Production", "judge"]

NO_PRODUCTION = "nothing is in production: only the floors (min_value, the trivial model) apply"


def judge(
    candidate: Candidate,
    production: Production | None,
    holdout: Holdout,
    params: GateParams,
    history: Sequence[Production] = (),
) -> GateResult:
    """The verdict on ``candidate`` against ``production`` (None: nothing in production)
    and ``history``, the other versions production has held (for max_total_regression)."""
    problem = measuring_problem(candidate, holdout)
    if problem is not None:
        return unmeasured(candidate, production, holdout, params, problem)
    rivals = comparable_rivals(candidate, production, history, holdout)
    scored = unseen(holdout, [candidate.trained_rows, *(r.trained_rows for r in rivals)])
    problem = measuring_problem(candidate, scored)
    if problem is not None:  # leaving rows out lost a class
        left_out = f"after leaving out {scored.left_out} rows a compared model trained on"
        return unmeasured(candidate, production, scored, params, f"{problem} ({left_out})")
    predictions = predict(candidate.model, scored.frame, scored.schema)
    value = scores(predictions)[params.metric]
    trivial = trivial_value(scored, params.metric)
    checks = [floor_check(value, params), trivial_check(value, trivial, params)]
    facts = {
        **identities(candidate, production, scored, params),
        "candidate": value,
        "trivial": trivial,
    }
    if production is None:
        return GateResult(all_passed(checks), checks=checks, note=NO_PRODUCTION, **facts)
    if not rivals:  # production cannot be ranked against the candidate
        problem = incomparability(production, candidate, holdout)
        checks.append(comparable_check(problem))
        return GateResult(False, checks=checks, **facts)
    margin = tolerance(params, predictions.y_true.to_numpy())
    theirs = {rival.version: predict(rival.model, scored.frame, scored.schema) for rival in rivals}
    baseline, check, test = compare(
        params, production.version, predictions, theirs[production.version], margin
    )
    checks.append(check)
    best = best_held(params, theirs)
    bound = params.max_total_regression
    # against production itself the max_regression check already speaks (unless this
    # bound is the tighter one): a second line saying the same would only be noise
    if bound is not None and (best["version"] != production.version or bound < margin):
        checks.append(slide_check(value, best["value"], best["version"], params))
    return GateResult(
        all_passed(checks),
        checks=checks,
        baseline=baseline,
        test=test,
        tolerance=margin,
        best=best,
        **facts,
    )


def measuring_problem(candidate: Candidate, holdout: Holdout) -> str | None:
    frame, schema = holdout.frame, holdout.schema
    return unmeasurable(candidate.model, frame, schema, holdout.path, candidate.name)


def identities(
    candidate: Candidate, production: Production | None, holdout: Holdout, params: GateParams
) -> dict[str, Any]:
    return {
        "params": params,
        "holdout": holdout.record(),
        "production": production.identity() if production is not None else None,
        "candidate_version": candidate.identity,
    }


def unmeasured(
    candidate: Candidate,
    production: Production | None,
    holdout: Holdout,
    params: GateParams,
    problem: str,
) -> GateResult:
    facts = identities(candidate, production, holdout, params)
    return GateResult(False, candidate=None, checks=[measurable_check(problem)], **facts)


def all_passed(checks: list[Check]) -> bool:
    return all(check.passed for check in checks)


def comparable_rivals(
    candidate: Candidate,
    production: Production | None,
    history: Sequence[Production],
    holdout: Holdout,
) -> list[Production]:
    """Production first, then the other versions it has held that one metric can rank
    against the candidate; empty when production itself cannot be ranked (or is None)."""
    if production is None or incomparability(production, candidate, holdout) is not None:
        return []
    others = [
        version
        for version in history
        if version.version != production.version
        and incomparability(version, candidate, holdout) is None
    ]
    return [production, *others]


def best_held(params: GateParams, theirs: dict[str, Predictions]) -> dict[str, Any]:
    """The best version production has held, scored on today's rows: {version, value}."""
    values = {version: scores(rows)[params.metric] for version, rows in theirs.items()}
    pick = max if params.greater_is_better else min
    version = pick(values, key=values.__getitem__)
    return {"version": version, "value": values[version]}
