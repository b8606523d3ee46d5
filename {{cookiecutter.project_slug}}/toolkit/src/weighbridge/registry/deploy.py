"""``registry deploy``: bring exactly one version's model files onto this machine.

1. Resolve the version (``--version`` or ``--stage``) from the tags of this repository or
   of ``--repo`` (a shallow fetch of the tags only: the manifest lives in the tag message).
2. Fetch only the artifact folder at the version's commit from the DVC remote
   (``dvc get``: the directory listing and the files in it, nothing else).
3. Check every file's sha256 against the manifest, and that no file is missing or extra.
4. Install atomically: everything is built in a hidden sibling of ``--to`` and swapped in
   with one rename, so a failure or an interrupt at any point leaves the previous
   deployment exactly as it was and no partial folder behind.

``--to`` must be absent, empty or an earlier deployment; anything else is refused before
anything is fetched, and left untouched (``deploy_folder`` has the rules, the staging
folder, its lock and the clean-up of what a killed deploy left).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from functools import partial
from pathlib import Path

from ..project import only_model
from ..storage_errors import (
    PUSH_EVERY_TAG,
    describe_remote,
    one_line,
    remote_cause,
    storage_cause,
    without_credentials,
)
from . import derived
from .cli import version_arg
from .deploy_folder import DEPLOYED_FILE, check_target, resolve_target, staging_beside, swap_in
from .errors import RegistryError
from .gitutil import git_cause, read_tags, repo_root
from .models import require_known_model
from .store import Registry, Version, load_registry

CHUNK = 1 << 20
QUIET_LOGGERS = ("dvc", "dvc_data", "dvc_objects", "dvc_s3", "dvc_http", "fsspec", "s3fs")


def configure(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``registry deploy`` (``-C``, ``--model`` and ``--json`` are shared)."""
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--stage", help="deploy the version now assigned to this stage")
    which.add_argument("--version", type=version_arg, help="deploy this version (vX.Y.Z)")
    parser.add_argument("--to", required=True, type=Path, help="the deployment folder")
    parser.add_argument(
        "--repo", dest="source_repo", help="git URL or path to read tags from (default: -C)"
    )
    parser.add_argument("--remote", help="DVC remote to fetch from (default: the project's)")


def run(args: argparse.Namespace) -> None:
    target = resolve_target(args.to)
    check_target(target, _projects(args.source_repo, args.repo))
    try:
        with staging_beside(target) as staging, _temporary_files_in(staging / "tmp"):
            registry, source = _registry_of(args.source_repo, args.repo, staging / "tags.git")
            local = Path(source) if Path(source).is_dir() else None  # else a git URL
            # no dvc.yaml names a model here (a serving machine): the registry's only one
            model = args.model or only_model(registry.models(), "the registry")
            require_known_model(local, model, registry.models())
            version = _resolve(registry, model, args.version, args.stage)
            files = _manifest_files(version)
            record = _record(version, files, args.stage, source)
            current = _current_deployment(target, record, version)
            if current is not None:
                message = f"{version.model} {version.version} is already deployed in {target}"
                _report(args, {**current, "changed": False}, f"{message}: no-op")
                return
            _install(source, version, files, record, staging, target, args.remote)
    except OSError as exc:  # the disk, not the user: full, read-only, busy…
        where = exc.filename or target
        raise RegistryError(f"--to {target}: {where}: {exc.strerror or one_line(exc)}") from None
    message = f"deployed {version.model} {version.version} ({version.commit[:12]}) to {target}"
    _report(args, {**record, "changed": True}, message)


def _install(
    source: str,
    version: Version,
    files: dict,
    record: dict,
    staging: Path,
    target: Path,
    remote: str | None,
) -> None:
    payload = staging / "model"
    with _interrupt_exits(staging, target):
        _fetch(source, version, payload, remote)
    if files is None:  # a derived manifest: the files must make up dvc.lock's md5
        _path, md5 = derived.artifact_of(version)
        files = derived.verified_folder(payload, md5, f"{version.model} {version.version}")
        record.update(files=files, manifest="derived")
    _check_files(payload, files)
    _write_json(payload / DEPLOYED_FILE, record)
    swap_in(payload, target)


def _projects(repo: str | None, local: Path) -> list[Path]:
    """The repositories deploy reads from: never a target, nor inside one."""
    path = Path(repo.removeprefix("file://")) if repo is not None else None
    projects = [path.resolve()] if path is not None and path.exists() else []
    with suppress(RegistryError):  # -C is no repository (a serving machine using --repo)
        projects.append(repo_root(local).resolve())
    return projects


@contextmanager
def _temporary_files_in(folder: Path) -> Iterator[None]:
    """dvc's temporary clones and caches go into the staging folder, not the system's.

    There they are removed with it, also by the next deploy when this one is killed.
    """
    folder.mkdir()
    saved, tempfile.tempdir = tempfile.tempdir, str(folder)
    try:
        yield
    finally:
        tempfile.tempdir = saved


@contextmanager
def _interrupt_exits(staging: Path, target: Path) -> Iterator[None]:
    """Ctrl-C during the fetch: remove the staging folder and exit at once.

    A KeyboardInterrupt would not do: dvc then waits for its download threads, which may
    sit forever on a connection that never answers. The target is not touched until the
    fetch is over, so exiting here leaves the previous deployment as it was.
    """

    def on_interrupt(signum: int, frame: object) -> None:
        shutil.rmtree(staging, ignore_errors=True)
        print(f"error: interrupted; {target} is unchanged", file=sys.stderr, flush=True)
        os._exit(130)

    try:
        previous = signal.signal(signal.SIGINT, on_interrupt)
    except ValueError:  # not the main thread: no handler, KeyboardInterrupt as usual
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


# --- which version ---------------------------------------------------------------------------


def _registry_of(repo: str | None, local: Path, tags_dir: Path) -> tuple[Registry, str]:
    """The registry and the DVC source (repo path or URL) to fetch from.

    With ``--repo``, its tags are fetched into ``tags_dir`` (in the staging folder).
    """
    if repo is None:
        root = repo_root(local)
        return load_registry(root), str(root)
    source = str(Path(repo).resolve()) if Path(repo).exists() else repo
    tags = _fetch_tags(source, tags_dir)
    return Registry(read_tags(tags), repo=tags), source


def _fetch_tags(url: str, into: Path) -> Path:
    """Only the tags (and their commits, shallow): enough to read every manifest."""
    for args in (
        ["init", "--quiet", "--bare", str(into)],
        ["-C", str(into), "fetch", "--quiet", "--depth=1", url, "+refs/tags/*:refs/tags/*"],
    ):
        result = subprocess.run(["git", *args], capture_output=True, text=True)
        if result.returncode != 0:
            cause = without_credentials(git_cause(result.stderr) or "git fetch failed")
            raise RegistryError(f"cannot read the tags of {url}: {cause}")
    return into


def _resolve(registry: Registry, model: str, version: str | None, stage: str | None):
    registry.require_model_active(model, "deploy")
    if version is not None:
        found = registry.version(model, version)
        if found.deprecated:
            raise RegistryError(f"{model} {version} is deprecated: deploy another version")
        return found
    found = registry.stage_version(model, stage)
    if found is None:
        raise RegistryError(f"no version of {model} is assigned to stage {stage!r}")
    return found


def _manifest_files(version: Version) -> dict | None:
    """The manifest's files; None for a derived manifest (known once fetched and checked)."""
    if version.derived:
        derived.artifact_of(version)  # refused now if there is nothing to check against
        return None
    artifact = version.manifest.get("artifact") or {}
    files = artifact.get("files")
    if not artifact.get("path") or not isinstance(files, dict) or not files:
        raise RegistryError(
            f"tag {version.tag}: the manifest has no artifact.path / artifact.files to verify"
        )
    return files


def _record(version: Version, files: dict, stage: str | None, source: str) -> dict:
    return {
        "model": version.model,
        "version": version.version,
        "commit": version.commit,
        "stage": stage,
        "artifact_path": version.manifest["artifact"]["path"],
        "files": {name: dict(meta) for name, meta in sorted((files or {}).items())},
        "source": without_credentials(source),  # a token in a --repo URL stays out of it
        "deployed_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def _current_deployment(target: Path, record: dict, version: Version) -> dict | None:
    """What is in target if it is this very version, intact (every file hashes as recorded,
    or for a derived manifest, the files make up dvc.lock's md5)."""
    try:
        current = json.loads((target / DEPLOYED_FILE).read_text())
    except (OSError, ValueError):
        return None
    same = all(current.get(key) == record[key] for key in ("model", "version", "commit"))
    if not same:
        return None
    files = record["files"] or _derived_files(target, version)
    return current if files and not _file_problems(target, files) else None


def _derived_files(target: Path, version: Version) -> dict | None:
    """The deployed files of a derived version, if they are the ones its dvc.lock records."""
    deployed = {p for p in target.rglob("*") if p.is_file() and p != target / DEPLOYED_FILE}
    digests = {p.relative_to(target).as_posix(): derived.digests_of_file(p) for p in deployed}
    try:
        return derived.verified_files(digests, derived.artifact_of(version)[1], str(target))
    except RegistryError:
        return None  # not intact: deploy it again


# --- fetch and verify ------------------------------------------------------------------------


def _fetch(source: str, version: Version, out: Path, remote: str | None) -> None:
    """What ``dvc get`` does, the artifact folder at the version's commit and only its own
    objects, with the repository still open when it fails, to ask its remote what is wrong.
    """
    from dvc.fs import download
    from dvc.repo import Repo
    from dvc.repo.open_repo import clean_repos

    path = version.manifest["artifact"]["path"]
    what = f"could not fetch {path} of {version.model} {version.version} "
    what += f"(commit {version.commit[:12]})"
    try:
        with (
            _quiet_libraries(),
            Repo.open(
                url=source, rev=version.commit, subrepos=True, uninitialized=True, remote=remote
            ) as repo,
        ):
            try:
                download(repo.dvcfs, repo.dvcfs.from_os_path(path), str(out))
            except Exception as exc:  # dvc, dvc-data, fsspec and the network raise their own
                where = describe_remote(repo, remote)
                restore = partial(restore_advice, repo, remote, version)
                cause = remote_cause(exc, repo, remote, restore)
                raise RegistryError(f"{what} from the DVC remote {where}: {cause}") from None
    except RegistryError:
        raise
    except Exception as exc:  # the repository itself, at that commit
        raise RegistryError(f"{what}: {storage_cause(exc) or one_line(exc)}") from None
    finally:
        clean_repos()  # the temporary clone and cache dvc made for a remote repo


def restore_advice(repo, remote: str | None, version: Version) -> str | None:
    """What puts back a file of the version's folder that the remote lost. ``dvc push``
    alone does not: while the remote has the folder's listing (its ``.dir`` object),
    dvc-data takes every file it lists to be there too, and reports "Everything is up to
    date". None: no listing to blame (then pushing the tags is enough)."""
    oid = (version.manifest.get("artifact") or {}).get("md5")
    if not isinstance(oid, str) or not oid.endswith(".dir"):
        return None
    try:
        odb = repo.cloud.get_remote_odb(remote, "push")
        if not odb.exists(oid):
            return None
        listing = odb.fs.unstrip_protocol(odb.oid_to_path(oid))
    except Exception:  # the remote cannot tell: the generic advice stands
        return None
    return (
        f"the remote still has the folder's listing {listing}, so `dvc push` takes the folder "
        f"for complete: delete that listing from the remote, then run `{PUSH_EVERY_TAG}` in a "
        "clone whose DVC cache has the files"
    )


@contextmanager
def _quiet_libraries() -> Iterator[None]:
    """dvc logs failures with tracebacks on stderr; we report them as one line instead."""
    loggers = [logging.getLogger(name) for name in QUIET_LOGGERS]
    saved = [logger.disabled for logger in loggers]
    for logger in loggers:
        logger.disabled = True
    try:
        yield
    finally:
        for logger, disabled in zip(loggers, saved, strict=True):
            logger.disabled = disabled


def _check_files(folder: Path, files: dict) -> None:
    problems = _file_problems(folder, files)
    if problems:
        raise RegistryError("; ".join(problems) + " — nothing was installed")


def _file_problems(folder: Path, files: dict) -> list[str]:
    present = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    present.discard(DEPLOYED_FILE)
    problems = [f"{name}: missing" for name in sorted(set(files) - present)]
    problems += [f"{name}: not in the manifest" for name in sorted(present - set(files))]
    for name in sorted(set(files) & present):
        expected = files[name].get("sha256")
        actual = sha256_of(folder / name)
        if actual != expected:
            problems.append(f"{name}: sha256 {actual} does not match the manifest's {expected}")
    return problems


def sha256_of(path: Path) -> str:
    # The same digest as model_io.sha256_file, without importing skops and scikit-learn.
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


def _report(args: argparse.Namespace, record: dict, message: str) -> None:
    if args.json:
        print(json.dumps(record, indent=2, sort_keys=True))
    else:
        print(message)
