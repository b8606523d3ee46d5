"""Bake → first `dvc repro`, and a no-op `dvc repro` against `dvc status`, on the defaults.

Goals: first repro ≤ 20 s wall on a 2-core machine (installs excluded); a no-op repro (which
runs no stage at all) ≤ 2× `dvc status` on the same project. Both commands
run in the same session, alternately, so machine noise hits them alike; we report medians and
the ratio.

    python benchmarks/bake_repro.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parent.parent


def timed(args: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(args, cwd=cwd, env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def offline_env(home: Path) -> dict[str, str]:
    (home / "dvc").mkdir(parents=True, exist_ok=True)
    (home / "dvc" / "config").write_text(
        "[core]\n    analytics = false\n    check_update = false\n"
    )
    env = dict(os.environ)
    env.update(
        DVC_GLOBAL_CONFIG_DIR=str(home / "dvc"),
        DVC_NO_ANALYTICS="1",
        ITERATIVE_DO_NOT_TRACK="1",
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
    )
    env.setdefault("GIT_AUTHOR_NAME", "Benchmark")
    env.setdefault("GIT_AUTHOR_EMAIL", "bench@example.invalid")
    env.setdefault("GIT_COMMITTER_NAME", "Benchmark")
    env.setdefault("GIT_COMMITTER_EMAIL", "bench@example.invalid")
    return env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    python = sys.executable
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        env = offline_env(scratch / "home")
        bake = timed(
            [python, "-m", "cookiecutter", "--no-input", "-o", str(scratch), str(TEMPLATE)],
            scratch,
            env,
        )
        project = scratch / "breast-cancer-classifier"
        env["PYTHONPATH"] = os.pathsep.join(
            [str(project / "src"), str(project / "toolkit" / "src")]
        )
        dvc = [python, "-m", "dvc"]
        first = timed([*dvc, "repro"], project, env)
        subprocess.run(["git", "add", "-A"], cwd=project, env=env, check=True)
        subprocess.run(["git", "commit", "-qm", "train"], cwd=project, env=env, check=True)
        noop, status = [], []
        for _ in range(args.runs):
            noop.append(timed([*dvc, "repro"], project, env))
            status.append(timed([*dvc, "status"], project, env))
    noop_median, status_median = statistics.median(noop), statistics.median(status)
    print(f"bake (cookiecutter + post-gen hook)   {bake:7.2f} s")
    print(f"first dvc repro                       {first:7.2f} s   goal <= 20 s")
    print(f"no-op dvc repro (median of {args.runs})       {noop_median:7.2f} s")
    print(f"dvc status      (median of {args.runs})       {status_median:7.2f} s")
    print(f"no-op repro / status                  {noop_median / status_median:7.2f} x  goal <= 2")


if __name__ == "__main__":
    main()
