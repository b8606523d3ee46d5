"""Human output: plain-text tables, flattened manifests, side-by-side diffs."""

import json
from collections.abc import Sequence
from typing import Any

from ..errors import printable

DIFF_SECTIONS = ("params", "metrics", "data", "environment")
MISSING = "-"
SUMMARY_LIMIT = 200  # characters on a tag's first line (a longer reason is whole in the JSON)


def one_line(text: str, limit: int | None = None) -> str:
    """``text`` as one printable line for people (blank runs become one space), cut at
    ``limit`` characters if given."""
    line = printable(" ".join(text.split()))
    return line if limit is None or len(line) <= limit else line[: limit - 3] + "..."


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[cell_text(c) for c in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    lines = [fmt_row(headers, widths), fmt_row(["-" * w for w in widths], widths)]
    lines.extend(fmt_row(row, widths) for row in cells)
    return "\n".join(lines)


def fmt_row(cells: Sequence[str], widths: Sequence[int]) -> str:
    return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()


def cell_text(value: Any) -> str:
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)  # ASCII: its escapes are printable
    return printable(str(value))


def flatten(node: Any, prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` -> ``{"a.b": 1}``; lists stay whole."""
    if not isinstance(node, dict):
        return {prefix: node} if prefix else {}
    flat: dict[str, Any] = {}
    for key, value in node.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict) and value:
            flat.update(flatten(value, path))
        else:
            flat[path] = value
    return flat


def diff_rows(a: dict[str, Any], b: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for section in DIFF_SECTIONS:
        left, right = flatten(a.get(section) or {}), flatten(b.get(section) or {})
        for key in sorted(set(left) | set(right)):
            va, vb = left.get(key), right.get(key)
            rows.append({"section": section, "key": key, "a": va, "b": vb, "changed": va != vb})
    return rows


def diff_table(name_a: str, name_b: str, rows: list[dict[str, Any]]) -> str:
    body = [
        ["*" if r["changed"] else "", f"{r['section']}.{r['key']}", r["a"], r["b"]] for r in rows
    ]
    changed = sum(r["changed"] for r in rows)
    return (
        table(["", "key", name_a, name_b], body) + f"\n\n{changed} of {len(rows)} rows differ (*)"
    )


def key_values(manifest: dict[str, Any], skip: Sequence[str] | None = ()) -> str:
    flat = {k: v for k, v in flatten(manifest).items() if k.split(".")[0] not in skip}
    width = max((len(printable(k)) for k in flat), default=0)
    return "\n".join(f"{printable(k).ljust(width)}  {cell_text(v)}" for k, v in flat.items())
