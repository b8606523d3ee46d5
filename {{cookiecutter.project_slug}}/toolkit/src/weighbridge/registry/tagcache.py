"""The registry's read cache: parsed tags kept under ``.git/registry-cache/``.

Every entry is keyed by what makes it true, a tag's object id (and ref name), and
git objects never change: an entry is either still right or no longer asked for,
so the cache needs no invalidation, only pruning. A tag that another tool deletes
and re-creates has a new object id and is read again.

The cache is an accelerator, never a source of truth. Each file starts with a line
naming the format and the Python that wrote it, then the sha256 of the rest, a
``marshal`` dump (fast, and unlike pickle it cannot run code). A file whose digest
does not match (a flipped byte, a truncated or half-written file, another writer)
is ignored before it is unmarshalled, like a missing one: reading the registry
never fails or goes wrong because of the cache, it only becomes slower. Files are
written to a temporary file and renamed into place. What the store keeps in them
is checked against git besides (see ``store``): records against the ref listing,
messages against their object ids.
"""

import contextlib
import hashlib
import marshal
import os
import sys
from pathlib import Path

CACHE_DIR = "registry-cache"
# bump when what the store puts in a file (its record layout) changes: old files are then ignored
CACHE_FORMAT = 5
# marshal's format may change between Python versions
HEADER = f"registry-cache {CACHE_FORMAT} python {sys.version_info[0]}.{sys.version_info[1]}\n"
DIGEST_SIZE = hashlib.sha256().digest_size


class TagCache:
    """Named dicts and lists in one directory; ``directory=None`` keeps nothing."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory

    @classmethod
    def for_repo(cls, repo: Path) -> "TagCache":
        git_dir = find_git_dir(Path(repo))
        return cls(git_dir / CACHE_DIR if git_dir is not None else None)

    def load(self, name: str, kind: type = dict):
        """The ``kind`` (dict or list) saved under ``name``; empty if absent, damaged or other."""
        if self.directory is None:
            return kind()
        try:
            data = (self.directory / name).read_bytes()
        except OSError:
            return kind()
        content = unpack(name, data)
        return content if type(content) is kind else kind()

    def save(self, name: str, content: dict | list) -> None:
        """Replace ``name`` atomically; give up silently where the cache can't be written."""
        if self.directory is None:
            return
        target = self.directory / name
        temporary = self.directory / f".{name}.{os.getpid()}.tmp"
        try:
            self.directory.mkdir(exist_ok=True)
            temporary.write_bytes(pack(name, content))
            os.replace(temporary, target)
        except (OSError, ValueError):
            # read-only repository, full disk, or a value marshal can't hold
            _remove_quietly(temporary)


def pack(name: str, content: dict | list) -> bytes:
    payload = marshal.dumps(content)
    return HEADER.encode() + _digest(name, payload) + payload


def unpack(name: str, data: bytes):
    """The content of a cache file, or None unless its header and digest are right."""
    header = HEADER.encode()
    start = len(header) + DIGEST_SIZE
    if not data.startswith(header) or len(data) <= start:
        return None
    payload = memoryview(data)[start:]
    if data[len(header) : start] != _digest(name, payload):
        return None  # damaged: never unmarshal it (marshal trusts its input)
    try:
        return marshal.loads(payload)
    except Exception:
        return None  # written by something else with our digest: still not trusted


def _digest(name: str, payload) -> bytes:
    # the file's name is hashed too: one cache file copied over another is damage as well
    digest = hashlib.sha256(name.encode())
    digest.update(payload)
    return digest.digest()


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
