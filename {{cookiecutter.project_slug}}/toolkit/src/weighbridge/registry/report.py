"""``registry report --out DIR``: the registry as a static site that opens offline.

``index.html`` lists every version of every model (stages, gate verdict, key metrics,
author, date, deprecated or not) under a chart of the gate metric across versions and
the timeline of stage events; ``cards/<model>/<version>.html`` is one model card per
version. Plain HTML with inline SVG: no script, no external address, no network.

Reads: the tags once (``load_registry``), every version's ``plots/*.csv`` at its
commit in one ``git cat-file --batch``, and its signature and profile files from this
clone's DVC cache when they are there (``artifact_files``).

Ownership, as deploy's (``deploy_folder``): the report writes only into a folder that is
absent, empty or an earlier report (its ``REPORT.json`` lists every file it wrote, and
nothing else is there). It is built in a hidden sibling and swapped in with one rename:
a reader sees the old report or the new one, never half of one.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import artifact_files, deploy_folder, gitutil, report_figures, report_pages
from .errors import RegistryError
from .store import Event, Registry, Version, load_registry

RECORD_FILE = "REPORT.json"
RECORD_FORMAT = 1
RULE = (
    "report writes only into an absent or empty folder or an earlier report (nothing was changed)"
)


def is_report_record(record: object) -> bool:
    return (
        isinstance(record, dict)
        and record.get("report") == RECORD_FORMAT
        and deploy_folder.lists_files(record)
    )


OWNER = deploy_folder.Owner(
    "registry report", "report", RECORD_FILE, is_report_record, "report, files", "--out"
)


@dataclass
class ModelReport:
    name: str
    versions: list[Version]
    events: list[Event]
    deprecation: Event | None = None
    plots: dict[str, dict[str, str]] = field(default_factory=dict)  # commit -> name -> CSV


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", required=True, metavar="DIR", help="folder to write the site into")


def run(args: argparse.Namespace) -> None:
    started = time.monotonic()
    target = Path(os.path.abspath(args.out))
    refuse_unless_ours(target)
    registry = load_registry(args.repo)
    files = build(args.repo, registry)
    write_site(target, files)
    versions = sum(1 for name in files if name.startswith("cards/"))
    seconds = time.monotonic() - started
    print(f"wrote {target / 'index.html'} ({versions} model cards, {seconds:.1f} s)")


def refuse_unless_ours(target: Path) -> None:
    reason = deploy_folder.why_not_ours(target, OWNER)
    if reason is not None:
        raise RegistryError(f"--out {target}: {reason}; {RULE}")


def build(repo: Path, registry: Registry) -> dict[str, str]:
    """Every page of the site: relative path -> HTML."""
    models = [
        ModelReport(
            name, registry.versions(name), registry.events(name), registry.deprecation(name)
        )
        for name in registry.models()
    ]
    plots = read_plots(repo, {v.commit for m in models for v in m.versions})
    files = {"index.html": report_pages.index_page(models)}
    for model in models:
        for version in model.versions:
            path = report_pages.card_path(version.model, version.version)
            cached = {
                name: artifact_files.cached_json(repo, version.manifest, name)
                for name in report_pages.CACHED_FILES
            }
            files[path] = report_pages.card_page(
                version, plots.get(version.commit, {}), cached, model.events
            )
    return files


def read_plots(repo: Path, commits: Iterable[str]) -> dict[str, dict[str, str]]:
    """``{commit: {file name: CSV text}}`` of every commit's plots, in one git batch."""
    wanted = [(c, name) for c in sorted(commits) for name in report_figures.PLOT_FILES]
    names = [f"{commit}:plots/{name}" for commit, name in wanted]
    found: dict[str, dict[str, str]] = {}
    objects = gitutil.read_objects(repo, names, missing_ok=True)
    for (commit, name), (_, kind, raw) in zip(wanted, objects, strict=True):
        if kind == "blob":
            found.setdefault(commit, {})[name] = raw.decode("utf-8", errors="replace")
    return found


def write_site(target: Path, files: dict[str, str]) -> None:
    """Write ``files`` and their REPORT.json into a staging folder, then swap it in."""
    with deploy_folder.staging_beside(target, OWNER) as staging:
        site = staging / "site"
        listed: dict[str, dict[str, Any]] = {}
        for relative, text in files.items():
            path = site / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            data = text.encode("utf-8")
            path.write_bytes(data)
            listed[relative] = {"bytes": len(data)}
        record = {"report": RECORD_FORMAT, "files": listed}
        (site / RECORD_FILE).write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
        try:
            deploy_folder.swap_in(site, target, OWNER)
        except OSError as exc:
            raise RegistryError(
                f"--out {target}: cannot write it ({exc.strerror or exc})"
            ) from None
