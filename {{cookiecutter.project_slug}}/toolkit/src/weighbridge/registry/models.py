"""Which models a project has, and which parts of its pipeline belong to which model.

A project may build several models (``artifacts:`` in dvc.yaml). A model's manifest must
not record another model's params, metrics or gate: the stages that are the model's own
are those upstream of its artifact (they produce it) and those downstream of it that
build no other artifact (they measure it). What only other stages use is someone else's.
With one model every stage is its own, and the manifest holds the whole project.
"""

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..project import DVC_YAML, MODELS_DIR, declared_artifacts, default_model
from .errors import RegistryError
from .tagcache import TagCache

PARAMS_FILE = "params.yaml"


def project_model(project: Path) -> str | None:
    """dvc.yaml's model artifact (``project.default_model``), remembered in the read cache
    under dvc.yaml's sha256, so that reading commands do not load yaml to learn it; an edited
    dvc.yaml has another digest and is read again."""
    try:
        digest = hashlib.sha256((project / DVC_YAML).read_bytes()).hexdigest()
    except OSError:
        return default_model(project)  # no dvc.yaml (e.g. a serving machine): None
    cache = TagCache.for_repo(project)
    remembered = cache.load("project-model")
    if digest in remembered and isinstance(remembered[digest], str):
        return remembered[digest]
    model = default_model(project)
    if model is not None:
        cache.save("project-model", {digest: model})
    return model


def artifact_path(project: Path, model: str) -> str:
    return declared_artifacts(project).get(model, f"{MODELS_DIR}/{model}")


def require_known_model(project: Path | None, model: str, tagged: Iterable[str]) -> None:
    """Refuse a ``--model`` that is neither tagged nor declared:
    most likely a typo, which would otherwise register a model nobody deploys, list an
    empty registry, or fail later on a file of that name. ``project`` None: only the tags
    are known (deploy from a git URL)."""
    tagged = set(tagged)
    if model in tagged:
        return
    declared = declared_artifacts(project) if project is not None else {}
    if model in declared:
        return
    known = ", ".join(sorted(tagged | set(declared))) or "none"
    where = "in the tags" if project is None else "in dvc.yaml's artifacts nor in the tags"
    raise RegistryError(f"unknown model {model!r}: not {where} (known models: {known})")


@dataclass(frozen=True)
class Scope:
    """What of the project belongs only to other models' stages."""

    foreign_params: frozenset[str] = field(default_factory=frozenset)
    foreign_paths: frozenset[str] = field(default_factory=frozenset)

    def keeps_path(self, path: str) -> bool:
        return path not in self.foreign_paths


def model_scope(project: Path, model: str, lock: dict[str, Any]) -> Scope:
    stages = lock_stages(lock)
    artifacts = declared_artifacts(project)
    target = artifacts.get(model, f"{MODELS_DIR}/{model}")
    others = [path for name, path in artifacts.items() if name != model]
    mine = upstream(stages, target)
    others_upstream = set().union(*(upstream(stages, path) for path in others))
    own = mine | (downstream(stages, target) - others_upstream)
    foreign = [stages[name] for name in stages if name not in own]
    kept = [stages[name] for name in own]
    return Scope(
        frozenset(param_sections(foreign) - param_sections(kept)),
        frozenset(stage_paths(foreign) - stage_paths(kept)),
    )


def scoped(manifest: dict[str, Any], scope: Scope, gate_file: str) -> dict[str, Any]:
    """The manifest without what belongs only to other models."""
    params = manifest.get("params") or {}
    metrics = manifest.get("metrics") or {}
    data = manifest.get("data") or {}
    return {
        **manifest,
        "params": {k: v for k, v in params.items() if k not in scope.foreign_params},
        "metrics": {k: v for k, v in metrics.items() if scope.keeps_path(f"metrics/{k}.json")},
        "data": {k: v for k, v in data.items() if scope.keeps_path(k)},
        "gate": manifest.get("gate") if scope.keeps_path(gate_file) else None,
    }


# --- the stage graph of dvc.lock (expanded: foreach and matrix stages appear one by one)


def lock_stages(lock: dict[str, Any]) -> dict[str, dict[str, Any]]:
    stages = lock.get("stages") if isinstance(lock, dict) else None
    return {str(k): v for k, v in (stages or {}).items() if isinstance(v, dict)}


def paths(stage: dict[str, Any], kind: str) -> list[str]:
    return [e["path"] for e in stage.get(kind) or [] if isinstance(e, dict) and e.get("path")]


def overlaps(a: str, b: str) -> bool:
    """One path is the other or inside it (a dep on a folder an out lies in, or the reverse)."""
    return a == b or a.startswith(b.rstrip("/") + "/") or b.startswith(a.rstrip("/") + "/")


def upstream(stages: dict[str, dict[str, Any]], target: str) -> set[str]:
    """The stages whose outputs the target is made from, the one producing it included."""
    return reachable(stages, target, via="outs", onto="deps")


def downstream(stages: dict[str, dict[str, Any]], target: str) -> set[str]:
    """The stages that read the target, directly or through another such stage's outputs."""
    return reachable(stages, target, via="deps", onto="outs")


def reachable(stages: dict[str, dict[str, Any]], target: str, via: str, onto: str) -> set[str]:
    """Stages with a ``via`` path overlapping the target, then overlapping their ``onto``
    paths, and so on."""
    found: set[str] = set()
    pending = [target]
    while pending:
        path = pending.pop()
        for name, stage in stages.items():
            if name not in found and any(overlaps(path, p) for p in paths(stage, via)):
                found.add(name)
                pending += paths(stage, onto)
    return found


def param_sections(stages: Iterable[dict[str, Any]]) -> set[str]:
    """Top-level sections of params.yaml these stages read (``train.seed`` -> ``train``)."""
    sections = set()
    for stage in stages:
        params = (stage.get("params") or {}).get(PARAMS_FILE) or {}
        sections.update(str(key).split(".")[0] for key in params)
    return sections


def stage_paths(stages: Iterable[dict[str, Any]]) -> set[str]:
    return {path for stage in stages for kind in ("deps", "outs") for path in paths(stage, kind)}
