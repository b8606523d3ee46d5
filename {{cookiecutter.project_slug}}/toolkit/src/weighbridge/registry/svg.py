"""Charts drawn as inline SVG at build time: the report opens offline, with no script.

Two shapes cover the report's plots: points joined by lines (a metric across versions,
a one-curve ROC or precision-recall file; predicted vs actual and residuals without the
lines, with a dashed guide) and several named curves with a legend (ROC and
precision-recall per class and their averages). The training-data profile's small charts
(``report_profile``) reuse the text and line helpers. Every text is escaped: names come
from tags and from class labels.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape
from typing import NamedTuple

WIDTH, HEIGHT = 560, 300
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 28, 64
LINE_COLOR = "#1f77b4"  # the charts' ink: the browser test looks for it
FAIL_COLOR = "#d62728"
GRID_COLOR = "#dddddd"
MAX_POINTS = 400  # a curve of thousands of thresholds looks the same with 400 points
MAX_X_LABELS = 12
MAX_DOTS = 120  # a joined line with more points is drawn as a line only
# curves after the first take the next colour; averages are drawn thicker and dashed in
# colours of their own, so they stand out among up to ten classes
PALETTE = (LINE_COLOR, "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22", "#17becf", FAIL_COLOR)  # fmt: skip
AVERAGE_STYLES = (("#000000", "8 4"), ("#000080", "2 3"))  # (colour, dash pattern)
GUIDE_COLOR = "#888888"
LEGEND_ROW = 15  # pixels per legend entry, under the chart
LEGEND_CHARS = 80  # a longer curve name is cut (the chart is 560 pixels wide)

Point = tuple[float, float]


class Series(NamedTuple):
    """One named curve of a chart; ``emphasised``: an average, drawn to stand out."""

    name: str
    points: Sequence[Point]
    emphasised: bool = False


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering [low, high] (1, 2 or 5 times a power of ten apart)."""
    if not high > low:  # one value: a small band around it, not a unit-wide one
        pad = abs(low) * 0.05 or 0.5
        low, high = low - pad, high + pad
    raw = (high - low) / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    start = math.floor(low / step) * step
    ticks, value = [], start
    while value <= high + step * 1e-9:
        ticks.append(round(value, 12))
        value += step
    if ticks[-1] < high:
        ticks.append(round(value, 12))
    return ticks


class Frame:
    """The plot area: data coordinates to pixels, axes with ticks and labels."""

    def __init__(self, xs: Sequence[float], ys: Sequence[float], x_ticks=None) -> None:
        self.x_ticks = x_ticks or [(t, short(t)) for t in nice_ticks(min(xs), max(xs))]
        tick_values = [t for t, _ in self.x_ticks]
        self.x0, self.x1 = min([*xs, *tick_values]), max([*xs, *tick_values])
        self.y_ticks = nice_ticks(min(ys), max(ys))
        self.y0, self.y1 = self.y_ticks[0], self.y_ticks[-1]
        if self.x1 == self.x0:
            self.x0, self.x1 = self.x0 - 1, self.x1 + 1

    def px(self, x: float) -> float:
        return LEFT + (x - self.x0) / (self.x1 - self.x0) * (WIDTH - LEFT - RIGHT)

    def py(self, y: float) -> float:
        return HEIGHT - BOTTOM - (y - self.y0) / (self.y1 - self.y0) * (HEIGHT - TOP - BOTTOM)

    def axes(self, x_label: str, y_label: str) -> list[str]:
        parts = []
        for value in self.y_ticks:
            y = self.py(value)
            parts.append(line(LEFT, y, WIDTH - RIGHT, y, GRID_COLOR))
            parts.append(text(LEFT - 6, y + 4, short(value), anchor="end"))
        for value, label in thinned(self.x_ticks):
            x = self.px(value)
            parts.append(line(x, HEIGHT - BOTTOM, x, HEIGHT - BOTTOM + 4, "#333333"))
            parts.append(text(x, HEIGHT - BOTTOM + 16, label, anchor="middle"))
        bottom = HEIGHT - BOTTOM
        parts.append(line(LEFT, bottom, WIDTH - RIGHT, bottom, "#333333"))
        parts.append(line(LEFT, TOP, LEFT, bottom, "#333333"))
        parts.append(text((LEFT + WIDTH - RIGHT) / 2, HEIGHT - 18, x_label, anchor="middle"))
        middle = (TOP + bottom) / 2
        parts.append(
            f'<text x="14" y="{middle:.1f}" text-anchor="middle" font-size="12" '
            f'transform="rotate(-90 14 {middle:.1f})">{escape(y_label)}</text>'
        )
        return parts


def line_chart(
    title: str,
    points: Sequence[Point],
    x_label: str,
    y_label: str,
    x_ticks: Sequence[tuple[float, str]] | None = None,
    joined: bool = True,
    failed: Sequence[bool] = (),
    guide: str = "",
) -> str:
    """Points (joined by a line unless ``joined`` is false); ``failed`` marks points red;
    ``guide`` ("y = x" or "y = 0") adds that line, dashed, where it crosses the plot."""
    points = finite_points(points)
    if not points:
        return empty_chart(title)
    marks = list(failed) if failed else [False] * len(points)
    kept = sampled(len(points))
    points, marks = [points[i] for i in kept], [marks[i] for i in kept]
    frame = Frame([x for x, _ in points], [y for _, y in points], list(x_ticks or []) or None)
    parts = frame.axes(x_label, y_label) + guide_line(frame, guide)
    pixels = [(frame.px(x), frame.py(y)) for x, y in points]
    if joined and len(pixels) > 1:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in pixels)
        parts.append(
            f'<polyline points="{path}" fill="none" stroke="{LINE_COLOR}" stroke-width="2"/>'
        )
    radius = 3 if joined else 2.5
    if joined and len(pixels) > MAX_DOTS and not any(marks):
        return figure(title, parts)  # a curve: dots on every threshold would hide the line
    for (x, y), bad in zip(pixels, marks, strict=True):
        color = FAIL_COLOR if bad else LINE_COLOR
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{radius}" fill="{color}"/>')
    return figure(title, parts)


def guide_line(frame: Frame, guide: str) -> list[str]:
    if guide == "y = x":
        low, high = max(frame.x0, frame.y0), min(frame.x1, frame.y1)
        ends = ((low, low), (high, high)) if low < high else None
    elif guide == "y = 0":
        ends = ((frame.x0, 0.0), (frame.x1, 0.0)) if frame.y0 <= 0 <= frame.y1 else None
    else:
        ends = None
    if ends is None:  # no guide asked for, or it misses the plot
        return []
    (x1, y1), (x2, y2) = ends
    return [
        f'<line x1="{frame.px(x1):.1f}" y1="{frame.py(y1):.1f}" x2="{frame.px(x2):.1f}" '
        f'y2="{frame.py(y2):.1f}" stroke="{GUIDE_COLOR}" stroke-width="1" '
        'stroke-dasharray="5 4"/>'
    ]


def curves_chart(title: str, series: Sequence[Series], x_label: str, y_label: str) -> str:
    """One polyline per named curve, in its own colour, and a legend naming each under
    the plot (the chart grows by a row per curve)."""
    drawn = [s._replace(points=finite_points(s.points)) for s in series]
    drawn = [s for s in drawn if s.points]
    if not drawn:
        return empty_chart(title)
    frame = Frame([x for s in drawn for x, _ in s.points], [y for s in drawn for _, y in s.points])
    parts = frame.axes(x_label, y_label)
    styles = strokes(drawn)
    # averages drawn last, on top of the classes' lines; the legend keeps the file's order
    on_top = sorted(zip(drawn, styles, strict=True), key=lambda pair: pair[0].emphasised)
    for item, stroke in on_top:
        kept = [item.points[i] for i in sampled(len(item.points))]
        path = " ".join(f"{frame.px(x):.1f},{frame.py(y):.1f}" for x, y in kept)
        parts.append(f'<polyline points="{path}" fill="none" {stroke}/>')
        if len(kept) == 1:  # a lone point draws no line: mark it
            cx, cy = frame.px(kept[0][0]), frame.py(kept[0][1])
            parts.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="3" {stroke}/>')
    legend_top = HEIGHT + 8  # the first entry's baseline, under the x axis' label
    parts += legend([s.name for s in drawn], styles, legend_top)
    return figure(title, parts, height=legend_top + (len(drawn) - 1) * LEGEND_ROW + 8)


def legend(names: Sequence[str], styles: Sequence[str], top: float) -> list[str]:
    """A row per curve: a stroke sample and the curve's name (escaped, cut if long)."""
    parts = []
    for row, (name, stroke) in enumerate(zip(names, styles, strict=True)):
        y = top + row * LEGEND_ROW
        parts.append(f'<line x1="{LEFT}" y1="{y - 4}" x2="{LEFT + 28}" y2="{y - 4}" {stroke}/>')
        parts.append(text(LEFT + 36, y, cut(name)))
    return parts


def strokes(series: Sequence[Series]) -> list[str]:
    """The stroke attributes of each curve: classes take the palette in turn, averages
    their own thicker dashed styles."""
    found, classes, averages = [], 0, 0
    for item in series:
        if item.emphasised:
            color, dashes = AVERAGE_STYLES[averages % len(AVERAGE_STYLES)]
            found.append(f'stroke="{color}" stroke-width="3" stroke-dasharray="{dashes}"')
            averages += 1
        else:
            found.append(f'stroke="{PALETTE[classes % len(PALETTE)]}" stroke-width="2"')
            classes += 1
    return found


def finite_points(points: Sequence[Point]) -> list[Point]:
    return [(x, y) for x, y in points if finite(x) and finite(y)]


def cut(label: str) -> str:
    return label if len(label) <= LEGEND_CHARS else label[: LEGEND_CHARS - 1] + "…"


def figure(title: str, parts: list[str], height: int = HEIGHT) -> str:
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{WIDTH}" '
        f'height="{height}" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-label="{escape(title)}" font-family="sans-serif">'
    )
    heading = text(WIDTH / 2, 16, title, anchor="middle", size=13)
    background = f'<rect x="0" y="0" width="{WIDTH}" height="{height}" fill="#ffffff"/>'
    return "".join([head, background, heading, *parts, "</svg>"])


def empty_chart(title: str) -> str:
    return f'<p class="empty">{escape(title)}: no numbers to draw</p>'


def line(x1: float, y1: float, x2: float, y2: float, color: str) -> str:
    return (
        f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
        f'stroke="{color}" stroke-width="1"/>'
    )


def text(x: float, y: float, content: str, anchor: str = "start", size: int = 11) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}">'
        f"{escape(content)}</text>"
    )


def thinned(ticks: Sequence[tuple[float, str]]) -> list[tuple[float, str]]:
    """At most MAX_X_LABELS labels (every k-th one and the last): 100 versions stay readable."""
    step = max(1, math.ceil(len(ticks) / MAX_X_LABELS))
    kept = list(ticks[::step])
    if ticks and kept[-1] != ticks[-1]:
        kept[-1] = ticks[-1]
    return [(value, label if len(label) <= 14 else label[:13] + "…") for value, label in kept]


def sampled(count: int) -> list[int]:
    """Positions of at most MAX_POINTS + 1 evenly spaced items, the last one included."""
    kept = list(range(0, count, max(1, math.ceil(count / MAX_POINTS))))
    if count and kept[-1] != count - 1:
        kept.append(count - 1)
    return kept


def finite(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def short(value: float) -> str:
    return f"{value:.3g}"
