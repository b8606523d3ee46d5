"""The pictures of a model card: its plots (the CSV files the evaluate stage commits), as
inline SVG or HTML tables (the training-data profile is drawn by ``report_profile``).

Plot files: ``confusion.csv`` (one row per hold-out sample: actual, predicted),
``roc.csv`` (fpr, tpr), ``pr.csv`` (recall, precision), ``predictions.csv`` (actual,
predicted). A file with other columns, or none, is said to be so, never guessed at.
"""

from __future__ import annotations

import csv
import functools
import io
from collections import Counter
from html import escape
from typing import Any

from . import svg

PLOT_FILES = ("confusion.csv", "roc.csv", "pr.csv", "predictions.csv")
CURVES = {  # file: (title, x column, y column)
    "roc.csv": ("ROC curve (hold-out)", "fpr", "tpr"),
    "pr.csv": ("Precision-recall curve (hold-out)", "recall", "precision"),
    "predictions.csv": ("Predicted vs actual (hold-out)", "actual", "predicted"),
}
MAX_CLASSES = 30  # a confusion matrix wider than this is not read by anyone


@functools.lru_cache(maxsize=256)  # versions whose plots did not change share one drawing
def plot_html(name: str, text: str) -> str:
    """One plot file as a chart (or a confusion table); a note if it cannot be drawn."""
    try:
        header, *rows = list(csv.reader(io.StringIO(text)))
    except (csv.Error, ValueError) as exc:  # ValueError: an empty file
        return note(f"plots/{name}: not readable CSV ({exc or 'empty'})")
    if name == "confusion.csv":
        return confusion_table(header, rows)
    title, x, y = CURVES[name]
    if x not in header or y not in header:
        return note(f"plots/{name}: no numeric {x} and {y} columns")
    ix, iy = header.index(x), header.index(y)
    points = [(number(r[ix]), number(r[iy])) for r in rows if len(r) > max(ix, iy)]
    points = [(px, py) for px, py in points if px is not None and py is not None]
    if not points:
        return note(f"plots/{name}: no numeric {x} and {y} columns")
    return svg.line_chart(title, points, x, y, joined=name != "predictions.csv")


def confusion_table(header: list[str], rows: list[list[str]]) -> str:
    if "actual" not in header or "predicted" not in header:
        return note("plots/confusion.csv: no actual and predicted columns")
    ia, ip = header.index("actual"), header.index("predicted")
    pairs = Counter((r[ia], r[ip]) for r in rows if len(r) > max(ia, ip))
    if not pairs:
        return note("plots/confusion.csv: no rows")
    labels = sorted({a for a, _ in pairs} | {p for _, p in pairs})
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
