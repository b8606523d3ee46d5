"""Manifests of versions registered by other tools (``gto register``, DVC Studio).

Their tags carry no manifest, only a line of text. What the manifest would say is in the
version's commit: ``dvc.yaml`` names the artifact's path (``artifacts:``), ``dvc.lock``
holds its md5 and the data's, ``params.yaml`` and the metrics files the rest; the tag
says who and when. The derived manifest says so (``"derived": true``).

The weights' sha256 cannot be known before the weights are fetched. Whoever fetches them
checks every file against ``dvc.lock``'s md5 of the folder (recomputed here from the
files' own md5s, as DVC computes a ``.dir`` hash, so neither the cache nor the remote is
trusted) and only then computes their sha256 (``verified_files``).

Derived only when asked (``Version.manifest``): ``list`` and ``query`` never derive one.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path
from typing import Any

import yaml

from .errors import RegistryError
from .manifest import MANIFEST_SCHEMA, data_hashes, lock_hashes

PIPELINE, LOCK, PARAMS = "dvc.yaml", "dvc.lock", "params.yaml"
DIR_SUFFIX = ".dir"
CHUNK = 1 << 20


def derive_manifest(repo: Path, version: Any) -> dict[str, Any]:
    """The manifest of ``version`` (a ``store.Version``) read from its commit; never raises:
    what cannot be derived is said in ``underivable``, and refused where it is needed."""
    manifest = {
        "manifest": MANIFEST_SCHEMA,
        "derived": True,
        "model": version.model,
        "version": version.version,
        "commit": version.commit,
        "author": f"{version.author} <{version.author_email}>",
        "created": version.created,
    }
    try:
        manifest.update(from_commit(repo, version.commit, version.model))
    except RegistryError as exc:
        manifest["underivable"] = str(exc)
    except (AttributeError, TypeError, ValueError):  # valid YAML of another shape
        manifest["underivable"] = f"its {PIPELINE} or {LOCK} is not shaped as DVC writes them"
    return manifest


def from_commit(repo: Path, commit: str, model: str) -> dict[str, Any]:
    found = files_at(repo, commit, [PIPELINE, LOCK, PARAMS])
    pipeline, lock = parsed_yaml(found, PIPELINE), parsed_yaml(found, LOCK)
    path = artifact_path(pipeline, model)
    metrics_files = files_at(repo, commit, declared_metrics(pipeline))
    metrics = {Path(name).stem: parsed_json(data) for name, data in metrics_files.items() if data}
    read = [name for name, data in {**found, **metrics_files}.items() if data is not None]
    return {
        "derived_from": f"commit {commit[:12]}: {', '.join(read)}; weights sha256 when fetched",
        "artifact": {"path": path, "md5": lock_hashes(lock).get(path)},
        "data": data_hashes(lock),
        "params": parsed_yaml(found, PARAMS) if found.get(PARAMS) is not None else {},
        "metrics": metrics,
        "gate": metrics.get("gate"),
    }


def files_at(repo: Path, commit: str, paths: list[str]) -> dict[str, bytes | None]:
    """The blobs at ``commit`` (None where there is none), in one ``git cat-file --batch``.

    Only plain paths from the root: git aborts the whole batch on ``../`` ("outside
    repository"), and a newline would end the request line.
    """
    paths = [p for p in paths if is_plain_path(p)]
    if not paths:
        return {}
    request = "".join(f"{commit}:{path}\n" for path in paths).encode()
    try:
        result = subprocess.run(
            ["git", "-C", str(repo), "cat-file", "--batch"], input=request, capture_output=True
        )
    except FileNotFoundError:
        raise RegistryError("git is not installed or not on PATH") from None
    if result.returncode != 0:
        said = result.stderr.decode(errors="replace").strip().splitlines()
        raise RegistryError(f"cannot read commit {commit[:12]}: {(said or ['git failed'])[0]}")
    return dict(zip(paths, batch_blobs(result.stdout, len(paths)), strict=True))


def is_plain_path(path: str) -> bool:
    return "\n" not in path and all(part not in ("", ".", "..") for part in path.split("/"))


def batch_blobs(output: bytes, count: int) -> list[bytes | None]:
    blobs, position = [], 0
    for _ in range(count):
        end = output.index(b"\n", position)
        header, position = output[position:end].split(), end + 1
        if len(header) != 3 or not header[2].isdigit():  # "<name> missing" (or ambiguous)
            blobs.append(None)
            continue
        size = int(header[2])
        blobs.append(output[position : position + size] if header[1] == b"blob" else None)
        position += size + 1
    return blobs


def parsed_yaml(found: dict[str, bytes | None], name: str) -> dict[str, Any]:
    if found.get(name) is None:
        raise RegistryError(f"its commit has no {name}")
    try:
        loaded = yaml.safe_load(found[name])
    except yaml.YAMLError:
        raise RegistryError(f"its {name} is not valid YAML") from None
    if not isinstance(loaded, dict):
        raise RegistryError(f"its {name} is not a mapping")
    return loaded


def parsed_json(data: bytes) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        return None


def artifact_path(pipeline: dict[str, Any], model: str) -> str:
    """The artifact's path as ``dvc.yaml`` declares it (what ``dvc artifacts get`` uses)."""
    artifacts = pipeline.get("artifacts")
    declared = artifacts.get(model) if isinstance(artifacts, dict) else None
    path = declared.get("path") if isinstance(declared, dict) else None
    if not isinstance(path, str) or not path:
        raise RegistryError(f"its {PIPELINE} declares no artifact {model!r} (artifacts:)")
    return path.strip("/")


def declared_metrics(pipeline: dict[str, Any]) -> list[str]:
    """The metrics files ``dvc.yaml`` declares, top-level and per stage."""
    lists = [pipeline.get("metrics")]
    stages = pipeline.get("stages")
    if isinstance(stages, dict):
        lists += [stage.get("metrics") for stage in stages.values() if isinstance(stage, dict)]
    entries = [entry for found in lists if isinstance(found, list) for entry in found]
    names = [next(iter(e), "") if isinstance(e, dict) else e for e in entries]
    return list(dict.fromkeys(n for n in names if isinstance(n, str) and n.endswith(".json")))


# --- the weights: checked against dvc.lock, then their sha256 -------------------------------


def artifact_of(version: Any) -> tuple[str, str]:
    """``(path, md5 in dvc.lock)`` of a derived manifest's artifact; why not, as one line."""
    manifest = version.manifest
    artifact = manifest.get("artifact") or {}
    if artifact.get("path") and artifact.get("md5"):
        return artifact["path"], artifact["md5"]
    why = manifest.get("underivable") or f"its dvc.lock has no out {artifact.get('path')}"
    raise RegistryError(
        f"tag {version.tag} has no manifest (written by another tool), and none can be "
        f"derived from commit {version.commit[:12]}: {why}"
    )


def verified_files(md5_sha256_bytes: dict[str, tuple[str, str, int]], expected: str, shown: str):
    """``{name: {"sha256", "bytes"}}`` of files whose md5s make up ``expected`` (dvc.lock's
    md5 of the artifact), else a refusal: the weights are not the ones the commit recorded."""
    actual = tree_md5({name: md5 for name, (md5, _, _) in md5_sha256_bytes.items()}, expected)
    if actual != expected:
        raise RegistryError(
            f"{shown}: the fetched files hash to md5 {actual}, dvc.lock at its commit says "
            f"{expected}: refusing tampered or corrupted weights"
        )
    return {
        name: {"sha256": sha256, "bytes": size}
        for name, (_, sha256, size) in sorted(md5_sha256_bytes.items())
    }


def tree_md5(md5s: dict[str, str], expected: str) -> str:
    """DVC's hash of these files: a ``.dir`` hash (md5 of the sorted JSON listing) for a
    folder, the file's own md5 for a single file."""
    if not expected.endswith(DIR_SUFFIX):
        return next(iter(md5s.values())) if len(md5s) == 1 else f"{len(md5s)} files"
    listing = [{"md5": md5s[name], "relpath": name} for name in sorted(md5s)]
    return hashlib.md5(json.dumps(listing, sort_keys=True).encode()).hexdigest() + DIR_SUFFIX


def digests_of_bytes(data: bytes) -> tuple[str, str, int]:
    return hashlib.md5(data).hexdigest(), hashlib.sha256(data).hexdigest(), len(data)


def digests_of_file(path: Path) -> tuple[str, str, int]:
    md5, sha256 = hashlib.md5(), hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(CHUNK), b""):
            md5.update(block)
            sha256.update(block)
    return md5.hexdigest(), sha256.hexdigest(), path.stat().st_size


def verified_folder(folder: Path, expected: str, shown: str) -> dict[str, dict[str, Any]]:
    """``verified_files`` for a fetched folder (``registry deploy``)."""
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    return verified_files(
        {p.relative_to(folder).as_posix(): digests_of_file(p) for p in files}, expected, shown
    )
