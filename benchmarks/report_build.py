"""Build time of `registry report --out DIR` at 100 (and more) versions.

Builds repositories with `git fast-import` as registry_scale.py does (one commit per
version, annotated version tags with realistic manifests, stage tags with reasons), and
commits in every version the plot files the evaluate stage writes (a ROC and a PR curve
of 150 points, a confusion file of 143 rows and more), so each model card reads and draws them. Then
times `registry report` into a fresh folder (median of several runs; the registry's read
cache is left warm, as after any other registry command).

Usage: python benchmarks/report_build.py [--sizes 100 1000] [--runs 3]
Goal: a few seconds at 100 versions.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from registry_scale import MODEL, START, bake, data_block, manifest  # noqa: E402

POINTS = 150
CONFUSION_ROWS = 143


def plot_files(i: int) -> dict[str, str]:
    """The plots of version ``i``, different in every version (the report draws identical
    plot files once, which would flatter it)."""
    power = 0.2 + i / 5000
    ts = [k / (POINTS - 1) for k in range(POINTS)]
    roc = "fpr,tpr\n" + "".join(f"{t:.4f},{t**power:.4f}\n" for t in ts)
    pr = "recall,precision\n" + "".join(f"{t:.4f},{1 - 0.3 * t**4:.4f}\n" for t in ts)
    labels = [(k % 3 != 0, (k + i) % 11 != 0) for k in range(CONFUSION_ROWS + i)]
    confusion = "actual,predicted\n" + "".join(
        f"{int(a)},{int(a if right else not a)}\n" for a, right in labels
    )
    return {"roc.csv": roc, "pr.csv": pr, "confusion.csv": confusion}


def fast_import_stream(count: int) -> bytes:
    chunks, counter = [], 0
    for i in range(count):
        version = f"v1.{i // 10}.{i % 10}"
        when = START + 10 * i
        chunks.append(b"commit refs/heads/main\nmark :%d\n" % (i + 1))
        chunks.append(b"committer Bench Mark <bench@example.com> %d +0000\n" % when)
        chunks.append(data_block(f"train {version}"))
        for name, text in plot_files(i).items():
            chunks.append(f"M 644 inline plots/{name}\n".encode() + data_block(text))
        body = manifest(i, version)
        body["metrics"]["evaluation"]["accuracy"] = 0.9 + 0.05 * math.sin(i / 5)
        message = f"Register {MODEL} {version}\n\n" + json.dumps(body, indent=2)
        chunks.append(f"tag {MODEL}@{version}\nfrom :{i + 1}\n".encode())
        chunks.append(b"tagger Bench Mark <bench@example.com> %d +0000\n" % when)
        chunks.append(data_block(message))
        if i % 10 == 0:  # a promotion every ten versions, with its reason in the JSON
            counter += 1
            details = {"action": "promote", "stage": "production", "reason": f"release {i}"}
            text = f"Promote {MODEL} {version} to production\n\n" + json.dumps(details)
            chunks.append(f"tag {MODEL}#production#{counter}\nfrom :{i + 1}\n".encode())
            chunks.append(b"tagger Bench Mark <bench@example.com> %d +0000\n" % (when + 1))
            chunks.append(data_block(text))
    return b"".join(chunks)


def build_repo(path: Path, count: int) -> None:
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True)
    stream = fast_import_stream(count)
    subprocess.run(["git", "-C", str(path), "fast-import", "--quiet"], input=stream, check=True)
    subprocess.run(["git", "-C", str(path), "reset", "-q", "--hard", "main"], check=True)


def time_report(repo: Path, package: str, env: dict, out: Path) -> float:
    shutil.rmtree(out, ignore_errors=True)
    args = [sys.executable, "-m", f"{package}.registry", "-C", str(repo), "report"]
    started = time.perf_counter()
    result = subprocess.run([*args, "--out", str(out)], env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"registry report failed: {result.stderr.strip()[-300:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--runs", type=int, default=3)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="report-bench-") as scratch:
        work = Path(scratch)
        project, package = bake(work / "bake")
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(project / "src"), str(project / "toolkit" / "src")]),
        }
        print(f"{'versions':>8}  {'report (median s)':>17}  {'site size':>10}")
        for count in options.sizes:
            repo = work / f"repo-{count}"
            build_repo(repo, count)
            out = work / f"site-{count}"
            times = [time_report(repo, package, env, out) for _ in range(options.runs)]
            size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
            print(f"{count:>8}  {statistics.median(times):>17.2f}  {size / 1e6:>8.1f} MB")


if __name__ == "__main__":
    main()
