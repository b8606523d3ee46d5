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

import hashlib
import os
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
# The modules the project's package keeps across the split (the user edits them), with the
# sha256 of each as the last template before the split wrote it (they hold no template
# markup): a file with another digest is the user's, kept, never replaced.
PRISTINE = {
    "__init__.py": "ba2625bf09605e7178b7ff10dd19785a6900baee23a5a39ac9d7d1a6703bd647",
    "prepare.py": "64182fc9098e2f1c60868dbedb125704959db3ea49473fd07dce32b3ba112dab",
    "train.py": "c3420105b2af6aa5fcec8d12d6a27e780f6e8904b90a305b46122dff247349c2",
    "evaluate.py": "c9efbef5439646901cb9d2c0d1a723719ec33d55049062153ca3a2ac325758bc",
    "gate_stage.py": "62eb1ef95d0a57ba6f31fcceda9212c6bd306b3af5221c5b8f6b83d30ee89cfd",
    "estimators.py": "171b4e6f8a219573027c6add8879164587fbe8bc26cd9c1a61237ef72131adef",
    "preprocessing.py": "f2856a810451531852a3f34bc414d3bdf3112856146c3ddf395e0385b65285a1",
}
KEPT_MODULES = set(PRISTINE)
# Folders of the old layout that the toolkit replaces whole.
REPLACED_FOLDERS = ("registry", "gate")


class UpdateError(Exception):
    """One line for the user: nothing was changed."""


def git(project: Path, *args: str) -> str:
    result = subprocess.run(["git", *args], cwd=project, capture_output=True, text=True)
    if result.returncode != 0:
        raise UpdateError(f"git {' '.join(args)}: {result.stderr.strip() or 'failed'}")
    return result.stdout


def toolkit_version(toolkit: Path) -> tuple[int, ...] | None:
    """The version of a weighbridge folder, or None when ``toolkit`` is not one."""
    try:
        init = (toolkit / "src" / "weighbridge" / "__init__.py").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    found = re.search(r'^__version__ = "(\d+(?:\.\d+)*)"$', init, flags=re.M)
    return tuple(int(part) for part in found.group(1).split(".")) if found else None


def shown(version: tuple[int, ...]) -> str:
    return ".".join(map(str, version))


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
    if git(project, "rev-parse", "--is-shallow-repository").strip() == "true":
        raise UpdateError(f"{project} is a shallow clone: its first commit is not the bake's")


def require_no_untracked(project: Path, folders: list[str]) -> None:
    """Files git does not know would be lost with the folders the update replaces."""
    listed = git(project, "ls-files", "--others", "--", *folders).splitlines()
    found = [path for path in listed if "__pycache__" not in path and not path.endswith(".pyc")]
    if found:
        raise UpdateError(
            f"files git does not track are in folders the update replaces: {', '.join(found)} "
            "(commit or move them first)"
        )


def first_commit(project: Path) -> str:
    """The bake's commit: what the template wrote, before the project's own work."""
    roots = git(project, "rev-list", "--max-parents=0", "HEAD").split()
    if len(roots) != 1:
        raise UpdateError(f"{project} has {len(roots)} first commits: which one is the bake?")
    return roots[0]


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

    def split_names(match: re.Match) -> str:
        names = [name.strip() for name in match.group(1).split(",")]
        mine = [name for name in names if name.split(" as ")[0] in kept]
        theirs = [name for name in names if name not in mine]
        lines = [f"from weighbridge import {', '.join(theirs)}"] if theirs else []
        return "\n".join(lines + ([f"from . import {', '.join(mine)}"] if mine else []))

    source = re.sub(r"^from \.([\w.]+) ", absolute, source, flags=re.M)
    return re.sub(r"^from \. import ([\w ,]+)$", split_names, source, flags=re.M)


def missing_toolkit_imports(source: str) -> list[str]:
    """``weighbridge`` modules a rewritten file imports that the toolkit does not have."""
    kit = TOOLKIT / "src"
    missing = []
    for module, names in re.findall(r"^from (weighbridge[\w.]*) import ([\w ,]+)$", source, re.M):
        base = kit.joinpath(*module.split("."))
        for name in (n.strip().split(" as ")[0] for n in names.split(",")):
            if (
                module == "weighbridge"
                and not (base / f"{name}.py").exists()
                and not (base / name).is_dir()
            ):
                missing.append(f"weighbridge.{name}")
        if module != "weighbridge" and not (base.with_suffix(".py").exists() or base.is_dir()):
            missing.append(module)
    return missing


def replace_toolkit(project: Path) -> None:
    staging = project / ".toolkit.updating"  # ours: a name no project uses
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(TOOLKIT, staging, ignore=shutil.ignore_patterns("__pycache__"))
    if (project / "toolkit").exists():
        shutil.rmtree(project / "toolkit")
    staging.rename(project / "toolkit")


def edit(path: Path, changes: list[tuple[str, str]]) -> None:
    """Apply textual replacements (``plan_edits`` checked that each finds its text)."""
    text = path.read_text(encoding="utf-8")
    for old, new in changes:
        text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")


def split_layout(project: Path) -> list[str]:
    """Move a project baked before the split to the toolkit layout; return what to review.
    Everything is checked, and every file's new text computed, before anything is written."""
    package = package_of(project)
    src = f"src/{package}"
    baked = set(baked_files(project, src))
    template_files = sorted(p for p in baked if not is_kept_module(p, src))
    replaced = [f"{src}/{folder}" for folder in REPLACED_FOLDERS]
    theirs_inside = [
        path for path in git(project, "ls-files", "--", *replaced).splitlines() if path not in baked
    ]
    blocked = sorted(edited_since_bake(project, template_files)) + theirs_inside
    if blocked:
        raise UpdateError(
            f"these files are the template's, or inside its folders, and would be removed: "
            f"{', '.join(blocked)} (move your changes into the stage modules first)"
        )
    require_no_untracked(project, replaced)
    writes, removals, review = planned_writes(project, package, baked, set(template_files))
    edits = plan_edits(project, package)
    replace_toolkit(project)
    for path in [*(project / name for name in template_files), *removals]:
        path.unlink()
    for folder in replaced:  # empty now, but for caches
        shutil.rmtree(project / folder, ignore_errors=True)
    for path, text in writes.items():
        path.write_text(text, encoding="utf-8")
    for path, changes in edits.items():
        edit(project / path, changes)
    return review


def is_kept_module(path: str, src: str) -> bool:
    return Path(path).name in KEPT_MODULES and Path(path).parent.as_posix() == src


def planned_writes(
    project: Path, package: str, baked: set[str], removed: set[str]
) -> tuple[dict, list, list]:
    """The new text of each file the update writes, the old tests it removes, and the lines
    for the user to review."""
    src = project / "src" / package
    kept = {Path(name).stem for name in KEPT_MODULES}
    writes: dict[Path, str] = {}
    review = []
    for name in sorted(KEPT_MODULES):
        target = src / name
        if not target.is_file():
            review.append(f"src/{package}/{name}: absent, not added back")
        elif hashlib.sha256(target.read_bytes()).hexdigest() == PRISTINE[name]:
            writes[target] = (USER_PACKAGE / name).read_text(encoding="utf-8")
        else:
            text = rewrite_imports(target.read_text(encoding="utf-8"), kept)
            writes[target] = text
            missing = missing_toolkit_imports(text)
            lacking = f"; the toolkit has no {', '.join(missing)}" if missing else ""
            review.append(
                f"src/{package}/{name}: yours, kept (imports rewritten{lacking}; compare it "
                "with the template's new version: some names moved)"
            )
    # the user's own modules (those inside the replaced folders were refused already)
    for path in sorted(set(git(project, "ls-files", "--", f"src/{package}").splitlines()) - baked):
        review.append(f"{path}: yours, kept (check its imports of modules that moved)")
    old_tests = [path for path in baked_files(project, "tests") if path.endswith(".py")]
    own_tests = edited_since_bake(project, old_tests)
    new_files = {src / name: USER_PACKAGE / name for name in ("registry.py", "predict.py")}
    for test in TEMPLATE_TESTS.glob("*.py"):
        new_files[project / "tests" / test.name] = test
    for target, source in new_files.items():
        relative = target.relative_to(project).as_posix()
        replaceable = relative in removed or (relative in old_tests and relative not in own_tests)
        if target.exists() and not replaceable:
            raise UpdateError(f"{relative} is yours and the new template has a file of that name")
        writes[target] = source.read_text(encoding="utf-8").replace(PACKAGE_MARK, package)
    removals = []  # baked tests the project never edited: the old template's
    for path in old_tests:
        if path in own_tests:
            review.append(f"{path}: yours, kept (it may import modules that moved)")
        elif project / path not in writes:
            removals.append(project / path)
    return writes, removals, review


def plan_edits(project: Path, package: str) -> dict[str, list[tuple[str, str]]]:
    """The textual edits of pyproject.toml, the Makefile and dvc.yaml, checked to apply."""
    pyproject = (project / "pyproject.toml").read_text(encoding="utf-8")
    extra = "[s3]" if '"dvc-s3' in pyproject else ""
    scripts = re.search(r"\[project\.scripts\]\n(?:[^\n\[]+\n)*\n?", pyproject)
    # registry and predict are the toolkit's commands now; other scripts stay
    ours = re.compile(r'^(registry|predict) = "[\w.]+:main"\n', flags=re.M)
    scripts_left = ours.sub("", scripts.group(0)) if scripts else ""
    if scripts_left.strip() == "[project.scripts]":
        scripts_left = ""
    dvc_yaml = (project / "dvc.yaml").read_text(encoding="utf-8")

    def to_toolkit(match: re.Match) -> str:  # a dep or a comment naming a module that moves
        name = match.group(1)
        return match.group(0) if f"{name}.py" in KEPT_MODULES else f"{KIT}/{name}"

    moved_yaml = re.sub(rf"src/{package}/(\w+)(?=[./\s\"']|$)", to_toolkit, dvc_yaml)
    plan = {
        "pyproject.toml": [
            ("dependencies = [\n", f'dependencies = [\n    "weighbridge{extra}>=0.2",\n'),
            ('pythonpath = ["src"]', 'pythonpath = ["src", "toolkit/src"]'),
            (
                f'known-first-party = ["{package}"]\n',
                f'known-first-party = ["{package}"]\nknown-third-party = ["weighbridge"]\n',
            ),
            *([(scripts.group(0), scripts_left)] if scripts else []),
        ],
        "Makefile": [("pip install -e '.[dev]'", "pip install -e ./toolkit -e '.[dev]'")],
        "dvc.yaml": [(dvc_yaml, moved_yaml)] if moved_yaml != dvc_yaml else [],
    }
    for path, changes in plan.items():
        text = (project / path).read_text(encoding="utf-8")
        missing = [old.strip() for old, _ in changes if old not in text]
        if missing:
            raise UpdateError(f"{path}: cannot find {missing[0]!r} to update (edited by hand?)")
    require_no_dangling_deps(dvc_yaml, plan["dvc.yaml"], package)
    return plan


def require_no_dangling_deps(dvc_yaml: str, changes: list, package: str) -> None:
    """After the edits, dvc.yaml may name only the project's modules that stay."""
    for old, new in changes:
        dvc_yaml = dvc_yaml.replace(old, new)
    stays = {*KEPT_MODULES, "registry.py", "predict.py"}
    dangling = sorted(
        {path for path in re.findall(rf"src/{package}/([\w./]+)", dvc_yaml) if path not in stays}
    )
    if dangling:
        named = ", ".join(f"src/{package}/{path}" for path in dangling)
        raise UpdateError(f"dvc.yaml: {named} would name a module that moves: edit it by hand")


def update(project: Path) -> str:
    project = project.resolve()
    if not (project / "dvc.yaml").is_file():
        raise UpdateError(f"{project} has no dvc.yaml: not a project of this template")
    require_clean(project)
    new = toolkit_version(TOOLKIT)
    if os.path.lexists(project / "toolkit"):
        return update_toolkit(project, new)
    if not (project / "src" / package_of(project) / "registry").is_dir():
        raise UpdateError(f"{project}: neither a toolkit/ folder nor the layout before it")
    review = split_layout(project)
    lines = [f"moved {project} to the toolkit layout, weighbridge {shown(new)}", *review]
    lines.append("next: make install, dvc repro, review with git status, then commit")
    return "\n".join(lines)


def update_toolkit(project: Path, new: tuple[int, ...]) -> str:
    """Replace a project's weighbridge by this checkout's: never an older one, never a
    folder that is not a weighbridge of its own, nor one holding files git does not know."""
    folder = project / "toolkit"
    old = toolkit_version(folder)
    if folder.is_symlink() or old is None:
        raise UpdateError(f"{folder} is not a weighbridge toolkit folder: move it first")
    if old > new:
        raise UpdateError(f"{folder} holds weighbridge {shown(old)}, newer than {shown(new)}")
    require_no_untracked(project, ["toolkit"])
    replace_toolkit(project)
    return f"toolkit {shown(old)} -> {shown(new)} in {folder}"


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
