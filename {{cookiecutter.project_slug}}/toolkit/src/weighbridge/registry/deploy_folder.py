"""The folder ``registry deploy`` writes: which folders it may replace, and how.

Ownership. Deploy writes only into a folder that is absent, empty, or an earlier
deployment. An earlier deployment is a real folder (not a symbolic link) whose
``DEPLOYED.json`` is a regular file holding a JSON object with the strings ``model``,
``version`` and ``commit`` and a non-empty ``files`` object keyed by relative paths, and
whose every other entry is one of those files (a regular file) or a folder on the way to
one. A listed file may be missing or damaged: the folder is still ours, and deploying again
repairs it. One entry more, hidden or not, means someone else keeps things there: refused,
and the folder is left exactly as it was. The project deploy reads from is never a target.

Staging. The new content is built in a hidden sibling ``.<name>.deploy-XXXXXXXX`` (same
filesystem, so the final swap is one atomic rename) that also holds every temporary file
of the deploy (the fetched tags, dvc's clones), and that its deploy holds locked (flock)
for as long as it runs. A deploy killed with SIGKILL leaves it behind, unlocked, because
the lock dies with its process: the next deploy into the same target removes such
leftovers. Staging folders are created and leftovers removed under a lock on the parent
folder, so a deploy never finds another's fresh staging folder before it is locked.
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import re
import shutil
import stat
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from .errors import RegistryError

try:
    import fcntl
except ImportError:  # Windows: no locks, so leftovers are never provably dead, never removed
    fcntl = None

DEPLOYED_FILE = "DEPLOYED.json"
RECORD_STRINGS = ("model", "version", "commit")
MARKER = "DEPLOYING"  # in every staging folder: a second proof (after the name) that it is ours
MAX_RECORD_BYTES = 1 << 20
PARENT_LOCK_WAIT_S = 10.0
RULE = "deploy replaces only an empty folder or an earlier deployment (nothing was changed)"


@dataclass(frozen=True)
class Owner:
    """Who owns a folder of this kind: the record file it writes there, and how a record it
    wrote is recognised. ``registry report`` owns its output folder by the same rules."""

    writer: str  # "deploy": in messages
    kind: str  # "deployment": what the writer leaves
    record_file: str
    is_record: Callable[[object], bool]
    record_fields: str  # what a valid record holds, for the message that refuses one
    option: str = "--to"  # how the user named the folder, in messages


# --- which folder --------------------------------------------------------------------------


def resolve_target(given: Path) -> Path:
    """The real folder ``--to`` names: a symbolic link is followed, never replaced itself."""
    path = Path(os.path.abspath(given))
    if not path.name:
        raise RegistryError(f"--to {path}: the root folder cannot be a deployment")
    try:
        # A link is followed (strict: to something that exists); other paths may be new.
        real = path.resolve(strict=True) if path.is_symlink() else path.parent.resolve() / path.name
    except (OSError, RuntimeError) as exc:  # a dangling link, or a loop of links
        raise RegistryError(f"--to {path}: a symbolic link to nowhere ({_cause(exc)})") from None
    if not real.name:
        raise RegistryError(f"--to {path}: a link to the root folder, which cannot be one")
    return real


def check_target(target: Path, projects: Iterable[Path], owner: Owner | None = None) -> None:
    """Refuse, before anything is fetched, a target deploy does not own."""
    for project in projects:
        if target == project or target in project.parents:
            what = "is" if target == project else "contains"
            raise RegistryError(
                f"--to {target}: {what} the project {project}; deploy into a folder of its own "
                "(nothing was changed)"
            )
    blocker = _file_above(target)
    if blocker is not None:
        raise RegistryError(f"--to {target}: cannot create it: {blocker} is a file, not a folder")
    reason = why_not_ours(target, owner or DEPLOY)
    if reason is not None:
        raise RegistryError(f"--to {target}: {reason}; {RULE}")


def _file_above(target: Path) -> Path | None:
    """The first existing folder above target, if it is no folder at all."""
    above = target.parent
    while not os.path.lexists(above):
        above = above.parent
    return None if above.is_dir() else above


def why_not_ours(folder: Path, owner: Owner | None = None) -> str | None:
    """Why deploy (or ``owner``) may not replace ``folder`` (None: absent, empty or its own)."""
    try:
        info = folder.lstat()
    except FileNotFoundError:
        return None
    except OSError as exc:  # e.g. a parent that is a file: NotADirectoryError
        return f"cannot look at it ({_cause(exc)})"
    if stat.S_ISLNK(info.st_mode):
        return "it is a symbolic link"
    if not stat.S_ISDIR(info.st_mode):
        return "it exists and is not a folder"
    try:
        return _strangers(folder, owner or DEPLOY)
    except OSError as exc:
        return f"cannot read it ({_cause(exc)})"


def _strangers(folder: Path, owner: Owner) -> str | None:
    """The first thing in the folder that its owner did not put there (None: nothing)."""
    entries = _entries(folder)
    first = next(entries, None)
    if first is None:
        return None  # empty
    record, problem = read_record(folder, owner)
    record_file = owner.record_file
    if record is None:
        if not os.path.lexists(folder / record_file):
            return f"it holds {first[0]} and no {record_file}"
        return problem
    listed = set(record["files"])
    on_the_way = {str(Path(name).parent) for name in listed} - {"."}
    on_the_way |= {str(p) for name in on_the_way for p in Path(name).parents} - {"."}
    for relative, entry in [first, *entries]:
        if entry.is_symlink():
            return f"it holds {relative}, a symbolic link no {owner.kind} makes"
        if entry.is_dir(follow_symlinks=False):
            if relative not in on_the_way:
                return f"it holds {relative}/, which its {record_file} does not list"
        elif relative != record_file and (
            relative not in listed or not entry.is_file(follow_symlinks=False)
        ):
            return f"it holds {relative}, which its {record_file} does not list"
    return None


def _entries(folder: Path, prefix: str = "") -> Iterator[tuple[str, os.DirEntry]]:
    """Every entry under folder as (relative posix path, entry); links are not followed."""
    with os.scandir(folder) as scan:
        found = sorted(scan, key=lambda entry: entry.name)
    for entry in found:
        relative = prefix + entry.name
        yield relative, entry
        if entry.is_dir(follow_symlinks=False):
            yield from _entries(Path(entry.path), relative + "/")


def read_record(folder: Path, owner: Owner | None = None) -> tuple[dict, None] | tuple[None, str]:
    """(the folder's DEPLOYED.json, None), or (None, why it is not one deploy wrote);
    with ``owner``, its record file instead."""
    owner = owner or DEPLOY
    name, writer = owner.record_file, owner.writer
    try:
        # O_NOFOLLOW: a link to some other file is not ours; O_NONBLOCK: nor is a FIFO,
        # which would block the open forever.
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        handle = os.open(folder / name, flags)
    except FileNotFoundError:
        return None, f"there is no {name}"
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return None, f"its {name} is a symbolic link"
        return None, f"its {name} cannot be read ({_cause(exc)})"
    with os.fdopen(handle, "rb") as file:
        info = os.fstat(file.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_RECORD_BYTES:
            return None, f"its {name} is not a file {writer} wrote"
        data = file.read()
    try:
        record = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return None, f"its {name} is not valid JSON"
    if not owner.is_record(record):
        return None, f"its {name} is not one {writer} writes ({owner.record_fields})"
    return record, None


def is_record(record: object) -> bool:
    if not isinstance(record, dict):
        return False
    if not all(isinstance(record.get(key), str) for key in RECORD_STRINGS):
        return False
    return lists_files(record)


def lists_files(record: dict) -> bool:
    """Whether the record has a non-empty ``files`` object keyed by paths inside the folder."""
    files = record.get("files")
    return (
        isinstance(files, dict)
        and bool(files)
        and all(_plain_relative(name) and isinstance(meta, dict) for name, meta in files.items())
    )


DEPLOY = Owner("deploy", "deployment", DEPLOYED_FILE, is_record, "model, version, commit, files")


def _plain_relative(name: str) -> bool:
    """A path inside the folder: relative, no ``..``, no empty or ``.`` part."""
    if not name or name.startswith("/") or "\\" in name or "\0" in name:
        return False
    return all(part not in ("", ".", "..") for part in name.split("/"))


# --- the staging folder --------------------------------------------------------------------


@contextmanager
def staging_beside(target: Path, owner: Owner | None = None) -> Iterator[Path]:
    """A locked hidden sibling of target, removed on the way out whatever happens.

    Folders created on the way to target are removed too if the deploy fails, so a failed
    first deploy leaves nothing behind.
    """
    option = (owner or DEPLOY).option
    created = _make_parents(target, option)
    try:
        staging, lock = _new_staging(target, option)
    except BaseException:
        _remove_empty(created)
        raise
    try:
        yield staging
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if lock is not None:
            os.close(lock)
        if not os.path.lexists(target):
            _remove_empty(created)


def _new_staging(target: Path, option: str) -> tuple[Path, int | None]:
    parent = target.parent
    try:
        with _locked(parent) as locked:
            if locked:  # else a fresh staging folder could be mistaken for a dead one
                remove_leftovers(target)
            staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.deploy-", dir=parent))
            lock = _try_lock(staging)
            (staging / MARKER).write_text(f"pid {os.getpid()}\n")
    except OSError as exc:
        raise RegistryError(
            f"{option} {target}: cannot write into {parent} ({_cause(exc)})"
        ) from None
    return staging, lock


def remove_leftovers(target: Path) -> list[str]:
    """Remove the staging folders of killed deploys into target; return their names.

    Only provably ours and dead: the name pattern, a real folder, our marker inside (or
    nothing at all: killed before writing it), and no lock held on it.
    """
    if fcntl is None:
        return []
    pattern = re.compile(re.escape(f".{target.name}.deploy-") + r"[a-z0-9_]{8}")
    removed = []
    with os.scandir(target.parent) as scan:
        candidates = [e for e in scan if pattern.fullmatch(e.name) and not e.is_symlink()]
    for entry in candidates:
        lock = _try_lock(Path(entry.path))
        if lock is None:
            continue  # a deploy that is running now
        try:
            if os.path.isfile(os.path.join(entry.path, MARKER)):
                shutil.rmtree(entry.path, ignore_errors=True)
            else:
                with suppress(OSError):
                    os.rmdir(entry.path)  # only if empty
        finally:
            os.close(lock)
        if not os.path.lexists(entry.path):
            removed.append(entry.name)
    return removed


@contextmanager
def _locked(folder: Path) -> Iterator[bool]:
    """An exclusive lock on folder: deploys hold it for milliseconds, so it is waited for.

    Yields False where there are no locks (Windows, some network filesystems) or when
    someone else keeps it for long: then no leftovers are removed, nothing is blocked.
    """
    if fcntl is None:
        yield False
        return
    try:
        handle = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        yield False
        return
    try:
        yield _lock_within(handle, PARENT_LOCK_WAIT_S)
    finally:
        os.close(handle)


def _lock_within(handle: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        except OSError:  # ENOLCK, EOPNOTSUPP…
            return False


def _try_lock(folder: Path) -> int | None:
    """An open, exclusively locked handle on folder, or None if someone holds the lock."""
    if fcntl is None:
        return None
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0)
    try:
        handle = os.open(folder, flags)
    except OSError:
        return None
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(handle)
        return None
    return handle


def _make_parents(target: Path, option: str) -> list[Path]:
    """Create the missing folders above target; return them, the outermost first."""
    missing, existing = [], target.parent
    while not os.path.lexists(existing):
        missing.append(existing)
        existing = existing.parent
    created = []
    for folder in reversed(missing):
        try:
            folder.mkdir()
        except OSError as exc:
            _remove_empty(created)
            raise RegistryError(
                f"{option} {target}: cannot create {folder} ({_cause(exc)})"
            ) from None
        created.append(folder)
    return created


def _remove_empty(folders: list[Path]) -> None:
    for folder in reversed(folders):
        with suppress(OSError):
            folder.rmdir()


# --- the swap ------------------------------------------------------------------------------


def swap_in(new: Path, target: Path, owner: Owner | None = None) -> None:
    """Make ``new`` the content of ``target``; the old content is left in the staging folder.

    The old content is checked once more after the swap: if someone put things into
    target since it was checked, the swap is undone and nothing of theirs is lost.
    """
    if not os.path.lexists(target):
        try:
            os.rename(new, target)  # fails if something appeared there meanwhile: nothing lost
            return
        except OSError as exc:
            if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                raise
        # Another deploy got there first: replace its deployment like any other.
    owner = owner or DEPLOY
    changed = f"{owner.option} {target}: changed during the {owner.writer}"
    if _exchange(new, target):
        reason = why_not_ours(new, owner)
        if reason is not None:
            _exchange(new, target)
            raise RegistryError(f"{changed} ({reason}); untouched")
        return
    # No atomic exchange on this system: two renames, undoing the first if the second fails.
    reason = why_not_ours(target, owner)
    if reason is not None:
        raise RegistryError(f"{changed} ({reason}); untouched")
    old = new.with_name(new.name + ".previous")  # inside staging: removed with it
    os.rename(target, old)
    try:
        os.rename(new, target)
    except BaseException:
        os.rename(old, target)
        raise


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux renameat2 RENAME_EXCHANGE); False if unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _cause(exc: BaseException) -> str:
    return (exc.strerror if isinstance(exc, OSError) else None) or str(exc) or type(exc).__name__
