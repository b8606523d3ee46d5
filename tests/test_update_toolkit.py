"""The update path: a project baked before the toolkit was split out takes this checkout's
toolkit with one command (scripts/update_toolkit.py), keeps its own code, params, data and
registry history, and its old tags still read, gate, promote, roll back and deploy."""

from __future__ import annotations

import filecmp
import hashlib
import json
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from tests.helpers import TEMPLATE_DIR, TOOLKIT_DIR, dvc, git, pymod, run

# The template's last commit before the split: projects baked from it have no toolkit/.
BEFORE_SPLIT = "a8daa30"
UPDATE = TEMPLATE_DIR / "scripts" / "update_toolkit.py"
PACKAGE = "breast_cancer_classifier"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def old_template(tmp_path_factory) -> Path:
    known = subprocess.run(
        ["git", "cat-file", "-e", f"{BEFORE_SPLIT}^{{commit}}"], cwd=TEMPLATE_DIR
    )
    if known.returncode != 0:
        pytest.skip(f"this clone lacks commit {BEFORE_SPLIT} (shallow?): no old template")
    folder = tmp_path_factory.mktemp("old-template")
    archive = folder / "template.tar"
    with archive.open("wb") as out:
        subprocess.run(["git", "archive", BEFORE_SPLIT], cwd=TEMPLATE_DIR, stdout=out, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(folder / "template", filter="data")
    return folder / "template"


@pytest.fixture
def old_bake(old_template, tmp_path) -> Path:
    command = [sys.executable, "-m", "cookiecutter", "--no-input", "-o", str(tmp_path)]
    result = subprocess.run([*command, str(old_template)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return tmp_path / "breast-cancer-classifier"


@pytest.fixture
def old_project(old_bake) -> Path:
    """Baked from the old template, trained, v1.0.0 registered and in production, with a
    change of the user's own in estimators.py and a module of their own."""
    project = old_bake
    source = project / "src" / PACKAGE
    estimators = source / "estimators.py"
    estimators.write_text(estimators.read_text() + "\n# the user's own note\n")
    (source / "features.py").write_text('"""The user\'s own feature code."""\n')
    dvc(project, "repro")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "Train with a note of my own")
    dvc(project, "push")
    pymod(project, "registry", "register")
    pymod(project, "registry", "promote", "v1.0.0", "--stage", "production")
    return project


def update(project: Path) -> subprocess.CompletedProcess[str]:
    return run([sys.executable, str(UPDATE), str(project)], project, check=False)


def tags(project: Path) -> str:
    return git(project, "for-each-ref", "--format=%(objectname) %(refname)", "refs/tags").stdout


def tree_state(project: Path) -> dict[str, str]:
    """Every file outside .git, .dvc/cache and caches, by sha256."""
    skip = {".git", "cache", "tmp", "__pycache__"}
    return {
        str(path.relative_to(project)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(project.rglob("*"))
        if path.is_file() and not skip.intersection(path.relative_to(project).parts)
    }


def sha256_of_weights(project: Path) -> str:
    return hashlib.sha256((project / "models/classifier/model.skops").read_bytes()).hexdigest()


def assert_refused(project: Path, expected: str) -> None:
    before = (tree_state(project), tags(project))
    refused = update(project)
    assert refused.returncode == 1, refused.stdout
    assert refused.stderr.count("\n") == 1 and "Traceback" not in refused.stderr
    assert expected in refused.stderr, refused.stderr
    assert (tree_state(project), tags(project)) == before


def test_what_the_update_would_lose_is_refused_and_nothing_changes(old_bake, tmp_path):
    project, source = old_bake, old_bake / "src" / PACKAGE
    render = source / "registry" / "render.py"
    render.write_text(render.read_text() + "# edited\n")
    assert_refused(project, "uncommitted changes")
    git(project, "commit", "-qam", "edit the template's render.py")
    assert_refused(project, f"src/{PACKAGE}/registry/render.py")
    git(project, "reset", "-q", "--hard", "HEAD~1")

    (source / "gate" / "wip.py").write_text("# not committed yet\n")  # git does not know it
    assert_refused(project, f"src/{PACKAGE}/gate/wip.py")
    (source / "gate" / "wip.py").unlink()
    (source / "registry" / "my_plugin.py").write_text("# a plug-in of the user's\n")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "a plug-in of my own")
    assert_refused(project, f"src/{PACKAGE}/registry/my_plugin.py")
    git(project, "reset", "-q", "--hard", "HEAD~1")

    (project / "tests" / "test_model.py").write_text("# the user's own test\n")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "a test of my own")
    assert_refused(project, "tests/test_model.py is yours")

    shallow = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{project}", str(shallow))
    assert_refused(shallow, "shallow clone")


def test_an_old_project_takes_the_toolkit_and_its_old_tags_keep_working(old_project, tmp_path):
    tags_before, weights_before = tags(old_project), sha256_of_weights(old_project)
    params_before = (old_project / "params.yaml").read_bytes()

    updated = update(old_project)
    assert updated.returncode == 0, updated.stderr
    assert (
        "weighbridge" in updated.stdout and f"src/{PACKAGE}/estimators.py: yours" in updated.stdout
    )
    assert f"src/{PACKAGE}/features.py: yours, kept" in updated.stdout
    source = old_project / "src" / PACKAGE
    assert "# the user's own note" in (source / "estimators.py").read_text()
    assert (source / "features.py").is_file() and not (source / "registry").exists()
    comparison = filecmp.dircmp(TOOLKIT_DIR, old_project / "toolkit", ignore=["__pycache__"])
    assert not (comparison.diff_files or comparison.left_only or comparison.right_only)
    assert (old_project / "params.yaml").read_bytes() == params_before
    assert tags(old_project) == tags_before  # the registry's history is untouched

    git(old_project, "add", "-A")
    git(old_project, "commit", "-q", "-m", "Take the weighbridge toolkit")
    dvc(old_project, "repro")  # the stages run again: their code moved
    assert sha256_of_weights(old_project) == weights_before  # the same model
    git(old_project, "commit", "-qam", "Reproduce with the toolkit")

    pymod(old_project, "registry", "register")
    listed = json.loads(pymod(old_project, "registry", "list", "--json").stdout)
    assert [v["version"] for v in listed["versions"]] == ["v1.0.0", "v1.0.1"]
    manifest = json.loads(pymod(old_project, "registry", "show", "v1.0.1", "--json").stdout)
    assert manifest["manifest"]["toolkit"]["name"] == "weighbridge"
    old = json.loads(pymod(old_project, "registry", "show", "v1.0.0", "--json").stdout)
    assert "toolkit" not in old["manifest"]  # written before the split, read as it is
    promoted = pymod(old_project, "registry", "promote", "v1.0.1", "--stage", "production")
    assert "vs production v1.0.0" in promoted.stdout  # gated against the old tag's weights
    reason = ("--reason", "back to the version from before the toolkit")
    pymod(old_project, "registry", "rollback", "--stage", "production", *reason)
    serving = tmp_path / "serving"
    pymod(old_project, "registry", "deploy", "--stage", "production", "--to", str(serving))
    deployed = json.loads((serving / "DEPLOYED.json").read_text())
    assert deployed["version"] == "v1.0.0"
    rows = tmp_path / "rows.csv"
    raw = (old_project / "data/raw/dataset.csv").read_text().splitlines()
    rows.write_text("\n".join(",".join(line.split(",")[:-1]) for line in raw[:4]) + "\n")
    predicted = pymod(old_project, "predict", "--model", str(serving), "--input", str(rows))
    assert len(predicted.stdout.strip().splitlines()) == 1 + 3
