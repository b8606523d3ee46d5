"""``registry query``: ``<field> <op> <value> [and …]`` over version manifests.

A field is a metric name (``accuracy``, looked up in every metrics file), or a
dotted manifest path (``metrics.evaluation.accuracy``, ``params.train.estimator``).
"""

import operator
import re
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any, NamedTuple

from .errors import RegistryError
from .store import Version

OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    "<": operator.lt,
}
TOKEN_RE = re.compile(r"\s*(>=|<=|==|!=|>|<|\"[^\"]*\"|'[^']*'|[^\s<>=!\"']+|\S)")
FIELD_RE = re.compile(r"^[A-Za-z_][\w.\-/]*$")
SINCE_RE = re.compile(r"^(\d+)d$")


class Condition(NamedTuple):
    field: str
    op: str
    value: float | str

    def holds(self, manifest: dict[str, Any]) -> bool:
        return self.matches(lookup(manifest, self.field))

    def holds_for(self, version: Version) -> bool:
        return self.matches(value_of(version, self.field))

    def matches(self, found: Any) -> bool:
        if found is None:
            return False
        if isinstance(self.value, float):
            if isinstance(found, bool) or not isinstance(found, (int, float)):
                return False
        else:
            found = str(found)
        return OPERATORS[self.op](found, self.value)


def tokenize(text: str) -> list[str]:
    return [m.group(1) for m in TOKEN_RE.finditer(text) if m.group(1).strip()]


def parse(text: str) -> list[Condition]:
    """Parse the expression; a syntax error names the offending token."""
    tokens = tokenize(text)
    conditions = []
    position = 0
    while position < len(tokens):
        if conditions:
            expect(tokens, position, lambda t: t.lower() == "and", "'and'")
            position += 1
        conditions.append(parse_condition(tokens, position))
        position += 3
    return conditions


def parse_condition(tokens: list[str], at: int) -> Condition:
    name = expect(
        tokens, at, lambda t: bool(FIELD_RE.match(t)) and t.lower() != "and", "a field name"
    )
    op = expect(tokens, at + 1, lambda t: t in OPERATORS, "an operator (> >= < <= == !=)")
    raw = expect(tokens, at + 2, lambda t: t not in OPERATORS and t.lower() != "and", "a value")
    value = parse_value(raw)
    if isinstance(value, str) and op not in ("==", "!="):
        raise RegistryError(f"query: {op} needs a number, got {raw!r}")
    return Condition(name, op, value)


def expect(tokens: list[str], at: int, ok: Callable[[str], bool], wanted: str) -> str:
    if at >= len(tokens):
        raise RegistryError(f"query: expected {wanted} after {tokens[-1]!r}, got end of query")
    if not ok(tokens[at]):
        raise RegistryError(f"query: unexpected token {tokens[at]!r}, expected {wanted}")
    return tokens[at]


def parse_value(raw: str) -> float | str:
    if raw[:1] in ("'", '"'):
        return raw[1:-1]
    try:
        return float(raw)
    except ValueError:
        return raw


def lookup(manifest: dict[str, Any], field: str) -> Any:
    """A dotted path in the manifest, else a metric of that name in any metrics file."""
    path = field.split(".")
    found = dig(manifest, path)
    return found if found is not None else metric_named(manifest.get("metrics"), path)


def metric_named(metrics: Any, path: list[str]) -> Any:
    """``path`` in the ``evaluation`` metrics file, else in the first other one with it."""
    if not metrics or not isinstance(metrics, dict):
        return None
    found = dig(metrics.get("evaluation"), path)
    if found is not None:
        return found
    for section in sorted(metrics):
        found = dig(metrics[section], path)
        if found is not None:
            return found
    return None


def value_of(version: Version, field: str) -> Any:
    """``lookup(version.manifest, field)``, decoding only the section the field is in.

    A query over 10,000 versions then never parses 10,000 whole manifests.
    """
    path = field.split(".")
    found = None
    if path[0] in version.manifest_keys:
        found = dig(version.section(path[0]), path[1:])
    return found if found is not None else metric_named(version.metrics, path)


def dig(node: Any, path: list[str]) -> Any:
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def since_cutoff(text: str, now: datetime | None = None) -> int:
    """``--since``: ``YYYY-MM-DD`` (UTC) or ``<N>d`` days ago, as unix seconds."""
    now = now or datetime.now(timezone.utc)
    days = SINCE_RE.match(text)
    if days:
        return int((now - timedelta(days=int(days.group(1)))).timestamp())
    try:
        day = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=timezone.utc)
    except ValueError:
        raise RegistryError(f"--since {text!r}: expected YYYY-MM-DD or <N>d, e.g. 30d") from None
    return int(day.timestamp())


def select(
    versions: list[Version],
    conditions: list[Condition],
    author: str | None = None,
    since: int | None = None,
) -> list[Version]:
    check_fields_known(versions, conditions)
    wanted_author = author.lower() if author else None
    return [
        v
        for v in versions
        if (wanted_author is None or wanted_author in f"{v.author} <{v.author_email}>".lower())
        and (since is None or v.time >= since)
        and all(c.holds_for(v) for c in conditions)
    ]


def check_fields_known(versions: list[Version], conditions: list[Condition]) -> None:
    # a typo should say so, not silently match nothing
    for condition in conditions:
        if versions and all(value_of(v, condition.field) is None for v in versions):
            known = sorted({k for v in versions for k in metric_names(v.metrics)})
            raise RegistryError(
                f"query: unknown field {condition.field!r} "
                f"(metrics: {', '.join(known) or 'none'}; or a dotted path like params.train.seed)"
            )


def metric_names(metrics: Any) -> list[str]:
    """The numeric metrics in a manifest's ``metrics`` section."""
    names = []
    for values in (metrics if isinstance(metrics, dict) else {}).values():
        if isinstance(values, dict):
            names.extend(k for k, v in values.items() if isinstance(v, (int, float)))
    return names
