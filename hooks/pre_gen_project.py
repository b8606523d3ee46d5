"""Validate the cookiecutter variables before anything is written.

Every rule is a pure function that returns an error message (or None), so the template
tests import this file as a module. The context is read only under ``__main__``, through
``tojson``: a hostile value stays data and never becomes code.
"""

from __future__ import annotations

import csv
import ipaddress
import json
import keyword
import math
import os
import re
import sys
import unicodedata
from pathlib import Path
from urllib.parse import urlsplit

SLUG_RE = re.compile(r"^[a-z][a-z0-9-]*$")
# cookiecutter.json derives the slug with the same cap (slugify max_length).
MAX_SLUG_LENGTH = 50
# A model name is part of git tag names and of a folder under models/.
MAX_MODEL_NAME_LENGTH = 100
# GTO's artifact name rule (gto.constants.name), which `dvc artifacts` also enforces.
MODEL_NAME_RE = re.compile(r"^[a-zA-Z0-9]([a-zA-Z0-9-/_]*[a-zA-Z0-9])?$")
# An ASCII dot-atom before the @ (what Python's email headers, hence setuptools and
# `pip install`, accept) and dot-separated labels after it (IDN letters allowed).
EMAIL_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
EMAIL_RE = re.compile(rf"^{EMAIL_ATOM}(\.{EMAIL_ATOM})*@([\w-]+\.)+[\w-]+$")
BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
BUCKET_BAD_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
BUCKET_BAD_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
PREFIX_RE = re.compile(r"^[A-Za-z0-9!_.*'()/-]*$")
# The endpoint is written into a `bash` block of the README: no shell metacharacters.
ENDPOINT_CHARS_RE = re.compile(r"^[A-Za-z0-9.:/_~%\[\]-]*$")
REMOTE_SUFFIX = "-dvc-remote"
DATASETS = ("breast_cancer", "wine", "diabetes", "csv")
TASKS = ("classification", "regression")
PYTHON_VERSIONS = ("3.10", "3.11", "3.12", "3.13")
YES_NO = ("yes", "no")
# Cells read as missing: the generated package's reading.MISSING_TOKENS (a test keeps them equal).
MISSING_TOKENS = ("", "NA", "N/A", "NaN", "nan", "null", "NULL", "None")


def has_control_chars(value: str) -> bool:
    """C0, DEL and C1 (NEL among them, which YAML and Python read as a line break)."""
    return any(unicodedata.category(char) == "Cc" for char in value)


def is_valid_text(value: str) -> bool:
    """False for lone surrogates: bytes that were not UTF-8 on the command line."""
    return not any(unicodedata.category(char) == "Cs" for char in value)


def check_project_name(value: str) -> str | None:
    if not value.strip():
        return "must not be empty"
    if has_control_chars(value):
        return "must be one line without control characters"
    return None


def check_project_slug(value: str) -> str | None:
    if not value:
        return "must not be empty"
    if len(value) > MAX_SLUG_LENGTH:
        return f"at most {MAX_SLUG_LENGTH} characters (it has {len(value)})"
    if not SLUG_RE.fullmatch(value):
        return "lowercase letters, digits and hyphens only, starting with a letter"
    return None


def check_package_name(value: str) -> str | None:
    if not value.isidentifier() or not value.isascii():
        return "must be a Python identifier (ASCII letters, digits, underscores)"
    if len(value) > MAX_SLUG_LENGTH:
        return f"at most {MAX_SLUG_LENGTH} characters (it has {len(value)})"
    if keyword.iskeyword(value) or keyword.issoftkeyword(value):
        return "must not be a Python keyword"
    if value.startswith("_"):
        return "must not start with an underscore"
    return None


def check_model_name(value: str) -> str | None:
    if len(value) > MAX_MODEL_NAME_LENGTH:
        return f"at most {MAX_MODEL_NAME_LENGTH} characters (it has {len(value)})"
    if not MODEL_NAME_RE.fullmatch(value):
        return "must match GTO's name rule [a-zA-Z0-9]([a-zA-Z0-9-/_]*[a-zA-Z0-9])?"
    if "//" in value:
        return "must not contain '//' (it is also a folder under models/)"
    return None


def check_choice(value: str, choices: tuple[str, ...]) -> str | None:
    if value not in choices:
        return f"must be one of {', '.join(choices)}"
    return None


def check_email(value: str) -> str | None:
    if not EMAIL_RE.fullmatch(value):
        return "must look like name@example.com"
    return None


def check_author_name(value: str) -> str | None:
    if not value.strip():
        return "must not be empty"
    if has_control_chars(value) or any(char in value for char in "<>"):
        return "must be one line without control characters or '<', '>'"
    return None


def check_bucket(value: str) -> str | None:
    """S3 general-purpose bucket naming rules."""
    if not 3 <= len(value) <= 63:
        return "S3 bucket names are 3 to 63 characters long"
    if not BUCKET_RE.fullmatch(value):
        return "lowercase letters, digits, dots and hyphens; starts and ends with a letter or digit"
    if ".." in value:
        return "must not contain two adjacent dots"
    if value.startswith(BUCKET_BAD_PREFIXES) or value.endswith(BUCKET_BAD_SUFFIXES):
        return "uses a prefix or suffix that S3 reserves"
    try:
        ipaddress.IPv4Address(value)
    except ValueError:
        return None
    return "must not be formatted as an IP address"


def check_prefix(value: str) -> str | None:
    if value.startswith("/") or value.endswith("/") or "//" in value:
        return "must not start or end with '/' or contain '//'"
    if not PREFIX_RE.fullmatch(value):
        return "letters, digits and !_.*'()/- only"
    return None


def check_endpoint_url(value: str) -> str | None:
    if not value:
        return None
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return "must be a URL like http://127.0.0.1:9000"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "must be a URL like http://127.0.0.1:9000 (http or https)"
    if parts.username or parts.password:
        return "must not contain credentials (use the environment or dvc remote modify --local)"
    if parts.query or parts.fragment:
        return "must not contain a query or fragment"
    if not ENDPOINT_CHARS_RE.fullmatch(value):
        return "letters, digits and . - _ ~ : / [ ] % only"
    return None


def is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def resolve_csv_path(csv_path: str) -> Path:
    """A relative path is relative to the folder cookiecutter was started in (the shell's
    PWD): hooks themselves run inside the new project."""
    path = Path(csv_path).expanduser()
    base = os.environ.get("PWD", "")
    if not path.is_absolute() and base and Path(base).is_dir():
        path = Path(base) / path
    return path


def check_csv_rows(header: list[str], rows, target: str, task: str) -> str | None:
    """Rows of the header's width, and enough targets to learn from. Feature values are
    not checked here: post_gen_project infers their types (text, gaps and dates are fine)."""
    target_index = header.index(target)
    count = 0
    classes = set()
    for line, row in enumerate(rows, start=2):
        if not row:
            continue
        if len(row) != len(header):
            return f"line {line} has {len(row)} fields, the header has {len(header)}"
        value = row[target_index].strip()
        if value in MISSING_TOKENS:  # prepare drops the row
            continue
        if task == "regression" and not is_number(value):
            return f"line {line}, column {target!r}: {value!r} is not a number (task regression)"
        count += 1
        classes.add(value)
    if count < 10:
        return f"has {count} data rows with a target, needs at least 10"
    if task == "classification" and len(classes) < 2:
        return f"target column {target!r} has fewer than 2 classes"
    return None


def check_csv(csv_path: str, target: str, task: str) -> tuple[str, str] | None:
    """Return (variable, rule) for the first problem of the user's CSV, or None."""
    if not csv_path:
        return "csv_path", "required when dataset is csv"
    path = resolve_csv_path(csv_path)
    if not path.is_file():
        return "csv_path", f"{path} does not exist or is not a file"
    if not os.access(path, os.R_OK):
        return "csv_path", f"{path} is not readable"
    if not target:
        return "target_column", "required when dataset is csv"
    try:
        # utf-8-sig: spreadsheets often start the file with a byte order mark.
        with path.open(newline="", encoding="utf-8-sig") as handle:
            rows = csv.reader(handle)
            header = next(rows, None)
            if not header:
                return "csv_path", f"{path} is empty"
            if len(set(header)) != len(header) or any(not name.strip() for name in header):
                return "csv_path", f"{path}: column names must be unique and non-empty"
            if target not in header:
                return "target_column", f"{target!r} is not a column of {path}"
            if len(header) < 2:
                return "csv_path", f"{path} needs at least one feature column"
            problem = check_csv_rows(header, rows, target, task)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        return "csv_path", f"{path} cannot be read as UTF-8 CSV ({exc.__class__.__name__})"
    if problem:
        return "csv_path", f"{path}: {problem}"
    return None


def check_remote_folder(path: Path) -> str | None:
    """The local DVC remote beside the project: absent or an empty folder, never someone
    else's file or remote (post_gen would write into it)."""
    if not os.path.lexists(path):
        return None
    try:
        if path.is_dir() and not any(path.iterdir()):
            return None
    except OSError as exc:
        return f"the DVC remote folder {path} cannot be read ({exc.strerror})"
    return (
        f"{path} already exists and is not an empty folder (the DVC remote goes there); "
        "move it away or choose another project_slug"
    )


def validate(context: dict, project_dir: Path | None = None) -> tuple[str, str] | None:
    """Return (variable, rule) for the first invalid variable, or None when all are valid.

    ``project_dir`` is the new project's folder (where hooks run), for checks beside it.
    """
    for variable, value in context.items():
        # Variables starting with "_" are cookiecutter's own (paths of this machine).
        if not variable.startswith("_") and isinstance(value, str) and not is_valid_text(value):
            return variable, "is not valid UTF-8 text"
    single_checks = [
        ("project_name", check_project_name),
        ("project_slug", check_project_slug),
        ("package_name", check_package_name),
        ("model_name", check_model_name),
        ("dataset", lambda v: check_choice(v, DATASETS)),
        ("task", lambda v: check_choice(v, TASKS)),
        ("storage", lambda v: check_choice(v, ("local", "s3"))),
        ("ci", lambda v: check_choice(v, ("github", "none"))),
        ("author_name", check_author_name),
        ("author_email", check_email),
        ("python_version", lambda v: check_choice(v, PYTHON_VERSIONS)),
        ("init_git", lambda v: check_choice(v, YES_NO)),
    ]
    for variable, check in single_checks:
        rule = check(str(context.get(variable, "")))
        if rule:
            return variable, rule
    if context.get("storage") == "s3":
        for variable, check in (
            ("s3_bucket", check_bucket),
            ("s3_prefix", check_prefix),
            ("s3_endpoint_url", check_endpoint_url),
        ):
            rule = check(str(context.get(variable, "")))
            if rule:
                return variable, rule
    if project_dir and context.get("storage") == "local" and context.get("init_git") == "yes":
        remote = project_dir.parent / f"{context.get('project_slug', '')}{REMOTE_SUFFIX}"
        rule = check_remote_folder(remote)
        if rule:
            return "project_slug", rule
    if context.get("dataset") == "csv":
        return check_csv(
            context.get("csv_path", ""), context.get("target_column", ""), context.get("task", "")
        )
    return None


def visible(text: str) -> str:
    """One line for the terminal: control characters (a newline in a path) shown escaped."""
    return "".join(repr(c)[1:-1] if unicodedata.category(c) == "Cc" else c for c in text)


def main(context: dict) -> int:
    problem = validate(context, Path.cwd())
    if problem:
        variable, rule = problem
        print(f"error: {variable}: {visible(rule)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    # ''' on purpose: tojson escapes ' (never "), so the JSON cannot close the string.
    sys.exit(main(json.loads(r'''{{ cookiecutter | tojson }}''')))  # fmt: skip
