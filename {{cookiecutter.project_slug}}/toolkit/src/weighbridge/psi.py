"""Population stability index (PSI) of a feature against a reference profile (``profiles``).

PSI = sum over bins of (actual - expected) * ln(actual / expected), an empty bin counted
as EPSILON. Bins come from the reference: its deciles (numbers, datetimes) or its top
categories plus ``other``; missing values are a bin of their own, so a feature that starts
arriving empty drifts too. The usual reading: below 0.1 stable, 0.1 to 0.2 moderate, above
0.2 a shift worth acting on (the default threshold).

Standard library only: ``registry diff`` compares two profiles without loading pandas.
Another profile's shares in the reference bins are read off its own decile bins, with the
distribution spread evenly inside each bin (exact at the shared edges, so a profile
compared with itself scores 0).
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Any

PROFILE_FILE = "profile.json"  # beside the weights (profiles writes it; it loads pandas)
EPSILON = 1e-4
MODERATE = 0.1
THRESHOLD = 0.2
NUMBER_KINDS = {"int64": "numeric", "float64": "numeric", "datetime": "datetime"}


def index(expected: list[float], actual: list[float]) -> float:
    total = 0.0
    for e, a in zip(expected, actual, strict=True):
        e, a = max(e, EPSILON), max(a, EPSILON)
        total += (a - e) * math.log(a / e)
    return round(total, 4)


def level(score: float | None, threshold: float = THRESHOLD) -> str:
    if score is None:
        return "unscored"
    if score > threshold:
        return "flagged"
    return "moderate" if score >= min(MODERATE, threshold) else "stable"


def distribution(reference: dict[str, Any]) -> list[float]:
    """The reference's own shares: missing, then each bin (or each top category, then other)."""
    if reference["dtype"] in NUMBER_KINDS:
        shares = (reference.get("bins") or {}).get("shares") or [1 - reference["missing"]]
        return [reference["missing"], *shares]
    top = reference.get("top") or {}
    return [reference["missing"], *(top[name] for name in sorted(top)), reference["other"]]


def estimated(reference: dict[str, Any], other: dict[str, Any]) -> list[float]:
    """``other``'s shares in the bins of ``reference`` (both profiles of one feature)."""
    missing = other["missing"]
    if reference["dtype"] in NUMBER_KINDS and other["dtype"] in NUMBER_KINDS:
        edges = (reference.get("bins") or {}).get("edges")
        if edges is None or not other.get("bins"):
            return [missing, 1 - missing]
        cdf = [cumulative(other, edge) for edge in as_numbers(edges)]
        steps = [b - a for a, b in zip([0.0, *cdf], [*cdf, 1.0], strict=True)]
        return [missing, *(max(step, 0.0) * (1 - missing) for step in steps)]
    names = sorted(reference.get("top") or {})
    found = [(other.get("top") or {}).get(name, 0.0) for name in names]
    return [missing, *found, max(1 - missing - sum(found), 0.0)]


def cumulative(profile: dict[str, Any], x: float) -> float:
    """Share of the profile's present values <= x: exact at its own bin edges, linear
    between them, from its minimum (0) to its maximum (1)."""
    quantiles = as_numbers(profile["quantiles"])
    bins = profile["bins"]
    present = 1 - profile["missing"]
    points = [(quantiles[0], 0.0)]
    running = 0.0
    for edge, bin_share in zip(as_numbers(bins["edges"]), bins["shares"], strict=False):
        running += bin_share
        points.append((edge, min(running / present, 1.0) if present else 1.0))
    points.append((quantiles[-1], 1.0))
    if x < points[0][0]:
        return 0.0
    below = 0.0
    for (x0, y0), (x1, y1) in zip(points, points[1:], strict=False):
        if x >= x1:
            below = max(below, y1)
        elif x0 <= x < x1:
            return max(below, y0 + (y1 - y0) * (x - x0) / (x1 - x0))
    return below if x < points[-1][0] else 1.0


def as_numbers(values: list[Any]) -> list[float]:
    """Numbers as they are; ISO datetimes as seconds since the epoch (UTC if naive)."""
    return [seconds(v) if isinstance(v, str) else float(v) for v in values]


def seconds(text: str) -> float:
    stamp = datetime.fromisoformat(text)
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=timezone.utc)
    return stamp.timestamp()


def compare(
    reference: dict[str, Any], other: dict[str, Any], threshold: float = THRESHOLD
) -> list[dict[str, Any]]:
    """One row per feature of either profile (and the target): its PSI from ``reference``
    to ``other`` and its level; a feature only one side has is unscored."""
    mine, theirs = reference.get("features") or {}, other.get("features") or {}
    rows = []
    for name in [*mine, *(n for n in theirs if n not in mine)]:
        rows.append(row(name, "feature", mine.get(name), theirs.get(name), threshold))
    target_a, target_b = reference.get("target"), other.get("target")
    if target_a or target_b:
        name = (target_a or target_b)["name"]
        rows.append(row(name, "target", target_a, target_b, threshold))
    return rows


def row(
    name: str, role: str, a: dict[str, Any] | None, b: dict[str, Any] | None, threshold: float
) -> dict[str, Any]:
    comparable = a is not None and b is not None and kind(a) == kind(b)
    score = index(distribution(a), estimated(a, b)) if comparable else None
    note = None if comparable else "only in one profile" if a is None or b is None else "dtype"
    return {
        "feature": name,
        "role": role,
        "psi": score,
        "level": level(score, threshold),
        "note": note,
    }


def kind(feature: dict[str, Any]) -> str:
    return NUMBER_KINDS.get(feature["dtype"], "category")
