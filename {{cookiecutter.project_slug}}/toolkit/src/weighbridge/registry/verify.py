"""``registry verify <version>``: rebuild a version from scratch and compare weight hashes.

A fresh clone at the version's commit, its raw data pulled from the DVC remote (nothing
else: no cached intermediate or model), ``dvc repro train`` with that commit's own code,
then every artifact file's sha256 against the manifest in the version tag. The one file
allowed to differ is ``environment.json``: it records the machine the rebuild ran on.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from ..errors import printable
from .cli import version_arg
from .errors import RegistryError
from .gitutil import repo_root
from .models import require_known_model
from .store import Version, load_registry

# Describes the machine, not the model: a rebuild elsewhere legitimately differs.
MACHINE_FILES = {"environment.json"}


def configure(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``registry verify`` (``-C``, ``--model`` and ``--json`` are shared)."""
    parser.add_argument("version", type=version_arg, help="version (vX.Y.Z) or stage to rebuild")
    parser.add_argument("--keep", action="store_true", help="keep the rebuild folder")


def run(args: argparse.Namespace) -> None:
    root = repo_root(args.repo)
    registry = load_registry(root)
    require_known_model(root, args.model, registry.models())
    version = registry.resolve(args.model, args.version)
    expected = _expected_hashes(version)
    workdir = Path(tempfile.mkdtemp(prefix=f"registry-verify-{version.version}-"))
    try:
        clone = workdir / "repo"
        _clone_at(root, version.commit, clone)
        raw_data = _raw_data_files(clone)
        if raw_data:  # raw data kept in git itself needs no pull
            _dvc(clone, "pull", *raw_data, what="pull the raw data")
        _dvc(clone, "repro", "train", what="re-run the pipeline up to train")
        files = _compare(clone / version.manifest["artifact"]["path"], expected)
    finally:
        if args.keep:
            print(f"rebuild kept in {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    _report(args, version, files)


def _report(args: argparse.Namespace, version: Version, files: dict[str, dict]) -> None:
    """JSON (with --json) on stdout either way; a mismatch is also the one error line."""
    reproducible = all(entry["match"] for entry in files.values())
    if args.json:
        result = {
            "model": version.model,
            "version": version.version,
            "commit": version.commit,
            "reproducible": reproducible,
            "files": files,
        }
        print(json.dumps(result, indent=2, sort_keys=True))
    if not reproducible:
        differences = [
            f"{name}: expected sha256 {entry['expected']}, got {entry['actual'] or 'missing'}"
            for name, entry in files.items()
            if not entry["match"]
        ]
        raise RegistryError(
            f"{version.model} {version.version} is not reproducible: " + "; ".join(differences)
        )
    if not args.json:
        print(
            f"reproducible: {version.model} {version.version} ({version.commit[:12]}): "
            f"{printable(', '.join(files))} match the manifest's sha256"
        )


def _expected_hashes(version: Version) -> dict[str, str]:
    artifact = version.manifest.get("artifact") or {}
    files = artifact.get("files") or {}
    expected = {name: meta.get("sha256") for name, meta in files.items()}
    expected = {name: sha for name, sha in expected.items() if name not in MACHINE_FILES}
    if not artifact.get("path") or not expected:
        raise RegistryError(f"tag {version.tag}: the manifest lists no artifact files to compare")
    return expected


def _clone_at(source: Path, commit: str, into: Path) -> None:
    _git("clone", "--quiet", "--no-checkout", str(source), str(into))
    _git("-C", str(into), "checkout", "--quiet", "--detach", commit)
    # Credentials set with `dvc remote modify --local` live outside git: carry them over.
    local_config = source / ".dvc" / "config.local"
    if local_config.exists():
        shutil.copy2(local_config, into / ".dvc" / "config.local")


def _raw_data_files(clone: Path) -> list[str]:
    """The ``.dvc`` files at that commit: the raw inputs, not the pipeline's outputs."""
    return _git("-C", str(clone), "ls-files", "*.dvc").stdout.split()


def _compare(folder: Path, expected: dict[str, str]) -> dict[str, dict]:
    """Each compared file: expected and actual sha256 (None when the rebuild lacks it)."""
    from ..model_io import sha256_file

    files = {}
    for name, sha in sorted(expected.items()):
        path = folder / name
        actual = sha256_file(path) if path.is_file() else None
        files[name] = {"expected": sha, "actual": actual, "match": actual == sha}
    return files


def _git(*args: str) -> subprocess.CompletedProcess:
    result = subprocess.run(["git", *args], capture_output=True, text=True)
    if result.returncode != 0:
        raise RegistryError(f"git {args[0]} failed: {_last_line(result.stderr)}")
    return result


def _dvc(clone: Path, *args: str, what: str) -> None:
    # The version's own code runs (its package and the toolkit it vendored, if it had one),
    # not the code of the checkout we were called from.
    sources = [clone / "src", clone / "toolkit" / "src"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(map(str, sources))}
    result = subprocess.run(
        [sys.executable, "-m", "dvc", *args], cwd=clone, env=env, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise RegistryError(f"could not {what}: {_last_line(result.stderr or result.stdout)}")


def _last_line(text: str) -> str:
    """DVC's own ERROR line if there is one (it is followed by hints), else the last line."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("ERROR")]
    return (errors or lines or ["no output"])[-1]
