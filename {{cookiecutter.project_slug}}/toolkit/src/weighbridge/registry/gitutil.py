"""Thin wrappers around the git command line (the only way the registry talks to git)."""

import contextlib
import os
import subprocess
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import NamedTuple

from .errors import RegistryError

# One for-each-ref record: fields joined by NUL, which no ref name or tag message
# can contain, so messages with any text (newlines, tabs, JSON) split safely.
TAG_FIELDS = (
    "%(refname)",
    "%(objecttype)",
    "%(objectname)",
    "%(*objectname)",
    "%(taggerdate:unix)",
    "%(taggername)",
    "%(taggeremail)",
    "%(contents)",
)
TAG_FORMAT = "%00".join(TAG_FIELDS) + "%00"
# A server hook may print a banner: the start of it is quoted, in one error line.
MAX_REMOTE_LINES, MAX_REMOTE_LINE = 5, 300
# The lines that start the signature of a signed tag (git's gpg-interface.c).
SIGNATURE_START = "-----BEGIN "
SIGNATURE_BEGINNINGS = (
    "-----BEGIN PGP SIGNATURE-----",
    "-----BEGIN PGP MESSAGE-----",
    "-----BEGIN SIGNED MESSAGE-----",
    "-----BEGIN SSH SIGNATURE-----",
)


class RawTag(NamedTuple):
    """One tag as git stores it (a tuple: 10,000 of them are built per read)."""

    name: str
    target: str
    time: int
    tagger_name: str
    tagger_email: str
    message: str
    annotated: bool = True
    oid: str = ""  # the tag object's id (the commit's, for a lightweight tag)


def git(
    repo: Path,
    *args: str,
    env: dict[str, str] | None = None,
    check: bool = True,
    stdin: str | None = None,
) -> subprocess.CompletedProcess:
    """Run ``git -C repo args``; on failure raise one line with git's own complaint."""
    try:
        result = subprocess.run(
            ["git", "-C", str(repo), *args],
            capture_output=True,
            text=True,
            input=stdin,
            env={**os.environ, **env} if env else None,
        )
    except FileNotFoundError:
        raise RegistryError("git is not installed or not on PATH") from None
    if check and result.returncode != 0:
        complaint = git_cause(result.stderr) or f"exit code {result.returncode}"
        raise RegistryError(f"git {args[0]} failed: {complaint}")
    return result


def git_cause(text: str) -> str:
    """Why git failed: its first ``fatal:``/``error:`` line (what follows is advice, like
    "Please make sure you have the correct access rights"), else its last line that is
    not a ``hint:``."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    for line in lines:
        prefix, colon, cause = line.partition(":")
        if colon and prefix in ("fatal", "error") and cause.strip():
            return cause.strip()
    lines = [line for line in lines if not line.startswith("hint:")]
    return lines[-1] if lines else ""


def repo_root(start: Path) -> Path:
    result = git(start, "rev-parse", "--show-toplevel", check=False)
    if result.returncode != 0:
        raise RegistryError(f"{start} is not inside a git repository")
    return Path(result.stdout.strip())


def read_tags(repo: Path) -> list[RawTag]:
    """Every tag in one ``git for-each-ref`` process (lightweight ones flagged).

    Records are parsed while git is still writing them, so at 10,000 tags the
    parsing overlaps git's own work instead of adding to it.
    """
    args = ["git", "-C", str(repo), "for-each-ref", f"--format={TAG_FORMAT}", "refs/tags/"]
    try:
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except FileNotFoundError:
        raise RegistryError("git is not installed or not on PATH") from None
    with proc:
        tags = _parse_stream(proc.stdout)
        complaint = proc.stderr.read().decode(errors="replace")
    if proc.returncode != 0:
        if "not a git repository" in complaint:
            raise RegistryError(f"{repo} is not inside a git repository")
        raise RegistryError(f"git for-each-ref failed: {git_cause(complaint)}")
    return tags


class GitRun:
    """A git command started at once, whose output is collected later."""

    def __init__(self, repo: Path, *args: str, stdin: bytes | None = None) -> None:
        self.repo, self.args, self.stdin = repo, args, stdin
        try:
            self.process = subprocess.Popen(
                ["git", "-C", str(repo), *args],
                stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
        except FileNotFoundError:
            raise RegistryError("git is not installed or not on PATH") from None

    def output(self) -> bytes:
        """Everything git printed; its complaint becomes one RegistryError line."""
        output, errors = self.process.communicate(self.stdin)
        self._complain(errors)
        return output

    def finish(self) -> None:
        """Wait for git, whose output the caller has read itself."""
        errors = self.process.stderr.read()
        self.process.wait()
        self.process.stdout.close()
        self.process.stderr.close()
        self._complain(errors)

    def abort(self) -> None:
        self.process.kill()
        self.process.wait()
        self.process.stdout.close()
        self.process.stderr.close()

    def _complain(self, errors: bytes) -> None:
        if self.process.returncode != 0:
            complaint = errors.decode(errors="replace")
            if "not a git repository" in complaint:
                raise RegistryError(f"{self.repo} is not inside a git repository")
            raise RegistryError(f"git {self.args[0]} failed: {git_cause(complaint)}")

    def lines(self) -> list[str]:
        # only "\n" ends a line: str.splitlines would also split a tag name at the
        # U+2028 or U+0085 it may hold, and read a tag git does not have
        return [line for line in self.output().decode(errors="replace").split("\n") if line]


def start_tag_listing(repo: Path) -> GitRun:
    """Start listing every tag as ``<object id> refs/tags/<name>``, without contents.

    Only the refs are read (no tag object), so this stays cheap at 10,000 tags; the
    registry's cache says which of these it has already parsed. It runs while the
    caller loads that cache: ``.lines()`` waits for it.
    """
    return GitRun(repo, "for-each-ref", "--format=%(objectname) %(refname)", "refs/tags/")


def read_objects(
    repo: Path, object_ids: Sequence[str], missing_ok: bool = False
) -> Iterator[tuple[str, str, bytes]]:
    """``(id, type, raw content)`` of many objects, from one ``git cat-file --batch``.

    Objects are yielded as git writes them, so parsing them overlaps git's reading
    of the next ones (the two run on different cores). With ``missing_ok``, names
    like ``<commit>:<path>`` may name nothing: ``(name, "missing", b"")`` then.
    """
    if not object_ids:
        return
    wanted = "".join(f"{oid}\n" for oid in object_ids).encode()
    run = GitRun(repo, "cat-file", "--batch", "--buffer", stdin=wanted)
    # fed from a thread: git stops reading ids while its output is not being read
    feeder = threading.Thread(target=_feed, args=(run.process.stdin, wanted), daemon=True)
    feeder.start()
    try:
        yield from _batch_objects(run.process.stdout, missing_ok)
    except BaseException:
        run.abort()  # an error, or the caller stopped early: don't leave git waiting
        feeder.join()
        raise
    feeder.join()
    run.finish()


def _feed(pipe, data: bytes) -> None:
    with contextlib.suppress(BrokenPipeError):
        pipe.write(data)
    with contextlib.suppress(BrokenPipeError):
        pipe.close()


def _batch_objects(stream, missing_ok: bool) -> Iterator[tuple[str, str, bytes]]:
    while True:
        header = stream.readline().decode(errors="replace").split()
        if not header:
            return
        if missing_ok and header[-1] == "missing":  # "<name> missing" (no path there)
            yield header[0], "missing", b""
            continue
        if len(header) != 3:  # "<id> missing": a ref to an object that is gone
            raise RegistryError(f"git object {header[0]} is missing: the repository is damaged")
        oid, kind, size = header
        content = stream.read(int(size) + 1)  # the content is followed by a newline
        yield oid, kind, content[:-1]


def parse_tag_object(raw: bytes) -> tuple[str, int, str, str, str]:
    """``(target, tagger time, tagger name, tagger email, message)`` of a tag object.

    The same values ``for-each-ref`` gives as ``%(*objectname)``, ``%(taggerdate:unix)``,
    ``%(taggername)``, ``%(taggeremail)`` (without ``<>``) and ``%(contents)``.
    """
    header, _, message = raw.partition(b"\n\n")
    target, tagger = "", ""
    for line in header.split(b"\n"):
        if line.startswith(b"object ") and not target:
            target = line[len(b"object ") :].decode(errors="replace")
        elif line.startswith(b"tagger ") and not tagger:
            tagger = line[len(b"tagger ") :].decode(errors="replace")
    name, email, when = _split_ident(tagger)
    return target, when, name, email, without_signature(message.decode(errors="replace"))


def tag_message(raw: bytes) -> str:
    """The message of a tag object (``parse_tag_object``'s last value, found faster)."""
    return without_signature(raw.partition(b"\n\n")[2].decode(errors="replace"))


def without_signature(message: str) -> str:
    """The message without the signature git appends to a signed tag (``tag.gpgSign``),
    as ``%(contents:subject)`` and ``%(contents:body)`` leave it out."""
    if SIGNATURE_START not in message:
        return message
    lines = message.splitlines(keepends=True)
    for at in range(len(lines) - 1, -1, -1):
        if lines[at].startswith(SIGNATURE_BEGINNINGS):
            return "".join(lines[:at])
    return message


def _split_ident(ident: str) -> tuple[str, str, int]:
    # "Ada Lovelace <ada@example.com> 1700000000 +0000"
    opening, closing = ident.find("<"), ident.find(">")
    if opening < 0 or closing < opening:
        return ident.strip(), "", 0
    stamp = ident[closing + 1 :].split()
    when = int(stamp[0]) if stamp and stamp[0].isdigit() else 0
    return ident[:opening].strip(), ident[opening + 1 : closing], when


def _parse_stream(stream) -> list[RawTag]:
    width = len(TAG_FIELDS)
    tags: list[RawTag] = []
    pending: list[bytes] = []
    tail = b""
    for chunk in iter(lambda: stream.read1(1 << 16), b""):
        fields = (tail + chunk).split(b"\0")
        tail = fields.pop()  # an unfinished field: wait for the next chunk
        pending.extend(fields)
        complete = len(pending) - len(pending) % width
        for start in range(0, complete, width):
            tags.append(_raw_tag(pending[start : start + width]))
        del pending[:complete]
    return tags


def _raw_tag(raw: Sequence[bytes]) -> RawTag:
    fields = [f.decode("utf-8", errors="replace") for f in raw]
    refname, objtype, objectname, peeled, date, name, email, message = fields
    # git ends each record with a newline, which lands in front of the next refname
    refname = refname.lstrip("\n")
    if objtype != "tag" or not peeled:
        # lightweight tags are not events (GTO skips them) but still count for N
        return RawTag(refname[len("refs/tags/") :], objectname, 0, "", "", "", False, objectname)
    return RawTag(
        name=refname[len("refs/tags/") :],
        target=peeled,
        time=int(date or 0),
        tagger_name=name,
        tagger_email=email.strip("<>"),
        message=without_signature(message),
        oid=objectname,
    )


def head_commit(repo: Path) -> str:
    result = git(repo, "rev-parse", "--verify", "HEAD^{commit}", check=False)
    if result.returncode != 0:
        raise RegistryError("the repository has no commit yet: commit before registering")
    return result.stdout.strip()


def dirty_paths(repo: Path) -> list[str]:
    """Modified, staged or untracked (not ignored) paths."""
    out = git(repo, "status", "--porcelain", "--untracked-files=all").stdout
    return [line[3:] for line in out.splitlines() if line.strip()]


def user_identity(repo: Path) -> str:
    name = git(repo, "config", "user.name", check=False).stdout.strip()
    email = git(repo, "config", "user.email", check=False).stdout.strip()
    if not name or not email:
        raise RegistryError(
            "git user.name / user.email are not set: run git config user.name 'You' "
            "and git config user.email you@example.com"
        )
    return f"{name} <{email}>"


def wait_past(last_time: int) -> int:
    """Sleep until the clock is past ``last_time`` (unix seconds) and return now.

    GTO orders events by tagger time at one-second resolution, so each new tag of
    a model must be strictly later than the previous one for both tools to agree.
    """
    now = int(time.time())
    while now <= last_time:
        time.sleep(last_time + 1 - time.time() + 0.01)
        now = int(time.time())
    return now


def create_tag(repo: Path, name: str, commit: str, message: str, when: int) -> None:
    """Create an annotated tag; git refuses (and we report) if the name exists."""
    env = {"GIT_COMMITTER_DATE": f"{when} +0000"}
    # whitespace cleanup keeps a reason that starts with '#' (strip would drop it)
    args = ("tag", "-a", "--cleanup=whitespace", name, commit, "-F", "-")
    result = git(repo, *args, env=env, check=False, stdin=message)
    if result.returncode != 0:
        raise RegistryError(f"could not create tag {name}: {git_cause(result.stderr)}")


def default_remote(repo: Path) -> str:
    """The current branch's upstream remote, else ``origin``; error if there is none."""
    remotes = git(repo, "remote").stdout.split()
    branch = git(repo, "symbolic-ref", "--quiet", "--short", "HEAD", check=False).stdout.strip()
    if branch:
        upstream = git(repo, "config", f"branch.{branch}.remote", check=False).stdout.strip()
        if upstream in remotes:
            return upstream
    if "origin" in remotes:
        return "origin"
    if len(remotes) == 1:
        return remotes[0]
    raise RegistryError("--push: no git remote to push to (add one: git remote add origin URL)")


def push_tag(repo: Path, remote: str, tag: str) -> str | None:
    """Push one tag; if the remote refuses it, return why, in the server's own words.

    ``--porcelain`` states each refused ref on a stdout line of its own,
    ``!<TAB>ref<TAB>[rejected] (reason)``; what a server hook printed comes on stderr
    as ``remote:`` lines. git's own last lines are generic ("failed to push some refs",
    hints), so they are quoted only when there is nothing else.
    """
    result = git(repo, "push", "--porcelain", "--quiet", remote, f"refs/tags/{tag}", check=False)
    if result.returncode == 0:
        return None
    refused = [line.split("\t")[-1] for line in result.stdout.splitlines() if line[:2] == "!\t"]
    lines = result.stderr.splitlines()
    said = (line[len("remote:") :].strip() for line in lines if line.startswith("remote:"))
    server = [line[:MAX_REMOTE_LINE] for line in said if line][:MAX_REMOTE_LINES]
    why = "; ".join(server + refused)
    return why or git_cause(result.stderr) or f"exit code {result.returncode}"


def refused_as_taken(complaint: str) -> bool:
    """Whether a push was refused because the remote has that tag already."""
    return "(already exists)" in complaint


def delete_local_tag(repo: Path, tag: str) -> None:
    git(repo, "tag", "-d", tag)
