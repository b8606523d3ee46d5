"""The pictures of a model card: its plots (the CSV files the evaluate stage commits), as
inline SVG or HTML tables (the training-data profile is drawn by ``report_profile``).

Plot files, as ``plots.py`` writes them and as older commits hold them:

- ``confusion.csv``: actual, predicted, count (one row per pair); older: one row per
  hold-out sample, no count (each row counts once);
- ``roc.csv`` (curve, fpr, tpr) and ``pr.csv`` (curve, recall, precision): one line per
  named curve, averages emphasised; older: no curve column, one curve;
- ``predictions.csv``: actual, predicted and residual, drawn as predicted vs actual and
  residual vs predicted; older: no residual column, the first chart alone.

A file with other columns, or none, is said to be so, never guessed at.
"""

from __future__ import annotations

import csv
import functools
import io
import math
from collections import Counter
from collections.abc import Sequence
from html import escape
from typing import Any

from . import svg

PLOT_FILES = ("confusion.csv", "roc.csv", "pr.csv", "predictions.csv")
CURVES = {"roc.csv": ("ROC", "fpr", "tpr"), "pr.csv": ("Precision-recall", "recall", "precision")}
# the names plots.py gives the averaged curves (not imported: it loads scikit-learn);
# a class's own curve ends in " vs rest", even for a class named like an average
AVERAGES = ("micro-average", "macro-average")
MAX_CURVES = 20  # plots.py writes at most 12; a file with more is not drawn whole
MAX_CLASSES = 30  # a confusion matrix wider than this is not read by anyone
Rows = Sequence[Sequence[str]]


@functools.lru_cache(maxsize=256)  # versions whose plots did not change share one drawing
def plot_html(name: str, text: str) -> str:
    """One plot file as charts (or a confusion table); a note if it cannot be drawn."""
    try:
        header, *rows = list(csv.reader(io.StringIO(text)))
    except (csv.Error, ValueError) as exc:  # ValueError: an empty file
        return note(f"plots/{name}: not readable CSV ({exc or 'empty'})")
    if name == "confusion.csv":
        return confusion_table(header, rows)
    if name == "predictions.csv":
        return predictions_html(header, rows)
    return curves_html(name, header, rows)


def curves_html(name: str, header: list[str], rows: Rows) -> str:
    kind, x, y = CURVES[name]
    groups = points_by(header, rows, x, y, "curve")
    if not groups:
        return note(f"plots/{name}: no numeric {x} and {y} columns")
    if "curve" not in header:  # the one-curve layout of older commits
        return svg.line_chart(f"{kind} curve (hold-out)", groups[""], x, y)
    names = list(groups)
    series = [svg.Series(n, groups[n], is_average(n)) for n in names[:MAX_CURVES]]
    chart = svg.curves_chart(f"{kind} curves (hold-out)", series, x, y)
    if len(names) > MAX_CURVES:
        chart += note(f"plots/{name}: {len(names) - MAX_CURVES} more curves not drawn")
    return chart


def is_average(curve: str) -> bool:
    return curve.startswith(AVERAGES) and not curve.endswith(" vs rest")


def predictions_html(header: list[str], rows: Rows) -> str:
    points = points_by(header, rows, "actual", "predicted").get("")
    if not points:
        return note("plots/predictions.csv: no numeric actual and predicted columns")
    title = "Predicted vs actual (hold-out; dashed line y = x)"
    charts = [svg.line_chart(title, points, "actual", "predicted", joined=False, guide="y = x")]
    residuals = points_by(header, rows, "predicted", "residual").get("")
    if residuals:  # older commits wrote no residual column
        title = "Residuals (actual - predicted) vs predicted (hold-out)"
        charts.append(
            svg.line_chart(title, residuals, "predicted", "residual", joined=False, guide="y = 0")
        )
    return "".join(charts)


def points_by(
    header: list[str], rows: Rows, x: str, y: str, key: str = ""
) -> dict[str, list[svg.Point]]:
    """The rows' numeric (x, y) points by their ``key`` column's value, in file order
    (all under "" when there is no such column); nothing when x or y is missing."""
    if x not in header or y not in header:
        return {}
    columns = [header.index(x), header.index(y)]
    if key in header:
        columns.append(header.index(key))
    groups: dict[str, list[svg.Point]] = {}
    for row in rows:
        if len(row) <= max(columns):
            continue  # a short or blank line
        px, py = number(row[columns[0]]), number(row[columns[1]])
        if px is not None and py is not None:
            group = row[columns[2]] if len(columns) == 3 else ""
            groups.setdefault(group, []).append((px, py))
    return groups


def confusion_table(header: list[str], rows: Rows) -> str:
    if "actual" not in header or "predicted" not in header:
        return note("plots/confusion.csv: no actual and predicted columns")
    pairs = confusion_counts(header, rows)
    if isinstance(pairs, str):
        return note(pairs)
    if not pairs:
        return note("plots/confusion.csv: no rows")
    labels = label_order({a for a, _ in pairs} | {p for _, p in pairs})
    if len(labels) > MAX_CLASSES:
        return note(f"plots/confusion.csv: {len(labels)} classes, too many to draw")
    top = max(pairs.values())
    head = "".join(f"<th>{escape(label)}</th>" for label in labels)
    body = []
    for actual in labels:
        cells = []
        for predicted in labels:
            count = pairs.get((actual, predicted), 0)
            shade = 0.15 + 0.85 * count / top if count else 0.0
            style = f' style="background: rgba(44, 160, 44, {shade:.2f})"' if count else ""
            cells.append(f'<td class="num"{style}>{count}</td>')
        body.append(f"<tr><th>{escape(actual)}</th>{''.join(cells)}</tr>")
    return (
        "<h3>Confusion matrix (hold-out): rows actual, columns predicted</h3>"
        f'<table class="confusion"><tr><th></th>{head}</tr>{"".join(body)}</table>'
    )


def confusion_counts(header: list[str], rows: Rows) -> Counter | str:
    """(actual, predicted) -> count: the ``count`` column summed per pair, or one per row
    when there is none (older commits); a problem's text if a count is not a whole number."""
    ia, ip = header.index("actual"), header.index("predicted")
    ic = header.index("count") if "count" in header else None
    pairs: Counter = Counter()
    for row in rows:
        if len(row) <= max(ia, ip, -1 if ic is None else ic):
            continue  # a short or blank line
        count = 1 if ic is None else whole(row[ic])
        if count is None:
            return f"plots/confusion.csv: count {row[ic]!r} is not a whole number"
        pairs[(row[ia], row[ip])] += count
    return pairs


def whole(text: str) -> int | None:
    value = number(text)
    if value is None or not math.isfinite(value) or value < 0 or value != int(value):
        return None
    return int(value)


def label_order(labels: set[str]) -> list[str]:
    """Numeric labels by value (2 before 10), any others as text."""
    values = {label: number(label) for label in labels}
    if all(v is not None and math.isfinite(v) for v in values.values()):
        return sorted(labels, key=lambda label: (values[label], label))
    return sorted(labels)


def number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(str(value))
    except ValueError:
        return None


def note(text: str) -> str:
    return f'<p class="note">{escape(text)}</p>'
