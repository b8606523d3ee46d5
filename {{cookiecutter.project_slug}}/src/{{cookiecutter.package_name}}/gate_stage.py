"""The gate stage's entry point (``dvc.yaml`` runs ``python -m <package>.gate_stage``).

The stage is ``always_changed``: production lives in git tags, which DVC cannot see, so
``dvc repro`` runs it every time. Scoring needs scikit-learn and DVC, seconds of imports;
fingerprinting what the verdict depends on needs neither. When the fingerprint recorded in
metrics/gate.json matches, the recorded verdict stands and nothing is re-scored, so a no-op
``dvc repro`` stays about as fast as ``dvc status``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from .errors import ProjectError, run_cli
from .registry import MODEL_NAME
from .registry.errors import RegistryError
from .registry.store import Version, load_registry

PRODUCTION = "production"
GATE_JSON = Path("metrics") / "gate.json"
# Everything the verdict is computed from, besides the production version (from the tags).
INPUT_FILES = ("params.yaml", "data/schema.yaml", "data/prepared/holdout.csv")


def production_version(project_dir: Path) -> Version | None:
    """The version the tags put in production now; None without one (or without git).
    Lives here, not in champion.py, so the fast path needs no scikit-learn import."""
    try:
        registry = load_registry(project_dir)
    except RegistryError:
        return None  # not a git repository: there is no registry, hence no production
    return registry.stage_version(MODEL_NAME, PRODUCTION)


def production_identity(project_dir: Path) -> str:
    """``version@commit`` of production now, or ``none``: tags are never moved, so a new
    assignment or a re-created tag changes this string."""
    version = production_version(project_dir)
    return "none" if version is None else f"{version.version}@{version.commit}"


def inputs_fingerprint(project_dir: Path) -> str:
    """sha256 over the gate's inputs: the candidate's files, the hold-out set, params,
    schema, this package's code, and which version is in production."""
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parent
    files = [project_dir / name for name in INPUT_FILES]
    files += sorted((project_dir / "models" / MODEL_NAME).glob("*"))
    files += sorted(package.rglob("*.py"))
    for path in files:
        digest.update(path.name.encode() + b"\0")
        digest.update(path.read_bytes() if path.is_file() else b"<missing>")
    digest.update(production_identity(project_dir).encode())
    return digest.hexdigest()


def recorded_verdict(gate_json: Path, fingerprint: str) -> dict | None:
    """The verdict in gate.json if it was computed from exactly these inputs."""
    try:
        record = json.loads(gate_json.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or record.get("inputs_sha256") != fingerprint:
        return None
    return record


def main() -> None:
    project_dir = Path(".")
    fingerprint = inputs_fingerprint(project_dir)
    record = recorded_verdict(project_dir / GATE_JSON, fingerprint)
    if record is None:
        from .gate import run  # the full gate: scikit-learn, DVC, the production model

        print(run(project_dir, inputs_sha256=fingerprint).summary())
        return
    if not record.get("passed"):
        raise ProjectError(f"{record.get('summary')}; inputs unchanged, see {GATE_JSON}")
    print(f"{record.get('summary')} (inputs unchanged since {GATE_JSON} was written)")


if __name__ == "__main__":
    run_cli(main)
