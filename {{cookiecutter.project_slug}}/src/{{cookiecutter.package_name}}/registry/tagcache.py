"""The registry's read cache: parsed tags kept under ``.git/registry-cache/``.

Every entry is keyed by what makes it true, a tag's object id (and ref name), and
git objects never change: an entry is either still right or no longer asked for,
so the cache needs no invalidation, only pruning. A tag that another tool deletes
and re-creates has a new object id and is read again.

Files are ``marshal`` dumps (fast, and unlike pickle they cannot run code), written
to a temporary file and renamed into place. A cache that is missing, corrupt,
written by another Python or in an unwritable directory is ignored: reading the
registry never fails because of it, it only becomes slower.
"""

import contextlib
import marshal
import os
import sys
from pathlib import Path

CACHE_DIR = "registry-cache"
# bump when what the store puts in an entry (its record layout) changes: old files are then ignored
CACHE_FORMAT = 4
# marshal's format may change between Python versions
HEADER = ("registry-cache", CACHE_FORMAT, tuple(sys.version_info[:2]))


class TagCache:
    """Named dicts in one directory; ``directory=None`` is a cache that keeps nothing."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory

    @classmethod
    def for_repo(cls, repo: Path) -> "TagCache":
        git_dir = find_git_dir(Path(repo))
        return cls(git_dir / CACHE_DIR if git_dir is not None else None)

    def load(self, name: str) -> dict:
        """The dict saved under ``name``, or ``{}`` if it is absent or unreadable."""
        if self.directory is None:
            return {}
        try:
            header, content = marshal.loads((self.directory / name).read_bytes())
        except Exception:
            return {}  # absent, truncated or garbage: a cache must never break a read
        return content if header == HEADER and isinstance(content, dict) else {}

    def save(self, name: str, content: dict) -> None:
        """Replace ``name`` atomically; give up silently where the cache can't be written."""
        if self.directory is None:
            return
        target = self.directory / name
        temporary = self.directory / f".{name}.{os.getpid()}.tmp"
        try:
            self.directory.mkdir(exist_ok=True)
            temporary.write_bytes(marshal.dumps((HEADER, content)))
            os.replace(temporary, target)
        except (OSError, ValueError):
            # read-only repository, full disk, or a value marshal can't hold
            _remove_quietly(temporary)


def _remove_quietly(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink(missing_ok=True)


def find_git_dir(start: Path) -> Path | None:
    """The git directory for ``start``, found the way git does for the common layouts.

    A wrong answer (an exotic layout) can only cost speed, never correctness: every
    entry is keyed by object id, so entries from any repository are true.
    """
    if os.environ.get("GIT_DIR"):
        return _common_dir(start / os.environ["GIT_DIR"])
    for folder in (start, *start.parents):
        dot_git = folder / ".git"
        if dot_git.is_dir():
            return _common_dir(dot_git)
        if dot_git.is_file():
            return _linked_git_dir(folder, dot_git)
        if (folder / "HEAD").is_file() and (folder / "objects").is_dir():
            return folder  # a bare repository
    return None


def _linked_git_dir(folder: Path, dot_git: Path) -> Path | None:
    # a worktree or submodule: ".git" is a file saying "gitdir: <path>"
    try:
        line = dot_git.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    if not line.startswith("gitdir:"):
        return None
    return _common_dir(folder / line[len("gitdir:") :].strip())


def _common_dir(git_dir: Path) -> Path:
    # worktrees share the main repository's tags, so they share its cache too
    try:
        common = (git_dir / "commondir").read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return git_dir
    return git_dir / common
