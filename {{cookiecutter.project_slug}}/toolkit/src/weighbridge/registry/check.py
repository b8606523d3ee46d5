"""``registry check``: the gate's verdict for the work tree's candidate (HEAD's, once
committed and reproduced) against the version in production now. It writes nothing.

The gate stage records a verdict about the production of the moment it ran
(``reports/gate.json``); production moves with every promotion and rollback, so the
registry judges again whenever it matters: ``check`` (what CI runs), ``register`` and
``promote`` all call the same gate core with production looked up now.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from ..gate import GateResult, judge
from ..gate.inputs import load_inputs, workspace_candidate
from . import gitutil
from .champion import as_production, load_candidate, load_history, load_production
from .errors import RegistryError
from .models import require_known_model
from .store import Version, load_registry

REPORT = "reports/gate.json"
METRICS = "metrics/gate.json"
IDENTITY = ("version", "commit", "weights_sha256")


def current_verdict(project_dir: Path, model: str) -> GateResult:
    """The gate's verdict on ``models/<model>`` of the work tree against production now."""
    params, holdout = load_inputs(project_dir)
    candidate = workspace_candidate(project_dir, model)
    production = load_production(project_dir, model)
    history = load_history(project_dir, model) if production is not None else []
    return judge(candidate, production, holdout, params, history)


def promotion_verdict(
    project_dir: Path, candidate: Version, production: Version | None
) -> GateResult:
    """Promote's gate: the registered version ``candidate`` against ``production`` (the
    version in production at this moment, or None), both loaded from their commits and
    sha256-verified, both scored on the project's current hold-out set."""
    params, holdout = load_inputs(project_dir)
    contender = load_candidate(project_dir, candidate)
    champion = as_production(project_dir, production) if production is not None else None
    history = load_history(project_dir, candidate.model) if production is not None else []
    history = [held for held in history if held.version != candidate.version]
    return judge(contender, champion, holdout, params, history)


def recorded_production(project_dir: Path) -> dict[str, str] | None:
    """The production ({version, commit, weights_sha256}) the verdict recorded in
    reports/gate.json was computed against; None if nothing was in production then."""
    production = read_report(project_dir).get("production")
    if production is None:
        return None
    if not isinstance(production, dict) or not all(
        isinstance(production.get(key), str) for key in IDENTITY
    ):
        raise RegistryError(f"{REPORT}: production must be null or hold {', '.join(IDENTITY)}")
    return {key: production[key] for key in IDENTITY}


def read_report(project_dir: Path) -> dict[str, Any]:
    record = read_json_file(project_dir, REPORT)
    if "production" not in record:
        raise RegistryError(f"{REPORT}: no 'production' key: run dvc repro -f -s gate")
    return record


def disagreement(project_dir: Path, fresh: GateResult) -> str | None:
    """Where the recorded verdict (each file's ``passed``) differs from ``fresh``, judged
    now against the same production: the pipeline is up to date, so the files were edited
    (or the history of production changed since: `dvc repro -f -s gate` records it anew)."""
    recorded = {
        METRICS: read_json_file(project_dir, METRICS).get("passed"),
        REPORT: read_report(project_dir).get("passed"),
    }
    differing = [name for name, passed in recorded.items() if passed is not fresh.passed]
    if not differing:
        return None
    said = ", ".join(f"{name} says passed: {json.dumps(recorded[name])}" for name in differing)
    return (
        f"the recorded verdict differs from the gate's verdict now ({said}; judged now: "
        f"{fresh.summary()}); `dvc repro -f -s gate` records the verdict again"
    )


def contradiction(recorded: Any, fresh: GateResult, where: str) -> str | None:
    """Says so when ``recorded`` (a verdict record) says passed and ``fresh`` fails, unless
    the record is shown to be about another production or another hold-out set."""
    if not isinstance(recorded, dict) or recorded.get("passed") is not True or fresh.passed:
        return None
    production, holdout = recorded.get("production", ...), recorded.get("holdout")
    if production is not ... and not same_identity(production, fresh.production):
        return None  # judged against another production then: not a contradiction
    if isinstance(holdout, dict) and holdout.get("sha256") != fresh.holdout["sha256"]:
        return None  # judged on another hold-out set then
    return (
        f"{where} says passed, but the gate judging it now against "
        f"{shown_production(fresh.production)} on {fresh.holdout['path']} fails it: "
        f"{fresh.details()}"
    )


def same_identity(recorded: Any, now: dict[str, str] | None) -> bool:
    if recorded is None or now is None:
        return recorded is None and now is None
    return isinstance(recorded, dict) and all(recorded.get(k) == now[k] for k in IDENTITY[:2])


def read_json_file(project_dir: Path, name: str) -> dict[str, Any]:
    try:
        record = json.loads((Path(project_dir) / name).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RegistryError(f"{name} not found: run dvc repro first") from None
    except (OSError, ValueError) as exc:
        raise RegistryError(f"{name}: cannot be read ({exc})") from None
    if not isinstance(record, dict):
        raise RegistryError(f"{name}: must be a JSON object")
    return record


def staleness(project_dir: Path, result: GateResult) -> str | None:
    """Says so when the recorded verdict was computed against another production."""
    try:
        recorded = recorded_production(project_dir)
    except RegistryError as exc:
        return f"no recorded verdict to compare with ({exc})"
    if recorded == result.production:
        return None
    return (
        f"the verdict recorded in {REPORT} was computed against "
        f"{shown_production(recorded)}; production is now {shown_version(result.production)}: "
        "`dvc repro -f -s gate` records it again"
    )


def shown_production(production: dict[str, str] | None) -> str:
    return f"production {shown_version(production)}" if production else "no production"


def shown_version(production: dict[str, str] | None) -> str:
    if production is None:
        return "none"
    return f"{production['version']} (commit {production['commit'][:8]})"


def configure(parser: argparse.ArgumentParser) -> None:
    """No arguments beyond the shared ``-C``, ``--model`` and ``--json``."""


def run(args: argparse.Namespace) -> None:
    """Print the verdict (one line when it passes); a rejection is an error, exit 1."""
    require_known_model(args.repo, args.model, load_registry(args.repo).models())
    result = current_verdict(args.repo, args.model)
    note = staleness(args.repo, result)
    if args.json:
        print(json.dumps(as_json(result, note)))
    else:
        text = result.summary() if result.passed else verdict_text(result)
        print(text + (f"\nnote: {note}" if note else ""))
    if not result.passed:
        raise RegistryError(
            f"gate rejected models/{args.model} ({head_label(args.repo)}): {result.details()}"
        )


def head_label(repo: Path) -> str:
    """Which commit the work tree's candidate is, as far as git can tell."""
    try:
        head = f"HEAD {gitutil.head_commit(repo)[:8]}"
        return f"{head}, work tree modified" if gitutil.dirty_paths(repo) else head
    except RegistryError:  # no commit yet, or not a git repository
        return "no commit"


def as_json(result: GateResult, note: str | None) -> dict[str, Any]:
    return {
        "passed": result.passed,
        "summary": result.summary(),
        "metrics": result.to_metrics(),
        "verdict": result.to_record(),
        "note": note,  # the recorded verdict was computed against another production
    }


def verdict_text(result: GateResult) -> str:
    """The whole verdict, one check a line."""
    against = shown_production(result.production)
    lines = [f"gate failed against {against}, on {result.holdout['path']}:"]
    for check in result.checks:
        lines.append(f"  {'pass' if check.passed else 'FAIL'} {check.name}: {check.detail}")
    return "\n".join(lines)
