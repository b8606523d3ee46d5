"""What the toolkit knows of a project, read from its declared files alone.

The model's name and folder come from ``dvc.yaml``'s ``artifacts:`` (the first entry of
``type: model``), so the toolkit carries nothing of any one project in its code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .errors import ProjectError

MODELS_DIR = "models"
DVC_YAML = "dvc.yaml"


def read_yaml_file(path: Path) -> Any:
    """A YAML file's document ({} when the file does not exist)."""
    import yaml  # only when a command needs the project's declared files

    if not path.exists():
        return {}
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ProjectError(f"{path.name}: not valid YAML ({exc.problem})") from None
    except (OSError, UnicodeDecodeError) as exc:  # a folder, unreadable, not UTF-8
        raise ProjectError(f"{path.name}: cannot be read ({exc})") from None


def artifact_entries(project: Path) -> dict[str, dict[str, Any]]:
    document = read_yaml_file(project / DVC_YAML)
    artifacts = document.get("artifacts") if isinstance(document, dict) else None
    if not isinstance(artifacts, dict):
        return {}
    return {str(name): entry for name, entry in artifacts.items() if isinstance(entry, dict)}


def declared_artifacts(project: Path) -> dict[str, str]:
    """``{name: path}`` of dvc.yaml's ``artifacts:`` (empty without dvc.yaml)."""
    return {
        name: str(entry.get("path") or f"{MODELS_DIR}/{name}")
        for name, entry in artifact_entries(project).items()
    }


def default_model(project: Path) -> str | None:
    """The project's model: the first artifact of ``type: model`` in dvc.yaml (None when
    there is no such artifact, e.g. on a serving machine outside any project)."""
    for name, entry in artifact_entries(project).items():
        if entry.get("type") == "model":
            return name
    return None


def only_model(models: list[str], where: str) -> str:
    """The model when no --model is given and no dvc.yaml names one: the only one there is."""
    if len(models) == 1:
        return models[0]
    known = ", ".join(models) or "none"
    raise ProjectError(
        f"no dvc.yaml here declares a model artifact, and {where} holds models {known}: "
        "name one with --model"
    )
