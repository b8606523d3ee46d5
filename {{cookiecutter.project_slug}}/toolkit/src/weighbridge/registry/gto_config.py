"""A ``.gto`` file's ``stages:`` allowlist, honoured where ``gto assign`` honours it.

Read as GTO 1.10 reads it (``gto/config.py``): the file ``.gto`` at the root of the work
tree (not at a commit), YAML, keys in any case; a key GTO does not know, or a value of the
wrong type, makes GTO refuse the whole file, and so do we. ``stages`` absent or null
allows every stage, ``[]`` none. The environment variable ``GTO_STAGES`` (a JSON list)
overrides the file's list, as pydantic-settings does for GTO. ``types`` only restricts
``gto annotate``, which no registry command does; it is accepted and not used.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import yaml

from . import gitutil
from .errors import RegistryError
from .tags import is_valid_name

CONFIG_FILE = ".gto"
ENVIRONMENT = "gto_stages"  # pydantic-settings matches environment names in any case
KNOWN_KEYS = frozenset(
    {"index", "config_file_name", "log_level", "debug", "emojis", "types", "stages",
     "enrichments", "autoload_enrichments"}
)  # fmt: skip


def require_allowed_stage(repo: Path, stage: str) -> None:
    """Refuse a stage the ``.gto`` allowlist does not name (``gto assign`` refuses it too)."""
    allowed = allowed_stages(repo)
    if allowed is not None and stage not in allowed:
        names = ", ".join(allowed) or "none"
        raise RegistryError(f"stage {stage!r} is not allowed by {CONFIG_FILE} (stages: {names})")


def allowed_stages(repo: Path) -> list[str] | None:
    """The allowed stage names, or None when every stage is allowed."""
    path = gitutil.repo_root(repo) / CONFIG_FILE
    stages = file_stages(path) if path.is_file() else None
    from_environment = [value for key, value in os.environ.items() if key.lower() == ENVIRONMENT]
    if from_environment:
        stages = environment_stages(from_environment[-1])
    return stages


def file_stages(path: Path) -> list[str] | None:
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise wrong_config(f"{CONFIG_FILE} cannot be read ({type(exc).__name__})") from None
    if not isinstance(loaded, dict):
        raise wrong_config(f"{CONFIG_FILE} is not a mapping of settings")
    settings = {str(key).lower(): value for key, value in loaded.items()}
    unknown = sorted(set(settings) - KNOWN_KEYS)
    if unknown:
        raise wrong_config(f"{CONFIG_FILE} has a key GTO does not know: {unknown[0]!r}")
    return checked_stages(settings.get("stages"), f"{CONFIG_FILE}: stages")


def environment_stages(text: str) -> list[str] | None:
    try:
        value = json.loads(text)
    except ValueError:
        raise wrong_config("GTO_STAGES is not a JSON list of stage names") from None
    return checked_stages(value, "GTO_STAGES")


def checked_stages(value: object, where: str) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(name, str) for name in value):
        raise wrong_config(f"{where} must be a list of stage names")
    bad = [name for name in value if not is_valid_name(name)]
    if bad:
        raise wrong_config(f"{where} has an invalid stage name {bad[0]!r}")
    return value


def wrong_config(problem: str) -> RegistryError:
    return RegistryError(f"{problem}: GTO refuses it too (Wrong config file)")
