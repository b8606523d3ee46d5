"""The training-data profiles of registered versions and what ``registry diff`` says of them.

A version's profile is ``profile.json`` in its artifact, read at its commit and verified
like its weights (``committed``). Only versions whose manifest lists that file are read:
versions trained before profiles existed, and those registered by other tools (derived
manifests, which list no files), are said to have none, and ``diff`` stays fast for them
(no DVC import). ``registry drift`` reads a derived version's folder whole and verifies it
against ``dvc.lock``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .. import psi
from ..errors import ProjectError
from .store import Version

MEASURE = "PSI"


def has_profile(version: Version) -> bool:
    files = (version.manifest.get("artifact") or {}).get("files") or {}
    return psi.PROFILE_FILE in files


def read_profile(repo: Path, version: Version) -> dict[str, Any]:
    from .committed import label_of, read_verified  # loads DVC: only when a profile is read

    if not version.derived and not has_profile(version):
        raise ProjectError(
            f"{label_of(version)}: its manifest lists no {psi.PROFILE_FILE} (trained before "
            "data profiles existed): no training profile to compare with"
        )
    files = read_verified(repo, version, [psi.PROFILE_FILE])
    shown = f"{files.label}: {files.folder}/{psi.PROFILE_FILE}"
    try:
        profile = json.loads(files.contents[psi.PROFILE_FILE])
    except ValueError:
        raise ProjectError(f"{shown}: not valid JSON") from None
    if not isinstance(profile, dict) or not isinstance(profile.get("features"), dict):
        raise ProjectError(f"{shown}: not a data profile")
    return profile


def diff_section(repo: Path, a: Version, b: Version, threshold: float) -> dict[str, Any]:
    """Per feature (and the target), the PSI of b's training data against a's deciles or
    categories; a note instead when either version has no profile."""
    section: dict[str, Any] = {"measure": MEASURE, "threshold": threshold, "reference": a.version}
    without = [v for v in (a, b) if not has_profile(v)]
    if without:
        names = " and ".join(v.version for v in without)
        section["note"] = f"no training-data profile in {names}" + (
            " (registered by another tool: its derived manifest lists no files; "
            "registry drift reads its profile)"
            if any(v.derived for v in without)
            else ""
        )
        section["features"] = []
        return section
    rows = psi.compare(read_profile(repo, a), read_profile(repo, b), threshold)
    return {**section, "features": rows}


def diff_text(section: dict[str, Any], name_b: str, both_missing: bool) -> str:
    """Only what moved: flagged, moderate and unscored features by name, the rest counted."""
    if section.get("note"):
        return "" if both_missing else f"\n\ndata drift ({MEASURE}): not scored, {section['note']}"
    head = (
        f"data drift ({MEASURE} of {name_b}'s training data against {section['reference']}'s;"
        f" flagged above {section['threshold']:g}):"
    )
    return f"\n\n{head}\n{feature_lines(section['features'])}"


def feature_lines(rows: list[dict[str, Any]]) -> str:
    loud = [r for r in rows if r["level"] != "stable"]
    width = max((len(r["feature"]) for r in loud), default=0)
    lines = [
        f"  {r['feature'].ljust(width)}  {shown_score(r)}  {r['level']}"
        + (f" ({r['role']})" if r["role"] != "feature" else "")
        for r in sorted(loud, key=lambda r: -(r["psi"] or 0))
    ]
    quiet = len(rows) - len(loud)
    if quiet:
        lines.append(f"  {quiet} of {len(rows)} stable ({MEASURE} < {psi.MODERATE:g})")
    return "\n".join(lines)


def shown_score(row: dict[str, Any]) -> str:
    return "-" if row["psi"] is None else f"{row['psi']:.3f}"
