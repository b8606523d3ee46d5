"""``registry gc``: free DVC cache and remote space, never a registered version's weights.

Plain ``dvc gc -w -c`` keeps only what the checked-out workspace uses, so it deletes from
the DVC remote the weights of every registered version that is not checked out: the
version in production can then no longer be deployed or used as the gate's yardstick.

This command keeps what is used by

- the workspace;
- every git tag: each version tag points at its commit, and a deprecated version keeps its
  tag (lineage is immutable), so no registered version ever loses its weights;
- every local branch and every experiment (other people's work in progress).

It refuses to clean the remote while a git remote has tags this clone lacks: they may be
versions registered on another machine, whose weights the remote holds for them. It also
refuses, rather than guesses, when the directory listing of a kept model cannot be read
(DVC would otherwise treat the files inside as unused).
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from .errors import RegistryError
from .gitutil import git, repo_root

REMOVED_PREFIX = "Removed %d objects from"
REMOVING_PREFIX = "Removing %s"  # dry run only
GC_LOGGERS = ("dvc.repo.gc", "dvc_data.hashfile.gc")


def configure(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``registry gc`` (``-C``, ``--model`` and ``--json`` are shared)."""
    parser.add_argument(
        "--dry-run", action="store_true", help="count what would be removed, remove nothing"
    )
    parser.add_argument(
        "--cache-only", action="store_true", help="clean the local DVC cache, not the remote"
    )


@dataclass
class Removed:
    """What DVC's gc removed (or would remove), read from its log records: it reports
    counts and, in a dry run, each path only there."""

    counts: dict[str, int] = field(default_factory=lambda: {"cache": 0, "remote": 0})
    paths: list[str] = field(default_factory=list)


class _GcLog(logging.Handler):
    def __init__(self, removed: Removed) -> None:
        super().__init__(logging.INFO)
        self.removed = removed

    def emit(self, record: logging.LogRecord) -> None:
        if not record.args:
            return
        if record.msg.startswith(REMOVED_PREFIX):
            where = "remote" if "remote" in record.msg else "cache"
            self.removed.counts[where] += int(record.args[0])
        elif record.msg.startswith(REMOVING_PREFIX):
            self.removed.paths.append(str(record.args[0]))


def run(args: argparse.Namespace) -> None:
    root = repo_root(args.repo)
    cloud = not args.cache_only
    if cloud:
        require_all_remote_tags(root)
    removed = collect(root, cloud=cloud, dry=args.dry_run)
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
                f"({last_line(listed.stderr)}); versions registered elsewhere could lose "
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


def collect(root: Path, cloud: bool, dry: bool) -> Removed:
    """DVC's own gc, keeping workspace, tags, branches and experiments; never forced."""
    from dvc.exceptions import DvcException
    from dvc.repo import Repo

    removed = Removed()
    try:
        with capture_gc_log(removed), Repo(str(root)) as repo, never_confirm():
            # force=False: if a kept model's directory listing is missing from the cache and
            # the remote, DVC refuses instead of treating the files inside as unused.
            repo.gc(
                workspace=True,
                all_tags=True,
                all_branches=True,
                all_experiments=True,
                cloud=cloud,
                force=False,
                dry=dry,
            )
    except DvcException as exc:
        raise RegistryError(f"dvc gc stopped: {one_line(exc)}") from None
    return removed


@contextmanager
def capture_gc_log(removed: Removed) -> Iterator[None]:
    """Route DVC's gc log records to ``removed`` instead of the terminal."""
    handler = _GcLog(removed)
    saved = []
    for name in GC_LOGGERS:
        logger = logging.getLogger(name)
        saved.append((logger, logger.level, logger.propagate))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    try:
        yield
    finally:
        for logger, level, propagate in saved:
            logger.removeHandler(handler)
            logger.setLevel(level)
            logger.propagate = propagate


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

    data = {
        "dry_run": args.dry_run,
        "cloud": cloud,
        "removed": removed.counts,
        "would_remove": removed.paths if args.dry_run else [],
        "kept": ["workspace", "all tags", "all branches", "all experiments"],
    }
    if args.json:
        print(json.dumps(data))
        return
    for path in removed.paths if args.dry_run else []:
        print(f"would remove {path}")
    verb = "would remove" if args.dry_run else "removed"
    where = f"{removed.counts['cache']} object(s) from the cache"
    if cloud:
        where += f" and {removed.counts['remote']} from the remote"
    print(f"gc {verb} {where}; kept the workspace, every tag, branch and experiment")


def one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no output"
