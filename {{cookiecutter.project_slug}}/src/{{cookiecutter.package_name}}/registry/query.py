"""``registry query``: ``<field> <op> <value> [and …]`` over version manifests.

A field is a metric name (``accuracy``, looked up in every metrics file), or a
dotted manifest path (``metrics.evaluation.accuracy``, ``params.train.estimator``).
"""

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

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


@dataclass(frozen=True)
class Condition:
    field: str
    op: str
    value: float | str

    def holds(self, manifest: dict[str, Any]) -> bool:
        found = lookup(manifest, self.field)
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
    found = dig(manifest, field.split("."))
    if found is not None:
        return found
    for section in ("evaluation", *sorted(manifest.get("metrics") or {})):
        found = dig((manifest.get("metrics") or {}).get(section), field.split("."))
        if found is not None:
            return found
    return None


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
        and all(c.holds(v.manifest) for c in conditions)
    ]


def check_fields_known(versions: list[Version], conditions: list[Condition]) -> None:
    # a typo should say so, not silently match nothing
    for condition in conditions:
        if versions and all(lookup(v.manifest, condition.field) is None for v in versions):
            known = sorted({k for v in versions for k in metric_names(v.manifest)})
            raise RegistryError(
                f"query: unknown field {condition.field!r} "
                f"(metrics: {', '.join(known) or 'none'}; or a dotted path like params.train.seed)"
            )


def metric_names(manifest: dict[str, Any]) -> list[str]:
    names = []
    for values in (manifest.get("metrics") or {}).values():
        if isinstance(values, dict):
            names.extend(k for k, v in values.items() if isinstance(v, (int, float)))
    return names
