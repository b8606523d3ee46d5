"""Finish the generated project: prune, write data and schema, git + DVC, first commit.

Runs inside the new project folder. Every step is a small function the template tests
import; the context is read only under ``__main__``, through ``tojson``.
"""

from __future__ import annotations

import codecs
import importlib.util
import json
import math
import os
import re
import shlex
import shutil
import subprocess
import sys
import unicodedata
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from types import SimpleNamespace

RAW_CSV = Path("data/raw/dataset.csv")
TOOLKIT_SOURCE = Path("toolkit/src")  # the vendored toolkit, copied unrendered
PARAMS_YAML = Path("params.yaml")
PROJECT_NOTE = "  # This project: the hold-out rows are counted when the project is baked."
SCHEMA_YAML = Path("data/schema.yaml")
BUNDLED = {
    "breast_cancer": ("load_breast_cancer", "classification"),
    "wine": ("load_wine", "classification"),
    "diabetes": ("load_diabetes", "regression"),
}
TARGET = "target"
REMOTE_NAME = "storage"
REMOTE_SUFFIX = "-dvc-remote"
FIRST_COMMIT = "Initial project from cookiecutter-dvc-registry"
TERMINAL_ESCAPE_RE = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
# Every third-party module this hook imports (import name -> what `pip install` calls it);
# checked together before the first is used, so a missing one costs no half-made project.
HOOK_MODULES = {"yaml": "pyyaml", "pandas": "pandas"}
BUNDLED_MODULES = {"sklearn": "scikit-learn"}  # only the bundled datasets load through it


class HookError(Exception):
    """One line for the user; the hook exits 1 and cookiecutter removes the project."""


def prune(project: Path, context: dict) -> None:
    """Remove files that belong to options the user did not choose."""
    if context["ci"] == "none":
        shutil.rmtree(project / ".github", ignore_errors=True)


def bundled_frame(dataset: str):
    """A bundled scikit-learn dataset as one DataFrame with a ``target`` column."""
    try:
        from sklearn import datasets
    except ImportError as exc:
        raise HookError("scikit-learn and pandas are needed to write the dataset") from exc
    loader_name, _ = BUNDLED[dataset]
    bunch = getattr(datasets, loader_name)(as_frame=True)
    frame = bunch.frame.copy()
    if TARGET not in frame.columns:  # every bundled set names it "target"; keep it explicit
        frame[TARGET] = bunch.target
    return frame


def resolve_csv_path(csv_path: str) -> Path:
    """Same rule as pre_gen_project: relative to the folder cookiecutter was started in."""
    path = Path(csv_path).expanduser()
    base = os.environ.get("PWD", "")
    if not path.is_absolute() and base and Path(base).is_dir():
        path = Path(base) / path
    return path


def copy_without_bom(source: Path, target: Path) -> None:
    """Copy the user's CSV, dropping a leading UTF-8 byte order mark (spreadsheets write one)
    so that every tool reads the first column's name as written."""
    with source.open("rb") as reader, target.open("wb") as writer:
        head = reader.read(len(codecs.BOM_UTF8))
        writer.write(head.removeprefix(codecs.BOM_UTF8))
        shutil.copyfileobj(reader, writer)


def infer_schema(project: Path, target: str, task: str) -> tuple[dict, str]:
    """data/schema.yaml's content as the project's toolkit infers it from the raw CSV (one
    rule, unit-tested with the toolkit: toolkit/src/weighbridge/schema_inference.py), and
    its summary."""
    with toolkit_importable(project):
        inference = importlib.import_module("weighbridge.schema_inference")
        errors = importlib.import_module("weighbridge.errors")
        try:
            inferred = inference.infer_file(project / RAW_CSV, target, task)
        except errors.ProjectError as exc:
            raise HookError(f"csv_path: {exc}") from None
    return inference.schema_document(inferred.schema), inferred.summary()


@contextmanager
def toolkit_importable(project: Path) -> Iterator[None]:
    """The project's vendored toolkit on sys.path while the hook uses it."""
    toolkit = str(project / TOOLKIT_SOURCE)
    sys.path.insert(0, toolkit)
    try:
        yield
    finally:
        sys.path.remove(toolkit)


def write_schema(project: Path, document: dict) -> None:
    import yaml

    header = (
        "# Columns of data/raw/dataset.csv, checked by the prepare stage (inferred at bake\n"
        "# time; edit it when your data changes). dtype: int64 | float64 | bool | category |\n"
        "# datetime; role: feature | target | ignore (read, never given to the model);\n"
        "# nullable: may the value be missing (rows without a target are dropped).\n"
    )
    body = yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
    (project / SCHEMA_YAML).write_text(header + body, encoding="utf-8")


def write_data(project: Path, context: dict) -> dict:
    """Write data/raw/dataset.csv and data/schema.yaml; return the schema."""
    target_path = project / RAW_CSV
    target_path.parent.mkdir(parents=True, exist_ok=True)
    if context["dataset"] == "csv":
        copy_without_bom(resolve_csv_path(context["csv_path"]), target_path)
        target, task = context["target_column"], context["task"]
    else:
        bundled_frame(context["dataset"]).to_csv(target_path, index=False, lineterminator="\n")
        target, task = TARGET, BUNDLED[context["dataset"]][1]
    document, summary = infer_schema(project, target, task)
    write_schema(project, document)
    print(summary)
    return document


def tune_params(project: Path, document: dict) -> None:
    """params.yaml's gate section computed for this data: how many rows the split holds
    out and what one of them weighs, and on imbalanced classes a metric that a model always
    answering the majority class cannot win (the rule: the toolkit's balance.py). Only the
    toolkit's light modules are imported: the bake needs no scikit-learn for a CSV."""
    import yaml

    path = project / PARAMS_YAML
    with toolkit_importable(project):
        names = ("errors", "schema", "reading", "splitting", "balance")
        modules = {name: importlib.import_module(f"weighbridge.{name}") for name in names}
    text = path.read_text(encoding="utf-8")
    prepare = yaml.safe_load(text)["prepare"]
    schema = modules["schema"].load_schema(project / SCHEMA_YAML)
    try:
        frame = modules["reading"].read_raw(project / RAW_CSV, schema, with_ignored=False)
    except modules["errors"].ProjectError:  # prepare will name what is wrong with the data
        text = text.replace(PROJECT_NOTE, "  # This project: prepare prints its hold-out size.")
        path.write_text(text, encoding="utf-8")
        return
    frame = frame[frame[schema.target].notna()]  # prepare drops rows without a target
    rows = holdout_rows(frame, schema, prepare, modules["splitting"])
    note = f"  # This project: {rows} hold-out rows; one row is {1 / max(rows, 1):.4f} of accuracy."
    text = text.replace(PROJECT_NOTE, note)
    balance = modules["balance"]
    target = next(c["name"] for c in document["columns"] if c.get("role") == "target")
    raw = raw_text_column(project / RAW_CSV, target)  # the labels as written, for the note
    values = raw[~raw.isin(modules["reading"].MISSING_TOKENS)]
    shares = balance.imbalance(values) if schema.task == "classification" else None
    if shares is not None:
        text = text.replace(
            "  metric: accuracy #",
            f"  # balanced_accuracy, not accuracy: the classes are imbalanced ({shares})\n"
            f"  metric: {balance.BALANCED_METRIC} #",
        )
    path.write_text(text, encoding="utf-8")


def holdout_rows(frame, schema, prepare: dict, splitting) -> int:
    """How many rows prepare will hold out: exactly for the hash split (a row's side is a
    function of the row), else test_size of the rows, rounded up as train_test_split does."""
    if prepare.get("split") == "hash":
        rule = SimpleNamespace(test_size=prepare["test_size"], seed=prepare["seed"])
        return int(splitting.held_out(splitting.row_keys(frame, schema), rule).sum())
    return math.ceil(len(frame) * prepare["test_size"])


def raw_text_column(path: Path, column: str):
    import pandas as pd

    frame = pd.read_csv(path, usecols=[column], dtype=str, keep_default_na=False)
    return frame[column].str.strip()


def dvc_command() -> list[str]:
    """DVC from this interpreter when importable (the venv cookiecutter runs in), else PATH."""
    if module_found("dvc"):
        return [sys.executable, "-m", "dvc"]
    found = shutil.which("dvc")
    if not found:
        raise HookError("dvc is not installed (pip install dvc), needed because init_git=yes")
    return [found]


def git_command() -> list[str]:
    found = shutil.which("git")
    if not found:
        raise HookError("git is not installed, needed because init_git=yes")
    return [found]


def command_title(command: list[str]) -> str:
    """`git commit`, `dvc push`: the tool and its subcommand, without interpreter or options."""
    words = command[2:] if command[1:2] == ["-m"] else [Path(command[0]).name, *command[1:]]
    tool, args = words[0], iter(words[1:])
    for arg in args:
        if arg == "-c":
            next(args, None)  # the value of git's -c
        elif not arg.startswith("-"):
            return f"{tool} {arg}"
    return tool


def run(command: list[str], cwd: Path) -> str:
    env = {**os.environ, "DVC_NO_ANALYTICS": "1"}
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        output = (result.stderr or result.stdout).strip().splitlines()
        last = output[-1].strip() if output else f"exit status {result.returncode}"
        raise HookError(f"`{command_title(command)}` failed: {last}")
    return result.stdout


def remote_url(project: Path, context: dict) -> str:
    """storage=local: a folder beside the project, so a clone on this machine reaches it."""
    if context["storage"] == "s3":
        prefix = context.get("s3_prefix", "").strip("/")
        return f"s3://{context['s3_bucket']}/{prefix}" if prefix else f"s3://{context['s3_bucket']}"
    return str((project.parent / f"{context['project_slug']}{REMOTE_SUFFIX}").resolve())


def empty_folder(path: Path) -> None:
    """Remove everything inside ``path``, keep ``path`` itself."""
    for child in path.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)


def claim_remote_folder(path: Path, undo: ExitStack) -> None:
    """Create the local remote folder, or take an empty one, and register on ``undo`` how a
    failed bake gives it back: removed when this run made it, emptied again otherwise."""
    try:
        path.mkdir()
    except FileExistsError:
        if not path.is_dir() or any(path.iterdir()):  # pre_gen_project checked it; a race
            raise HookError(f"{path} already exists and is not an empty folder") from None
        undo.callback(empty_folder, path)
    else:
        undo.callback(shutil.rmtree, path, ignore_errors=True)


def configure_remote(project: Path, context: dict, dvc: list[str], undo: ExitStack) -> None:
    url = remote_url(project, context)
    if context["storage"] == "local":
        claim_remote_folder(Path(url), undo)
    run([*dvc, "remote", "add", "--default", REMOTE_NAME, url], project)
    endpoint = context.get("s3_endpoint_url", "")
    if context["storage"] == "s3" and endpoint:
        run([*dvc, "remote", "modify", REMOTE_NAME, "endpointurl", endpoint], project)


def identity_args(project: Path, context: dict, git: list[str]) -> list[str]:
    """Use the author as committer only when git has no identity configured."""
    args = []
    for key, value in (("user.name", "author_name"), ("user.email", "author_email")):
        found = subprocess.run([*git, "config", key], cwd=project, capture_output=True, text=True)
        if found.returncode != 0 or not found.stdout.strip():
            args += ["-c", f"{key}={context[value]}"]
    return args


def init_repository(project: Path, context: dict, undo: ExitStack) -> None:
    git, dvc = git_command(), dvc_command()
    run([*git, "init", "-b", "main"], project)
    run([*dvc, "init"], project)
    # No usage reports leave this machine from the project's DVC.
    run([*dvc, "config", "core.analytics", "false"], project)
    run([*dvc, "add", str(RAW_CSV)], project)
    configure_remote(project, context, dvc, undo)
    if context["storage"] == "local":
        run([*dvc, "push", "--quiet"], project)
    run([*git, "add", "--all"], project)
    run(
        [*git, *identity_args(project, context, git), "commit", "--quiet", "-m", FIRST_COMMIT],
        project,
    )


def visible(text: str) -> str:
    """Text safe for the user's terminal on one line: a tool's colour codes are dropped and
    other control characters (a newline in a path) shown escaped."""
    text = TERMINAL_ESCAPE_RE.sub("", text)
    return "".join(repr(c)[1:-1] if unicodedata.category(c) == "Cc" else c for c in text)


def one_line(exc: BaseException) -> str:
    """An exception as one line that names its cause."""
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.strerror}: {exc.filename}" if exc.filename else exc.strerror
    if isinstance(exc, ImportError) and exc.name:
        return f"the Python package {exc.name} is needed to finish the project"
    lines = str(exc).strip().splitlines()
    text = lines[0] if lines else ""
    return text if isinstance(exc, HookError) else f"{exc.__class__.__name__}: {text}"


def importable(module: str) -> bool:
    """Really import it: a package that is present but broken counts as missing."""
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True


def module_found(module: str) -> bool:
    """Found without importing it (dvc runs in its own process; importing it costs ~1 s)."""
    try:
        return importlib.util.find_spec(module) is not None
    except ImportError:
        return False


def missing_requirements(context: dict) -> str | None:
    """One line naming everything this bake needs and lacks, or None."""
    modules = dict(HOOK_MODULES)
    if context["dataset"] in BUNDLED:
        modules |= BUNDLED_MODULES
    packages = [package for module, package in modules.items() if not importable(module)]
    tools = []
    if context["init_git"] == "yes":
        if not (module_found("dvc") or shutil.which("dvc")):  # as dvc_command looks
            packages.append("dvc")
        if not shutil.which("git"):
            tools.append("git")
    if not packages and not tools:
        return None
    fixes = [f"pip install {' '.join(packages)}"] if packages else []
    if tools:
        fixes.append("install git with your system's package manager (or bake with init_git=no)")
    return f"the bake needs {', '.join(packages + tools)}: {'; '.join(fixes)}"


def replay_hint(context: dict) -> str:
    """cookiecutter saved the answers before generating: how to bake again without retyping."""
    template = context.get("_template")
    if not template:
        return ""
    return f" (then `cookiecutter --replay {shlex.quote(template)}` reuses your answers)"


def shown_path(project: Path) -> str:
    """The project as the user's shell reaches it: relative to where cookiecutter was started."""
    base = os.environ.get("PWD", "")
    if base and project.resolve().is_relative_to(Path(base).resolve()):
        return os.path.relpath(project.resolve(), Path(base).resolve())
    return str(project.resolve())


def next_steps(context: dict, project: Path) -> str:
    """What to type after a bake, one command a line, ready to paste."""
    lines = [f"cd {shlex.quote(shown_path(project))}", "make install", "source .venv/bin/activate"]
    if context["init_git"] == "yes":
        commit = 'git add -A && git commit -m "Train the first model"'
        lines += ["dvc repro", commit, "registry register"]
    else:
        lines.append("# init_git=no: run git init -b main and dvc init here before dvc repro")
    steps = "".join(f"  {line}\n" for line in lines)
    name = visible(context["project_name"])
    return f"\nBaked {name} into {project.resolve()}\nNext steps:\n{steps}"


def main(context: dict, project: Path) -> int:
    """Exit 1 with one line on any failure; cookiecutter then removes the project folder
    and ``undo`` what this run made beside it (the local remote), so nothing is left."""
    missing = missing_requirements(context)
    if missing:
        print(f"error: {visible(missing)}{visible(replay_hint(context))}", file=sys.stderr)
        return 1
    try:
        with ExitStack() as undo:
            prune(project, context)
            document = write_data(project, context)
            tune_params(project, document)
            if context["init_git"] == "yes":
                init_repository(project, context, undo)
            undo.pop_all()  # finished: keep everything
    except Exception as exc:  # any failure: one line, never a traceback
        print(f"error: {visible(one_line(exc))}", file=sys.stderr)
        return 1
    print(next_steps(context, project), end="")
    return 0


if __name__ == "__main__":
    # ''' on purpose: tojson escapes ' (never "), so the JSON cannot close the string.
    sys.exit(main(json.loads(r'''{{ cookiecutter | tojson }}'''), Path.cwd()))  # fmt: skip
