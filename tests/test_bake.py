"""Every supported combination of options bakes a project that is valid, clean and tested.

The list below is the contract of what we support, in the manner of cookiecutter-django's
generation tests: each entry is baked, searched for left-over Jinja, every structured file is
parsed, the code is linted with the project's own ruff settings, and the project's own test
suite is run.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
import yaml

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from tests.helpers import TOOLKIT_DIR, bake_ok, remote_url, run

HOSTILE_NAME = "Dr. O'Brien's \"Quoted\" \\ Model 😀"  # the emoji: issue 8

SUPPORTED = [
    pytest.param({}, id="defaults"),
    pytest.param({"dataset": "wine", "ci": "none"}, id="wine-local-noci"),
    pytest.param(
        {
            "dataset": "diabetes",
            "storage": "s3",
            "s3_bucket": "team-models",
            "s3_endpoint_url": "http://127.0.0.1:9000",
        },
        id="diabetes-s3-endpoint-github",
    ),
    pytest.param(
        {"storage": "s3", "s3_bucket": "team-models", "ci": "none", "python_version": "3.13"},
        id="breast_cancer-s3-aws-noci",
    ),
    pytest.param({"dataset": "csv", "target_column": "species"}, id="csv-classification"),
    pytest.param(
        {"dataset": "csv", "target_column": "progress", "task": "regression", "ci": "none"},
        id="csv-regression",
    ),
    pytest.param(
        {
            "project_name": HOSTILE_NAME,
            "author_name": 'Zoë "Z" O\'Neil \\',
            "model_name": "fraud/scorer_v2",
        },
        id="hostile-names",
    ),
    pytest.param({"init_git": "no", "dataset": "wine"}, id="no-git"),
]

# `${{ }}` is GitHub Actions' syntax and `%}` ends a format spec such as f"{x:.0%}".
LEFTOVER_JINJA = re.compile(r"(?<!\$)\{\{|\{%|\{#|\bcookiecutter\.")
TEXT_SUFFIXES = {".py", ".toml", ".yaml", ".yml", ".json", ".md", ".cfg", ".txt", ".csv", ""}
SKIP_DIRS = {".git", ".dvc", "__pycache__", ".ruff_cache", ".pytest_cache"}


def project_files(project: Path):
    for path in sorted(project.rglob("*")):
        if path.is_file() and not SKIP_DIRS.intersection(path.relative_to(project).parts):
            yield path


def assert_no_jinja_left(project: Path) -> None:
    for path in project_files(project):
        if path.suffix in TEXT_SUFFIXES or path.name in {"Makefile", ".gitignore"}:
            text = path.read_text(encoding="utf-8")
            match = LEFTOVER_JINJA.search(text)
            assert match is None, f"Jinja left in {path.relative_to(project)}: {match.group()!r}"


def assert_structured_files_parse(project: Path) -> int:
    parsers = {
        ".yaml": yaml.safe_load,
        ".yml": yaml.safe_load,
        ".json": json.loads,
        ".toml": tomllib.loads,
        ".lock": yaml.safe_load,  # dvc.lock
        ".dvc": yaml.safe_load,
    }
    parsed = 0
    for path in project_files(project):
        parser = parsers.get(path.suffix)
        if parser is None:
            continue
        try:
            parser(path.read_text(encoding="utf-8"))
        except Exception as exc:  # any parser's error is a failure of this bake
            pytest.fail(f"{path.relative_to(project)} does not parse: {exc}")
        parsed += 1
    return parsed


def assert_toolkit_is_the_templates(project: Path) -> None:
    """The vendored toolkit is the same bytes in every bake: the template's, unrendered."""
    baked, source = project / "toolkit", TOOLKIT_DIR

    def files(root: Path) -> dict[str, bytes]:
        paths = (p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
        return {str(p.relative_to(root)): p.read_bytes() for p in paths}

    assert files(baked) == files(source)


def assert_lint_clean(project: Path) -> None:
    ruff = [sys.executable, "-m", "ruff"]
    run([*ruff, "check", "--no-cache", "."], project)
    run([*ruff, "format", "--check", "--no-cache", "."], project)


@pytest.fixture
def user_csvs(tmp_path: Path) -> dict[str, Path]:
    """Two CSV files a user could bring: string class labels, and a numeric target."""
    from sklearn.datasets import load_iris, load_linnerud

    iris = load_iris(as_frame=True)
    frame = iris.data.rename(columns=lambda c: c.replace(" (cm)", "").replace(" ", "_"))
    frame["species"] = [iris.target_names[i] for i in iris.target]
    classification = tmp_path / "flowers.csv"
    frame.to_csv(classification, index=False)

    linnerud = load_linnerud(as_frame=True)
    frame = linnerud.data.copy()
    frame["progress"] = linnerud.target["Weight"]
    regression = tmp_path / "fitness.csv"
    frame.to_csv(regression, index=False)
    return {"species": classification, "progress": regression}


@pytest.mark.parametrize("options", SUPPORTED)
def test_supported_combination_bakes_clean(cookies, options, user_csvs):
    context = dict(options)
    if context.get("dataset") == "csv":
        context["csv_path"] = str(user_csvs[context["target_column"]])

    project = bake_ok(cookies, **context)

    assert_no_jinja_left(project)
    assert_toolkit_is_the_templates(project)
    assert assert_structured_files_parse(project) >= 4  # params, dvc.yaml, pyproject, schema
    assert_lint_clean(project)
    has_workflows = (project / ".github" / "workflows").is_dir()
    assert has_workflows == (context.get("ci", "github") == "github")
    # The defaults run the project's whole suite; the other bakes its fast part, since the
    # slow part drives DVC and remotes the same way whatever the options.
    selection = [] if not options else ["-m", "not slow"]
    tests = run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *selection], project
    )
    assert re.search(r"\d+ passed", tests.stdout), tests.stdout
    assert " failed" not in tests.stdout, tests.stdout


def test_hostile_name_survives_as_data(cookies):
    project = bake_ok(cookies, project_name=HOSTILE_NAME)
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert pyproject["project"]["description"] == HOSTILE_NAME, "project name was altered"
    assert project.name == "dr-obriens-quoted-model"  # issue 11: no "-s-" for an apostrophe


def test_git_is_initialised_clean_with_data_tracked(default_project):
    status = run(["git", "status", "--porcelain"], default_project).stdout
    assert status == "", f"work tree not clean after bake:\n{status}"
    branch = run(["git", "branch", "--show-current"], default_project).stdout.strip()
    assert branch == "main"
    tracked = run(["git", "ls-files"], default_project).stdout.splitlines()
    assert "data/raw/dataset.csv.dvc" in tracked
    assert "data/raw/dataset.csv" not in tracked, "raw data must be in DVC, not git"
    remote_path = Path(remote_url(default_project))
    assert remote_path.is_absolute() and default_project not in remote_path.parents
