"""A version's weights must be on the DVC remote before a tag names them.

A tag pushed to git is seen by every server, but the weights it names live in DVC: if
they are only in this machine's cache, ``registry deploy`` elsewhere cannot fetch them.
``dvc status -c`` does not notice (it checks the workspace, not a past commit), so
register and promote push the artifact's objects as of the version's commit (no other
file) to today's default remote, and then ask the remote for every one of them. Only
then is the tag written.
"""

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from ..storage_errors import describe_remote, probe_remote, remote_cause
from . import gitutil
from .errors import RegistryError

# dvc's own complaint when no remote is set is three lines long and names the config file
NO_REMOTE = "none is configured (dvc remote add -d NAME URL)"
DVC3_HASH, LEGACY_HASH = "md5", "md5-dos2unix"  # how dvc.lock marks DVC 3's and DVC 2's
DVC_LOGGERS = ("dvc", "dvc_data", "dvc_objects", "dvc_s3", "dvc_http", "fsspec", "s3fs")


def ensure_on_remote(project: Path, artifact_path: str, commit: str, label: str) -> int:
    """Push the objects of ``artifact_path`` as of ``commit`` from the local cache to the
    default remote; raise unless all of them are on the remote afterwards. Returns how many
    objects this push uploaded."""
    oid, hash_name = artifact_oid(project, artifact_path, commit, label)
    repo = open_dvc(project)
    try:
        return push_or_refuse(repo, artifact_path, oid, hash_name, label)
    finally:
        repo.close()


def push_or_refuse(repo: Any, artifact_path: str, oid: str, hash_name: str, label: str) -> int:
    try:
        with quiet_dvc_logs():  # dvc warns on stderr; the refusal below is the one line
            pushed, missing = push_and_check(repo, oid, hash_name)
    except Exception as exc:  # dvc, fsspec, botocore…: the storage classifier names the cause
        cause = NO_REMOTE if is_no_remote(exc) else remote_cause(exc, repo)
        raise RegistryError(refusal(repo, label, artifact_path, cause)) from None
    if missing:
        cause = probe_remote(repo) or (
            f"{len(missing)} of its objects are neither in the local cache nor on the remote "
            f"({missing[0]}): dvc push them from the machine that built it"
        )
        raise RegistryError(refusal(repo, label, artifact_path, cause))
    return pushed


def refusal(repo: Any, label: str, artifact_path: str, cause: str) -> str:
    where = "a DVC remote" if cause == NO_REMOTE else f"DVC remote {describe_remote(repo)}"
    return f"cannot put the weights of {label} ({artifact_path}) on {where}: {cause}"


def open_dvc(project: Path) -> Any:
    try:
        from dvc.repo import Repo  # slow to import: only the writing commands need it
    except ImportError as exc:
        raise RegistryError(f"dvc is not installed ({exc}): needed to push the weights") from None
    try:
        return Repo(str(project))
    except Exception as exc:  # not a DVC repository, a broken config…
        raise RegistryError(f"cannot open the DVC project: {' '.join(str(exc).split())}") from None


def push_and_check(repo: Any, oid: str, hash_name: str) -> tuple[int, list[str]]:
    """Push by object id, not ``dvc push --rev``: that one sends an old commit's objects to
    the remote configured *at that commit*, which need not be today's."""
    from dvc_data.hashfile.hash_info import HashInfo

    cache = repo.cache.local if hash_name == DVC3_HASH else repo.cache.legacy
    ids = [oid, *listed_objects(cache, oid)]
    pushed = repo.cloud.push([HashInfo(hash_name, i) for i in ids])
    remote = repo.cloud.get_remote_odb(None, "push", hash_name=hash_name)
    return len(pushed.transferred), missing_objects(remote, oid)


def missing_objects(odb: Any, oid: str) -> list[str]:
    """The objects of ``oid`` (a file, or a ``.dir`` listing and its files) not on ``odb``.

    A push only warns about objects it has nowhere, so ask the remote itself.
    """
    if not odb.exists(oid):
        return [oid]
    return [listed for listed in listed_objects(odb, oid) if not odb.exists(listed)]


def listed_objects(odb: Any, oid: str) -> list[str]:
    """The files a ``.dir`` object lists (none for a file, or where ``odb`` lacks it)."""
    if not oid.endswith(".dir") or not odb.exists(oid):
        return []
    return [entry["md5"] for entry in json.loads(odb.fs.cat_file(odb.oid_to_path(oid)))]


def artifact_oid(project: Path, artifact_path: str, commit: str, label: str) -> tuple[str, str]:
    """The md5 DVC recorded for the artifact at ``commit`` (dvc.lock, else its .dvc file),
    and its hash name (DVC 3's ``md5``, or DVC 2's, kept in the legacy cache)."""
    for name in ("dvc.lock", f"{artifact_path}.dvc"):
        shown = gitutil.git(project, "show", f"{commit}:{name}", check=False)
        if shown.returncode != 0:
            continue
        try:
            document = yaml.safe_load(shown.stdout)
        except yaml.YAMLError:  # a broken file at that commit tracks nothing we can name
            continue
        for entry in outs_of(document):
            if entry.get("path") == artifact_path and entry.get("md5"):
                dvc3 = entry.get("hash") == DVC3_HASH
                return str(entry["md5"]), DVC3_HASH if dvc3 else LEGACY_HASH
    raise RegistryError(
        f"{label}: DVC does not track {artifact_path} at commit {commit[:8]} "
        "(not an out in dvc.lock): nothing to put on the remote"
    )


def outs_of(document: Any) -> list[dict]:
    """The outs of a dvc.lock (every stage's) or of a .dvc file; nothing from anything else."""
    if not isinstance(document, dict):
        return []
    stages = document.get("stages")
    stages = [s for s in stages.values() if isinstance(s, dict)] if isinstance(stages, dict) else []
    outs = [out for holder in [*stages, document] for out in holder.get("outs") or []]
    return [out for out in outs if isinstance(out, dict)]


@contextmanager
def quiet_dvc_logs() -> Iterator[None]:
    """No dvc log line on stderr: a level on the parent loggers silences their children too
    (``disabled`` would not: ``dvc_data.index.fetch`` warns through its parent's handler)."""
    loggers = [logging.getLogger(name) for name in DVC_LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def is_no_remote(exc: BaseException) -> bool:
    return any(cls.__name__ == "NoRemoteError" for cls in type(exc).__mro__)
