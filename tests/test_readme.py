"""Both READMEs are executable documentation (SPEC §2): their ```bash blocks run as written.

The template README's set-up (a fresh venv, its install line, the bake) runs in a copy of this
repository; the generated README then runs, in order and in one shell, on that fresh bake:
`make install`, train, register, promote, retrain, roll back, deploy, predict, plots. The
same generated README runs again for `storage=s3` against the moto server on 127.0.0.1, with
the credentials in the environment as its set-up says. The test venv is taken off the PATH,
so every tool the README uses must come from the README's own installs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import VENV_BIN
from tests.helpers import TEMPLATE_DIR, bake_ok
from tests.readme_runner import (
    FAILED,
    bash_blocks,
    run_readme,
    unchecked_lists,
    without_dir_on_path,
)

DEFAULT_SLUG = "breast-cancer-classifier"


def user_env() -> dict[str, str]:
    """The isolated test environment (git identity, DVC config) without the test venv."""
    return without_dir_on_path(os.environ, VENV_BIN)


def copy_of_template(dest: Path) -> Path:
    """What a clone would hold: the tracked and new (not ignored) files, as they are now."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=TEMPLATE_DIR,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = TEMPLATE_DIR / name
        if source.is_file():
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return dest


def test_bash_blocks_are_the_bash_fences_only():
    text = (
        "```bash\necho one\n```\n\n```text\necho two\n```\n```console\n$ x\n```\n```bash\nb\n```\n"
    )
    assert bash_blocks(text) == ["echo one", "b"]


def test_runner_stops_at_the_first_failing_command(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(
        "```bash\necho before\nfalse-command-that-does-not-exist --flag\ntouch after\n```\n"
    )
    with pytest.raises(AssertionError) as failed:
        run_readme(readme, tmp_path, user_env())
    assert f"{FAILED} (exit 127): false-command-that-does-not-exist --flag" in str(failed.value)
    assert "before" in str(failed.value)
    assert not (tmp_path / "after").exists()


def test_runner_refuses_lists_that_set_e_cannot_check(tmp_path):
    blocks = ["git add -A && git commit -m x", "python - <<'EOF'\nprint(1 or 2 || 3)\nEOF"]
    assert unchecked_lists(blocks) == ["git add -A && git commit -m x"]
    readme = tmp_path / "README.md"
    readme.write_text("```bash\nfalse && true\ntouch after\n```\n")
    with pytest.raises(AssertionError, match="cannot see failures"):
        run_readme(readme, tmp_path, user_env())
    assert not (tmp_path / "after").exists()


@pytest.mark.slow
def test_template_readme_then_generated_readme(tmp_path):
    """A new user: the template README's install line and bake, then the project's README."""
    clone = copy_of_template(tmp_path / "cookiecutter-dvc-registry")
    run_readme(clone / "README.md", clone, user_env())
    project = tmp_path / DEFAULT_SLUG
    assert (project / "README.md").is_file(), "the template README's bake made no project"
    run_readme(project / "README.md", project, user_env())
    # The story ends with production rolled back to v1.0.0 and deployed beside the project.
    shown = subprocess.run(
        [str(project / ".venv/bin/registry"), "show", "production"],
        cwd=project,
        env=user_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    assert "v1.0.0" in shown.stdout
    assert (tmp_path / f"{DEFAULT_SLUG}-serving" / "DEPLOYED.json").is_file()


@pytest.mark.slow
def test_generated_readme_with_s3_storage(cookies, s3_server, s3_bucket):
    project = bake_ok(cookies, storage="s3", s3_bucket=s3_bucket, s3_endpoint_url=s3_server.url)
    # The README's S3 set-up (a `text` block, it has placeholders): credentials in the
    # environment. s3_server.env() exports the moto server's dummy ones and nothing else.
    env = s3_server.env(user_env())
    run_readme(project / "README.md", project, env)
    assert s3_server.objects(s3_bucket), "the README's pushes left the bucket empty"


def test_demo_echoes_commands_that_paste_back_to_the_same_words():
    """`make demo` prints each command quoted so that pasting it runs the very same argv."""
    words = ["registry", "promote", "v1.0.0", "--reason", 'it\'s a "first" model', "", "a b"]
    words += ["s/^    C: 1.0$/    C: 10.0/", "$HOME", "x;y", "~/f", "*.csv"]
    demo = (TEMPLATE_DIR / "scripts" / "demo.sh").read_text(encoding="utf-8")
    start = demo.index("quoted() {")
    quoted = demo[start : demo.index("\n}\n", start) + 3]
    printed = subprocess.run(
        ["bash", "-c", quoted + 'quoted "$@"', "demo", *words],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    pasted = subprocess.run(
        ["bash", "-c", f"printf '%s\\0' {printed}"], capture_output=True, text=True, check=True
    ).stdout
    assert pasted.split("\0")[:-1] == words
    assert printed.startswith("registry promote v1.0.0 --reason 'it'")
