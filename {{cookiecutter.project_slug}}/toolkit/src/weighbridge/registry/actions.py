"""The commands that write tags: register, promote, rollback, deprecate.

Each checks everything first and writes exactly one annotated tag at the end, so a
refusal changes nothing. Register and promote first put the version's weights on the
DVC remote (a tag is pushed to every server; weights only in this cache are not), and
register judges HEAD again every time (a recorded verdict is a record, never a credential)
and refuses when the record disagrees; promote judges the candidate against production now
for every stage, and refuses a recorded "passed" that the gate now contradicts.
With ``push`` the tag alone is pushed; if the remote refuses it (someone pushed that tag
first) the local tag is deleted again so that no local tag disagrees with the remote.
"""

from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import gitutil
from . import tags as grammar
from .errors import RegistryError
from .gto_config import require_allowed_stage
from .manifest import build_manifest, read_yaml, tag_message
from .models import artifact_path, model_scope, require_known_model, scoped
from .pipeline import can_judge, require_clean, require_gate_passed, require_up_to_date
from .remote_weights import ensure_on_remote
from .semver import FIRST_VERSION, SemVer
from .store import Registry, Version, iso_utc, load_registry

ALWAYS_GATED = ("production",)
GATE_REPORT = "reports/gate.json"  # the gate stage's verdict (a model without one has no gate)
PRODUCTION = "production"
STAGE_EVENT_SCHEMA = 1

Body = tuple[str, dict[str, Any]]


def register(
    repo: Path,
    model: str,
    version: str | None,
    bump: str | None,
    push: bool,
    override: str | None = None,
) -> dict[str, Any]:
    """Tag HEAD as a new version. ``override`` (``--force --reason``) registers it whatever
    the gate says, recording why: a candidate whose classes changed can never pass a gate
    that compares it with production."""
    registry = load_registry(repo)
    require_known_model(repo, model, registry.models())
    new_version = str(next_version(registry, model, version, bump))
    require_clean(repo)
    commit = gitutil.head_commit(repo)
    existing = registry.version_at(model, commit)
    if existing is not None:
        raise RegistryError(
            f"HEAD ({commit[:8]}) is already registered as {model} {existing.version}"
        )
    require_up_to_date(repo)
    scope = model_scope(repo, model, read_yaml(repo / "dvc.lock"))
    # a model no gate stage measures has no verdict to pass
    gated = scope.keeps_path(GATE_REPORT) and override is None
    fresh = verdict_now(repo, registry, model) if gated else None
    author = gitutil.user_identity(repo)
    path = artifact_path(repo, model)
    ensure_on_remote(repo, path, commit, f"{model} {new_version}")

    def body(when: int) -> Body:
        manifest = build_manifest(repo, model, new_version, commit, author, iso_utc(when))
        if fresh is not None:  # the verdict judged now, not the files' record
            manifest["gate"] = fresh.to_record()
            manifest["metrics"] = {**manifest["metrics"], "gate": fresh.to_metrics()}
        if override is not None:
            manifest["gate_overridden"] = {"reason": override, "by": author}
        overridden = f" despite the gate: {override}" if override is not None else ""
        first_line = f"Register {model} {new_version}{overridden}"
        return first_line, scoped(manifest, scope, GATE_REPORT)

    tag = grammar.version_tag(model, new_version)
    remote = write_tag(repo, registry, model, tag, commit, body, push)
    return {
        "model": model,
        "version": new_version,
        "commit": commit,
        "tag": tag,
        "pushed_to": remote,
    }


def verdict_now(repo: Path, registry: Registry, model: str):
    """The gate's verdict on HEAD, judged now from the weights and the hold-out set (a
    recorded verdict is a record, never a credential); refuses a rejection, and a recorded
    verdict about the same production that disagrees with it."""
    from .check import current_verdict, disagreement, recorded_production, shown_production

    if not can_judge(repo):  # a pipeline without this gate's inputs: held to its record
        require_gate_passed(repo)
        return None
    recorded = recorded_production(repo)
    fresh = current_verdict(repo, model)
    if same_version(recorded, registry.stage_version(model, PRODUCTION)):
        problem = disagreement(repo, fresh)
        if problem is not None:
            raise RegistryError(f"{problem}; not registering")
        if not fresh.passed:
            raise RegistryError(f"gate failed for HEAD ({fresh.summary()}): not registering")
        return fresh
    if not fresh.passed:
        raise RegistryError(
            f"HEAD's gate verdict was recorded against {shown_production(recorded)}; re-checked "
            f"against {shown_production(fresh.production)}: {fresh.summary()}; not registering "
            "(override with --force --reason TEXT)"
        )
    return fresh


def same_version(recorded: dict[str, str] | None, now: Version | None) -> bool:
    """Tags never move, so the same version at the same commit is the same production."""
    if recorded is None or now is None:
        return recorded is None and now is None
    return (recorded["version"], recorded["commit"]) == (now.version, now.commit)


def next_version(registry: Registry, model: str, requested: str | None, bump: str | None) -> SemVer:
    highest = registry.latest(model, include_deprecated=True)
    if requested is None:
        return highest.semver.bump(bump or "patch") if highest else FIRST_VERSION
    wanted = SemVer.parse(requested)
    if str(wanted) in {v.version for v in registry.versions(model)}:
        raise RegistryError(f"version {wanted} of {model} already exists")
    if highest is not None and not wanted > highest.semver:
        raise RegistryError(
            f"version {wanted} is not greater than the latest version {highest.version} of {model}"
        )
    return wanted


def promote(
    repo: Path,
    model: str,
    version: str,
    stage: str,
    reason: str | None,
    force: bool,
    push: bool,
) -> dict[str, Any]:
    require_stage_name(stage)
    override_reason(force, reason)
    require_allowed_stage(repo, stage)
    registry = load_registry(repo)
    require_known_model(repo, model, registry.models())
    registry.require_model_active(model, "promote")
    candidate = require_active(registry, model, version)
    current = registry.stage_version(model, stage)
    if current is candidate:
        raise RegistryError(f"{model} {version} is already in stage {stage}")
    ensure_on_remote(repo, weights_path(repo, candidate), candidate.commit, f"{model} {version}")
    gated = stage in gated_stages(repo)
    gate = None
    if gated or can_judge(repo):
        gate = run_gate(repo, candidate, registry.stage_version(model, PRODUCTION))
    contradicted = recorded_contradiction(candidate, gate) if gate is not None else None
    if contradicted is not None and not force:
        raise RegistryError(f"{contradicted}: not promoting (override with --force --reason TEXT)")
    if gated and not gate.passed and not force:
        raise RegistryError(
            f"gate refused {version} for {stage}: {gate_summary(gate)} "
            "(override with --force --reason TEXT)"
        )
    details = {
        "action": "promote",
        "reason": reason,
        "forced": force,
        "gate": gate.to_dict() if gate is not None else None,
        "previous": current.version if current else None,
    }
    result = assign(repo, registry, candidate, stage, details, push)
    return {**result, "gate_summary": gate_summary(gate) if gate is not None else None}


def recorded_contradiction(candidate: Version, gate) -> str | None:
    """Says so when ``candidate``'s recorded verdict (its manifest) says passed and the
    gate, judging it now, fails it on the same hold-out set against the same production."""
    from .check import contradiction

    # a version registered by another tool records what its commit's metrics/gate.json says
    recorded = candidate.manifest.get("gate") if candidate.derived else candidate.section("gate")
    if candidate.section("gate_overridden"):
        return None  # registered despite the gate, and says so
    where = f"the verdict recorded for {candidate.model} {candidate.version}"
    return contradiction(recorded, gate, where)


def rollback(
    repo: Path, model: str, stage: str, to: str | None, reason: str, push: bool
) -> dict[str, Any]:
    require_stage_name(stage)
    require_reason(reason)
    require_allowed_stage(repo, stage)
    registry = load_registry(repo)
    require_known_model(repo, model, registry.models())
    registry.require_model_active(model, "rollback")
    if stage not in registry.stage_names(model):
        known = ", ".join(registry.stage_names(model)) or "none"
        raise RegistryError(f"unknown stage {stage!r} of {model} (stages: {known})")
    current = registry.stage_version(model, stage)
    target = rollback_target(registry, model, stage, current, to)
    details = {
        "action": "rollback",
        "reason": reason,
        "forced": False,
        "gate": None,
        "previous": current.version if current else None,
    }
    return assign(repo, registry, target, stage, details, push)


def rollback_target(
    registry: Registry, model: str, stage: str, current: Version | None, to: str | None
) -> Version:
    if to is not None:
        target = require_active(registry, model, to)
        if target is current:
            raise RegistryError(f"{model} {to} is already in stage {stage}")
        return target
    earlier = [v for v in stage_stack(registry, model, stage) if v != (current and current.version)]
    active = [v for v in earlier if not registry.version(model, v).deprecated]
    if not active:
        raise RegistryError(f"no earlier version of {model} in stage {stage} to roll back to")
    return registry.version(model, active[-1])


def stage_stack(registry: Registry, model: str, stage: str) -> list[str]:
    """The stage's versions as a stack: a promotion pushes, a rollback pops back to its
    target, so rolling back twice walks further back instead of toggling."""
    stack: list[str] = []
    for event in registry.events(model):
        if event.stage != stage or event.version is None:
            continue
        if event.action == grammar.UNASSIGN:
            stack = [v for v in stack if v != event.version]
        elif event.details.get("action") == "rollback" and event.version in stack:
            while stack[-1] != event.version:
                stack.pop()
        else:
            stack = [v for v in stack if v != event.version] + [event.version]
    return stack


def deprecate(repo: Path, model: str, version: str, reason: str, push: bool) -> dict[str, Any]:
    require_reason(reason)
    registry = load_registry(repo)
    require_known_model(repo, model, registry.models())
    # any tag written now would re-activate the deprecated model in GTO's eyes
    registry.require_model_active(model, "deprecate")
    target = require_active(registry, model, version)
    by = gitutil.user_identity(repo)

    def body(when: int) -> Body:
        details = {"action": "deprecate", "model": model, "version": version}
        details.update({"by": by, "at": iso_utc(when), "reason": reason})
        return f"Deprecate {model} {version}: {reason}", {
            "registry_event": STAGE_EVENT_SCHEMA,
            **details,
        }

    tag = grammar.deregister_tag(model, version)
    remote = write_tag(repo, registry, model, tag, target.commit, body, push)
    return {
        "model": model,
        "version": version,
        "commit": target.commit,
        "tag": tag,
        "pushed_to": remote,
    }


def assign(
    repo: Path,
    registry: Registry,
    target: Version,
    stage: str,
    details: dict[str, Any],
    push: bool,
) -> dict[str, Any]:
    by = gitutil.user_identity(repo)
    model = target.model

    def body(when: int) -> Body:
        verb = "Roll back" if details["action"] == "rollback" else "Promote"
        reason = f": {details['reason']}" if details.get("reason") else ""
        event = {"registry_event": STAGE_EVENT_SCHEMA, "model": model, "version": target.version}
        event.update({"stage": stage, "by": by, "at": iso_utc(when), **details})
        return f"{verb} {model} {target.version} to {stage}{reason}", event

    tag = grammar.assign_tag(model, stage, registry.next_counter(model))
    remote = write_tag(repo, registry, model, tag, target.commit, body, push)
    result = {"model": model, "version": target.version, "stage": stage, "commit": target.commit}
    result.update({"tag": tag, "pushed_to": remote, "previous": details["previous"]})
    return result


def write_tag(
    repo: Path,
    registry: Registry,
    model: str,
    tag: str,
    commit: str,
    body: Callable[[int], Body],
    push: bool,
) -> str | None:
    """Create one tag (later than every tag of the model), push it if asked."""
    remote = gitutil.default_remote(repo) if push else None
    when = gitutil.wait_past(registry.last_time(model))
    first_line, payload = body(when)
    gitutil.create_tag(repo, tag, commit, tag_message(first_line, payload), when)
    if remote is None:
        return None
    complaint = gitutil.push_tag(repo, remote, tag)
    if complaint is not None:
        gitutil.delete_local_tag(repo, tag)
        advice = ": git fetch --tags, then try again" if gitutil.refused_as_taken(complaint) else ""
        raise RegistryError(
            f"push of {tag} to {remote} was refused: {complaint}; "
            f"the local tag was deleted, nothing changed{advice}"
        )
    return remote


def require_stage_name(stage: str) -> None:
    if not grammar.is_valid_name(stage):
        raise RegistryError(
            f"invalid stage name {stage!r}: use letters, digits, '-', '_', '/', "
            "starting and ending with a letter or digit (GTO's name rule)"
        )


def override_reason(force: bool, reason: str | None) -> str | None:
    """``--force``'s reason (None without --force), which must say something."""
    require_text(reason)
    if force and not (reason and reason.strip()):
        raise RegistryError("--force needs --reason TEXT: say why the gate is overridden")
    return reason if force else None


def require_reason(reason: str) -> None:
    require_text(reason)
    if not reason.strip():
        raise RegistryError("--reason must not be empty")


def require_text(reason: str | None) -> None:
    """A reason is kept exactly, as JSON text: it must be text that UTF-8 can encode.

    Bytes that are not UTF-8 (a terminal in another encoding) reach Python as lone
    surrogates; storing their escapes would keep text no other tool reads back.
    """
    try:
        (reason or "").encode("utf-8")
    except UnicodeEncodeError as exc:
        code = ord(exc.object[exc.start])
        what = f"byte 0x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"U+{code:04X}"
        raise RegistryError(
            f"--reason is not valid UTF-8 text ({what} at character {exc.start + 1}): "
            "give it in UTF-8"
        ) from None


def weights_path(repo: Path, version: Version) -> str:
    recorded = (version.section("artifact") or {}).get("path")
    return str(recorded) if recorded else artifact_path(repo, version.model)


def require_active(registry: Registry, model: str, version: str) -> Version:
    found = registry.version(model, version)
    if found.deprecated:
        raise RegistryError(f"{model} {version} is deprecated")
    return found


def gated_stages(repo: Path) -> list[str]:
    params = read_yaml(repo / "params.yaml") if (repo / "params.yaml").exists() else {}
    extra = (params.get("gate") or {}).get("stages") or []
    if not isinstance(extra, list):
        raise RegistryError("params.yaml: gate.stages must be a list of stage names")
    return [*ALWAYS_GATED, *map(str, extra)]


def run_gate(repo: Path, candidate: Version, production: Version | None):
    # imported here: the gate pulls in sklearn, which the read commands must not load
    try:
        from .check import promotion_verdict
    except ImportError as exc:
        raise RegistryError(f"cannot run the promotion gate: {exc}") from None
    return promotion_verdict(repo, candidate, production)


def gate_summary(gate) -> str:
    # GateResult.summary may be a method or a plain attribute
    summary = gate.summary
    return summary() if callable(summary) else str(summary)
