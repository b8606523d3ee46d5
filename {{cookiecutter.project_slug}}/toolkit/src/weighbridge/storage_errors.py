"""The real cause of a failed DVC remote operation, in one line.

DVC wraps the errors of dvc-data, fsspec, s3fs, botocore and aiohttp, and its own words
("No storage files available") read as if the data were missing when the remote is down,
refuses the credentials or is not there at all. The fact that matters sits further down
the chain of causes; this module finds it, and otherwise asks the remote itself.

One classifier (``classify``), two ways to say it: ``storage_cause``/``remote_cause`` for
``registry deploy`` ("connection refused by 127.0.0.1:9000"), ``read_cause`` for a read
at a commit through ``DVCFileSystem`` (the registry loading production's weights for the
gate), which names the DVC remote and says what to do.

A bottom layer: it imports nothing of the project, and recognises botocore's and
aiohttp's errors by their attributes, so it imports neither.
"""

from __future__ import annotations

import errno
import re
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

# Error codes of S3-compatible servers (and HTTP statuses) that mean "not with these credentials".
DENIED_CODES = frozenset(
    {
        "401",
        "403",
        "AccessDenied",
        "AllAccessDisabled",
        "AuthorizationHeaderMalformed",
        "ExpiredToken",
        "Forbidden",
        "InvalidAccessKeyId",
        "InvalidClientTokenId",
        "InvalidToken",
        "SignatureDoesNotMatch",
        "Unauthorized",
    }
)
TIMEOUT_ERRORS = ("ConnectTimeoutError", "ReadTimeoutError", "ServerTimeoutError", "FSTimeoutError")
DENIED = "access denied"
URL_CREDENTIALS = re.compile(r"\b([a-z][a-z0-9+.-]*://)[^/\s@]+@", re.IGNORECASE)
HTTP_ADDRESS = re.compile(r"https?://([^/\s\"'()]+)")
NO_STORAGE = "the remote storage does not exist"
CONNECTION_FAULTS = frozenset(
    {"refused", "no_such_host", "unreachable", "timed_out", "cannot_connect"}
)
WHERE_CREDENTIALS_GO = "(`dvc remote modify --local`, or the environment)"
PUSH_EVERY_TAG = "dvc push -T"  # a registered version's objects: those of its tag
# Reading at a commit, DVC stands this in (the project's own cache) when no remote is set.
DVC_STAND_IN_REMOTE = "auto-generated-upstream"


def storage_cause(exc: BaseException) -> str | None:
    """ "connection refused by 127.0.0.1:9000", "access denied (InvalidAccessKeyId: …)", …

    None when nothing in the chain is a fault of the connection or of the credentials
    (then the data may really be missing: see ``remote_cause``). The most precise fact
    wins: botocore's "could not connect" wraps the "connection refused" that explains it.
    """
    fault = classify(exc)
    return fault.cause if fault is not None else None


@dataclass(frozen=True)
class Fault:
    """What went wrong: ``kind`` names the rule that matched (``refused``, ``denied``…),
    ``error`` is the error in the chain that shows it, ``cause`` says it in one line."""

    kind: str
    error: BaseException
    cause: str


def classify(exc: BaseException) -> Fault | None:
    """The fault of the connection or of the credentials behind ``exc``, or None."""
    chain = list(causes(exc))
    where = address(chain)
    for rule in RULES:
        for error in chain:
            cause = rule(error, where)
            if cause:
                return Fault(rule.__name__.lstrip("_"), error, cause)
    return None


def remote_cause(
    exc: BaseException,
    repo: Any,
    remote: str | None = None,
    restore: Callable[[], str | None] | None = None,
) -> str:
    """The cause of ``exc``, a failed read through the DVC repo ``repo`` (a ``dvc.repo.Repo``).

    Two answers of dvc need the remote itself to explain them: "No storage files available"
    (is the file missing, or the whole remote folder or bucket gone?), and a bare 403 (dvc
    asks with HEAD requests, whose answers have no body to say why): listing the remote's
    root gets the server's own words. ``restore``: what puts a missing file back, asked
    only when a file is missing (the caller knows which objects it needs).
    """
    cause = storage_cause(exc)
    missing = [error for error in causes(exc) if isinstance(error, FileNotFoundError)]
    if cause is None and missing:
        probe = probe_remote(repo, remote)
        if probe is not None:
            return probe
        return _not_pushed(missing[0], restore() if restore is not None else None)
    if cause is not None and cause.startswith(DENIED):
        probe = probe_remote(repo, remote)
        return probe if probe is not None and probe.startswith(DENIED) else cause
    return cause or one_line(exc)


def probe_remote(repo: Any, remote: str | None = None) -> str | None:
    """Why the remote's root cannot be read (None: it can, or the failure says nothing)."""
    listed = True
    try:
        storage = repo.cloud.get_remote(remote)
        try:
            storage.fs.ls(storage.path, detail=False)
        except NotImplementedError:  # HTTP lists nothing, but asking still reaches the server
            listed = False
            storage.fs.info(storage.path)
    except Exception as exc:  # any library's error: classify it, never crash on the error path
        cause = storage_cause(exc)
        if cause is None and listed and isinstance(exc, FileNotFoundError):
            return NO_STORAGE
        return cause  # an HTTP root that is not found says nothing: servers need not serve it
    return None


def _not_pushed(error: FileNotFoundError, advice: str | None) -> str:
    """The remote answers, but lacks this file: then the data really is missing."""
    if not error.filename:
        return one_line(error)
    advice = advice or f"run `{PUSH_EVERY_TAG}` in a clone whose DVC cache has it"
    return f"{error.filename} is not in the remote storage ({advice})"


# --- a read at a commit through DVCFileSystem (cache, then the default remote) ----------


def read_cause(exc: BaseException, fs: Any) -> str:
    """Why ``fs`` (a ``DVCFileSystem``, None if it could not even open the repository)
    could not read files: the remote unreachable, refusing or lacking credentials, not
    there at all, or the files never pushed; with the remote it concerns and what to do."""
    if fs is None:
        return one_line(exc)
    remote = default_remote(fs)
    where = f"the DVC remote {remote}" if remote else "the DVC remote"
    fault = classify(exc)
    if fault is not None:
        return _read_fault(fault, where)
    if not any(isinstance(error, (FileNotFoundError, NotADirectoryError)) for error in causes(exc)):
        return one_line(exc)
    if remote is None:
        return (
            "they are not in the DVC cache, and no default DVC remote is configured "
            "(`dvc remote add -d`)"
        )
    probe = probe_remote(fs.repo)
    if probe == NO_STORAGE:
        return (
            f"they are not in the DVC cache, and {where} does not exist or holds nothing: "
            "check its url (`dvc remote list`)"
        )
    if probe is not None:
        return f"they are not in the DVC cache, and {where} cannot be read: {probe}"
    return (
        f"they are neither in the DVC cache nor on {where}; push them from a machine that "
        f"has them (`{PUSH_EVERY_TAG}` pushes every tag)"
    )


def _read_fault(fault: Fault, where: str) -> str:
    if fault.kind in CONNECTION_FAULTS:
        return f"cannot reach {where}: {fault.cause}"
    if fault.kind == "no_credentials":
        return (
            f"no credentials for {where} ({one_line(fault.error)}): set them {WHERE_CREDENTIALS_GO}"
        )
    filename = getattr(fault.error, "filename", None)
    if fault.kind == "not_permitted" and filename:  # the DVC cache, or a folder remote
        return f"permission denied on {filename}: check its owner and mode"
    response = getattr(fault.error, "response", None)
    message = (
        (response or {}).get("Error", {}).get("Message") if isinstance(response, dict) else None
    )
    detail = message or one_line(fault.error)
    return (
        f"{where} refused access ({detail}): check its credentials and permissions "
        f"{WHERE_CREDENTIALS_GO}"
    )


def default_remote(fs: Any) -> str | None:
    """``'storage' (s3://bucket/prefix)``: the remote ``fs`` reads from (the revision's
    config with config.local), never credentials; None when none is configured."""
    try:
        remote = fs.repo.cloud.get_remote()
        if remote.name == DVC_STAND_IN_REMOTE:
            return None
        return f"{remote.name!r} ({public_url(remote.fs.unstrip_protocol(remote.path))})"
    except Exception:  # no remote configured, or a broken config: nothing more to say
        return None


def describe_remote(repo: Any, remote: str | None = None) -> str:
    """``'storage' (s3://bucket/prefix at http://127.0.0.1:9000)``: never credentials."""
    try:
        name = remote or repo.config["core"].get("remote")
        config = repo.config["remote"][name]
    except Exception:  # no remote configured: dvc's own error says so
        return repr(remote) if remote else "(none configured)"
    where = public_url(str(config.get("url", "")))
    endpoint = config.get("endpointurl")
    return f"{name!r} ({where} at {public_url(endpoint)})" if endpoint else f"{name!r} ({where})"


def public_url(url: str) -> str:
    """The URL without a user name or password, which some remotes carry in it."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


def causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and every error it wraps (explicit causes, contexts, aiohttp's os_error)."""
    pending, seen = [exc], set()
    while pending:
        error = pending.pop(0)
        if id(error) in seen:
            continue
        seen.add(id(error))
        yield error
        wrapped = (error.__cause__, error.__context__, getattr(error, "os_error", None))
        pending += [inner for inner in wrapped if isinstance(inner, BaseException)]
        pending += list(getattr(error, "exceptions", None) or ())  # exception groups


def address(chain: list[BaseException]) -> str:
    """host:port of the server the chain talked to, or "the remote" if it does not say."""
    for error in chain:
        host, port = getattr(error, "host", None), getattr(error, "port", None)
        if isinstance(host, str) and host and port:
            return f"{host}:{port}"
    for error in chain:
        endpoint = (getattr(error, "kwargs", None) or {}).get("endpoint_url") or str(error)
        match = HTTP_ADDRESS.search(str(endpoint))
        if match:
            return match.group(1).rsplit("@", 1)[-1]
    return "the remote"


def _refused(error: BaseException, where: str) -> str | None:
    refused = getattr(error, "errno", None) == errno.ECONNREFUSED
    if refused or isinstance(error, ConnectionRefusedError):
        return f"connection refused by {where}"
    return None


def _no_such_host(error: BaseException, where: str) -> str | None:
    if isinstance(error, socket.gaierror):
        return f"cannot resolve the host of {where} ({error.strerror or error})"
    return None


def _unreachable(error: BaseException, where: str) -> str | None:
    if getattr(error, "errno", None) in (errno.ENETUNREACH, errno.EHOSTUNREACH):
        return f"{where} is unreachable ({error.strerror})"
    return None


def _timed_out(error: BaseException, where: str) -> str | None:
    if isinstance(error, TimeoutError) or _named(error, *TIMEOUT_ERRORS):
        return f"timed out talking to {where}"
    return None


def _no_credentials(error: BaseException, where: str) -> str | None:
    if _named(error, "NoCredentialsError"):
        return "no credentials for the remote (dvc remote modify --local, or the environment)"
    return None


def _denied(error: BaseException, where: str) -> str | None:
    """The server's refusal, with its code (botocore's ClientError, an HTTP status)."""
    code = _error_code(error)
    if code in DENIED_CODES:
        detail = (getattr(error, "response", None) or {}).get("Error", {}).get("Message")
        return f"{DENIED} by {where} ({code}{': ' + detail if detail else ''})"
    return None


def _not_permitted(error: BaseException, where: str) -> str | None:
    """A refusal without a code: a local file, or s3fs's translation of a 403."""
    if isinstance(error, PermissionError):
        if error.filename:
            return f"permission denied: {error.filename}"
        return f"{DENIED} by {where} ({one_line(error)})"
    return None


def _cannot_connect(error: BaseException, where: str) -> str | None:
    if isinstance(error, ConnectionError) or _named(error, "EndpointConnectionError"):
        return f"cannot connect to {where} ({one_line(error)})"
    return None


# Most precise first: each rule is tried on the whole chain before the next one.
RULES = (
    _refused,
    _no_such_host,
    _unreachable,
    _timed_out,
    _no_credentials,
    _denied,
    _not_permitted,
    _cannot_connect,
)


def _error_code(error: BaseException) -> str | None:
    """botocore's ClientError code, or an HTTP status (aiohttp's ClientResponseError)."""
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code") or "") or None
    status = getattr(error, "status", None)
    return str(status) if isinstance(status, int) else None


def _named(error: BaseException, *names: str) -> bool:
    """The error is (a subclass of) a class of one of these names: no import of its library."""
    return any(cls.__name__ in names for cls in type(error).__mro__)


def one_line(exc: BaseException) -> str:
    """The error's text on one line, any ``user:password@`` of a URL in it left out."""
    return without_credentials(" ".join(str(exc).split()) or type(exc).__name__)


def without_credentials(text: str) -> str:
    """text with the ``user:password@`` of every URL in it left out."""
    return URL_CREDENTIALS.sub(r"\1", text)
