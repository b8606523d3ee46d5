"""Is HEAD registrable? Clean work tree, pipeline up to date (the gate: actions.py)."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

from .errors import RegistryError
from .gitutil import dirty_paths

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
