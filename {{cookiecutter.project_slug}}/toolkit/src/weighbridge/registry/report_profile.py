"""The model card's training-data profile: the ``profile.json`` train writes beside the
weights (``profiles``), read from this clone's DVC cache.

Per feature (and the target) a small table and a small chart: numbers and datetimes show
their missing share, mean and std (numbers), min / median / max and the decile bins as a
histogram (bar area = the bin's share of rows); categories show their top categories'
shares and the rest (``other``) as bars. Category names are data anyone could write:
every text is escaped. Each number of the profile sits in a cell naming its feature and
statistic (``data-feature``, ``data-stat``): the tests compare them with the file.
"""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Any

from . import svg
from .report_figures import note

WIDTH, HEIGHT, PAD = 320, 150, 22  # a small chart beside its table
LABEL_WIDTH, ROW = 120, 16  # category bars: the label column and one bar's height
MIN_BIN = 1 / 40  # a bin of tied values is drawn this share of the range wide
OTHER_COLOR = "#999999"
DIGITS = 4  # significant digits of means, stds and quantiles on the card
SHARES = ("missing", "other")  # statistics that are shares of all rows
SIDE_BY_SIDE = 'style="display: flex; flex-wrap: wrap; gap: 1em; align-items: flex-start"'


def profile_html(profile: Any, problem: str | None = None) -> str:
    """The profile's sections, or why there are none (``problem``: why it was not read)."""
    if profile is None:
        return note(problem or "no profile recorded")
    features = profile.get("features") if isinstance(profile, dict) else None
    if not isinstance(features, dict):
        return note("profile.json: not a data profile this report can read")
    grid = profile.get("grid") if isinstance(profile.get("grid"), list) else []
    parts = [f"<p>{escape(str(profile.get('rows')))} training rows, {len(features)} features</p>"]
    parts += [feature_html(str(name), info, grid) for name, info in features.items()]
    target = profile.get("target")
    if isinstance(target, dict):
        name = str(target.get("name"))
        parts.append(feature_html(name, target, grid, heading=f"target: {name}"))
    return "".join(parts)


def feature_html(name: str, info: Any, grid: list, heading: str | None = None) -> str:
    title = f"<h4>{escape(heading or name)}</h4>"
    if not isinstance(info, dict):
        return title + note("not a feature profile")
    rows = [text_row("dtype", info.get("dtype")), number_row(name, "missing", info.get("missing"))]
    if isinstance(info.get("top"), dict):
        rows += category_rows(name, info)
        chart = category_chart(name, info)
    else:
        rows += [number_row(name, stat, info.get(stat)) for stat in ("mean", "std")]
        rows += quantile_rows(name, info.get("quantiles"), grid)
        chart = histogram(name, info)
    table = f'<table class="profile">{"".join(r for r in rows if r)}</table>'
    return f"{title}<div {SIDE_BY_SIDE}>{table}{chart}</div>"


# --- table rows -----------------------------------------------------------------------------


def text_row(label: str, value: Any) -> str:
    return f"<tr><th>{escape(label)}</th><td>{escape(str(value))}</td></tr>"


def number_row(feature: str, stat: str, value: Any, label: str | None = None) -> str:
    """A row for one statistic (a share of rows shown as a percentage); none if absent."""
    if value is None:
        return ""
    shown = percent(value) if stat in SHARES else figure(value)
    return f"<tr><th>{escape(label or stat)}</th>{stat_cell(feature, stat, shown)}</tr>"


def stat_cell(feature: str, stat: str, shown: str, category: str | None = None) -> str:
    extra = f' data-category="{escape(category)}"' if category is not None else ""
    return (
        f'<td class="num" data-feature="{escape(feature)}" data-stat="{escape(stat)}"{extra}>'
        f"{escape(shown)}</td>"
    )


def quantile_rows(feature: str, quantiles: Any, grid: list) -> list[str]:
    """min, median and max (of numbers or ISO datetimes) from the quantile grid."""
    if not isinstance(quantiles, list) or len(quantiles) != len(grid) or not grid:
        return []
    rows = []
    for stat, at in (("min", 0.0), ("median", 0.5), ("max", 1.0)):
        if at in grid:
            value = quantiles[grid.index(at)]
            rows.append(f"<tr><th>{stat}</th>{stat_cell(feature, stat, figure(value))}</tr>")
    return rows


def category_rows(feature: str, info: dict) -> list[str]:
    rows = [number_row(feature, "distinct", info.get("distinct"), "distinct values")]
    for category, share in info["top"].items():
        cell = stat_cell(feature, "top", percent(share), str(category))
        rows.append(f"<tr><td>{escape(str(category))}</td>{cell}</tr>")
    rows.append(number_row(feature, "other", info.get("other"), "other categories"))
    return rows


def percent(share: Any) -> str:
    return f"{100 * share:.1f}%" if svg.finite(share) else str(share)


def figure(value: Any) -> str:
    return f"{value:.{DIGITS}g}" if svg.finite(value) else str(value)


# --- charts ---------------------------------------------------------------------------------


def histogram(name: str, info: dict) -> str:
    """The decile bins as bars whose area is their share of rows: (min, e1], … (ek, max]."""
    quantiles, bins = info.get("quantiles"), info.get("bins")
    if not isinstance(quantiles, list) or not quantiles or not isinstance(bins, dict):
        return note(f"{name}: no values to draw")
    bounds = [position(v) for v in [quantiles[0], *bins.get("edges", []), quantiles[-1]]]
    shares = bins.get("shares") or []
    if None in bounds or len(shares) != len(bounds) - 1:
        return note(f"{name}: bins not understood")
    low, high = bounds[0], bounds[-1]
    span = high - low or 1.0
    least = span * MIN_BIN
    bars = []  # (left, width, density)
    for left, right, share in zip(bounds, bounds[1:], shares, strict=False):
        width = max(right - left, least)  # tied values: a narrow, tall bar
        bars.append(((left + right - width) / 2, width, share / width))
    tallest = max(d for _, _, d in bars) or 1.0
    low, high = min(low, bars[0][0]), max(high, bars[-1][0] + bars[-1][1])

    def px(x: float) -> float:
        return PAD + (x - low) / ((high - low) or 1.0) * (WIDTH - 2 * PAD)

    base = HEIGHT - PAD
    parts = [svg.line(PAD, base, WIDTH - PAD, base, "#333333")]
    for left, width, density in bars:
        top = base - density / tallest * (HEIGHT - 2 * PAD - 10)
        parts.append(rect(px(left), top, px(left + width) - px(left), base - top, svg.LINE_COLOR))
    ends = (quantiles[0], quantiles[-1])
    parts.append(svg.text(PAD, base + 14, short(ends[0]), anchor="start"))
    parts.append(svg.text(WIDTH - PAD, base + 14, short(ends[1]), anchor="end"))
    return small_svg(f"{name}: decile bins (bar area = share of rows)", HEIGHT, parts)


def category_chart(name: str, info: dict) -> str:
    """One horizontal bar per top category, and one (grey) for all the others."""
    bars = [(str(c), s, svg.LINE_COLOR) for c, s in info["top"].items() if svg.finite(s)]
    if svg.finite(info.get("other")) and info["other"] > 0:
        bars.append(("(other)", info["other"], OTHER_COLOR))
    if not bars:
        return note(f"{name}: no values to draw")
    height = PAD + ROW * len(bars) + 6
    longest = max(s for _, s, _ in bars) or 1.0
    room = WIDTH - LABEL_WIDTH - 50  # the share is written after the bar
    parts = []
    for i, (label, share, color) in enumerate(bars):
        y = PAD + i * ROW
        clipped = label if len(label) <= 16 else label[:15] + "…"
        parts.append(svg.text(LABEL_WIDTH - 4, y + ROW - 4, clipped, anchor="end"))
        width = max(share / longest * room, 0.5)
        parts.append(rect(LABEL_WIDTH, y + 2, width, ROW - 4, color))
        parts.append(svg.text(LABEL_WIDTH + width + 4, y + ROW - 4, percent(share)))
    return small_svg(f"{name}: top categories", height, parts)


def small_svg(title: str, height: int, parts: list[str]) -> str:
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{WIDTH}" '
        f'height="{height}" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-label="{escape(title)}" font-family="sans-serif">'
    )
    heading = svg.text(WIDTH / 2, 13, title, anchor="middle", size=11)
    return "".join([head, heading, *parts, "</svg>"])


def rect(x: float, y: float, width: float, height: float, color: str) -> str:
    return (
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{max(height, 0.5):.1f}" '
        f'fill="{color}"/>'
    )


def position(value: Any) -> float | None:
    """A number, or an ISO datetime as seconds: where it sits on the chart's axis."""
    if svg.finite(value):
        return float(value)
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value).timestamp()
        except ValueError:
            return None
    return None


def short(value: Any) -> str:
    """An axis end: a number to 3 significant digits, a datetime as its date."""
    return svg.short(value) if svg.finite(value) else str(value)[:10]
