"""Removing the unused objects of a DVC remote, never one younger than a grace period.

Two clones share a DVC remote. Clone A registers v1.2.0 and pushes its weights, but not yet
its tag; clone B, which cannot know of v1.2.0, sees those objects as unused. Git has the same
race between a push and ``git gc`` and answers it with ``gc.pruneExpire``: a loose object
younger than two weeks is never pruned. So here: an unused object is removed only when the
remote says it was written longer ago than the grace period; when the remote does not say
(no timestamp, or the question failed), the object is kept and counted as such.

The objects are listed once, and only objects of that listing are removed: one pushed while
this runs is never a candidate. Generic: it knows a dvc-data object database (``odb``)
and an fsspec file system, nothing of the registry.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime

# When an object was written, as file systems report it in ``info()``: the local one
# ``mtime`` (seconds), s3fs ``LastModified`` (a datetime), others ``last_modified`` or
# ``updated``. Not a local file's ``created`` (its ctime): chmod and rename move it too.
TIMESTAMP_KEYS = ("mtime", "LastModified", "last_modified", "updated")
DAY = 86400.0


@dataclass
class Sweep:
    """The unused objects of one remote: removed (or, in a dry run, to remove), kept as
    younger than the grace period, kept because their age is unknown."""

    removed: list[str] = field(default_factory=list)
    young: list[str] = field(default_factory=list)
    unknown_age: list[str] = field(default_factory=list)


def sweep(odb, used: set[str], grace_days: float, dry: bool, now: float | None = None) -> Sweep:
    """Remove from ``odb`` the objects not in ``used`` (hash values) and older than
    ``grace_days``; with ``dry``, only say which."""
    if odb.read_only:
        raise PermissionError(f"{odb.path}: the DVC remote is read-only")
    now = time.time() if now is None else now
    result = Sweep()
    for oid in sorted(set(odb.all()) - used):
        path = odb.oid_to_path(oid)
        age = age_in_days(odb.fs, path, now)
        if age is None:
            result.unknown_age.append(path)
        elif age < grace_days:
            result.young.append(path)
        else:
            result.removed.append(path)
    if result.removed and not dry:
        odb.fs.remove(result.removed)
        from dvc_data.hashfile.db import get_index

        get_index(odb).clear()  # DVC's record of what the remote holds is stale now
    return result


def age_in_days(fs, path: str, now: float) -> float | None:
    """How long ago the object was written, None when the remote does not say."""
    try:
        written = modified_at(fs.info(path))
    except Exception:  # any file system's error: then the age is unknown, and it is kept
        return None
    return None if written is None else (now - written) / DAY


def modified_at(info: dict) -> float | None:
    """The newest timestamp in an fsspec ``info()`` answer, as seconds since the epoch (the
    newest: when in doubt an object is younger, and kept)."""
    stamps = [seconds(info.get(key)) for key in TIMESTAMP_KEYS]
    stamps = [stamp for stamp in stamps if stamp is not None]
    return max(stamps) if stamps else None


def seconds(value) -> float | None:
    if isinstance(value, datetime):
        return value.timestamp()  # a naive datetime is taken as local time, as fsspec does
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return None
    return None
