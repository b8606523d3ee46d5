"""Is HEAD registrable? Clean work tree, pipeline up to date, gate passed."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

from .errors import RegistryError
from .gitutil import dirty_paths
from .manifest import read_json

# dvc reports an always_changed stage (gate) as changed on every run
ALWAYS_CHANGED = "always changed"


def require_clean(repo: Path) -> None:
    dirty = dirty_paths(repo)
    if dirty:
        shown = ", ".join(dirty[:3]) + (" …" if len(dirty) > 3 else "")
        raise RegistryError(f"work tree is dirty ({shown}): commit or stash first")


def require_up_to_date(project: Path) -> None:
    if not (project / "dvc.yaml").exists():
        raise RegistryError(f"dvc.yaml not found in {project}: not a DVC pipeline project")
    changed = changed_stages(project)
    if changed:
        raise RegistryError(
            f"pipeline is not up to date (changed: {', '.join(changed)}): "
            "run dvc repro and commit dvc.lock"
        )


def changed_stages(project: Path) -> list[str]:
    result = subprocess.run(
        [*dvc_command(), "status", "--json"], cwd=project, capture_output=True, text=True
    )
    if result.returncode != 0:
        complaint = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise RegistryError(f"dvc status failed: {complaint}")
    status = json.loads(result.stdout or "{}")
    return sorted(
        name for name, entries in status.items() if any(e != ALWAYS_CHANGED for e in entries)
    )


def dvc_command() -> list[str]:
    # prefer the dvc beside this interpreter (the project's venv), then PATH
    beside = Path(sys.executable).parent / "dvc"
    if beside.exists():
        return [str(beside)]
    found = shutil.which("dvc")
    if found is None:
        raise RegistryError("dvc is not installed: pip install dvc (needed to register)")
    return [found]


def require_gate_passed(project: Path) -> dict:
    """The recorded verdict (metrics/gate.json's ``passed``, reports/gate.json's summary)."""
    verdict = read_json(project / "metrics" / "gate.json")
    if not isinstance(verdict, dict) or "passed" not in verdict:
        raise RegistryError("metrics/gate.json: key 'passed' is missing")
    if verdict["passed"] is not True:
        report = read_json(project / "reports" / "gate.json")
        summary = report.get("summary") if isinstance(report, dict) else None
        raise RegistryError(
            f"gate failed for HEAD ({summary or 'see reports/gate.json'}): not registering"
        )
    return verdict


def can_judge(project_dir: Path) -> bool:
    """Whether this project's gate can judge here: it needs data/schema.yaml (a real
    project's is a dependency of prepare, so an up-to-date pipeline has it). A pipeline
    without it runs another gate (the registry's toy test pipeline) and is held to the
    verdict it records."""
    return (Path(project_dir) / "data" / "schema.yaml").is_file()
