"""Registry read speed at scale: our `registry list/query` against `gto show`.

Builds repositories with 1,000 and 10,000 versions through `git fast-import` (one
commit per version, annotated version tags carrying realistic manifests, a few
stage tags), then times, on the same repository:

    registry list --json         (median of several runs, cold and warm)
    registry query "accuracy > 0.9" --json
    gto show --json              (once per run, capped by --gto-timeout)

Cold: the registry's read cache (.git/registry-cache) removed before each run;
warm: the cache left by the previous run (the usual case: it is built once per
clone and then only extended by new tags). The baked package is byte-compiled
first, as an installed package is, so no run pays for compiling its sources.

Usage: python benchmarks/registry_scale.py [--sizes 1000 10000] [--runs 5] [--gto-timeout 300]
Goal: <= 0.5 s at 10,000 versions (warm) and >= 30x faster than gto.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
MODEL = "classifier"
STAGES = ("staging", "production")
START = 1_700_000_000


def manifest(i: int, version: str) -> dict:
    accuracy = 0.80 + (i % 200) / 1000
    return {
        "manifest": 1,
        "model": MODEL,
        "version": version,
        "commit": f"{i:040x}",
        "artifact": {
            "path": f"models/{MODEL}",
            "md5": f"{i:032x}.dir",
            "files": {
                name: {"sha256": f"{i:064x}", "bytes": 1000 + i}
                for name in ("model.skops", "signature.json", "environment.json")
            },
        },
        "data": {"data/raw/dataset.csv": f"{7:032x}", "data/prepared/holdout.parquet": f"{i:032x}"},
        "params": {
            "prepare": {"test_size": 0.25, "seed": 7},
            "train": {"estimator": "random_forest", "hyperparams": {"max_depth": 8}, "seed": i},
            "gate": {"metric": "accuracy", "min_value": 0.8, "max_regression": 0.02},
        },
        "metrics": {"evaluation": {"accuracy": accuracy, "f1": accuracy - 0.01, "roc_auc": 0.97}},
        "gate": {"passed": True, "metric": "accuracy", "candidate": accuracy, "baseline": None},
        "environment": {"python": "3.11.7", "packages": {"scikit-learn": "1.5.0", "dvc": "3.50"}},
        "author": "Bench Mark <bench@example.com>",
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(START + 2 * i)),
    }


def data_block(text: str) -> bytes:
    raw = text.encode()
    return b"data %d\n" % len(raw) + raw + b"\n"


def fast_import_stream(count: int) -> bytes:
    """One commit and one version tag per version; a stage tag every count/5 versions."""
    chunks, counter = [], 0
    for i in range(count):
        version = f"v{1 + i // 1000}.{(i // 10) % 100}.{i % 10}"
        when = START + 2 * i
        chunks.append(b"commit refs/heads/main\nmark :%d\n" % (i + 1))
        chunks.append(b"committer Bench Mark <bench@example.com> %d +0000\n" % when)
        chunks.append(data_block(f"train {version}"))
        chunks.append(b"M 644 inline seed.txt\n" + data_block(str(i)))
        message = f"Register {MODEL} {version}\n\n" + json.dumps(manifest(i, version), indent=2)
        chunks.append(f"tag {MODEL}@{version}\nfrom :{i + 1}\n".encode())
        chunks.append(b"tagger Bench Mark <bench@example.com> %d +0000\n" % when)
        chunks.append(data_block(message))
        if i % max(1, count // 5) == 0:
            counter += 1
            stage = STAGES[counter % 2]
            chunks.append(f"tag {MODEL}#{stage}#{counter}\nfrom :{i + 1}\n".encode())
            chunks.append(b"tagger Bench Mark <bench@example.com> %d +0000\n" % (when + 1))
            chunks.append(data_block(f"Promote {MODEL} {version} to {stage}"))
    return b"".join(chunks)


def build_repo(path: Path, count: int) -> None:
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True)
    subprocess.run(
        ["git", "-C", str(path), "fast-import", "--quiet"],
        input=fast_import_stream(count),
        check=True,
    )
    subprocess.run(["git", "-C", str(path), "reset", "-q", "--hard", "main"], check=True)


def bake(out: Path) -> tuple[Path, str]:
    from cookiecutter.main import cookiecutter

    project = Path(
        cookiecutter(
            str(TEMPLATE),
            no_input=True,
            output_dir=str(out),
            extra_context={"init_git": "no", "model_name": MODEL},
        )
    )
    package = next(p.name for p in (project / "src").iterdir() if (p / "registry.py").is_file())
    compileall.compile_dir(project / "src", quiet=1)
    compileall.compile_dir(project / "toolkit" / "src", quiet=1)
    return project, package


def timed(args: list[str], env: dict, timeout: float | None = None) -> tuple[float, str]:
    start = time.perf_counter()
    try:
        result = subprocess.run(args, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return float("inf"), ""
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(args[:4])}… failed: {result.stderr.strip()[-300:]}")
    return elapsed, result.stdout


def median_time(
    args: list[str], env: dict, runs: int, cold: Path | None = None
) -> tuple[float, str]:
    """Median over ``runs``; with ``cold`` (a repository), its read cache is removed first."""
    results = []
    for _ in range(runs):
        if cold is not None:
            shutil.rmtree(cold / ".git" / "registry-cache", ignore_errors=True)
        results.append(timed(args, env))
    return statistics.median(t for t, _ in results), results[-1][1]


def bench_size(count: int, work: Path, package: str, src: Path, runs: int, cap: float) -> dict:
    repo = work / f"repo-{count}"
    started = time.perf_counter()
    build_repo(repo, count)
    built = time.perf_counter() - started
    sources = os.pathsep.join([str(src), str(src.parent / "toolkit" / "src")])
    env = {**os.environ, "PYTHONPATH": sources, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    ours = [sys.executable, "-m", f"{package}.registry"]
    listing_args = [*ours, "list", "-C", str(repo), "--json"]
    query = [*ours, "query", "accuracy > 0.95 and f1 > 0.9", "-C", str(repo), "--json"]
    list_cold, _ = median_time(listing_args, env, runs, cold=repo)
    query_cold, _ = median_time(query, env, runs, cold=repo)
    list_time, listing = median_time(listing_args, env, runs)
    query_time, found = median_time(query, env, runs)
    gto_time, gto_out = timed([str(BIN / "gto"), "show", "--json", "-r", str(repo)], env, cap)
    ours_state = json.loads(listing)
    agree = None
    if gto_out:
        theirs = json.loads(gto_out)[MODEL]
        agree = (
            theirs["version"] == ours_state["latest"]
            and {k: v for k, v in theirs["stage"].items() if v} == ours_state["stages"]
        )
    return {
        "versions": count,
        "build_s": built,
        "list_s": list_time,
        "query_s": query_time,
        "list_cold_s": list_cold,
        "query_cold_s": query_cold,
        "query_hits": len(json.loads(found)),
        "gto_s": gto_time,
        "agree": agree,
    }


def print_table(rows: list[dict], cap: float) -> None:
    print(
        f"{'versions':>8}  {'list (s)':>9}  {'query (s)':>9}  "
        f"{'cold list':>9}  {'cold query':>10}  "
        f"{'gto show (s)':>12}  {'gto/list':>8}  {'gto/query':>9}  agree"
    )
    for r in rows:
        capped = r["gto_s"] == float("inf")
        gto = f">{cap:.0f}" if capped else f"{r['gto_s']:.2f}"
        sign = ">" if capped else ""
        gto_s = cap if capped else r["gto_s"]
        print(
            f"{r['versions']:>8}  {r['list_s']:>9.3f}  {r['query_s']:>9.3f}  "
            f"{r['list_cold_s']:>9.3f}  {r['query_cold_s']:>10.3f}  {gto:>12}  "
            f"{sign + format(gto_s / r['list_s'], '.0f') + 'x':>8}  "
            f"{sign + format(gto_s / r['query_s'], '.0f') + 'x':>9}  "
            f"{'n/a' if r['agree'] is None else r['agree']}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--gto-timeout", type=float, default=300.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="registry-scale-") as tmp:
        work = Path(tmp)
        project, package = bake(work / "bake")
        rows = []
        for count in args.sizes:
            src = project / "src"
            rows.append(bench_size(count, work, package, src, args.runs, args.gto_timeout))
            print(f"{count} versions: built in {rows[-1]['build_s']:.1f} s", file=sys.stderr)
        print_table(rows, args.gto_timeout)
        print(f"load average (1, 5, 15 min): {', '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
