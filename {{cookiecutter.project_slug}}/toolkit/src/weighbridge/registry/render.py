"""Human output: plain-text tables, flattened manifests, side-by-side diffs."""

import json
from collections.abc import Sequence
from typing import Any

from ..errors import printable

# What a diff reader compares first: what the model is made of and how well it does.
SCIENCE_SECTIONS = ("params", "metrics", "artifact", "data")
# Then who, when, where from: worth seeing, but it changes with every version.
BOOKKEEPING_SECTIONS = (
    "gate", "environment", "toolkit", "author", "created", "commit", "model", "version",
)  # fmt: skip
# metrics/gate.json is a metrics file and the gate's verdict: its rows may appear twice
GATE_TWINS = ("metrics.gate.", "gate.")
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
    """Every fact of either manifest, science first (changed before unchanged), then
    bookkeeping; each row says which kind it is and whether it changed."""
    rows = []
    for section in manifest_sections(a, b):
        left, right = flatten_section(a, section), flatten_section(b, section)
        for key in sorted(set(left) | set(right)):
            va, vb = left.get(key), right.get(key)
            kind = "science" if is_science(section, va, vb) else "bookkeeping"
            row = {"section": section, "key": key, "a": va, "b": vb, "changed": va != vb}
            rows.append({**row, "kind": kind})
    return sorted(rows, key=lambda r: (r["kind"] != "science", not r["changed"]))


def manifest_sections(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    known = [*SCIENCE_SECTIONS, *BOOKKEEPING_SECTIONS]
    others = sorted((set(a) | set(b)) - set(known) - {"manifest"})
    return [s for s in known if s in a or s in b] + others


def flatten_section(manifest: dict[str, Any], section: str) -> dict[str, Any]:
    value = manifest.get(section)
    return flatten(value) if isinstance(value, dict) else {"": value} if section in manifest else {}


def is_science(section: str, *values: Any) -> bool:
    """Params, data, weights, and the metrics that are numbers (a verdict's text or
    hashes in a metrics file are bookkeeping)."""
    if section == "metrics":
        return all(v is None or isinstance(v, (int, float)) for v in values)
    return section in SCIENCE_SECTIONS


def row_name(row: dict[str, Any]) -> str:
    return f"{row['section']}.{row['key']}" if row["key"] else row["section"]


def without_twins(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each fact once: a gate value recorded under both ``metrics.gate`` and ``gate`` is
    shown under metrics if it is a number (science), else under gate."""
    metrics_twin, gate_twin = GATE_TWINS
    by_name = {row_name(r): r for r in rows}

    def redundant(row: dict[str, Any]) -> bool:
        name = row_name(row)
        for mine, other in ((metrics_twin, gate_twin), (gate_twin, metrics_twin)):
            twin = by_name.get(other + name[len(mine) :]) if name.startswith(mine) else None
            if twin is not None and (twin["a"], twin["b"]) == (row["a"], row["b"]):
                numeric = is_science("metrics", row["a"], row["b"])
                return numeric == (mine == gate_twin)
        return False

    return [r for r in rows if not redundant(r)]


def diff_table(name_a: str, name_b: str, rows: list[dict[str, Any]]) -> str:
    rows = without_twins(rows)
    body = [["*" if r["changed"] else "", row_name(r), r["a"], r["b"]] for r in rows]
    counts = [
        f"{sum(r['changed'] for r in group)} of {len(group)} {kind} rows differ"
        for kind in ("science", "bookkeeping")
        for group in [[r for r in rows if r["kind"] == kind]]
    ]
    return table(["", "key", name_a, name_b], body) + f"\n\n{', '.join(counts)} (*)"


def show_text(summary: dict[str, Any], manifest: dict[str, Any]) -> str:
    """A version's summary, then each fact of its manifest the summary does not already say."""
    head = key_values(summary)
    if not manifest:
        return f"{head}\n\n(no manifest in tag)"
    rows = without_twins(diff_rows(manifest, manifest))
    facts = {row_name(r): r["a"] for r in rows if summary.get(row_name(r), MISSING) != r["a"]}
    return f"{head}\n\n{aligned(facts)}"


def key_values(manifest: dict[str, Any], skip: Sequence[str] | None = ()) -> str:
    return aligned({k: v for k, v in flatten(manifest).items() if k.split(".")[0] not in skip})


def aligned(flat: dict[str, Any]) -> str:
    width = max((len(printable(k)) for k in flat), default=0)
    return "\n".join(f"{printable(k).ljust(width)}  {cell_text(v)}" for k, v in flat.items())
