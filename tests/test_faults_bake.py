"""Issue 8, bake time: hostile names bake files that parse, a BOM CSV is read, the local DVC
remote folder is never someone else's, and a failed bake leaves nothing on disk.

Most cases call the hooks' functions directly (the hooks are importable modules); the few
bakes use init_git=no unless git and DVC are the point.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import os
import sys
from contextlib import ExitStack
from pathlib import Path

import pytest
import yaml
from cookiecutter.exceptions import FailedHookException
from cookiecutter.generate import generate_context
from cookiecutter.main import cookiecutter
from cookiecutter.prompt import prompt_for_config

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from local_extensions import quoted
from tests.helpers import TEMPLATE_DIR, load_hook, run
from tests.test_bake import assert_structured_files_parse

pre_gen = load_hook("pre_gen_project")
post_gen = load_hook("post_gen_project")

BOM = codecs.BOM_UTF8.decode()
# Each writes something a naive quoting breaks: a surrogate pair (emoji), a combining mark,
# right-to-left text and a bidi override, YAML and Python line separators, NBSP, quotes,
# backslashes, Jinja delimiters (literal, through {% raw %}), YAML indicators and values.
EMOJI_NAME = "Smile 😀 Cafe\u0301 \u05e9\u05dc\u05d5\u05dd \u202eevil\u202c 👨\u200d👩\u200d👧"
HOSTILE_NAME = (
    'Model - yes: null\u2028{% raw %}{{ x }} {% y %}{% endraw %}\u2029 "q" \\ \u00a0 .nan'
    " #c &a *b !t | 'it''s' \ufeff"
)


def rendered(value: str) -> str:
    """What cookiecutter makes of a value given on its command line (it renders it)."""
    return value.replace("{% raw %}", "").replace("{% endraw %}", "")


def bake_into(output_dir: Path, **context: str) -> Path:
    """Bake into a chosen folder (pytest-cookies picks a fresh one), with a private config."""
    config = output_dir.parent / "cookiecutter-config.yaml"
    config.write_text(
        f"cookiecutters_dir: {output_dir.parent / 'cookiecutters'}\n"
        f"replay_dir: {output_dir.parent / 'replay'}\n"
    )
    project = cookiecutter(
        str(TEMPLATE_DIR),
        no_input=True,
        output_dir=str(output_dir),
        config_file=str(config),
        extra_context=context,
    )
    return Path(project)


def failure_lines(capfd) -> list[str]:
    err = capfd.readouterr().err
    assert "Traceback" not in err, err
    return [line for line in err.splitlines() if line.strip()]


def snapshot(root: Path) -> dict[str, str]:
    """Every entry under root (root included): kind and content hash or link target."""
    entries = {}
    for path in [root, *sorted(root.rglob("*"))] if root.is_dir() else [root]:
        key = str(path.relative_to(root.parent))
        if path.is_symlink():
            entries[key] = "link:" + os.readlink(path)
        elif path.is_file():
            entries[key] = "file:" + hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            entries[key] = "dir"
    return entries


# --- 1. Unicode and hostile names: every baked TOML/YAML/JSON parses and reads back --------


def test_quoted_reads_back_every_character_in_toml_yaml_and_json():
    # Every BMP character but surrogates, and a sample beyond (emoji, private use, tags).
    text = "".join(
        chr(code)
        for code in range(0x110000)
        if not 0xD800 <= code <= 0xDFFF and (code < 0x10000 or code % 251 == 0)
    )
    literal = quoted(text)
    assert tomllib.loads(f"x = {literal}")["x"] == text
    assert yaml.safe_load(f"x: {literal}")["x"] == text
    assert json.loads(literal) == text
    # Before the fix, Jinja's tojson wrote U+1F600 as \ud83d\ude00, which TOML refuses.
    assert "\\ud83d" not in quoted("😀")


@pytest.mark.parametrize(
    "value",
    ["yes", "null", "~", ".nan", "- a", ": b", "#c", "&a", "*b", "!t", "|", "%YAML", "@", "`",
     "{{ x }}", "{% if %}", "'", '"', "\\", "", " ", "\u2028", "\x85", "\ufeff"],
)  # fmt: skip
def test_quoted_keeps_yaml_special_values_as_strings(value):
    literal = quoted(value)
    assert yaml.safe_load(f"key: {literal}")["key"] == value
    assert tomllib.loads(f"key = {literal}")["key"] == value


def build_metadata(project: Path) -> str:
    """What `pip install` (make install) does first: setuptools reads pyproject.toml."""
    code = (
        "import sys, pathlib\n"
        "from setuptools import build_meta\n"
        "out = pathlib.Path(sys.argv[1]); out.mkdir()\n"
        "name = build_meta.prepare_metadata_for_build_wheel(str(out))\n"
        "print((out / name / 'METADATA').read_text(encoding='utf-8'))\n"
    )
    return run([sys.executable, "-c", code, str(project / ".metadata")], project).stdout


@pytest.mark.parametrize(
    ("project_name", "author_name", "author_email"),
    [
        pytest.param(
            EMOJI_NAME, "Zoë 😀 O'Neil, \u2028 \\", "zoe@example.com", id="emoji-rtl-combining"
        ),
        pytest.param(
            HOSTILE_NAME,
            'Dr. "X" {% raw %}{{ y }}{% endraw %}',
            "o'neil+ml@exämple.com",
            id="yaml-jinja-quotes",
        ),
    ],
)
def test_hostile_names_bake_files_that_parse_and_read_back(
    cookies, project_name, author_name, author_email
):
    context = {"project_name": project_name, "author_name": author_name}
    result = cookies.bake(extra_context={**context, "author_email": author_email, "init_git": "no"})
    assert result.exception is None, result.exception
    project = Path(result.project_path)
    name, author = rendered(project_name), rendered(author_name)

    assert assert_structured_files_parse(project) >= 4
    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["description"] == name
    assert pyproject["project"]["authors"][0]["name"] == author
    dvc_yaml = yaml.safe_load((project / "dvc.yaml").read_text(encoding="utf-8"))
    assert dvc_yaml["artifacts"]["classifier"]["desc"] == f"scikit-learn model of {name}"
    title = (project / "README.md").read_text(encoding="utf-8").split("\n")[0]
    assert title == f"# {name}"
    assert "Summary: " in build_metadata(project)


# --- 2. A CSV whose header starts with a UTF-8 byte order mark ------------------------------


def write_user_csv(path: Path, *, bom: bool) -> Path:
    rows = ["x1,x2,label"] + [f"{i},{i * 0.5},{i % 2}" for i in range(20)]
    path.write_bytes((codecs.BOM_UTF8 if bom else b"") + "\r\n".join(rows).encode() + b"\r\n")
    return path


def test_pre_gen_finds_the_target_column_after_a_byte_order_mark(tmp_path):
    data = write_user_csv(tmp_path / "excel.csv", bom=True)
    # Before: ('target_column', "'label' is not a column of …") for the first column.
    assert pre_gen.check_csv(str(data), "label", "classification") is None
    assert pre_gen.check_csv(str(data), "x1", "regression") is None


def with_data_package(project: Path, package: str) -> Path:
    """The generated package's data floor, which post_gen_project infers the schema with
    (these modules hold no template markup, so they run as they are)."""
    source = (
        TEMPLATE_DIR / "{{cookiecutter.project_slug}}" / "src" / "{{cookiecutter.package_name}}"
    )
    (project / "src" / package).mkdir(parents=True)
    for name in ("__init__", "errors", "schema", "reading", "row_shape", "schema_inference"):
        (project / "src" / package / f"{name}.py").write_text((source / f"{name}.py").read_text())
    return project


def test_post_gen_writes_the_raw_csv_without_the_byte_order_mark(tmp_path):
    source = write_user_csv(tmp_path / "excel.csv", bom=True)
    project = with_data_package(tmp_path / "project", "bom_package")
    context = {"dataset": "csv", "csv_path": str(source), "target_column": "x2"}
    context.update(task="regression", package_name="bom_package")

    schema = post_gen.write_data(project, context)

    raw = (project / post_gen.RAW_CSV).read_bytes()
    assert raw == source.read_bytes()[len(codecs.BOM_UTF8) :], "only the BOM may be dropped"
    columns = {column["name"]: column["role"] for column in schema["columns"]}
    # x1, behind the BOM, is found by its name: a row number (0..19), so not a feature
    assert columns == {"x1": "ignore", "x2": "target", "label": "feature"}


def test_bom_csv_bakes(cookies, tmp_path):
    data = write_user_csv(tmp_path / "excel.csv", bom=True)
    result = cookies.bake(
        extra_context={
            "dataset": "csv",
            "csv_path": str(data),
            "target_column": "x1",  # the first column, the one behind the BOM
            "task": "regression",
            "init_git": "no",
        }
    )
    assert result.exception is None, result.exception
    project = Path(result.project_path)
    assert not (project / "data/raw/dataset.csv").read_bytes().startswith(codecs.BOM_UTF8)
    schema = yaml.safe_load((project / "data/schema.yaml").read_text(encoding="utf-8"))
    assert schema["columns"][0] == {
        "name": "x1",
        "dtype": "int64",
        "role": "target",
        "nullable": False,
    }


# --- 3. <slug>-dvc-remote already there: refused before anything is written -----------------


def make_file(path: Path) -> None:
    path.write_bytes(b"notes of another project\n")


def make_other_dvc_remote(path: Path) -> None:
    objects = path / "files" / "md5" / "ab"
    objects.mkdir(parents=True)
    (objects / "cdef0123456789").write_bytes(b"someone else's data")


def make_dangling_link(path: Path) -> None:
    path.symlink_to(path.parent / "nowhere")


@pytest.mark.parametrize(
    "make", [make_file, make_other_dvc_remote, make_dangling_link], ids=lambda f: f.__name__
)
def test_existing_remote_path_is_refused_and_left_untouched(capfd, tmp_path, make):
    out = tmp_path / "out"
    out.mkdir()
    remote = out / "breast-cancer-classifier-dvc-remote"
    make(remote)
    before = snapshot(out)

    with pytest.raises(FailedHookException):
        bake_into(out)

    assert failure_lines(capfd) == [
        f"error: project_slug: {remote} already exists and is not an empty folder "
        "(the DVC remote goes there); move it away or choose another project_slug"
    ]
    assert snapshot(out) == before, "the bake changed the output folder"


@pytest.mark.parametrize("state", ["absent", "empty folder"])
def test_remote_path_absent_or_empty_folder_is_accepted(tmp_path, state):
    remote = tmp_path / "p-dvc-remote"
    if state == "empty folder":
        remote.mkdir()
    assert pre_gen.check_remote_folder(remote) is None


# --- 4. A 300-character project name: the derived slug is capped -----------------------------


def derived(**context: str) -> dict:
    """The variables cookiecutter derives from ``context``, as a bake would (no files)."""
    raw = generate_context(str(TEMPLATE_DIR / "cookiecutter.json"), extra_context=context)
    return prompt_for_config(raw, no_input=True)


def test_long_project_name_derives_a_slug_of_at_most_50_characters():
    # Before: a slug of 299 characters, and cookiecutter failed to create the folder.
    variables = derived(project_name="word " * 60)
    assert variables["project_slug"] == "-".join(["word"] * 10)  # cut between words
    assert variables["package_name"] == "_".join(["word"] * 10)
    assert pre_gen.validate(variables) is None


def test_long_word_is_cut_without_a_trailing_hyphen():
    slug = derived(project_name="a" * 49 + "-b " + "c" * 300)["project_slug"]
    assert slug == "a" * 49 and pre_gen.check_project_slug(slug) is None


def test_project_name_without_letters_derives_a_usable_slug():
    # Before: an empty slug, so cookiecutter used the output folder itself as the project.
    variables = derived(project_name="😀 🚀")
    assert variables["project_slug"] == "project"
    assert pre_gen.validate(variables) is None


# --- 5. A post-gen failure after the remote was created leaves nothing ---------------------


@pytest.mark.slow
def test_failed_post_gen_removes_the_remote_folder_it_created(
    cookies, capfd, tmp_path, monkeypatch
):
    # A real failure after `dvc push` filled the remote: the user's global pre-commit hook
    # (core.hooksPath, as pre-commit frameworks install it) refuses the first commit.
    hooks = tmp_path / "git-hooks"
    hooks.mkdir()
    (hooks / "pre-commit").write_text("#!/bin/sh\necho 'policy: no commits here' >&2\nexit 1\n")
    (hooks / "pre-commit").chmod(0o755)
    gitconfig = Path(os.environ["GIT_CONFIG_GLOBAL"]).read_text()
    config = tmp_path / "gitconfig"
    config.write_text(f"{gitconfig}[core]\n\thooksPath = {hooks}\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))

    result = cookies.bake(extra_context={})

    assert isinstance(result.exception, FailedHookException)
    # pytest-cookies baked into <tmp_path>/cookies/bake00: no project, no remote beside it.
    left = list((tmp_path / "cookies" / "bake00").iterdir())
    assert left == [], f"left on disk: {left}"
    assert failure_lines(capfd) == ["error: `git commit` failed: policy: no commits here"]


def test_undo_removes_a_remote_folder_this_run_created(tmp_path):
    remote = tmp_path / "p-dvc-remote"
    with pytest.raises(RuntimeError), ExitStack() as undo:
        post_gen.claim_remote_folder(remote, undo)
        (remote / "files").mkdir()
        raise RuntimeError("a later step failed")
    assert not remote.exists()


def test_undo_empties_again_an_empty_remote_folder_the_user_made(tmp_path):
    remote = tmp_path / "p-dvc-remote"
    remote.mkdir()
    with pytest.raises(RuntimeError), ExitStack() as undo:
        post_gen.claim_remote_folder(remote, undo)
        (remote / "files" / "md5").mkdir(parents=True)
        (remote / "tmp").write_text("x")
        raise RuntimeError("a later step failed")
    assert remote.is_dir() and list(remote.iterdir()) == []


def test_claim_refuses_a_non_empty_remote_folder_and_keeps_it(tmp_path):
    remote = tmp_path / "p-dvc-remote"
    make_other_dvc_remote(remote)
    before = snapshot(remote)
    with pytest.raises(post_gen.HookError, match="already exists"), ExitStack() as undo:
        post_gen.claim_remote_folder(remote, undo)
    assert snapshot(remote) == before


# --- 6. The post-gen hook fails with one line, never a traceback ----------------------------


def test_post_gen_main_reports_an_os_error_in_one_line(tmp_path, capsys):
    # The CSV vanished between pre_gen's check and post_gen's copy (before: a traceback).
    context = {"ci": "none", "dataset": "csv", "csv_path": str(tmp_path / "gone\n.csv")}
    context |= {"target_column": "y", "task": "regression", "init_git": "no"}

    assert post_gen.main(context, tmp_path / "project") == 1

    err = capsys.readouterr().err
    assert err == f"error: No such file or directory: {tmp_path}/gone\\n.csv\n"


def test_post_gen_shows_no_terminal_escapes_from_a_tool(tmp_path, capsys):
    # A pre-commit hook's coloured refusal, as `run` quotes its last line.
    code = "import sys; sys.stderr.write('\\x1b[31mrefused\\x1b[0m\\x07\\n'); sys.exit(1)"
    with pytest.raises(post_gen.HookError) as failure:
        post_gen.run([sys.executable, "-c", code], tmp_path)
    assert post_gen.visible(str(failure.value)).endswith("failed: refused\\x07")


@pytest.mark.parametrize(
    ("command", "title"),
    [
        ([sys.executable, "-m", "dvc", "push", "--quiet"], "dvc push"),
        (["/usr/bin/git", "-c", "user.name=a b", "commit", "--quiet", "-m", "x"], "git commit"),
        (["/usr/bin/git", "init", "-b", "main"], "git init"),
    ],
)
def test_failed_command_is_named_by_tool_and_subcommand(command, title):
    assert post_gen.command_title(command) == title
