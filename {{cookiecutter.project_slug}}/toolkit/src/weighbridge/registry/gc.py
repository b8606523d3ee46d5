"""``registry gc``: free DVC cache and remote space, never a registered version's weights.

Plain ``dvc gc -w -c`` keeps only what the checked-out workspace uses, so it deletes from
the DVC remote the weights of every registered version that is not checked out: the
version in production can then no longer be deployed or used as the gate's yardstick.

This command keeps what is used by

- the workspace;
- every git tag: each version tag points at its commit, and a deprecated version keeps its
  tag (lineage is immutable), so no registered version ever loses its weights;
- every local branch and every experiment (other people's work in progress);

and on the remote also every object younger than the grace period (``GRACE_DAYS``, or
``--grace-days``): a version registered in another clone has its weights pushed before its
tag reaches the git remote (see ``remote_sweep``).

It refuses to clean the remote while a git remote has tags this clone lacks (they may be
versions registered on another machine, whose weights the remote holds for them), or when
the DVC remote cannot be read. It also refuses, rather than guesses, when the directory
listing of a kept model cannot be read (DVC would otherwise treat the files inside as
unused). What is used is DVC's own answer (``Repo.used_objs``, as ``dvc gc`` asks it); the
cache is cleaned by dvc-data's gc, the remote by ``remote_sweep``.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from ..storage_errors import describe_remote, probe_remote, storage_cause
from .errors import RegistryError
from .gitutil import git, git_cause, repo_root
from .models import require_known_model
from .remote_sweep import Sweep, sweep
from .store import load_registry

# Unused remote objects written less than this many days ago are kept: git's default
# gc.pruneExpire ("2.weeks.ago") for the same race. Documented in the README.
GRACE_DAYS = 14.0
REMOVING_PREFIX = "Removing %s"  # dvc-data's gc says this of each path, in a dry run only
GC_LOGGER = "dvc_data.hashfile.gc"
# What DVC 3 writes to a remote (``files/md5/``), and what DVC 2 wrote (its root).
REMOTE_HASH_NAMES = ("md5", "md5-dos2unix")


def configure(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``registry gc`` (``-C``, ``--model`` and ``--json`` are shared)."""
    parser.add_argument(
        "--dry-run", action="store_true", help="count what would be removed, remove nothing"
    )
    parser.add_argument(
        "--cache-only", action="store_true", help="clean the local DVC cache, not the remote"
    )
    parser.add_argument(
        "--grace-days",
        type=grace_days,
        default=GRACE_DAYS,
        metavar="DAYS",
        help=f"keep remote objects written less than DAYS ago (default {GRACE_DAYS:g}): "
        "another clone may have pushed a version whose tag is not on the git remote yet",
    )


def grace_days(text: str) -> float:
    try:
        days = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of days: {text!r}") from None
    if not 0 <= days < float("inf"):
        raise argparse.ArgumentTypeError(f"must be 0 or more days, got {text!r}")
    return days


@dataclass
class Removed:
    """What gc removed (or, in a dry run, would remove) from the cache and the remote, and
    which unused remote objects it kept."""

    cache: int = 0
    cache_paths: list[str] = field(default_factory=list)  # a dry run's only
    remote: Sweep = field(default_factory=Sweep)

    @property
    def counts(self) -> dict[str, int]:
        return {"cache": self.cache, "remote": len(self.remote.removed)}


class _DryRunPaths(logging.Handler):
    def __init__(self, paths: list[str]) -> None:
        super().__init__(logging.INFO)
        self.paths = paths

    def emit(self, record: logging.LogRecord) -> None:
        if record.args and record.msg.startswith(REMOVING_PREFIX):
            self.paths.append(str(record.args[0]))


def run(args: argparse.Namespace) -> None:
    root = repo_root(args.repo)
    require_known_model(root, args.model, load_registry(root).models())
    cloud = not args.cache_only
    if cloud:
        require_all_remote_tags(root)
    removed = collect(root, cloud=cloud, dry=args.dry_run, grace_days=args.grace_days)
    report(args, removed, cloud)


def require_all_remote_tags(root: Path) -> None:
    """Refuse when a git remote has a tag this clone does not (or cannot be asked)."""
    # Split on newlines only: a tag name may hold other line-breaking characters (U+2028).
    local = set(git(root, "tag", "--list").stdout.split("\n"))
    for remote in git(root, "remote").stdout.split():
        listed = git(root, "ls-remote", "--tags", "--refs", remote, check=False)
        if listed.returncode != 0:
            raise RegistryError(
                f"cannot list the tags of git remote {remote!r} "
                f"({git_cause(listed.stderr) or 'exit code ' + str(listed.returncode)}); "
                "versions registered elsewhere could lose "
                "their weights: retry when it is reachable, or use --cache-only"
            )
        names = {line.split("refs/tags/", 1)[1] for line in listed.stdout.split("\n") if line}
        missing = sorted(names - local)
        if missing:
            shown = ", ".join(missing[:3]) + (" …" if len(missing) > 3 else "")
            raise RegistryError(
                f"git remote {remote!r} has {len(missing)} tag(s) this clone lacks ({shown}): "
                "run `git fetch --tags` first, their weights would be removed from the remote"
            )


def collect(root: Path, cloud: bool, dry: bool, grace_days: float) -> Removed:
    """What workspace, tags, branches and experiments use is kept; never forced."""
    from dvc.exceptions import DvcException
    from dvc.repo import Repo, lock_repo

    removed = Removed()
    try:
        with Repo(str(root)) as repo, lock_repo(repo), never_confirm():
            if cloud:
                require_readable_remote(repo)  # before the cache loses anything
            # force=False: if a kept model's directory listing is missing from the cache and
            # the remote, DVC refuses instead of treating the files inside as unused.
            used = repo.used_objs(
                all_branches=True, all_tags=True, all_experiments=True, force=False
            )
            with capture_dry_run_paths(removed.cache_paths):
                removed.cache = clean_cache(repo, used, dry)
            if cloud:
                for odb, values in remote_databases(repo, used).items():
                    merge(removed.remote, sweep(odb, values, grace_days, dry))
    except DvcException as exc:
        raise RegistryError(f"dvc gc stopped: {one_line(exc)}") from None
    except OSError as exc:  # the remote refused a listing or a removal (s3fs says OSError)
        raise RegistryError(f"gc stopped: {storage_cause(exc) or one_line(exc)}") from None
    return removed


def require_readable_remote(repo) -> None:
    """Refuse a DVC remote that is not there or cannot be read: listing it would find
    nothing, and "0 removed" would read as if it had been cleaned."""
    cause = probe_remote(repo)
    if cause is not None:
        raise RegistryError(
            f"cannot clean DVC remote {describe_remote(repo)}: {cause}; nothing was removed "
            "(check its url with `dvc remote list`, or use --cache-only)"
        )


def clean_cache(repo, used: dict, dry: bool) -> int:
    """dvc-data's gc of each local cache, as ``dvc gc`` runs it."""
    from dvc_data.hashfile.gc import gc as remove_unused

    kept = set().union(*used.values())
    databases = {odb for _, odb in repo.cache.by_scheme() if odb}
    return sum(remove_unused(odb, kept, dry=dry) for odb in databases)


def remote_databases(repo, used: dict) -> dict:
    """Each remote object database, with the hash values used there (``dvc gc -c``'s
    choice: outputs without a remote of their own use the default remote)."""
    databases: dict = {}
    for name in REMOTE_HASH_NAMES:
        odb = repo.cloud.get_remote_odb(None, "gc -c", hash_name=name)
        databases.setdefault(odb, set()).update(used.get(None, set()))
    for odb, hash_infos in used.items():
        if odb is not None:
            databases.setdefault(odb, set()).update(hash_infos)
    return {
        odb: {info.value for info in infos if info.name == odb.hash_name}
        for odb, infos in databases.items()
    }


def merge(total: Sweep, part: Sweep) -> None:
    total.removed += part.removed
    total.young += part.young
    total.unknown_age += part.unknown_age


@contextmanager
def capture_dry_run_paths(paths: list[str]) -> Iterator[None]:
    """Route dvc-data's gc log records to ``paths`` instead of the terminal."""
    handler = _DryRunPaths(paths)
    logger = logging.getLogger(GC_LOGGER)
    saved = (logger.level, logger.propagate)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.level, logger.propagate = saved


@contextmanager
def never_confirm() -> Iterator[None]:
    """Answer "no" to DVC's "cache for files inside will be lost, continue?" question, so a
    terminal user is never asked to agree to losing a kept model's files."""
    from dvc import prompt

    confirm, prompt.confirm = prompt.confirm, lambda statement: False
    try:
        yield
    finally:
        prompt.confirm = confirm


def report(args: argparse.Namespace, removed: Removed, cloud: bool) -> None:
    import json

    sweep = removed.remote
    data = {
        "dry_run": args.dry_run,
        "cloud": cloud,
        "removed": removed.counts,
        "would_remove": (removed.cache_paths + sweep.removed) if args.dry_run else [],
        "kept": ["workspace", "all tags", "all branches", "all experiments"],
        "grace_days": args.grace_days if cloud else None,
        "kept_young": sweep.young,
        "kept_unknown_age": sweep.unknown_age,
    }
    if args.json:
        print(json.dumps(data))
        return
    for path in data["would_remove"]:
        print(f"would remove {path}")
    for path in sweep.young if args.dry_run else []:
        print(f"kept {path}: written less than {args.grace_days:g} days ago")
    for path in sweep.unknown_age if args.dry_run else []:
        print(f"kept {path}: the remote does not say when it was written")
    verb = "would remove" if args.dry_run else "removed"
    where = f"{removed.cache} object(s) from the cache"
    if cloud:
        where += f" and {len(sweep.removed)} from the remote"
    print(f"gc {verb} {where}; kept the workspace, every tag, branch and experiment")
    if sweep.young:
        print(
            f"kept {len(sweep.young)} unused remote object(s) written less than "
            f"{args.grace_days:g} days ago (--grace-days): another clone may not have pushed "
            "their tags yet"
        )
    if sweep.unknown_age:
        print(
            f"kept {len(sweep.unknown_age)} unused remote object(s) whose age the remote "
            "does not report"
        )


def one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
