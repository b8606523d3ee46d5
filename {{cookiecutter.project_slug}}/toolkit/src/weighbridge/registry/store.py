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
    registry.deprecation("classifier")     # the whole-model deprecation Event, or None

A ``Version`` has ``.model``, ``.version``, ``.commit``, ``.manifest`` (dict parsed
from the tag message, or derived from the commit for a tag written by another tool:
``derived``) and ``.deprecated``. Stage semantics follow GTO's
``gto show``: a stage belongs to the version whose most recent assignment is
the latest, among versions not deregistered whose last event for that stage is an
assignment (not an unassignment).

Speed at 10,000 versions: the for-each-ref lists only ``<object id> <ref>``, and
each tag is parsed once, into a *record* kept in the cache (``tagcache``). Only tags
missing from the cache are read, all in one ``git cat-file --batch``. Records hold
what list and query need (a register tag's metrics, decoded only when asked for);
the other manifest sections, whole messages and manifests are loaded only for
show, diff, history and queries on a section (``params.train.seed``).

What the cache holds is tied to what git says: a record is used only for the tag
object id and name it was read from, where the for-each-ref lists exactly that
pair, and a cached message (manifest, stage event, reason) only if its tag object
hashes to its object id. A damaged cache file fails its digest and is not read at
all (``tagcache``). Within an intact file a record's fields are trusted: checking
them against git would mean reading every tag object, the very cost saved.

Only the standard library is imported here: no dvc, sklearn or pandas.
"""

import gc
import hashlib
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

# Cache files: the records; the raw tag objects by object id; a register tag's
# manifest sections by object id.
RECORDS = "records.marshal"
MESSAGES = "messages.marshal"
SECTIONS = "sections.marshal"
REFS_PREFIX = "refs/tags/"

# A record is a plain tuple (marshal stores tuples, and unpacking one is fast):
#   (oid, tag, model, action, version, stage, counter,
#    annotated, commit, time, author, author_email, created,
#    semver sort key, metrics, manifest keys)
# The last three are set for register tags; manifest keys is None when they are
# not known (tags read without the cache derive everything from the manifest).
# Metrics and sections stay marshal bytes until a query asks, each section on its
# own: decoding 10,000 manifests costs more than everything else `list` does, and
# a query on ``params.train.seed`` needs only the ``params`` of each version.
Record = tuple
RECORD_LENGTH = 16
OID, TAG, MODEL, ACTION, COUNTER, ANNOTATED, TIME = 0, 1, 2, 3, 6, 7, 9  # read by name below
REPEATED = (2, 3, 5, 10, 11, 15)  # the same in many records: see share_equal_values
# a tag object's id is the hash of its header and content, by the repository's hash
OBJECT_HASHES = {40: hashlib.sha1, 64: hashlib.sha256}


def iso_utc(unix_time: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(unix_time))


def message_body(message: str) -> dict:
    """The JSON after the human first line and a blank line; ``{}`` if there is none.

    The JSON is the last paragraph: the first line of tags written before reasons were
    kept on one line may hold blank lines of its own (the JSON itself never does).
    """
    _, blank, body = message.rstrip().rpartition("\n\n")
    if not blank:
        return {}
    try:
        parsed = json.loads(body)
    except ValueError:
        return {}  # a tag written by hand or by GTO: plain text
    return parsed if isinstance(parsed, dict) else {}


def is_object(oid: str, raw: bytes) -> bool:
    """Whether ``raw`` is the content of the tag object ``oid`` (it hashes to that id)."""
    algorithm = OBJECT_HASHES.get(len(oid))
    if algorithm is None or type(raw) is not bytes:
        return False
    digest = algorithm(b"tag %d\0" % len(raw))
    digest.update(raw)
    return digest.hexdigest() == oid


def manifest_sections(manifest: dict) -> bytes:
    """A manifest's sections besides metrics, each encoded on its own (see ``Record``)."""
    return marshal.dumps({k: marshal.dumps(v) for k, v in manifest.items() if k != "metrics"})


class Contents:
    """What tags say beyond their record, by object id, loaded only when asked for:
    messages, and the manifest sections of register tags.

    From the cache files first; a message is taken from there only if its tag object
    hashes to its id. Whatever the cache lacks is read for every tag of the registry
    at once, in one ``git cat-file --batch`` (never one git call per tag).
    """

    def __init__(
        self,
        messages: dict[str, str],
        repo: Path | None = None,
        cache: TagCache | None = None,
        records: Sequence[Record] = (),
        objects: dict[str, bytes] | None = None,
        sections: dict[str, bytes] | None = None,
    ) -> None:
        self._messages = messages  # read from git in this run, or verified
        self._objects = objects or {}  # raw tag objects: read in this run, then cached ones
        self._sections = sections or {}
        self._repo = repo
        self.source = repo  # kept (``_repo`` is dropped after one batch): derived manifests
        self._cache = cache
        self._records = records
        self._loaded = set() if cache is not None else {MESSAGES, SECTIONS}

    def message(self, oid: str) -> str:
        if oid not in self._messages and not self._from_cache(oid) and self._repo is not None:
            self._read_missing()
        return self._messages.get(oid, "")

    def sections(self, oid: str) -> bytes | None:
        """The register tag's encoded sections; derived from its manifest if not cached."""
        if oid not in self._sections:
            self._load(SECTIONS, self._sections)
        if oid not in self._sections and self._cache is not None:
            self._derive_sections()
        return self._sections.get(oid)

    def save_new(self) -> None:
        """Keep what was read in this run in the cache, with what was cached before."""
        self._save(MESSAGES, self._objects)
        self._save(SECTIONS, self._sections)

    def _from_cache(self, oid: str) -> bool:
        self._load(MESSAGES, self._objects)
        raw = self._objects.get(oid)
        if raw is None or not is_object(oid, raw):
            return False
        self._messages[oid] = gitutil.tag_message(raw)
        return True

    def _load(self, name: str, into: dict) -> None:
        if name not in self._loaded:
            self._loaded.add(name)
            cached = self._cache.load(name)
            if all(type(value) is bytes for value in cached.values()):  # else damaged
                for oid, value in cached.items():
                    into.setdefault(oid, value)

    def _read_missing(self) -> None:
        annotated = annotated_oids(self._records)
        missing = [o for o in annotated if o not in self._messages and not self._from_cache(o)]
        for oid, kind, raw in gitutil.read_objects(self._repo, missing):
            if kind == "tag":
                self._objects[oid] = raw
            self._messages[oid] = gitutil.tag_message(raw) if kind == "tag" else ""
        self._repo = None  # at most one batch per run, whatever is asked
        self._save(MESSAGES, self._objects)

    def _derive_sections(self) -> None:
        # the sections file is damaged or gone: rebuild it from the manifests, once
        for oid in annotated_oids(r for r in self._records if r[ACTION] == grammar.REGISTER):
            if oid not in self._sections:
                self._sections[oid] = manifest_sections(message_body(self.message(oid)))
        self._save(SECTIONS, self._sections)

    def _save(self, name: str, known: dict[str, bytes]) -> None:
        if self._cache is not None:
            self._load(name, known)
            # only the current tags' entries: deleted tags' ones are dropped
            kept = {oid: known[oid] for oid in annotated_oids(self._records) if oid in known}
            self._cache.save(name, kept)


def annotated_oids(records: Iterable[Record]) -> list[str]:
    return list(dict.fromkeys(record[OID] for record in records if record[ANNOTATED]))


class Event:
    """One registry tag as an event of a model's history (built from the tag's record)."""

    def __init__(self, record: Record, contents: Contents | None) -> None:
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
        self.contents = contents

    @property
    def message(self) -> str:
        if self._message is None:
            self._message = self.contents.message(self.oid) if self.contents else ""
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
            "reason": self.reason,
        }

    @property
    def reason(self) -> str | None:
        """The reason recorded in a stage or deprecation tag, exactly as it was given."""
        if self.action == grammar.REGISTER:
            return None  # a manifest: parsing 10,000 of them for `history` would be slow
        reason = self.details.get("reason")
        return reason if isinstance(reason, str) else None


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
        self.sort_key, self._metrics, self._manifest_keys = register.record[13:]
        if self.sort_key is None:
            self.sort_key = self.semver.sort_key()

    @property
    def message(self) -> str:
        return self._register.message

    @cached_property
    def manifest(self) -> dict:
        """The tag's manifest; for a tag written by another tool (no manifest in its
        message), one derived from its commit (``derived``), read only when asked for."""
        body = self._body
        source = self._register.contents.source if self._register.contents else None
        if "manifest" in body or source is None:  # the schema marker of every manifest
            return body
        from .derived import derive_manifest  # yaml, and git reads at the commit

        return derive_manifest(source, self)

    @cached_property
    def _body(self) -> dict:
        """The manifest in the tag's message (``{}`` for a tag written by GTO)."""
        return message_body(self.message)

    @property
    def derived(self) -> bool:
        return bool(self.manifest.get("derived"))

    @cached_property
    def metrics(self):
        """The tag manifest's ``metrics`` section, without parsing the manifest when cached
        (never derived: a query over 10,000 versions reads no commit)."""
        if self._manifest_keys is None:
            return self._body.get("metrics")
        return marshal.loads(self._metrics)

    @property
    def manifest_keys(self) -> tuple:
        """The tag manifest's top-level keys (also known without parsing it)."""
        return self._manifest_keys if self._manifest_keys is not None else tuple(self._body)

    def section(self, key: str):
        """``manifest.get(key)`` of the tag's manifest, decoding only that section when cached."""
        if key == "metrics":
            return self.metrics
        if self._manifest_keys is None:
            return self._body.get(key)
        encoded = self._encoded_sections.get(key)
        return marshal.loads(encoded) if encoded is not None else None

    @cached_property
    def _encoded_sections(self) -> dict[str, bytes]:
        encoded = self._register.contents.sections(self._register.oid)
        return marshal.loads(encoded) if encoded is not None else {}

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
        self.deprecation: Event | None = None

    def finish(self) -> None:
        self.events.sort(key=lambda e: (e.time, PRIORITY[e.action], e.counter or 0))
        self._apply_version_events()
        self.ordered = sorted(self.versions.values(), key=lambda v: v.sort_key)
        self._attach_stage_versions()
        # GTO's whole-model deprecation (``gto deprecate <model>``): in effect while it is
        # the model's latest event; any later one (a registration…) re-activates the model.
        # Same-second ties fall as in GTO: a version event after, a creation before it.
        last = self.events[-1] if self.events else None
        self.deprecation = last if last and last.action == grammar.DEPRECATE else None
        # the stage tags stay, but none is in effect while the model is deprecated
        self.current = {} if self.deprecation else self.current_stages()
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

    ``Registry(raw_tags, repo=dir)`` builds it from tags read by ``gitutil.read_tags``
    in ``dir``; ``load_registry`` builds it from cached records instead.
    """

    def __init__(
        self,
        raw_tags: Iterable[RawTag] = (),
        records: Iterable[Record] | None = None,
        contents: Contents | None = None,
        repo: Path | None = None,
    ) -> None:
        if records is None:
            raw_tags = list(raw_tags)
            records = [r for r in map(record_from_raw, raw_tags) if r is not None]
            contents = Contents({raw.oid: raw.message for raw in raw_tags if raw.annotated})
            contents.source = repo  # where manifests of other tools' tags are derived from
        self.contents = contents
        self._models: dict[str, ModelHistory] = {}
        for record in records:
            self._add(record, contents)
        for history in self._models.values():
            history.finish()
        self._stages = {name: h.current for name, h in self._models.items()}

    def _add(self, record: Record, contents: Contents | None) -> None:
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
        history.events.append(Event(record, contents))

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

    def deprecation(self, model: str) -> Event | None:
        """The tag deprecating the whole model (``gto deprecate <model>``), while in effect."""
        return self._history(model).deprecation

    def require_model_active(self, model: str, refused: str) -> None:
        """Refuse ``refused`` (e.g. "deploy") while the whole model is deprecated."""
        event = self.deprecation(model)
        if event is not None:
            raise RegistryError(
                f"{model} is deprecated (tag {event.tag}, {event.created}): {refused} "
                "refused; registering a new version re-activates it, as in GTO"
            )

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
        event = self.deprecation(model)
        if event is not None and ref in self.stage_names(model):
            raise RegistryError(
                f"{model} is deprecated (tag {event.tag}, {event.created}): no stage is in "
                f"effect, so {ref!r} names no version"
            )
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
    return (*identity, *tagger, iso_utc(raw.time), None, None, None)


class FreshTags:
    """Tags read from git in this run: their records' contents, by object id."""

    def __init__(self) -> None:
        self.messages: dict[str, str] = {}
        self.objects: dict[str, bytes] = {}  # raw tag objects, cached for the messages
        self.sections: dict[str, bytes] = {}

    def record(
        self, oid: str, tag: str, parsed: grammar.ParsedTag, kind: str, raw: bytes
    ) -> Record:
        """The record of one tag read with ``cat-file``; keeps its message and sections."""
        if kind != "tag":
            return (oid, tag, *parsed, False, oid, 0, "", "", "", None, None, None)
        commit, when, author, email, message = gitutil.parse_tag_object(raw)
        self.messages[oid], self.objects[oid] = message, raw
        summary = (None, None, None)
        if parsed.action == grammar.REGISTER:
            manifest = message_body(message)
            sort_key = SemVer.parse(parsed.version).sort_key()
            summary = (sort_key, marshal.dumps(manifest.get("metrics")), tuple(manifest))
            self.sections[oid] = manifest_sections(manifest)
        return (oid, tag, *parsed, True, commit, when, author, email, iso_utc(when), *summary)

    def contents(self, repo: Path, cache: TagCache, records: list[Record]) -> Contents:
        return Contents(self.messages, repo, cache, records, self.objects, self.sections)


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
    cached = cached_records(cache)
    # Built while git is still listing the tags (on the other core): the registry
    # as cached, which is right unless tags were added or deleted since.
    guess = _registry(repo, cache, list(cached.values()), FreshTags())
    current, unread = match_listing(listing.lines(), cached)
    if not unread and len(current) == len(cached):
        return guess  # the same tags: the listing's order is the cached order too
    fresh = read_records(repo, unread, current)
    records = list(current.values())
    cache.save(RECORDS, records)
    registry = _registry(repo, cache, records, fresh)
    if fresh.objects:
        registry.contents.save_new()
    return registry


def _registry(repo: Path, cache: TagCache, records: list[Record], fresh: FreshTags) -> Registry:
    return Registry(records=records, contents=fresh.contents(repo, cache, records))


def cached_records(cache: TagCache) -> dict[str, Record]:
    """The cached records by the for-each-ref line of the tag each was made from.

    The line is built from the record itself (its object id and tag name), so a
    record can only ever answer for the tag object it was read from. If any record
    has the wrong shape, none is used.
    """
    records = cache.load(RECORDS, list)
    if not all(type(r) is tuple and len(r) == RECORD_LENGTH for r in records):
        return {}
    return {f"{r[OID]} {REFS_PREFIX}{r[TAG]}": r for r in records}


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


def read_records(repo: Path, unread: list, current: dict[str, Record]) -> FreshTags:
    """Read the unread tags in one ``cat-file --batch`` into ``current``."""
    lines_of: dict[str, list] = {}
    for line, oid, tag, parsed in unread:
        lines_of.setdefault(oid, []).append((line, tag, parsed))
    fresh = FreshTags()
    shared: dict = {}
    for oid, kind, raw in gitutil.read_objects(repo, list(lines_of)):
        for line, tag, parsed in lines_of[oid]:
            current[line] = share_equal_values(fresh.record(oid, tag, parsed, kind, raw), shared)
    return fresh


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
