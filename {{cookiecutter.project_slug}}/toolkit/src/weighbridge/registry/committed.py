"""Files of a registered version's artifact, read at its commit through DVC (the local
cache first, then the DVC remote) and verified before anyone uses them.

A version with a manifest is checked against the sha256 its manifest records per file; a
version registered by another tool (a derived manifest) against the md5 its commit's
``dvc.lock`` records for the whole folder. So a corrupted cache or a tampered remote object
never becomes the gate's yardstick, a drift reference, or a diff's data.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from ..errors import ProjectError
from ..storage_errors import read_cause
from . import derived
from .store import Version


@dataclass(frozen=True)
class Verified:
    """Files of one artifact folder, each checked; ``label`` names the version in messages."""

    label: str
    folder: str
    contents: dict[str, bytes]
    sha256: dict[str, str]


def label_of(version: Version) -> str:
    return f"{version.model} {version.version} (commit {version.commit[:12]})"


def read_verified(repo_dir: Path, version: Version, names: list[str]) -> Verified:
    """``names`` from ``version``'s artifact folder at its commit, each verified."""
    label = label_of(version)
    if version.derived:  # registered by another tool: checked against dvc.lock instead
        return read_derived(repo_dir, version, names, label)
    artifact = version.manifest.get("artifact") or {}
    files = artifact.get("files") or {}
    expected = {name: (files.get(name) or {}).get("sha256") for name in names}
    if not artifact.get("path") or not all(expected.values()):
        missing = ", ".join(name for name, digest in expected.items() if not digest)
        raise ProjectError(
            f"{label}: tag {version.tag} has no artifact sha256 of {missing or 'its files'} "
            "in its manifest"
        )
    contents = read_at_commit(repo_dir, version.commit, artifact["path"], names, label)
    for name, data in contents.items():
        actual = hashlib.sha256(data).hexdigest()
        if actual != expected[name]:
            raise ProjectError(
                f"{label}: {artifact['path']}/{name} has sha256 {actual[:12]}…, its manifest "
                f"says {expected[name][:12]}…: refusing tampered or corrupted weights"
            )
    return Verified(label, artifact["path"], contents, expected)


def read_derived(repo_dir: Path, version: Version, names: list[str], label: str) -> Verified:
    """A version without a manifest in its tag (written by GTO or DVC Studio): every file
    of its artifact folder, checked against the md5 its commit's dvc.lock records; the
    sha256 is computed from the verified bytes."""
    folder, md5 = derived.artifact_of(version)
    contents = read_at_commit(repo_dir, version.commit, folder, None, label)
    digests = {name: derived.digests_of_bytes(data) for name, data in contents.items()}
    files = derived.verified_files(digests, md5, label)
    for name in names:
        if name not in contents:
            raise ProjectError(f"{label}: {folder}/ has no {name}")
    wanted = {name: contents[name] for name in names}
    return Verified(label, folder, wanted, {name: files[name]["sha256"] for name in names})


def read_at_commit(
    repo_dir: Path,
    commit: str,
    folder: str,
    names: list[str] | None,
    label: str,
    what: str = "its weights",
) -> dict[str, bytes]:
    """Files of a DVC-tracked folder as of ``commit`` (cache, then remote);
    ``names=None``: every file in it; ``what`` names them in messages."""
    from dvc.api import DVCFileSystem  # dvc is slow to import; only reading files needs it

    fs = None
    try:
        fs = DVCFileSystem(str(repo_dir), rev=commit)
        if names is None:
            names = [path[len(folder) + 1 :] for path in fs.find(folder)]
        return {name: fs.read_bytes(f"{folder}/{name}") for name in names}
    except Exception as exc:  # dvc raises many types (scm, config, storage); all mean "cannot"
        raise ProjectError(f"{label}: cannot load {what} {folder}: {read_cause(exc, fs)}") from None
