#!/usr/bin/env python3
"""Give a project baked from this template the lifecycle toolkit of this checkout.

    python3 scripts/update_toolkit.py PATH/TO/PROJECT

The project keeps its own code, params, data and registry history (tags are never
touched). A project with a ``toolkit/`` folder gets the new toolkit in its place. A
project baked before the toolkit was split out (its ``src/<package>/`` holds ``registry/``,
``gate/`` and the rest) is moved to the split layout: the template's modules leave
``src/<package>/`` for ``toolkit/``, the stage and model modules stay (replaced by the new
template's version where the project never edited them, their imports rewritten where it
did), and pyproject.toml, the Makefile and dvc.yaml name the toolkit.

Nothing is changed when the work tree has uncommitted changes, or when a file of the
template that would be removed was edited since the project's first commit (say which).
The changes are left uncommitted for review; then ``make install``, ``dvc repro`` (the
stages run again because their code moved; the weights come out the same) and commit.
Standard library only: it runs with any python3 (3.10+).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

TEMPLATE_PROJECT = Path(__file__).resolve().parents[1] / "{{cookiecutter.project_slug}}"
TOOLKIT = TEMPLATE_PROJECT / "toolkit"
USER_PACKAGE = TEMPLATE_PROJECT / "src" / "{{cookiecutter.package_name}}"
TEMPLATE_TESTS = TEMPLATE_PROJECT / "tests"
PACKAGE_MARK = "{{ cookiecutter.package_name }}"
KIT = "toolkit/src/weighbridge"
# Modules the project's package keeps across the split (the user edits them).
KEPT_MODULES = {"__init__.py", "prepare.py", "train.py", "evaluate.py", "gate_stage.py",
                "estimators.py", "preprocessing.py"}  # fmt: skip


class UpdateError(Exception):
    """One line for the user: nothing was changed."""


def git(project: Path, *args: str) -> str:
    result = subprocess.run(["git", *args], cwd=project, capture_output=True, text=True)
    if result.returncode != 0:
        raise UpdateError(f"git {' '.join(args)}: {result.stderr.strip() or 'failed'}")
    return result.stdout


def toolkit_version(toolkit: Path) -> str:
    init = (toolkit / "src" / "weighbridge" / "__init__.py").read_text(encoding="utf-8")
    return re.search(r'__version__ = "([^"]+)"', init).group(1)


def package_of(project: Path) -> str:
    found = [p.name for p in (project / "src").glob("*") if (p / "__init__.py").is_file()]
    if len(found) != 1:
        raise UpdateError(f"{project}/src: expected one Python package, found {found or 'none'}")
    return found[0]


def require_clean(project: Path) -> None:
    if not (project / ".git").exists():
        raise UpdateError(f"{project} is not a git repository: the update needs one to review")
    if git(project, "status", "--porcelain", "--untracked-files=no").strip():
        raise UpdateError(f"{project} has uncommitted changes: commit or stash them first")


def first_commit(project: Path) -> str:
    """The bake's commit: what the template wrote, before the project's own work."""
    return git(project, "rev-list", "--max-parents=0", "HEAD").split()[-1]


def baked_files(project: Path, folder: str) -> list[str]:
    """Files of ``folder`` that the bake committed and that are still tracked."""
    at_bake = git(project, "ls-tree", "-r", "--name-only", first_commit(project), "--", folder)
    now = set(git(project, "ls-files", "--", folder).splitlines())
    return [path for path in at_bake.splitlines() if path in now]


def edited_since_bake(project: Path, paths: list[str]) -> set[str]:
    """Of ``paths`` (files the bake committed), those the project changed since."""
    if not paths:
        return set()
    changed = git(project, "diff", "--name-only", first_commit(project), "HEAD", "--", *paths)
    return set(filter(None, changed.splitlines()))


def rewrite_imports(source: str, kept: set[str]) -> str:
    """Relative imports of the template's modules become imports of the toolkit."""

    def absolute(match: re.Match) -> str:
        module = match.group(1)
        return match.group(0) if module.split(".")[0] in kept else f"from weighbridge.{module} "

    source = re.sub(r"^from \.([\w.]+) ", absolute, source, flags=re.M)
    return re.sub(r"^from \. import ", "from weighbridge import ", source, flags=re.M)


def replace_toolkit(project: Path) -> None:
    staging = project / ".toolkit.updating"
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(TOOLKIT, staging, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.rmtree(project / "toolkit", ignore_errors=True)
    staging.rename(project / "toolkit")


def edit(path: Path, changes: list[tuple[str, str]]) -> None:
    """Apply textual replacements (``plan_edits`` checked that each finds its text)."""
    text = path.read_text(encoding="utf-8")
    for old, new in changes:
        text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")


def split_layout(project: Path) -> list[str]:
    """Move a project baked before the split to the toolkit layout; return what to review."""
    package = package_of(project)
    src = f"src/{package}"
    template_files = [
        path
        for path in baked_files(project, src)
        if Path(path).name not in KEPT_MODULES or Path(path).parent.as_posix() != src
    ]
    old_tests = [path for path in baked_files(project, "tests") if path.endswith(".py")]
    blocked = sorted(edited_since_bake(project, template_files))
    if blocked:
        raise UpdateError(
            f"these template files were edited since the bake and would be removed: "
            f"{', '.join(blocked)} (move your changes into the stage modules first)"
        )
    kept = {Path(name).stem for name in KEPT_MODULES}
    own = edited_since_bake(project, [f"{src}/{name}" for name in KEPT_MODULES])
    own_tests = edited_since_bake(project, old_tests)
    checks = plan_edits(project, package)  # every edit is checked before anything is written
    replace_toolkit(project)
    for path in template_files:
        (project / path).unlink()
    shutil.rmtree(project / src / "registry", ignore_errors=True)
    shutil.rmtree(project / src / "gate", ignore_errors=True)
    review = []
    for name in sorted(KEPT_MODULES):
        target = project / src / name
        if f"{src}/{name}" in own:
            target.write_text(rewrite_imports(target.read_text(encoding="utf-8"), kept))
            review.append(f"{src}/{name}: yours, kept (imports rewritten to weighbridge)")
        else:
            shutil.copyfile(USER_PACKAGE / name, target)
    baked = set(baked_files(project, src))
    for path in sorted(set(git(project, "ls-files", "--", src).splitlines()) - baked):
        review.append(f"{path}: yours, kept (check its imports of modules that moved)")
    for name in ("registry.py", "predict.py"):
        shutil.copyfile(USER_PACKAGE / name, project / src / name)
    for path in old_tests:
        if path in own_tests:
            review.append(f"{path}: yours, kept (it may import modules that moved)")
        else:
            (project / path).unlink()
    for test in TEMPLATE_TESTS.glob("*.py"):
        text = test.read_text(encoding="utf-8").replace(PACKAGE_MARK, package)
        (project / "tests" / test.name).write_text(text, encoding="utf-8")
    for path, changes in checks.items():
        edit(project / path, changes)
    return review


def plan_edits(project: Path, package: str) -> dict[str, list[tuple[str, str]]]:
    """The textual edits of pyproject.toml, the Makefile and dvc.yaml, checked to apply."""
    pyproject = (project / "pyproject.toml").read_text(encoding="utf-8")
    extra = "[s3]" if '"dvc-s3' in pyproject else ""
    scripts = re.search(r"\[project\.scripts\]\n(?:[^\n\[]+\n)*\n?", pyproject)
    dvc_yaml = (project / "dvc.yaml").read_text(encoding="utf-8")
    moved = sorted(set(re.findall(rf"src/{package}/(\w+(?:\.py)?)\n", dvc_yaml)))
    plan = {
        "pyproject.toml": [
            ("dependencies = [\n", f'dependencies = [\n    "weighbridge{extra}>=0.2",\n'),
            ('pythonpath = ["src"]', 'pythonpath = ["src", "toolkit/src"]'),
            (
                f'known-first-party = ["{package}"]\n',
                f'known-first-party = ["{package}"]\nknown-third-party = ["weighbridge"]\n',
            ),
            *([(scripts.group(0), "")] if scripts else []),
        ],
        "Makefile": [("pip install -e '.[dev]'", "pip install -e ./toolkit -e '.[dev]'")],
        "dvc.yaml": [
            (f"src/{package}/{name}\n", f"{KIT}/{name}\n")
            for name in moved
            if name.removesuffix(".py") + ".py" not in KEPT_MODULES
        ],
    }
    for path, changes in plan.items():
        text = (project / path).read_text(encoding="utf-8")
        missing = [old.strip() for old, _ in changes if old not in text]
        if missing:
            raise UpdateError(f"{path}: cannot find {missing[0]!r} to update (edited by hand?)")
    return plan


def update(project: Path) -> str:
    project = project.resolve()
    if not (project / "dvc.yaml").is_file():
        raise UpdateError(f"{project} has no dvc.yaml: not a project of this template")
    require_clean(project)
    new = toolkit_version(TOOLKIT)
    if (project / "toolkit" / "pyproject.toml").is_file():
        old = toolkit_version(project / "toolkit")
        replace_toolkit(project)
        return f"toolkit {old} -> {new} in {project}/toolkit"
    if not (project / "src" / package_of(project) / "registry").is_dir():
        raise UpdateError(f"{project}: neither a toolkit/ folder nor the layout before it")
    review = split_layout(project)
    lines = [f"moved {project} to the toolkit layout, weighbridge {new}", *review]
    lines.append("next: make install, dvc repro, review with git status, then commit")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: update_toolkit.py PATH/TO/PROJECT", file=sys.stderr)
        return 2
    try:
        print(update(Path(argv[0])))
    except UpdateError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
