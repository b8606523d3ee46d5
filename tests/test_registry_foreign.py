"""Tags written by other tools (the real `gto` CLI) in a baked project (real git and dvc).

`gto register` / `gto assign` write no manifest: ours is derived from the commit (dvc.lock,
params, metrics), the weights checked against dvc.lock's md5 when fetched, so the gate,
promote, rollback and deploy work on such versions. A `.gto` file's `stages:` list is
honoured where `gto assign` honours it, and `gto deprecate <model>` (the whole model)
stops deploy, promote and rollback, and leaves the gate without a production version.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tests.helpers import copy_trained, dvc, git, project_env, pymod

GTO = str(Path(sys.executable).parent / "gto")
MODEL = "classifier"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def trained(trained_default, tmp_path_factory) -> Path:
    """A baked default project, trained, committed and pushed once for the whole module."""
    project = copy_trained(trained_default, tmp_path_factory.mktemp("trained"))
    dvc(project, "push", "-q")
    return project


@pytest.fixture
def project(trained, tmp_path) -> Path:
    """A private copy; the DVC remote (content-addressed, only read here) stays shared."""
    copy = tmp_path / trained.name
    shutil.copytree(trained, copy, symlinks=True)
    return copy


def gto(project: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(
        [GTO, *args, "-r", str(project)],
        capture_output=True,
        text=True,
        check=check,
        env=project_env(project),
    )


def registry(project: Path, *args: str, check: bool = True):
    return pymod(project, "registry", *args, check=check)


def registry_json(project: Path, *args: str):
    return json.loads(registry(project, *args, "--json").stdout)


def refused(result) -> str:
    """The one error line of a refused command (no traceback, nothing else)."""
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr + result.stdout
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    return result.stderr.strip()


def tags(project: Path) -> list[str]:
    return git(project, "tag", "-l").stdout.split()


def lock_md5(project: Path, path: str) -> str:
    lock = yaml.safe_load((project / "dvc.lock").read_text())
    outs = [o for stage in lock["stages"].values() for o in stage.get("outs", [])]
    return next(o["md5"] for o in outs if o["path"] == path)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def cache_file_of(project: Path, name: str) -> Path:
    """The DVC cache object of models/classifier/<name> (found through the .dir listing)."""
    listing = lock_md5(project, f"models/{MODEL}").removesuffix(".dir")
    cache = project / ".dvc" / "cache" / "files" / "md5"
    entries = json.loads((cache / listing[:2] / f"{listing[2:]}.dir").read_text())
    md5 = next(e["md5"] for e in entries if e["relpath"] == name)
    return cache / md5[:2] / md5[2:]


def test_versions_and_stages_written_by_gto_go_through_gate_promote_rollback_deploy(
    project, tmp_path
):
    # before: "error: classifier v0.0.1 (commit …): tag classifier@v0.0.1 has no artifact
    # sha256 in its manifest" from the gate, promote and deploy
    weights = project / "models" / MODEL / "model.skops"
    gto(project, "register", MODEL, "HEAD")
    gto(project, "assign", MODEL, "--version", "v0.0.1", "--stage", "production")

    shown = registry_json(project, "show", "production")["manifest"]
    assert shown["derived"] is True and "dvc.lock" in shown["derived_from"]
    assert shown["artifact"] == {
        "path": f"models/{MODEL}",
        "md5": lock_md5(project, shown["artifact"]["path"]),
    }
    assert shown["params"] == yaml.safe_load((project / "params.yaml").read_text())
    assert shown["metrics"]["evaluation"] == json.loads(
        (project / "metrics" / "evaluation.json").read_text()
    )
    assert "derived" in registry(project, "show", "v0.0.1").stdout
    listed = registry_json(project, "list")  # list needs no derived manifest
    assert listed["stages"] == {"production": "v0.0.1"} and listed["deprecated"] is None

    # the gate compares with the GTO-assigned production, its weights checked and hashed
    # (forced: the stage's inputs are unchanged, and a new production alone does not re-run it)
    dvc(project, "repro", "--force", "--single-item", "gate")
    verdict = json.loads((project / "reports" / "gate.json").read_text())
    assert verdict["production"]["version"] == "v0.0.1"
    assert verdict["production"]["weights_sha256"] == sha256(weights)
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "gate against v0.0.1")

    # a second version, also registered by GTO, promoted by us against the first
    gto(project, "register", MODEL, "HEAD", "--version", "v0.1.0")
    promoted = registry_json(project, "promote", "v0.1.0", "--stage", "production")
    assert promoted["previous"] == "v0.0.1"
    event = json.loads(
        git(project, "tag", "-l", "--format=%(contents)", promoted["tag"]).stdout.split("\n\n", 1)[
            1
        ]
    )
    assert event["gate"]["passed"] and event["gate"]["production"]["version"] == "v0.0.1"
    assert event["gate"]["candidate_version"]["weights_sha256"] == sha256(weights)

    back = registry_json(project, "rollback", "--stage", "production", "--reason", "plain")
    assert (back["previous"], back["version"]) == ("v0.1.0", "v0.0.1")

    target = tmp_path / "serving"
    registry(project, "deploy", "--stage", "production", "--to", str(target))
    record = json.loads((target / "DEPLOYED.json").read_text())
    assert (record["version"], record["manifest"]) == ("v0.0.1", "derived")
    for name, meta in record["files"].items():
        assert meta == {"sha256": sha256(target / name), "bytes": (target / name).stat().st_size}
    assert (target / "model.skops").read_bytes() == weights.read_bytes()
    again = registry(project, "deploy", "--stage", "production", "--to", str(target))
    assert again.stdout.endswith(f"is already deployed in {target}: no-op\n")
    by_url = tmp_path / "from-url"  # a serving machine: the tags fetched, the commit read there
    registry(project, "deploy", "--version", "v0.1.0", "--to", str(by_url), "--repo", str(project))
    assert json.loads((by_url / "DEPLOYED.json").read_text())["files"] == record["files"]
    holdout = pd.read_parquet(project / "data" / "prepared" / "holdout.parquet")
    features = tmp_path / "batch.csv"  # the hold-out rows without their target column
    holdout.drop(columns=["target"]).head(2).to_csv(features, index=False)
    predicted = pymod(project, "predict", "--model", str(target), "--input", str(features))
    assert predicted.stdout.strip()


def test_weights_of_a_derived_version_that_do_not_match_dvc_lock_are_refused(project, tmp_path):
    gto(project, "register", MODEL, "HEAD")
    damaged = cache_file_of(project, "model.skops")
    damaged.chmod(0o644)
    damaged.write_bytes(damaged.read_bytes()[:-1] + b"X")
    damaged.chmod(0o444)  # read-only, as DVC leaves its objects: it trusts them then
    before = tags(project)
    target = tmp_path / "serving"
    line = refused(
        registry(project, "deploy", "--version", "v0.0.1", "--to", str(target), check=False)
    )
    assert line.startswith(f"error: {MODEL} v0.0.1: the fetched files hash to md5 ")
    assert line.endswith(
        f", dvc.lock at its commit says {lock_md5(project, f'models/{MODEL}')}: "
        "refusing tampered or corrupted weights"
    )
    assert not target.exists() and not list(tmp_path.glob(".serving*"))
    gto(project, "assign", MODEL, "--version", "v0.0.1", "--stage", "production")
    (project / "metrics" / "gate.json").unlink()  # no recorded verdict to fall back on
    gate = dvc(project, "repro", check=False)
    assert gate.returncode != 0 and "refusing tampered or corrupted weights" in gate.stderr
    assert tags(project) == sorted(before + [f"{MODEL}#production#1"])


def test_gto_stage_allowlist_is_honoured_where_gto_assign_honours_it(project):
    (project / ".gto").write_text("stages: [dev, staging, production]\n")
    git(project, "add", ".gto")
    git(project, "commit", "-q", "-m", "stages")
    registry(project, "register")
    before = tags(project)
    # before: our promote wrote classifier#qa2#2, which `gto assign` refuses
    line = refused(registry(project, "promote", "v1.0.0", "--stage", "qa2", check=False))
    assert line == "error: stage 'qa2' is not allowed by .gto (stages: dev, staging, production)"
    gto_said = gto(project, "assign", MODEL, "--version", "v1.0.0", "--stage", "qa2", check=False)
    assert gto_said.returncode != 0 and "Allowed stages" in gto_said.stdout + gto_said.stderr
    assert (
        refused(registry(project, "rollback", "--stage", "qa2", "--reason", "r", check=False))
        == line
    )
    assert tags(project) == before
    registry(project, "promote", "v1.0.0", "--stage", "staging")

    (project / ".gto").write_text("stages: [dev]\nsurprise: 1\n")
    line = refused(registry(project, "promote", "v1.0.0", "--stage", "dev", check=False))
    assert line == (
        "error: .gto has a key GTO does not know: 'surprise': GTO refuses it too "
        "(Wrong config file)"
    )
    assert gto(
        project, "assign", MODEL, "--version", "v1.0.0", "--stage", "dev", check=False
    ).returncode
    (project / ".gto").write_text("stages: [dev]\n")
    overridden = pymod(
        project, "registry", "promote", "v1.0.0", "--stage", "qa2", check=False,
        env={"GTO_STAGES": '["qa2"]'},
    )  # fmt: skip
    assert overridden.returncode == 0, overridden.stderr  # GTO reads the environment first


def test_whole_model_deprecation_by_gto_is_honoured(project, tmp_path):
    registry(project, "register")
    registry(project, "promote", "v1.0.0", "--stage", "production")
    time.sleep(1.1)  # GTO orders by the second: a deprecation in the promotion's second loses
    gto(project, "deprecate", MODEL)  # tag classifier@deprecated: the whole model
    listed = registry_json(project, "list")
    assert listed["deprecated"]["tag"] == f"{MODEL}@deprecated" and listed["stages"] == {}
    assert registry(project, "list").stdout.startswith(f"{MODEL}: DEPRECATED by {MODEL}@deprecated")
    history = registry_json(project, "history")
    assert (history[-1]["event"], history[-1]["tag"]) == ("deprecate", f"{MODEL}@deprecated")

    before = tags(project)
    target = tmp_path / "serving"
    refusals = {
        "deploy": ["deploy", "--stage", "production", "--to", str(target)],
        "promote": ["promote", "v1.0.0", "--stage", "staging"],
        "rollback": ["rollback", "--stage", "production", "--reason", "r"],
        "deprecate": ["deprecate", "v1.0.0", "--reason", "r"],
    }
    for verb, args in refusals.items():
        line = refused(registry(project, *args, check=False))
        assert line.startswith(f"error: {MODEL} is deprecated (tag {MODEL}@deprecated, ")
        assert line.endswith(
            f"): {verb} refused; registering a new version re-activates it, as in GTO"
        )
    assert tags(project) == before and not target.exists()

    # the gate: no production while the model is deprecated (nothing can be deployed)
    (project / "metrics" / "gate.json").unlink()
    dvc(project, "repro")
    assert json.loads((project / "reports" / "gate.json").read_text())["production"] is None
    # a new registration re-activates the model, as in GTO: its stages are back
    git(project, "add", "-A")
    git(project, "commit", "-q", "--allow-empty", "-m", "gate without production")
    gto(project, "register", MODEL, "HEAD")
    listed = registry_json(project, "list")
    assert listed["deprecated"] is None and listed["stages"] == {"production": "v1.0.0"}
    shown = json.loads(gto(project, "show", "--json").stdout)[MODEL]
    assert (shown["version"], shown["stage"]["production"]) == ("v1.0.1", "v1.0.0")
