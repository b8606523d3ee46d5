"""Helpers to run commands inside baked projects (imported by the test modules)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import yaml

TEMPLATE_DIR = Path(__file__).resolve().parent.parent
# The lifecycle toolkit as every bake vendors it (cookiecutter copies it unrendered).
TOOLKIT_DIR = TEMPLATE_DIR / "{{cookiecutter.project_slug}}" / "toolkit"


def load_hook(name: str):
    """A hook of the template imported as a module (its main() runs only under __main__)."""
    spec = importlib.util.spec_from_file_location(name, TEMPLATE_DIR / "hooks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# The project's package and its vendored toolkit: a baked project runs from both, uninstalled.
PROJECT_SOURCES = ("src", "toolkit/src")
REMOTE_NAME = "storage"  # the bake's DVC remote (hooks/post_gen_project.py)
REMOTE_SUFFIX = "-dvc-remote"  # its local folder: <project>-dvc-remote beside the project


def project_pythonpath(project: Path) -> str:
    return os.pathsep.join(str(project / path) for path in PROJECT_SOURCES)


def project_env(project: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment in which a baked (not installed) project's code runs."""
    env = dict(os.environ)
    env["PYTHONPATH"] = project_pythonpath(project)
    env.update(extra or {})
    return env


def run(
    args: list[str],
    cwd: Path,
    *,
    check: bool = True,
    env: Mapping[str, str] | None = None,
    timeout: float = 600,
) -> subprocess.CompletedProcess[str]:
    """Run a command in a baked project; on an unexpected exit show its output."""
    result = subprocess.run(
        args,
        cwd=cwd,
        env=project_env(cwd, env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"{' '.join(args)} exited {result.returncode}\n"
            f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
        )
    return result


def dvc(project: Path, *args: str, check: bool = True, **kwargs):
    return run([sys.executable, "-m", "dvc", *args], project, check=check, **kwargs)


def git(project: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return run(["git", *args], project, check=check)


def package_of(project: Path) -> str:
    (package,) = [p.name for p in (project / "src").iterdir() if (p / "__init__.py").exists()]
    return package


def pymod(project: Path, module: str, *args: str, check: bool = True, **kwargs):
    """`python -m <package>.<module> args…` inside a baked project."""
    return run(
        [sys.executable, "-m", f"{package_of(project)}.{module}", *args],
        project,
        check=check,
        **kwargs,
    )


def bake_ok(cookies, **context: str) -> Path:
    """Bake with the given variables and insist it worked."""
    result = cookies.bake(extra_context=context)
    assert result.exception is None, f"bake failed: {result.exception!r}"
    assert result.exit_code == 0
    return Path(result.project_path)


def train_and_commit(project: Path) -> Path:
    """Run the pipeline and commit it."""
    dvc(project, "repro")
    git(project, "add", "-A")
    git(project, "commit", "--quiet", "-m", "train")
    return project


def train_and_register(project: Path) -> None:
    """Run the pipeline, commit it, push the data and register HEAD as v1.0.0."""
    register_first(train_and_commit(project))


def register_first(project: Path) -> None:
    """Push a trained and committed project's data and register HEAD as v1.0.0."""
    dvc(project, "push")
    pymod(project, "registry", "register")


def remote_url(project: Path) -> str:
    """The default DVC remote's URL (`dvc remote list` truncates long paths to fit a table)."""
    name = dvc(project, "remote", "default").stdout.strip()
    return dvc(project, "config", f"remote.{name}.url").stdout.strip()


def retrain(project: Path, c_value: float) -> None:
    """Train the default bake with this ``C`` and commit: a new registrable HEAD."""
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["train"]["hyperparams"]["C"] = c_value
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    dvc(project, "repro")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", f"retrain C={c_value}")


def copy_trained(source: Path, parent: Path) -> Path:
    """A private copy of a baked, trained and committed project, under ``parent``.

    Its local DVC remote is copied beside it, and the committed remote URL (absolute, to the
    source's folder) is pointed at the copy's own and folded into the last commit, so that
    the copy, and a fresh clone of it, never read or write the source's remote.
    """
    project = parent / source.name
    shutil.copytree(source, project, symlinks=True)
    remote = parent / f"{source.name}{REMOTE_SUFFIX}"
    shutil.copytree(source.parent / remote.name, remote, symlinks=True)
    dvc(project, "remote", "modify", REMOTE_NAME, "url", str(remote))
    git(project, "commit", "--quiet", "--amend", "--no-edit", "--all")
    return project
