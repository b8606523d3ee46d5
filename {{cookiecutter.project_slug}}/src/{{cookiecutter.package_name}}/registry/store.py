"""Read the registry: every tag, listed with a single ``git for-each-ref``.

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

Speed at 10,000 versions: the for-each-ref lists only ``<object id> <ref>``, and
each tag is parsed once, into a *record* kept in the cache (``tagcache``) under
that line. Only tags missing from the cache are read, all in one
``git cat-file --batch``. Records hold what list and query need (a register tag's
metrics and manifest sections, each decoded only when asked for); whole messages
and manifests are loaded only for show, diff and history.

Only the standard library is imported here: no dvc, sklearn or pandas.
"""

import gc
import json
import marshal
import time
from collections.abc import Iterable, Sequence
from functools import cached_property
from pathlib import Path

from . import gitutil
from . import tags as grammar
from .errors import RegistryError
from .gitutil import RawTag
from .semver import SemVer
from .tagcache import TagCache

# GTO's tie-break order for events in the same second
PRIORITY = {
    grammar.CREATE: 1,
    grammar.DEPRECATE: 2,
    grammar.REGISTER: 3,
    grammar.DEREGISTER: 4,
    grammar.ASSIGN: 5,
    grammar.UNASSIGN: 6,
}

# Cache files: records by for-each-ref line, and tag messages by object id.
RECORDS = "records.marshal"
MESSAGES = "messages.marshal"
REFS_PREFIX = "refs/tags/"

# A record is a plain tuple (marshal stores tuples, and unpacking one is fast):
#   (oid, tag, model, action, version, stage, counter,
#    annotated, commit, time, author, author_email, created,
#    semver sort key, metrics, manifest keys, other manifest sections)
# The last four are set for register tags; manifest keys is None when they are
# not known (tags read without the cache derive everything from the manifest).
# Metrics and sections stay marshal bytes until a query asks, each section on its
# own: decoding 10,000 manifests costs more than everything else `list` does, and
# a query on ``params.train.seed`` needs only the ``params`` of each version.
Record = tuple
RECORD_LENGTH = 17
OID, MODEL, COUNTER, ANNOTATED, TIME = 0, 2, 6, 7, 9  # positions read by name below
REPEATED = (2, 3, 5, 10, 11, 15)  # the same in many records: see share_equal_values


def iso_utc(unix_time: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(unix_time))


def message_body(message: str) -> dict:
    """The JSON after the human first line and a blank line; ``{}`` if there is none."""
    _, _, body = message.partition("\n\n")
    try:
        parsed = json.loads(body) if body.strip() else {}
    except ValueError:
        return {}  # a tag written by hand or by GTO: plain text
    return parsed if isinstance(parsed, dict) else {}


class Messages:
    """Tag messages by object id, loaded only when one is asked for.

    From the cache file first; whatever it lacks is read for every tag of the
    registry at once, in one ``git cat-file --batch`` (never one git call per tag).
    """

    def __init__(
        self,
        known: dict[str, str],
        repo: Path | None = None,
        cache: TagCache | None = None,
        records: Sequence[Record] = (),
    ) -> None:
        self._known = known
        self._repo = repo
        self._cache = cache
        self._records = records
        self._loaded_cache = cache is None

    def get(self, oid: str) -> str:
        if oid not in self._known:
            self._load_cache()
        if oid not in self._known and self._repo is not None:
            self._read_missing()
        return self._known.get(oid, "")

    def save_new(self) -> None:
        """Keep the messages read in this run in the cache, with those cached before."""
        self._load_cache()
        self._save()

    def _load_cache(self) -> None:
        if not self._loaded_cache:
            self._loaded_cache = True
            cached = self._cache.load(MESSAGES)
            if all(type(message) is str for message in cached.values()):  # else damaged
                self._known = {**cached, **self._known}

    def _read_missing(self) -> None:
        missing = [oid for oid in annotated_oids(self._records) if oid not in self._known]
        for oid, kind, raw in gitutil.read_objects(self._repo, missing):
            self._known[oid] = gitutil.parse_tag_object(raw)[4] if kind == "tag" else ""
        self._repo = None  # at most one batch per run, whatever is asked
        self._save()

    def _save(self) -> None:
        if self._cache is not None:
            # only the current tags' messages: deleted tags' ones are dropped
            known = self._known
            kept = {oid: known[oid] for oid in annotated_oids(self._records) if oid in known}
            self._cache.save(MESSAGES, kept)


def annotated_oids(records: Iterable[Record]) -> list[str]:
    return list(dict.fromkeys(record[OID] for record in records if record[ANNOTATED]))


class Event:
    """One registry tag as an event of a model's history (built from the tag's record)."""

    def __init__(self, record: Record, messages: Messages | None) -> None:
        # one unpacking instead of keyword arguments: 10,000 events are built per read
        (
            self.oid,
            self.tag,
            self.model,
            self.action,
            self.version,
            self.stage,
            self.counter,
            _annotated,
            self.commit,
            self.time,
            self.author,
            self.author_email,
            self.created,
        ) = record[:13]
        self.record = record
        self._message: str | None = None
        self._messages = messages

    @property
    def message(self) -> str:
        if self._message is None:
            self._message = self._messages.get(self.oid) if self._messages else ""
        return self._message

    @property
    def priority(self) -> int:
        return PRIORITY[self.action]

    @cached_property
    def details(self) -> dict:
        return message_body(self.message)

    def to_dict(self) -> dict:
        return {
            "timestamp": self.created,
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


class Version:
    """A registered model version (its register tag, and whether it was deregistered)."""

    def __init__(self, register: Event) -> None:
        self.model, self.version = register.model, register.version
        self.commit, self.tag, self.time = register.commit, register.tag, register.time
        self.author, self.author_email = register.author, register.author_email
        self.created = register.created
        self.deprecated = False
        self.stages: list[str] = []
        self._register = register
        self.sort_key, self._metrics, self._manifest_keys, self._sections = register.record[13:]
        if self.sort_key is None:
            self.sort_key = self.semver.sort_key()

    @property
    def message(self) -> str:
        return self._register.message

    @cached_property
    def manifest(self) -> dict:
        return message_body(self.message)

    @cached_property
    def metrics(self):
        """The manifest's ``metrics`` section, without parsing the manifest when cached."""
        if self._manifest_keys is None:
            return self.manifest.get("metrics")
        return marshal.loads(self._metrics)

    @property
    def manifest_keys(self) -> tuple:
        """The manifest's top-level keys (also known without parsing it)."""
        return self._manifest_keys if self._manifest_keys is not None else tuple(self.manifest)

    def section(self, key: str):
        """``manifest.get(key)``, decoding only that section when cached."""
        if key == "metrics":
            return self.metrics
        if self._manifest_keys is None:
            return self.manifest.get(key)
        encoded = self._encoded_sections.get(key)
        return marshal.loads(encoded) if encoded is not None else None

    @cached_property
    def _encoded_sections(self) -> dict[str, bytes]:
        return marshal.loads(self._sections)

    @cached_property
    def semver(self) -> SemVer:
        return SemVer.parse(self.version)

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
        self.events.sort(key=lambda e: (e.time, PRIORITY[e.action], e.counter or 0))
        self._apply_version_events()
        self.ordered = sorted(self.versions.values(), key=lambda v: v.sort_key)
        self._attach_stage_versions()
        self.current = self.current_stages()
        for stage, version in self.current.items():
            version.stages.append(stage)

    def _apply_version_events(self) -> None:
        for event in self.events:
            if event.action == grammar.REGISTER and event.version not in self.versions:
                self.versions[event.version] = Version(event)
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


class Registry:
    """The registry as read from the tags; see the module docstring for the API.

    ``Registry(raw_tags)`` builds it from tags read by ``gitutil.read_tags``;
    ``load_registry`` builds it from cached records instead.
    """

    def __init__(
        self,
        raw_tags: Iterable[RawTag] = (),
        records: Iterable[Record] | None = None,
        messages: Messages | None = None,
    ) -> None:
        if records is None:
            raw_tags = list(raw_tags)
            records = [r for r in map(record_from_raw, raw_tags) if r is not None]
            messages = Messages({raw.oid: raw.message for raw in raw_tags if raw.annotated})
        self.messages = messages
        self._models: dict[str, ModelHistory] = {}
        for record in records:
            self._add(record, messages)
        for history in self._models.values():
            history.finish()
        self._stages = {name: h.current for name, h in self._models.items()}

    def _add(self, record: Record, messages: Messages | None) -> None:
        model = record[MODEL]
        history = self._models.get(model)
        if history is None:
            history = self._models[model] = ModelHistory(model)
        counter = record[COUNTER]
        if counter is not None and counter > history.max_counter:
            history.max_counter = counter
        if not record[ANNOTATED]:
            return  # lightweight tags are not events (GTO skips them) but count for N
        if record[TIME] > history.last_time:
            history.last_time = record[TIME]
        history.events.append(Event(record, messages))

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


def record_from_raw(raw: RawTag) -> Record | None:
    """A record from ``read_tags`` output (manifest keys left to be derived)."""
    parsed = grammar.parse_tag(raw.name)
    if parsed is None:
        return None
    identity = (raw.oid, raw.name, *parsed)
    tagger = (raw.annotated, raw.target, raw.time, raw.tagger_name, raw.tagger_email)
    return (*identity, *tagger, iso_utc(raw.time), None, None, None, None)


def record_from_object(
    oid: str, tag: str, parsed: grammar.ParsedTag, kind: str, raw: bytes
) -> tuple[Record, str | None]:
    """The record of one tag read with ``cat-file`` and its message (None if lightweight)."""
    if kind != "tag":
        return (oid, tag, *parsed, False, oid, 0, "", "", "", None, None, None, None), None
    commit, when, author, email, message = gitutil.parse_tag_object(raw)
    summary = (None, None, None, None)
    if parsed.action == grammar.REGISTER:
        manifest = message_body(message)
        sort_key = SemVer.parse(parsed.version).sort_key()
        sections = {k: marshal.dumps(v) for k, v in manifest.items() if k != "metrics"}
        metrics = marshal.dumps(manifest.get("metrics"))
        summary = (sort_key, metrics, tuple(manifest), marshal.dumps(sections))
    return (oid, tag, *parsed, True, commit, when, author, email, iso_utc(when), *summary), message


def load_registry(repo_dir: Path) -> Registry:
    """Read every tag of the git repository containing ``repo_dir`` (cached)."""
    # Tens of thousands of long-lived objects and no cycles: the cyclic garbage
    # collector would only rescan them over and over (a fifth of the load time).
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _load(Path(repo_dir))
    finally:
        if collecting:
            gc.enable()


def _load(repo: Path) -> Registry:
    listing = gitutil.start_tag_listing(repo)
    cache = TagCache.for_repo(repo)
    cached = valid_records(cache.load(RECORDS))
    # Built while git is still listing the tags (on the other core): the registry
    # as cached, which is right unless tags were added or deleted since.
    guess = _registry(repo, cache, list(cached.values()), {})
    current, unread = match_listing(listing.lines(), cached)
    if not unread and len(current) == len(cached):
        return guess  # the same tags: the listing's order is the cached order too
    fresh = read_records(repo, unread, current)
    cache.save(RECORDS, current)
    registry = _registry(repo, cache, list(current.values()), fresh)
    if fresh:
        registry.messages.save_new()
    return registry


def _registry(repo: Path, cache: TagCache, records: list[Record], fresh: dict) -> Registry:
    return Registry(records=records, messages=Messages(fresh, repo, cache, records))


def match_listing(lines: list[str], cached: dict[str, Record]) -> tuple[dict, list]:
    """``{line: record}`` in listing order (None where the tag is still to be read),
    and the registry tags to read: ``(line, object id, tag name, parsed name)``."""
    current: dict[str, Record] = {}
    unread = []
    for line in lines:
        record = cached.get(line)
        if record is not None:
            current[line] = record
            continue
        oid, _, ref = line.partition(" ")
        parsed = grammar.parse_tag(ref[len(REFS_PREFIX) :])
        if parsed is not None:  # other tags are never read
            current[line] = None
            unread.append((line, oid, ref[len(REFS_PREFIX) :], parsed))
    return current, unread


def read_records(repo: Path, unread: list, current: dict[str, Record]) -> dict[str, str]:
    """Read the unread tags in one ``cat-file --batch`` into ``current``; their messages."""
    lines_of: dict[str, list] = {}
    for line, oid, tag, parsed in unread:
        lines_of.setdefault(oid, []).append((line, tag, parsed))
    messages: dict[str, str] = {}
    shared: dict = {}
    for oid, kind, raw in gitutil.read_objects(repo, list(lines_of)):
        for line, tag, parsed in lines_of[oid]:
            record, message = record_from_object(oid, tag, parsed, kind, raw)
            current[line] = share_equal_values(record, shared)
            if message is not None:
                messages[oid] = message
    return messages


def share_equal_values(record: Record, shared: dict) -> Record:
    """The record with its repeated values (model, action, stage, author, email,
    manifest keys) replaced by an equal one seen before.

    marshal writes an object met twice as a back-reference, so the cache file
    shrinks and loading it creates each of these values only once.
    """
    fields = list(record)
    for position in REPEATED:
        fields[position] = shared.setdefault(fields[position], fields[position])
    return tuple(fields)


def valid_records(cached: dict) -> dict[str, Record]:
    """The cached records, or none if any has the wrong shape (a damaged cache)."""
    if all(type(r) is tuple and len(r) == RECORD_LENGTH for r in cached.values()):
        return cached
    return {}
