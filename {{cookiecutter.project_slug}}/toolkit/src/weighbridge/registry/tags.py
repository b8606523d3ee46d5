"""The tag grammar, stated once as regular expressions (mirrors GTO's constants.py).

| event      | tag                          |
|------------|------------------------------|
| register   | ``<model>@v<semver>``        |
| assign     | ``<model>#<stage>#<N>``      |
| deregister | ``<model>@v<semver>!``       |
| unassign   | ``<model>#<stage>!#<N>``     |
| deprecate  | ``<model>@deprecated``       |

Every tag may carry the ``#<N>`` counter. A model named ``dir:name`` is written
``dir=name`` inside a tag, as GTO does.
"""

import re
from typing import NamedTuple

SEPARATOR_IN_NAME = ":"
SEPARATOR_IN_TAG = "="

DIRNAME = r"[a-zA-Z0-9-_./]+"
NAME = r"[a-zA-Z0-9]([a-zA-Z0-9-/_]*[a-zA-Z0-9])?"
SEMVER = (
    r"(?P<major>0|[1-9]\d*)\.(?P<minor>0|[1-9]\d*)\.(?P<patch>0|[1-9]\d*)"
    r"(?:-(?P<prerelease>(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)"
    r"(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+(?P<buildmetadata>[0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?"
)
FULLNAME = f"(?P<dirname>{DIRNAME}{SEPARATOR_IN_NAME})?(?P<name>{NAME})"
FULLNAME_IN_TAG = FULLNAME.replace(SEPARATOR_IN_NAME, SEPARATOR_IN_TAG)

NAME_RE = re.compile(f"^{NAME}$")
FULLNAME_RE = re.compile(f"^{FULLNAME}$")
VERSION_RE = re.compile(f"^v{SEMVER}$")
TAG_RE = re.compile(
    f"^(?P<artifact>{FULLNAME_IN_TAG})"
    f"(((#(?P<stage>{NAME})|@(?P<version>v{SEMVER}))(?P<cancel>!?))"
    "|@((?P<deprecated>deprecated)|(?P<created>created)))"
    "(#(?P<counter>[0-9]+))?$"
)

REGISTER = "register"
DEREGISTER = "deregister"
ASSIGN = "assign"
UNASSIGN = "unassign"
DEPRECATE = "deprecate"
CREATE = "create"


class ParsedTag(NamedTuple):
    """What a tag name says: the model, the action and its version/stage/counter."""

    model: str
    action: str
    version: str | None = None
    stage: str | None = None
    counter: int | None = None


def name_to_tag(model: str) -> str:
    return model.replace(SEPARATOR_IN_NAME, SEPARATOR_IN_TAG)


def tag_to_name(artifact: str) -> str:
    return artifact.replace(SEPARATOR_IN_TAG, SEPARATOR_IN_NAME)


def parse_tag(tag: str) -> ParsedTag | None:
    """Parse a tag name; ``None`` when it is not a registry tag."""
    match = TAG_RE.match(tag)
    if not match:
        return None
    counter = int(match["counter"]) if match["counter"] else None
    model = tag_to_name(match["artifact"])
    cancelled = match["cancel"] == "!"
    if match["version"]:
        action = DEREGISTER if cancelled else REGISTER
        return ParsedTag(model, action, version=match["version"], counter=counter)
    if match["stage"]:
        action = UNASSIGN if cancelled else ASSIGN
        return ParsedTag(model, action, stage=match["stage"], counter=counter)
    action = DEPRECATE if match["deprecated"] else CREATE
    return ParsedTag(model, action, counter=counter)


def is_valid_name(value: str) -> bool:
    """GTO's name rule, used for stage names."""
    return bool(NAME_RE.match(value))


def is_valid_model_name(value: str) -> bool:
    """GTO's artifact rule: a name, optionally ``dir:`` namespaced."""
    return bool(FULLNAME_RE.match(value))


def version_tag(model: str, version: str) -> str:
    return f"{name_to_tag(model)}@{version}"


def deregister_tag(model: str, version: str) -> str:
    return f"{name_to_tag(model)}@{version}!"


def assign_tag(model: str, stage: str, counter: int) -> str:
    return f"{name_to_tag(model)}#{stage}#{counter}"


def unassign_tag(model: str, stage: str, counter: int) -> str:
    return f"{name_to_tag(model)}#{stage}!#{counter}"
