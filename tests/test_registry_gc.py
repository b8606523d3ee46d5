"""`registry gc` against plain `dvc gc` on one real project (real git, DVC, local remote).

Three versions are registered (v1.0.0 in production, v1.0.1 deprecated, v1.0.2 latest) and
one more commit trains a model that is never registered. Plain `dvc gc -w -c` deletes the
production weights from the remote; `registry gc` removes only the unregistered model, and
afterwards every registered version deploys from an empty cache.

The remote's objects are dated a month back (pushed long ago), past gc's grace period; the
race it exists for (another clone's version, pushed but not yet tagged on the git remote)
has tests of its own, here on a local remote and in test_storage_s3.py on S3.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from pathlib import Path

import pytest

from tests.helpers import copy_trained, dvc, git, pymod
from tests.test_gate_e2e import commit_all, set_params

pytestmark = pytest.mark.slow

VERSIONS = ("v1.0.0", "v1.0.1", "v1.0.2")
DEPRECATED = "v1.0.1"
MONTH = 30 * 86400


def registry(project: Path, *args: str, check: bool = True):
    return pymod(project, "registry", *args, check=check)


def train_commit(project: Path, message: str, C: float) -> None:
    set_params(project, "train", hyperparams={"C": C})
    dvc(project, "repro")
    commit_all(project, message)
    dvc(project, "push")


@pytest.fixture(scope="module")
def history(trained_default, tmp_path_factory) -> Path:
    project = copy_trained(trained_default, tmp_path_factory.mktemp("history"))  # C=1
    dvc(project, "push")
    registry(project, "register")
    registry(project, "promote", "v1.0.0", "--stage", "production")
    train_commit(project, "C=10", 10.0)
    registry(project, "register")
    registry(project, "deprecate", "v1.0.1", "--reason", "superseded")
    train_commit(project, "C=0.5", 0.5)
    registry(project, "register")
    train_commit(project, "C=0.7, never registered", 0.7)
    train_commit(project, "C=1 again", 1.0)  # the workspace uses v1.0.0's weights
    return project


@pytest.fixture
def project(history, tmp_path) -> Path:
    """A private copy of the project with its own DVC remote and a bare git remote."""
    copy = tmp_path / history.name
    shutil.copytree(history, copy, symlinks=True)
    remote = tmp_path / "dvc-remote"
    shutil.copytree(history.parent / f"{history.name}-dvc-remote", remote)
    date_back(remote, MONTH)
    dvc(copy, "remote", "modify", "--local", "storage", "url", str(remote))
    bare = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    git(copy, "remote", "add", "origin", str(bare))
    git(copy, "push", "-q", "origin", "main", "--tags")
    return copy


def date_back(folder: Path, seconds: float) -> None:
    """Every file under ``folder`` last written ``seconds`` ago."""
    when = time.time() - seconds
    for path in folder.rglob("*"):
        if path.is_file():
            os.utime(path, (when, when))


def objects(folder: Path) -> dict[str, str]:
    """Every object file under a DVC cache or remote, re-hashed."""
    return {
        path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and "files" in path.parts
    }


def remote_of(project: Path) -> Path:
    return Path(dvc(project, "config", "--local", "remote.storage.url").stdout.strip())


def fetch_all_from_empty_cache(project: Path, into: Path) -> None:
    """Deploy every active version; a deprecated one is fetched with `dvc get` at its tag."""
    shutil.rmtree(project / ".dvc" / "cache")
    for version in VERSIONS:
        target = into / version
        if version == DEPRECATED:
            tag = f"classifier@{version}"
            dvc(into, "get", str(project), "models/classifier", "--rev", tag, "-o", str(target))
            files = manifest(project, version)["artifact"]["files"]
        else:
            registry(project, "deploy", "--version", version, "--to", str(target))
            files = json.loads((target / "DEPLOYED.json").read_text())["files"]
        for name, meta in files.items():
            assert hashlib.sha256((target / name).read_bytes()).hexdigest() == meta["sha256"]


def manifest(project: Path, version: str) -> dict:
    return json.loads(registry(project, "show", version, "--json").stdout)["manifest"]


def test_plain_dvc_gc_loses_production_weights(project, tmp_path):
    """Why `registry gc` exists: the README's warning, shown on a real remote."""
    git(project, "checkout", "-q", "HEAD~1")  # a workspace that uses the unregistered model
    dvc(project, "gc", "-w", "-c", "-f")
    shutil.rmtree(project / ".dvc" / "cache")
    target = tmp_path / "serving"
    failed = registry(project, "deploy", "--stage", "production", "--to", str(target), check=False)
    assert failed.returncode == 1 and failed.stderr.startswith("error: ")
    assert not target.exists()


def test_registry_gc_keeps_every_registered_version(project, tmp_path):
    remote = remote_of(project)
    cache_before, remote_before = objects(project / ".dvc" / "cache"), objects(remote)

    dry = json.loads(registry(project, "gc", "--dry-run", "--json").stdout)
    assert objects(project / ".dvc" / "cache") == cache_before
    assert objects(remote) == remote_before
    assert dry["dry_run"] is True and dry["removed"]["remote"] > 0

    done = json.loads(registry(project, "gc", "--json").stdout)
    assert done["removed"] == dry["removed"]  # the dry run counted exactly this
    remote_after = objects(remote)
    assert set(remote_after) < set(remote_before)
    assert all(remote_before[key] == digest for key, digest in remote_after.items())
    assert git(project, "status", "--porcelain").stdout == ""

    (tmp_path / "serving").mkdir()
    fetch_all_from_empty_cache(project, tmp_path / "serving")
    again = json.loads(registry(project, "gc", "--json").stdout)
    assert again["removed"] == {"cache": 0, "remote": 0}


def test_registry_gc_refuses_while_the_git_remote_has_unknown_tags(project, tmp_path):
    """A version registered on another machine: its weights are on the remote only."""
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(tmp_path / "origin.git"), str(other))
    git(other, "tag", "-a", "classifier@v2.0.0", "-m", "registered elsewhere", "HEAD~1")
    git(other, "push", "-q", "origin", "classifier@v2.0.0")
    remote = remote_of(project)
    cache_before, remote_before = objects(project / ".dvc" / "cache"), objects(remote)

    refused = registry(project, "gc", check=False)
    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        "error: git remote 'origin' has 1 tag(s) this clone lacks (classifier@v2.0.0): "
        "run `git fetch --tags` first, their weights would be removed from the remote"
    )
    assert objects(project / ".dvc" / "cache") == cache_before
    assert objects(remote) == remote_before

    # The local cache alone is safe to clean: the remote keeps everything.
    registry(project, "gc", "--cache-only")
    assert objects(remote) == remote_before


def test_registry_gc_keeps_what_another_clone_pushed_before_its_tag(project, tmp_path):
    """Clone A registers v1.0.3 and pushes its weights, not yet its tag: the git remote has
    no tag clone B lacks, so only the grace period stands between B's gc and A's weights
    (it used to remove 2 of their 4 objects, exit 0)."""
    clone_a = tmp_path / "clone-a"
    shutil.copytree(project, clone_a, symlinks=True)  # same git remote, same DVC remote
    remote = remote_of(project)
    pushed_before = objects(remote)
    train_commit(clone_a, "C=3", 3.0)  # commits and pushes the weights
    registry(clone_a, "register")  # the tag stays in clone A
    from_a = set(objects(remote)) - set(pushed_before)
    assert from_a

    dry = registry(project, "gc", "--dry-run").stdout.splitlines()
    kept = [line for line in dry if line.endswith(": written less than 14 days ago")]
    assert sorted(kept) == sorted(f"kept {remote / key}: written less than 14 days ago"
                                  for key in from_a)  # fmt: skip
    assert dry[-1].startswith(f"kept {len(from_a)} unused remote object(s) written less than ")
    done = json.loads(registry(project, "gc", "--json").stdout)
    assert done["grace_days"] == 14 and len(done["kept_young"]) == len(from_a)
    assert done["removed"]["remote"] > 0  # the old unregistered model did go
    assert from_a <= set(objects(remote))

    # Without the grace period, the same gc would remove A's unregistered weights.
    unsafe = json.loads(registry(project, "gc", "--dry-run", "--grace-days", "0", "--json").stdout)
    assert {Path(path).relative_to(remote).as_posix() for path in unsafe["would_remove"]} == from_a

    # A's version deploys from the remote alone.
    shutil.rmtree(clone_a / ".dvc" / "cache")
    registry(clone_a, "deploy", "--version", "v1.0.3", "--to", str(tmp_path / "serving"))


def test_registry_gc_refuses_a_dvc_remote_that_is_not_there(project, tmp_path):
    """It used to exit 0, "0 from the remote": nothing listed, nothing to remove."""
    missing = tmp_path / "no-such-remote"
    dvc(project, "remote", "modify", "--local", "storage", "url", str(missing))
    cache_before = objects(project / ".dvc" / "cache")
    refused = registry(project, "gc", check=False)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert refused.stderr.strip() == (
        f"error: cannot clean DVC remote 'storage' ({missing}): the remote storage does not "
        "exist; nothing was removed (check its url with `dvc remote list`, or use --cache-only)"
    )
    assert objects(project / ".dvc" / "cache") == cache_before and not missing.exists()


def test_registry_gc_names_why_a_git_remote_cannot_be_listed(project, tmp_path):
    """It used to quote git's advice ("and the repository exists.") instead of the cause."""
    gone = tmp_path / "moved-away.git"
    git(project, "remote", "set-url", "origin", str(gone))
    remote_before = objects(remote_of(project))
    refused = registry(project, "gc", check=False)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert refused.stderr.strip() == (
        f"error: cannot list the tags of git remote 'origin' ('{gone}' does not appear to be a "
        "git repository); versions registered elsewhere could lose their weights: retry when "
        "it is reachable, or use --cache-only"
    )
    assert objects(remote_of(project)) == remote_before
