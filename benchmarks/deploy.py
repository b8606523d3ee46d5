"""How much does `registry deploy` fetch, and how fast, against a plain `dvc pull`?

On a baked default project (local DVC remote): train, push, register v1.0.0, push the git
repository to a bare remote. Then, as a serving machine would:

- deploy: `registry deploy --version v1.0.0 --repo <bare remote>`;
- baseline: `git clone` + `dvc pull` of the whole project at that tag.

Bytes fetched = the size of the remote objects each one read (every object's access time
is pushed into the past first, so the filesystem records exactly which ones are read),
compared with the bytes of the model files in the version's manifest.

Run: `python benchmarks/deploy.py` (or `make bench`). Prints the numbers and the ratios.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cookiecutter.main import cookiecutter

TEMPLATE = Path(__file__).resolve().parent.parent
GOAL = 1.05

HOUR = 3600


def mark_unread(remote: Path) -> None:
    """Set every remote object's access time an hour before its mtime (relatime then
    records the next read), so that afterwards we can tell which objects were read."""
    for path in remote.rglob("*"):
        if path.is_file():
            mtime = path.stat().st_mtime
            os.utime(path, (mtime - HOUR, mtime))


def bytes_read(remote: Path) -> tuple[int, int]:
    """(objects, bytes) read from the remote since mark_unread."""
    read = [
        p
        for p in remote.rglob("*")
        if p.is_file() and p.stat().st_atime > p.stat().st_mtime - HOUR / 2
    ]
    return len(read), sum(p.stat().st_size for p in read)


def sh(cwd: Path, *args: str, env: dict | None = None) -> str:
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        sys.exit(f"error: {' '.join(args)} failed: {result.stderr.strip()[-500:]}")
    return result.stdout


def folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def isolated_env(scratch: Path) -> dict:
    gitconfig = scratch / "gitconfig"
    gitconfig.write_text("[user]\n\tname = Bench\n\temail = bench@example.invalid\n")
    return {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "GIT_CONFIG_GLOBAL": str(gitconfig),
        "GIT_CONFIG_NOSYSTEM": "1",
        "DVC_NO_ANALYTICS": "1",
        "DVC_STUDIO_OFFLINE": "1",
    }


def released_project(scratch: Path, env: dict) -> tuple[Path, str, Path]:
    os.environ.update(env)  # the bake's post-gen hook runs git and dvc
    project = Path(cookiecutter(str(TEMPLATE), no_input=True, output_dir=str(scratch)))
    package = next(p.name for p in (project / "src").iterdir() if (p / "__init__.py").exists())
    run_env = {
        **env,
        "PYTHONPATH": os.pathsep.join([str(project / "src"), str(project / "toolkit" / "src")]),
    }
    py = sys.executable
    sh(project, py, "-m", "dvc", "repro", env=run_env)
    sh(project, "git", "add", "-A", env=env)
    sh(project, "git", "commit", "--quiet", "-m", "train", env=env)
    sh(project, py, "-m", "dvc", "push", "--quiet", env=run_env)
    sh(project, py, "-m", f"{package}.registry", "register", env=run_env)
    origin = scratch / "origin.git"
    sh(scratch, "git", "init", "--quiet", "--bare", str(origin), env=env)
    sh(project, "git", "push", "--quiet", str(origin), "main", "--tags", env=env)
    return project, package, origin


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-deploy-") as tmp:
        scratch = Path(tmp)
        env = isolated_env(scratch)
        project, package, origin = released_project(scratch, env)
        shown = sh(
            project,
            sys.executable,
            "-m",
            f"{package}.registry",
            "show",
            "v1.0.0",
            "--json",
            env={
                **env,
                "PYTHONPATH": os.pathsep.join(
                    [str(project / "src"), str(project / "toolkit" / "src")]
                ),
            },
        )
        tag = json.loads(shown)["tag"]
        files = json.loads(shown)["manifest"]["artifact"]["files"]
        model_bytes = sum(meta["bytes"] for meta in files.values())

        server = scratch / "server"
        server.mkdir()
        remote = Path(
            sh(project, sys.executable, "-m", "dvc", "remote", "list", env=env).split()[1]
        )
        mark_unread(remote)
        deploy_env = {
            **env,
            "PYTHONPATH": os.pathsep.join([str(project / "src"), str(project / "toolkit" / "src")]),
        }
        started = time.perf_counter()
        sh(
            server,
            sys.executable,
            "-m",
            f"{package}.registry",
            "deploy",
            "--version",
            "v1.0.0",
            "--repo",
            str(origin),
            "--to",
            str(server / "model"),
            env=deploy_env,
        )
        deploy_seconds = time.perf_counter() - started
        deploy_objects, fetched = bytes_read(remote)
        mark_unread(remote)

        clone = scratch / "clone"
        started = time.perf_counter()
        sh(scratch, "git", "clone", "--quiet", "--branch", tag, str(origin), str(clone), env=env)
        sh(clone, sys.executable, "-m", "dvc", "pull", "--quiet", env=env)
        pull_seconds = time.perf_counter() - started
        pull_objects, pulled = bytes_read(remote)
        cached = folder_bytes(clone / ".dvc" / "cache")

    ratio = fetched / model_bytes
    print(f"model files (manifest)      {model_bytes:>10,} bytes")
    print(
        f"deploy read from remote     {fetched:>10,} bytes in {deploy_objects} objects  "
        f"ratio {ratio:.3f} (goal <= {GOAL})"
    )
    print(
        f"dvc pull read from remote   {pulled:>10,} bytes in {pull_objects} objects  "
        f"ratio {pulled / model_bytes:.1f} (its cache holds {cached:,} bytes)"
    )
    print(f"deploy time                 {deploy_seconds:>10.2f} s")
    print(
        f"clone + dvc pull time       {pull_seconds:>10.2f} s  "
        f"(deploy / pull {deploy_seconds / pull_seconds:.2f})"
    )
    if ratio > GOAL:
        sys.exit(f"error: deploy fetched {ratio:.3f}x the model bytes (goal <= {GOAL})")


if __name__ == "__main__":
    main()
