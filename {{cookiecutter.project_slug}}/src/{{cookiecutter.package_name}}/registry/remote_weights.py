"""A version's weights must be on the DVC remote before a tag names them.

A tag pushed to git is seen by every server, but the weights it names live in DVC: if
they are only in this machine's cache, ``registry deploy`` elsewhere cannot fetch them.
``dvc status -c`` does not notice (it checks the workspace, not a past commit), so
register and promote push the artifact folder as of the version's commit, and then ask
the remote for every object of it. Only then is the tag written.
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
DVC_LOGGERS = ("dvc", "dvc_data", "dvc_objects", "dvc_s3", "dvc_http", "fsspec", "s3fs")


def ensure_on_remote(project: Path, artifact_path: str, commit: str, label: str) -> int:
    """Push ``artifact_path`` as of ``commit``; raise unless all its objects are on the
    remote afterwards. Returns how many files this push uploaded."""
    oid = artifact_oid(project, artifact_path, commit, label)
    repo = open_dvc(project)
    try:
        return push_or_refuse(repo, artifact_path, commit, oid, label)
    finally:
        repo.close()


def push_or_refuse(repo: Any, artifact_path: str, commit: str, oid: str, label: str) -> int:
    try:
        with quiet_dvc_logs():  # dvc warns on stderr; the refusal below is the one line
            pushed, missing = push_and_check(repo, artifact_path, commit, oid)
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


def push_and_check(repo: Any, artifact_path: str, commit: str, oid: str) -> tuple[int, list[str]]:
    # revs + workspace=False: the folder as that commit has it, whatever is checked out
    pushed = repo.push(targets=[artifact_path], revs=[commit], workspace=False)
    return pushed, missing_objects(repo.cloud.get_remote_odb(None, "push"), oid)


def missing_objects(odb: Any, oid: str) -> list[str]:
    """The objects of ``oid`` (a file, or a ``.dir`` listing and its files) not on ``odb``.

    dvc push only warns about files it has nowhere (and says 0 pushed), so ask the remote.
    """
    if not odb.exists(oid):
        return [oid]
    if not oid.endswith(".dir"):
        return []
    listing = json.loads(odb.fs.cat_file(odb.oid_to_path(oid)))
    return [entry["md5"] for entry in listing if not odb.exists(entry["md5"])]


def artifact_oid(project: Path, artifact_path: str, commit: str, label: str) -> str:
    """The md5 DVC recorded for the artifact at ``commit`` (dvc.lock, else its .dvc file)."""
    for name in ("dvc.lock", f"{artifact_path}.dvc"):
        shown = gitutil.git(project, "show", f"{commit}:{name}", check=False)
        if shown.returncode != 0:
            continue
        for entry in outs_of(yaml.safe_load(shown.stdout)):
            if entry.get("path") == artifact_path and entry.get("md5"):
                return str(entry["md5"])
    raise RegistryError(
        f"{label}: DVC does not track {artifact_path} at commit {commit[:8]} "
        "(not an out in dvc.lock): nothing to put on the remote"
    )


def outs_of(document: Any) -> list[dict]:
    if not isinstance(document, dict):
        return []
    stages = document.get("stages")
    outs = [o for s in (stages or {}).values() for o in s.get("outs") or []] if stages else []
    return [o for o in outs + (document.get("outs") or []) if isinstance(o, dict)]


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
