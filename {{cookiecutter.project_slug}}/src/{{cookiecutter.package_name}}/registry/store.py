"""Read the registry: every tag, once, with a single ``git for-each-ref``.

This is the read API other parts of the project use (gate's champion lookup,
deploy, verify)::

    registry = load_registry(repo_dir)
    registry.models()                      # ["classifier"]
    registry.versions("classifier")        # [Version, …] ascending semver, deprecated flagged
    registry.latest("classifier")          # highest non-deprecated Version, or None
    registry.version("classifier", "v1.2.0")   # Version (RegistryError if unknown)
    registry.stage_version("classifier", "production")  # current Version, or None
    registry.stages("classifier")          # {"production": Version, …} current assignments
    registry.events("classifier")          # [Event, …] history, oldest first

A ``Version`` has ``.model``, ``.version``, ``.commit``, ``.manifest`` (dict parsed
from the tag message) and ``.deprecated``. Stage semantics follow GTO's
``gto show``: a stage belongs to the version whose most recent assignment is
the latest, among versions not deregistered whose last event for that stage is an
assignment (not an unassignment).

Only the standard library is imported here: no dvc, sklearn or pandas.
"""

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import cached_property
from pathlib import Path

from . import tags as grammar
from .errors import RegistryError
from .gitutil import RawTag, read_tags
from .semver import SemVer

# GTO's tie-break order for events in the same second
PRIORITY = {
    grammar.CREATE: 1,
    grammar.DEPRECATE: 2,
    grammar.REGISTER: 3,
    grammar.DEREGISTER: 4,
    grammar.ASSIGN: 5,
    grammar.UNASSIGN: 6,
}


def iso_utc(unix_time: int) -> str:
    return datetime.fromtimestamp(unix_time, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def message_body(message: str) -> dict:
    """The JSON after the human first line and a blank line; ``{}`` if there is none."""
    _, _, body = message.partition("\n\n")
    try:
        parsed = json.loads(body) if body.strip() else {}
    except ValueError:
        return {}  # a tag written by hand or by GTO: plain text
    return parsed if isinstance(parsed, dict) else {}


@dataclass(eq=False)
class Event:
    """One registry tag as an event of a model's history."""

    action: str
    model: str
    tag: str
    commit: str
    time: int
    author: str
    author_email: str
    message: str
    version: str | None = None
    stage: str | None = None
    counter: int | None = None

    @property
    def priority(self) -> int:
        return PRIORITY[self.action]

    @cached_property
    def details(self) -> dict:
        return message_body(self.message)

    def to_dict(self) -> dict:
        return {
            "timestamp": iso_utc(self.time),
            "model": self.model,
            "event": self.action,
            "version": self.version,
            "stage": self.stage,
            "commit": self.commit,
            "tag": self.tag,
            "author": self.author,
            "author_email": self.author_email,
            "message": self.message.strip(),
        }


@dataclass(eq=False)
class Version:
    """A registered model version (its register tag, and whether it was deregistered)."""

    model: str
    version: str
    commit: str
    tag: str
    time: int
    author: str
    author_email: str
    message: str
    deprecated: bool = False
    stages: list[str] = field(default_factory=list)

    @cached_property
    def manifest(self) -> dict:
        return message_body(self.message)

    @cached_property
    def semver(self) -> SemVer:
        return SemVer.parse(self.version)

    @cached_property
    def created(self) -> str:
        return iso_utc(self.time)

    def to_dict(self) -> dict:
        return {
            "model": self.model,
            "version": self.version,
            "commit": self.commit,
            "tag": self.tag,
            "created": self.created,
            "author": f"{self.author} <{self.author_email}>",
            "deprecated": self.deprecated,
            "stages": list(self.stages),
        }


class ModelHistory:
    """Everything the tags say about one model."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.events: list[Event] = []
        self.versions: dict[str, Version] = {}
        self.max_counter = 0
        self.last_time = 0
        self.ordered: list[Version] = []  # ascending semver, computed once
        self.current: dict[str, Version] = {}

    def finish(self) -> None:
        self.events.sort(key=lambda e: (e.time, e.priority, e.counter or 0))
        self._apply_version_events()
        self.ordered = sorted(self.versions.values(), key=lambda v: v.semver.sort_key())
        self._attach_stage_versions()
        self.current = self.current_stages()
        for stage, version in self.current.items():
            version.stages.append(stage)

    def _apply_version_events(self) -> None:
        for event in self.events:
            if event.action == grammar.REGISTER and event.version not in self.versions:
                self.versions[event.version] = _version_from(event)
            elif event.action == grammar.REGISTER:
                self.versions[event.version].deprecated = False
            elif event.action == grammar.DEREGISTER and event.version in self.versions:
                self.versions[event.version].deprecated = True

    def _attach_stage_versions(self) -> None:
        # a stage tag names no version: it is the version registered at its commit
        by_commit: dict[str, Version] = {}
        for version in self.ordered:
            if not version.deprecated or version.commit not in by_commit:
                by_commit[version.commit] = version
        for event in self.events:
            if event.stage is not None and event.commit in by_commit:
                event.version = by_commit[event.commit].version

    def current_stages(self) -> dict[str, Version]:
        """GTO's rule: per stage, the active assignment made last wins."""
        last_event: dict[tuple, Event] = {}
        for event in self.events:
            if event.stage is not None and event.version is not None:
                last_event[(event.stage, event.version)] = event
        winners: dict[str, Event] = {}
        for (stage, version), event in last_event.items():
            if event.action != grammar.ASSIGN or self.versions[version].deprecated:
                continue
            if stage not in winners or event.time >= winners[stage].time:
                winners[stage] = event
        return {stage: self.versions[e.version] for stage, e in sorted(winners.items())}


def _version_from(event: Event) -> Version:
    return Version(
        model=event.model,
        version=event.version,
        commit=event.commit,
        tag=event.tag,
        time=event.time,
        author=event.author,
        author_email=event.author_email,
        message=event.message,
    )


class Registry:
    """The registry as read from the tags; see the module docstring for the API."""

    def __init__(self, raw_tags: Iterable[RawTag]) -> None:
        self._models: dict[str, ModelHistory] = {}
        for raw in raw_tags:
            self._add(raw)
        for history in self._models.values():
            history.finish()
        self._stages = {name: h.current for name, h in self._models.items()}

    def _add(self, raw: RawTag) -> None:
        parsed = grammar.parse_tag(raw.name)
        if parsed is None:
            return
        history = self._models.setdefault(parsed.model, ModelHistory(parsed.model))
        history.max_counter = max(history.max_counter, parsed.counter or 0)
        if not raw.annotated:
            return
        history.last_time = max(history.last_time, raw.time)
        history.events.append(
            Event(
                action=parsed.action,
                model=parsed.model,
                tag=raw.name,
                commit=raw.target,
                time=raw.time,
                author=raw.tagger_name,
                author_email=raw.tagger_email,
                message=raw.message,
                version=parsed.version,
                stage=parsed.stage,
                counter=parsed.counter,
            )
        )

    def _history(self, model: str) -> ModelHistory:
        return self._models.get(model) or ModelHistory(model)

    def models(self) -> list[str]:
        return sorted(name for name, h in self._models.items() if h.versions or h.events)

    def versions(self, model: str) -> list[Version]:
        """All versions, ascending semver; deprecated ones have ``.deprecated`` set."""
        return list(self._history(model).ordered)

    def latest(self, model: str, include_deprecated: bool = False) -> Version | None:
        candidates = [v for v in self.versions(model) if include_deprecated or not v.deprecated]
        return candidates[-1] if candidates else None

    def version(self, model: str, version: str) -> Version:
        found = self._history(model).versions.get(version)
        if found is None:
            known = ", ".join(v.version for v in self.versions(model)) or "none"
            raise RegistryError(f"unknown version {version!r} of model {model!r} (known: {known})")
        return found

    def stage_version(self, model: str, stage: str) -> Version | None:
        return self._stages.get(model, {}).get(stage)

    def stages(self, model: str) -> dict[str, Version]:
        return dict(self._stages.get(model, {}))

    def stage_names(self, model: str) -> list[str]:
        """Every stage ever used by the model, current or not."""
        return sorted({e.stage for e in self._history(model).events if e.stage})

    def events(self, model: str) -> list[Event]:
        return list(self._history(model).events)

    def version_at(self, model: str, commit: str) -> Version | None:
        found = [v for v in self.versions(model) if v.commit == commit]
        return found[-1] if found else None

    def next_counter(self, model: str) -> int:
        """N for a new stage tag: one more than the highest counter on any tag of the model."""
        return self._history(model).max_counter + 1

    def last_time(self, model: str) -> int:
        return self._history(model).last_time

    def resolve(self, model: str, ref: str) -> Version:
        """A version name (``v1.2.0``) or a stage name (``production``) to a Version."""
        if ref in self._history(model).versions:
            return self.version(model, ref)
        staged = self.stage_version(model, ref)
        if staged is not None:
            return staged
        versions = ", ".join(v.version for v in self.versions(model)) or "none"
        stages = ", ".join(self.stages(model)) or "none"
        raise RegistryError(
            f"unknown version or stage {ref!r} of model {model!r} "
            f"(versions: {versions}; stages: {stages})"
        )


def load_registry(repo_dir: Path) -> Registry:
    """Read every tag of the git repository containing ``repo_dir``."""
    return Registry(read_tags(Path(repo_dir)))
