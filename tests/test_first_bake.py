"""Issue 11, a new user's first bake: the post-gen hook names what to install before it uses
anything, a successful bake says what to type next, and the answers survive a failed bake.

The missing package is a real import failure: a ``sitecustomize`` on PYTHONPATH puts a
finder on ``sys.meta_path`` that refuses the named modules in every Python process of the
bake (cookiecutter runs the hooks with its own interpreter, which inherits the environment).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.helpers import TEMPLATE_DIR, copy_trained, dvc, git, remote_url
from tests.test_faults_bake import derived

BLOCKER = '''
import os
import sys

BLOCKED = set(os.environ.get("BLOCKED_MODULES", "").split(","))


class Blocker:
    """Behaves as if the blocked top-level modules were not installed."""

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, Blocker())
'''


def environment(tmp_path: Path, blocked: str = "", path: str | None = None) -> dict[str, str]:
    """This process's environment, with ``blocked`` modules made unimportable."""
    site = tmp_path / "blocker"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(BLOCKER)
    env = {**os.environ, "PYTHONPATH": str(site), "BLOCKED_MODULES": blocked}
    if path is not None:
        env["PATH"] = path
    return env


def cookiecutter_cli(tmp_path: Path, *args: str, env: dict[str, str]):
    """The real cookiecutter command line, run from ``tmp_path`` with a private config."""
    config = tmp_path / "cookiecutter-config.yaml"
    config.write_text(
        f"cookiecutters_dir: {tmp_path / 'cookiecutters'}\nreplay_dir: {tmp_path / 'replay'}\n"
    )
    command = [sys.executable, "-m", "cookiecutter", "--config-file", str(config), *args]
    env = {**env, "PWD": str(tmp_path)}
    return subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


@pytest.mark.slow
def test_missing_packages_are_named_in_one_line_and_the_answers_are_kept(tmp_path):
    out = tmp_path / "out"
    answers = ["project_name=Bob's Fraud Model", "dataset=wine", "init_git=no"]
    env = environment(tmp_path, blocked="pandas,sklearn")

    failed = cookiecutter_cli(
        tmp_path, "--no-input", "-o", str(out), str(TEMPLATE_DIR), *answers, env=env
    )

    assert failed.returncode != 0
    assert "Traceback" not in failed.stderr
    assert failed.stderr.splitlines() == [
        "error: the bake needs pandas, scikit-learn: pip install pandas scikit-learn"
        f" (then `cookiecutter --replay {TEMPLATE_DIR}` reuses your answers)"
    ]
    assert files_under(out) == []
    # Once the packages are there, the replay bakes what was answered, without a question.
    replayed = cookiecutter_cli(
        tmp_path, "--replay", "-o", str(out), str(TEMPLATE_DIR), env=environment(tmp_path)
    )
    assert replayed.returncode == 0, replayed.stderr
    assert (out / "bobs-fraud-model" / "data" / "raw" / "dataset.csv").is_file()


def test_missing_dvc_and_git_are_named_before_anything_runs(tmp_path):
    # The hook's main in a Python where dvc is not importable and PATH has no git or dvc.
    empty_bin = tmp_path / "bin"
    empty_bin.mkdir()
    project = tmp_path / "project"
    project.mkdir()
    code = (
        "import importlib.util, sys; from pathlib import Path\n"
        f"spec = importlib.util.spec_from_file_location('hook', {str(TEMPLATE_DIR)!r}"
        " + '/hooks/post_gen_project.py')\n"
        "hook = importlib.util.module_from_spec(spec); spec.loader.exec_module(hook)\n"
        "context = {'dataset': 'csv', 'init_git': 'yes', 'ci': 'none'}\n"
        "sys.exit(hook.main(context, Path.cwd()))\n"
    )
    env = environment(tmp_path, blocked="dvc", path=str(empty_bin))

    result = subprocess.run(
        [sys.executable, "-c", code], cwd=project, env=env, capture_output=True, text=True
    )

    assert result.returncode == 1
    assert result.stderr == (
        "error: the bake needs dvc, git: pip install dvc; install git with your system's"
        " package manager (or bake with init_git=no)\n"
    )
    assert files_under(project) == []  # nothing was pruned, written or initialised


@pytest.mark.slow
def test_a_successful_bake_prints_next_steps_that_reach_the_project(tmp_path):
    out = tmp_path / "out"
    baked = cookiecutter_cli(
        tmp_path, "--no-input", "-o", "out", str(TEMPLATE_DIR), "dataset=wine",
        env=environment(tmp_path),
    )  # fmt: skip

    assert baked.returncode == 0, baked.stderr
    lines = baked.stdout.splitlines()
    start = lines.index("Next steps:")
    steps = [line.strip() for line in lines[start + 1 :]]
    assert steps == [
        "cd out/wine-classifier",
        "make install",
        "source .venv/bin/activate",
        "dvc repro",
        'git add -A && git commit -m "Train the first model"',
        "registry register",
    ]
    # The first line, pasted into a shell where cookiecutter was run, lands in the project.
    landed = subprocess.run(
        ["bash", "-c", f"{steps[0]} && pwd -P"], cwd=tmp_path, capture_output=True, text=True
    )
    assert landed.stdout.strip() == str((out / "wine-classifier").resolve())


@pytest.mark.parametrize(
    ("context", "name", "slug"),
    [
        ({}, "Breast Cancer Classifier", "breast-cancer-classifier"),
        ({"dataset": "wine"}, "Wine Classifier", "wine-classifier"),
        ({"dataset": "diabetes"}, "Diabetes Regressor", "diabetes-regressor"),
        (
            {"dataset": "csv", "csv_path": "data/fitness_log.csv", "task": "regression"},
            "Fitness Log Regressor",
            "fitness-log-regressor",
        ),
        ({"dataset": "csv", "csv_path": "churn.csv"}, "Churn Classifier", "churn-classifier"),
        # a file name that would not make a one-line name: the generic default instead
        ({"dataset": "csv", "csv_path": "/x/a\nb.csv"}, "My Classifier", "my-classifier"),
        ({"project_name": "Bob's Fraud Model"}, "Bob's Fraud Model", "bobs-fraud-model"),
        ({"project_name": "Bob\u2019s Fraud Model"}, "Bob\u2019s Fraud Model", "bobs-fraud-model"),
    ],
)
def test_project_name_defaults_to_the_chosen_data_and_an_apostrophe_joins_the_slug(
    context, name, slug
):
    variables = derived(**context)
    assert (variables["project_name"], variables["project_slug"]) == (name, slug)
    assert variables["package_name"] == slug.replace("-", "_")


def test_the_questions_follow_their_trigger_and_enter_skips_what_does_not_apply(tmp_path):
    # Interactive, as a person types: "3" (diabetes), then Enter for every other question.
    answers = "3\n" + "\n" * 20
    config = tmp_path / "cookiecutter-config.yaml"
    config.write_text(f"cookiecutters_dir: {tmp_path}/cc\nreplay_dir: {tmp_path}/replay\n")
    command = [sys.executable, "-m", "cookiecutter", "--config-file", str(config)]
    command += ["-o", str(tmp_path / "out"), str(TEMPLATE_DIR), "init_git=no", "ci=none"]

    result = subprocess.run(
        command, input=answers, cwd=tmp_path, capture_output=True, text=True, timeout=300
    )

    assert result.returncode == 0, result.stderr
    questions = re.findall(r"\[(\d+)/17\] ([^\n(]*)", result.stdout)
    order = [text.strip() for _, text in questions]
    assert order[:5] == [
        "Training data",
        "Path to your CSV file",
        "Target column in your CSV",
        "Task for your CSV",
        "Project name",
    ]
    assert "(Diabetes Regressor)" in result.stdout  # the default shown, named after the data
    assert (tmp_path / "out" / "diabetes-regressor" / "data" / "raw" / "dataset.csv").is_file()
    schema = tmp_path / "out" / "diabetes-regressor" / "data" / "schema.yaml"
    assert yaml.safe_load(schema.read_text())["task"] == "regression"


MAKE = shutil.which("make") or "make"
PYENV_SHIM = '#!/bin/sh\necho "pyenv: ${0##*/}: command not found" >&2\nexit 127\n'


@pytest.fixture(scope="module")
def project_for_310(cookies_session) -> Path:
    result = cookies_session.bake(
        extra_context={"python_version": "3.10", "init_git": "no", "ci": "none"}
    )
    assert result.exception is None, result.exception
    return Path(result.project_path)


def fake_bin(tmp_path: Path, **commands: str | Path) -> Path:
    """A PATH folder of executables: a script's text, or a link to a real program."""
    folder = tmp_path / "bin"
    folder.mkdir()
    for name, target in commands.items():
        path = folder / name.replace("_", ".")
        if isinstance(target, Path):
            path.symlink_to(target)
        else:
            path.write_text(target)
            path.chmod(0o755)
    return folder


def make(project: Path, path: Path, *args: str) -> subprocess.CompletedProcess:
    """Real make and /bin/sh with only ``path`` on PATH (the recipes use shell built-ins)."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHON"}
    env["PATH"] = str(path)
    return subprocess.run(
        [MAKE, *args], cwd=project, env=env, capture_output=True, text=True, timeout=60
    )


def venv_command(dry_run: str) -> str:
    (line,) = [line for line in dry_run.splitlines() if line.endswith(" -m venv .venv")]
    return line.removesuffix(" -m venv .venv")


def test_make_install_skips_a_pyenv_shim_that_does_not_run(project_for_310, tmp_path):
    path = fake_bin(tmp_path, python3_10=PYENV_SHIM, python3=Path(sys.executable))
    dry_run = make(project_for_310, path, "-n", "install")
    assert dry_run.returncode == 0, dry_run.stderr
    assert venv_command(dry_run.stdout) == str(path / "python3")
    assert "--upgrade pip" not in dry_run.stdout  # no network use without need


def test_make_install_prefers_the_chosen_version_when_it_runs(project_for_310, tmp_path):
    path = fake_bin(tmp_path, python3_10=Path(sys.executable), python3=PYENV_SHIM)
    dry_run = make(project_for_310, path, "-n", "install")
    assert venv_command(dry_run.stdout) == str(path / "python3.10")
    chosen = make(project_for_310, path, "-n", "install", "PYTHON=/opt/python3.12/bin/python")
    assert venv_command(chosen.stdout) == "/opt/python3.12/bin/python"


def test_make_install_without_a_usable_python_says_how_to_choose(project_for_310, tmp_path):
    path = fake_bin(tmp_path, python3_10=PYENV_SHIM, python3=PYENV_SHIM)
    before = sorted(p.name for p in project_for_310.iterdir())
    result = make(project_for_310, path, "install")
    assert result.returncode != 0
    assert result.stderr.splitlines()[0] == (
        "error: neither python3.10 nor python3 runs as Python 3.10-3.13;"
        " choose one: make install PYTHON=/path/to/python3.X"
    )
    assert sorted(p.name for p in project_for_310.iterdir()) == before  # no .venv


@pytest.mark.slow
def test_plots_output_is_ignored_and_a_trained_copy_is_self_contained(trained_default, tmp_path):
    project = copy_trained(trained_default, tmp_path)
    # The copy's committed DVC remote is its own, and the copy starts clean.
    assert remote_url(project) == str(tmp_path / f"{project.name}-dvc-remote")
    assert git(project, "status", "--porcelain").stdout == ""

    dvc(project, "plots", "show")
    dvc(project, "plots", "diff", "HEAD")

    assert (project / "dvc_plots" / "index.html").is_file()
    git(project, "add", "-A")
    assert git(project, "status", "--porcelain").stdout == ""  # `git add -A` took nothing
