"""Build the manifest of HEAD at register time (the pipeline is up to date then).

The manifest is the JSON after the version tag's first line: which commit, which
weights (per-file sha256), which data (hashes from dvc.lock), which params and
metrics, the gate's verdict, the environment, the toolkit that wrote it, who and when.
"""

import hashlib
import json
import platform
from pathlib import Path
from typing import Any

import yaml

from .. import __version__ as TOOLKIT_VERSION
from ..psi import PROFILE_FILE
from . import models
from .errors import RegistryError
from .render import SUMMARY_LIMIT, one_line

MANIFEST_SCHEMA = 1


def build_manifest(
    project: Path, model: str, version: str, commit: str, author: str, created: str
) -> dict[str, Any]:
    artifact_path = models.artifact_path(project, model)  # dvc.yaml's artifacts: say where
    lock = read_yaml(project / "dvc.lock")
    return {
        "manifest": MANIFEST_SCHEMA,
        "model": model,
        "version": version,
        "commit": commit,
        "artifact": {
            "path": artifact_path,
            "md5": lock_hashes(lock).get(artifact_path),
            "files": artifact_files(project / artifact_path, artifact_path),
        },
        "data": {**data_hashes(lock), **profile_summary(project / artifact_path, artifact_path)},
        "params": read_yaml(project / "params.yaml"),
        "metrics": read_metrics(project / "metrics"),
        "gate": read_json(project / "reports" / "gate.json"),
        "environment": environment(project / artifact_path / "environment.json"),
        "toolkit": {"name": "weighbridge", "version": TOOLKIT_VERSION},  # what wrote this tag
        "author": author,
        "created": created,
    }


def artifact_files(directory: Path, shown_as: str) -> dict[str, dict[str, Any]]:
    files = sorted(p for p in directory.rglob("*") if p.is_file()) if directory.is_dir() else []
    if not files:
        raise RegistryError(f"{shown_as}/ has no model files: run dvc repro first")
    return {p.relative_to(directory).as_posix(): file_digest(p) for p in files}


def file_digest(path: Path) -> dict[str, Any]:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return {"sha256": digest.hexdigest(), "bytes": path.stat().st_size}


def lock_hashes(lock: dict[str, Any]) -> dict[str, str]:
    """Every dep and out path in dvc.lock with its md5 (dirs end in ``.dir``)."""
    hashes = {}
    for stage in (lock.get("stages") or {}).values():
        for entry in (stage.get("deps") or []) + (stage.get("outs") or []):
            digest = entry.get("md5") or entry.get("etag") or entry.get("checksum")
            if entry.get("path") and digest:
                hashes[entry["path"]] = digest
    return hashes


def data_hashes(lock: dict[str, Any]) -> dict[str, str]:
    return {
        path: md5 for path, md5 in sorted(lock_hashes(lock).items()) if path.startswith("data/")
    }


def profile_summary(directory: Path, shown_as: str) -> dict[str, Any]:
    """``{"profile": …}``: the training data's size and gaps, from the profile train wrote
    beside the weights (its whole text is in the artifact, sha256 under artifact.files);
    nothing for weights trained before profiles existed."""
    path = directory / PROFILE_FILE
    if not path.exists():
        return {}
    profile = read_json(path)
    features = profile.get("features") or {} if isinstance(profile, dict) else {}
    if not isinstance(profile, dict) or not isinstance(features, dict):
        raise RegistryError(f"{shown_as}/{PROFILE_FILE}: not a data profile")
    missing = {name: f.get("missing") for name, f in features.items() if f.get("missing")}
    summary = {"file": f"{shown_as}/{PROFILE_FILE}", "rows": profile.get("rows")}
    # features without gaps are left out: a diff of 30 zero rows says nothing
    return {"profile": {**summary, "features": len(features), "missing": missing}}


def read_metrics(directory: Path) -> dict[str, Any]:
    return {p.stem: read_json(p) for p in sorted(directory.glob("*.json"))}


def environment(path: Path) -> dict[str, Any]:
    trained_with = read_json(path) if path.exists() else {}
    return {**trained_with, "registered_with_python": platform.python_version()}


def read_yaml(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise RegistryError(f"{path.name} not found in {path.parent}: run dvc repro first")
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise RegistryError(f"{path.name}: not valid YAML ({exc.problem})") from None
    return loaded if isinstance(loaded, dict) else {}


def read_json(path: Path) -> Any:
    if not path.exists():
        raise RegistryError(f"{path.parent.name}/{path.name} not found: run dvc repro first")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise RegistryError(f"{path.parent.name}/{path.name}: not valid JSON ({exc})") from None


def tag_message(first_line: str, body: dict[str, Any]) -> str:
    """A human first line, a blank line, then the machine-readable JSON.

    Only the JSON is read back, so any text in it (a reason with blank lines, quotes,
    control characters) round-trips exactly: it is ASCII with every control character
    escaped, which git's whitespace cleanup leaves alone. The first line is a summary
    for people and other tools (``git tag -n``, ``gto history``): one printable line.
    """
    body_text = json.dumps(body, indent=2, sort_keys=True, ensure_ascii=True)
    return f"{one_line(first_line, SUMMARY_LIMIT)}\n\n{body_text}\n"
