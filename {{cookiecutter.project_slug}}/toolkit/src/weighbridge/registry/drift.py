"""``registry drift <version|stage> --input FILE [--threshold X]``: score a batch of live rows
against the training-data profile of a version, feature by feature (PSI, ``psi``).

Exit status: 0 no feature past the threshold; 1 drift, each drifted feature named on stderr
(``drift: petal_length PSI 0.412 > 0.2``); 2 nothing was scored: the batch or the version
cannot be read (missing columns, values of the wrong type, an empty or absent file, a
version without a profile, a bad option), one ``error: …`` line. Reads only; writes nothing.

The batch has the columns predict takes (the model's features; missing values allowed, they
count in their own bin) and is read and checked by the same code as predict's input.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from .. import psi
from ..errors import ProjectError
from .cli import model_registry, psi_threshold, version_arg
from .lineage import MEASURE, feature_lines, read_profile
from .store import Version

NOT_SCORED = 2  # exit status when the batch or the version cannot be read
DRIFTED = 1


class NotScored(ProjectError):
    """Nothing could be scored: one ``error: …`` line, exit 2 (drift itself exits 1)."""

    exit_status = NOT_SCORED


def configure(parser: argparse.ArgumentParser) -> None:
    parser.usage_status = NOT_SCORED  # a bad option scores nothing either (OneLineParser)
    parser.add_argument("ref", metavar="version|stage", help="whose training profile to use")
    parser.add_argument("--input", required=True, type=Path, help="live rows (.csv or .json)")
    parser.add_argument(
        "--threshold",
        type=psi_threshold,
        default=psi.THRESHOLD,
        help=f"flag a feature whose {MEASURE} is above this (default {psi.THRESHOLD:g})",
    )


def run(args: argparse.Namespace) -> int:
    try:
        version = model_registry(args).resolve(args.model, version_arg(args.ref))
        result = score(args.repo, version, args.input, args.threshold)
    except ProjectError as exc:
        raise NotScored(str(exc)) from None
    print(json.dumps(result) if args.json else report(result))
    for row in result["features"]:
        if row["level"] == "flagged":
            print(f"drift: {row['feature']} {MEASURE} {row['psi']:.3f} > {args.threshold:g}",
                  file=sys.stderr)  # fmt: skip
    return DRIFTED if result["drift"] else 0


def score(repo: Path, version: Version, source: Path, threshold: float) -> dict[str, Any]:
    from .. import batch, profiles  # pandas: loaded only to score a batch

    profile = read_profile(repo, version)
    features = profile["features"]
    # missing values are allowed: a feature arriving empty is drift, not bad input
    inputs = [{"name": n, "dtype": f["dtype"], "nullable": True} for n, f in features.items()]
    frame = batch.read_input(source)
    typed = batch.validate_input(frame, {"inputs": inputs}, source, source.suffix.lower() == ".csv")
    rows = []
    for name, reference in features.items():
        actual = profiles.batch_shares(typed[name], reference)
        value = psi.index(psi.distribution(reference), actual)
        row = {"feature": name, "role": "feature", "psi": value}
        rows.append({**row, "level": psi.level(value, threshold), "note": None})
    return {
        "model": version.model,
        "version": version.version,
        "commit": version.commit,
        "input": str(source),
        "rows": len(typed),
        "reference_rows": profile.get("rows"),
        "measure": MEASURE,
        "threshold": threshold,
        "features": rows,
        "drift": any(row["level"] == "flagged" for row in rows),
    }


def report(result: dict[str, Any]) -> str:
    flagged = sum(row["level"] == "flagged" for row in result["features"])
    verdict = f"{flagged} feature(s) drifted" if flagged else "no drift"
    head = (
        f"{result['input']} ({result['rows']} rows) against the training data of "
        f"{result['model']} {result['version']} ({result['reference_rows']} rows), "
        f"{MEASURE} per feature, flagged above {result['threshold']:g}: {verdict}"
    )
    return f"{head}\n{feature_lines(result['features'])}"
