"""Run a README's ```bash blocks as a new user would: in order, in one bash shell.

Only blocks fenced as ```bash run; illustrative or expected-to-fail commands live in ```text or
```console blocks. The script stops at the first failing command (`set -euo pipefail`) and the
ERR trap names it, so a failure reads "README command failed (exit N): <command>" followed by
the output so far.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Mapping
from pathlib import Path

BASH_BLOCK = re.compile(r"^```bash\n(.*?)^```$", re.MULTILINE | re.DOTALL)
FAILED = "README command failed"
# `a && b` hides a failing `a` from `set -e` (bash ignores errexit there), so a README block
# that used it could fail silently and still pass this test.
AND_OR = re.compile(r"(&&|\|\|)")


def bash_blocks(markdown: str) -> list[str]:
    """The ```bash blocks of a Markdown text, in order."""
    return [block.rstrip("\n") for block in BASH_BLOCK.findall(markdown)]


def unchecked_lists(blocks: list[str]) -> list[str]:
    """Lines whose `&&` / `||` would let a failure through `set -e` (heredoc bodies aside)."""
    found = []
    for block in blocks:
        for line in without_heredocs(block).splitlines():
            code = line.split(" #", 1)[0]
            if AND_OR.search(code):
                found.append(line)
    return found


def without_heredocs(block: str) -> str:
    """The block minus heredoc bodies (Python code fed to `python - <<'EOF'` is not bash)."""
    lines, kept, end = block.splitlines(), [], None
    for line in lines:
        if end is not None:
            if line.strip() == end:
                end = None
            continue
        kept.append(line)
        match = re.search(r"<<-?\s*'?\"?(\w+)", line)
        if match:
            end = match.group(1)
    return "\n".join(kept)


def script_of(blocks: list[str]) -> str:
    """One bash script: strict mode, a trap naming the failing command, then every block."""
    parts = [
        "set -Eeuo pipefail",
        f"trap 'echo \"{FAILED} (exit $?): $BASH_COMMAND\" >&2' ERR",
    ]
    for number, block in enumerate(blocks, start=1):
        parts.append(f"echo '### README block {number}' >&2")
        parts.append(block)
    return "\n".join(parts) + "\n"


def without_dir_on_path(env: Mapping[str, str], directory: Path) -> dict[str, str]:
    """The environment minus one PATH entry: the README's own set-up must provide its tools."""
    result = dict(env)
    entries = result.get("PATH", "").split(os.pathsep)
    result["PATH"] = os.pathsep.join(e for e in entries if Path(e) != directory)
    result.pop("VIRTUAL_ENV", None)
    result.pop("PYTHONPATH", None)
    return result


def run_readme(
    readme: Path, cwd: Path, env: Mapping[str, str], *, timeout: float = 1500
) -> subprocess.CompletedProcess[str]:
    """Run every ```bash block of `readme` in one shell in `cwd`; fail with the command's name."""
    blocks = bash_blocks(readme.read_text(encoding="utf-8"))
    assert blocks, f"{readme} has no ```bash block"
    unchecked = unchecked_lists(blocks)
    assert not unchecked, f"{readme}: `set -e` cannot see failures in: {unchecked}"
    result = subprocess.run(
        ["bash", "-c", script_of(blocks)],
        cwd=cwd,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
    )
    if result.returncode != 0:
        failed = [line for line in result.stdout.splitlines() if line.startswith(FAILED)]
        tail = "\n".join(result.stdout.splitlines()[-120:])
        raise AssertionError(
            f"{readme.name}: {failed[-1] if failed else f'bash exited {result.returncode}'}\n"
            f"--- output (last 120 lines)\n{tail}"
        )
    return result
