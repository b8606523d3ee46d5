"""`dvc repro` of a baked `dataset=csv` project against a plain script doing the same work.

Goal (issue 10): at 1,000,000 rows x 30 numeric features, `dvc repro` takes <= 1.3x the
plain script's wall time and <= 1.5x its peak RSS. The plain script does what the four
stages do, in one interpreter: pandas read of the raw CSV, stratified split, write and
re-read the two parts (`--parts`: csv, the issue's reference, or parquet), StandardScaler +
LogisticRegression, skops save and load, four metrics on the hold-out rows.

Each run is a fresh process tree, started by a small wrapper process that reports
  * wall time, and CPU time (user + sys of the whole tree: steadier than wall time when
    the machine is shared, but blind to time spent waiting on the disk);
  * peak RSS of the largest single process of the tree: getrusage(RUSAGE_CHILDREN).ru_maxrss
    of the wrapper, exact (the kernel keeps each descendant's high-water mark);
  * peak RSS of the whole tree: the sum of VmRSS over the wrapper's descendants, polled
    from /proc every 20 ms (dvc's own process stays resident while a stage runs).
The two commands alternate (repro, plain, repro, plain, ...) so machine noise hits both
alike; each repro starts from a fresh state: stage outputs, dvc.lock and the cache objects
the stages wrote are removed first (the raw CSV stays tracked, as after a bake).

    python benchmarks/pipeline_scale.py [--rows 1000000] [--runs 2] [--parts csv]

`make bench` runs it at 100,000 rows (about a minute on a quiet 2-core machine; 1M rows
takes several). Not a test: pytest collects only tests/.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bake_repro import TEMPLATE, offline_env

FEATURES = 30
SEED = 20261127
PROJECT = "scale"
PACKAGE = "scale"
RATIOS = (
    ("wall time", "wall", "s", "1.3"),
    ("CPU time (user + sys)", "cpu", "s", "-"),
    ("peak RSS, largest process", "max_rss", "MiB", "1.5"),
    ("peak RSS, process tree", "tree_rss", "MiB", "1.5"),
)
STAGE_OUTPUTS = ("data/prepared", "models", "metrics", "plots", "reports", "dvc.lock")

# Runs one command in a fresh process tree, prints {"wall", "cpu", "max_rss", "tree_rss"}.
WRAPPER = r"""
import json, os, resource, subprocess, sys, time

def children(pid):
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            found.append((int(entry), int(fields[1])))
    tree, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in found if parent in frontier} - tree
        tree |= frontier
    return tree | {pid}

def rss(pid):
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0

start = time.perf_counter()
process = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
tree_peak = 0
while process.poll() is None:
    tree_peak = max(tree_peak, sum(rss(pid) for pid in children(process.pid)))
    time.sleep(0.02)
wall = time.perf_counter() - start
if process.returncode:
    sys.exit(process.stderr.read().decode(errors="replace")[-2000:])
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = usage.ru_utime + usage.ru_stime
print(json.dumps({"wall": wall, "cpu": cpu, "max_rss": usage.ru_maxrss, "tree_rss": tree_peak}))
"""

# The same work as prepare -> train -> evaluate -> gate, in one interpreter.
PLAIN = r"""
import json
import sys
from pathlib import Path

import pandas as pd
import skops.io as sio
from sklearn import metrics
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

raw, work, parts = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
work.mkdir(parents=True, exist_ok=True)
frame = pd.read_csv(raw)
train, holdout = train_test_split(
    frame, test_size=0.25, random_state=42, stratify=frame["target"]
)
del frame
for name, part in (("train", train), ("holdout", holdout)):
    if parts == "parquet":
        part.to_parquet(work / f"{name}.parquet", index=False)
    else:
        part.to_csv(work / f"{name}.csv", index=False, lineterminator="\n")
del train, holdout
read = pd.read_parquet if parts == "parquet" else pd.read_csv
train = read(work / f"train.{parts}")
features = [column for column in train.columns if column != "target"]
model = Pipeline(
    [
        ("scale", StandardScaler()),
        ("model", LogisticRegression(C=1.0, max_iter=1000, random_state=42)),
    ]
)
model.fit(train[features], train["target"])
del train
sio.dump(model, work / "model.skops")
model = sio.load(work / "model.skops", trusted=sio.get_untrusted_types(file=work / "model.skops"))
holdout = read(work / f"holdout.{parts}")
y_true = holdout["target"]
y_pred = model.predict(holdout[features])
proba = model.predict_proba(holdout[features])[:, 1]
scores = {
    "accuracy": metrics.accuracy_score(y_true, y_pred),
    "balanced_accuracy": metrics.balanced_accuracy_score(y_true, y_pred),
    "f1": metrics.f1_score(y_true, y_pred),
    "roc_auc": metrics.roc_auc_score(y_true, proba),
}
(work / "metrics.json").write_text(json.dumps(scores), encoding="utf-8")
"""


def write_dataset(path: Path, rows: int) -> None:
    """Deterministic: 30 standard-normal features, a binary target from a noisy linear
    score (about balanced), written in chunks so that memory stays small."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(SEED)
    weights = rng.normal(size=FEATURES)
    columns = [f"x{index:02d}" for index in range(FEATURES)]
    chunk = 100_000
    with path.open("w", encoding="utf-8", newline="\n") as out:
        for start in range(0, rows, chunk):
            values = rng.normal(size=(min(chunk, rows - start), FEATURES))
            score = values @ weights + rng.normal(scale=2.0, size=len(values))
            frame = pd.DataFrame(values, columns=columns)
            frame["target"] = (score > 0).astype("int64")
            frame.to_csv(
                out, index=False, header=start == 0, float_format="%.5f", lineterminator="\n"
            )


def bake(scratch: Path, csv: Path, env: dict[str, str]) -> Path:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "cookiecutter",
            "--no-input",
            "-o",
            str(scratch),
            str(TEMPLATE),
            f"project_name={PROJECT}",
            "dataset=csv",
            f"csv_path={csv}",
            "target_column=target",
            "task=classification",
            "ci=none",
        ],
        cwd=scratch,
        env=env,
        check=True,
        capture_output=True,
    )
    project = scratch / PROJECT
    # The plain script splits with train_test_split: the project's random split is that same
    # rule, so both do the same work and must agree on the metrics (the default hash split
    # alone costs about 0.9 s per million rows, measured apart).
    params = project / "params.yaml"
    params.write_text(params.read_text().replace("  split: hash\n", "  split: random\n"))
    return project


def measured(command: list[str], cwd: Path, env: dict[str, str]) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", WRAPPER, *command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode:
        sys.exit(f"error: {' '.join(command[1:3])} failed: {done.stderr.strip()}")
    return json.loads(done.stdout)


def cache_objects(project: Path) -> set[Path]:
    return {path for path in (project / ".dvc" / "cache").rglob("*") if path.is_file()}


def reset_pipeline(project: Path, baked_objects: set[Path]) -> None:
    """Back to just after the bake: no stage output, no lock, no cache object but the raw
    CSV's, so every repro pays what a first repro pays."""
    for name in STAGE_OUTPUTS:
        path = project / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
    for path in cache_objects(project) - baked_objects:
        path.chmod(0o644)
        path.unlink()


def check_same_work(project: Path, plain: Path) -> None:
    """Both computed the same four metrics (same split, same model): else the comparison
    would not be of the same work."""
    ours = json.loads((project / "metrics" / "evaluation.json").read_text(encoding="utf-8"))
    theirs = json.loads((plain / "metrics.json").read_text(encoding="utf-8"))
    differ = [name for name in theirs if name not in ours or abs(ours[name] - theirs[name]) > 1e-9]
    if differ:
        sys.exit(f"error: repro and the plain script disagree on {differ}: {ours} vs {theirs}")


def shown(run: dict[str, float], name: str) -> str:
    return f"{name} {run['wall']:.1f} s (CPU {run['cpu']:.1f} s, {run['tree_rss'] / 1024:.0f} MiB)"


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def ratio_line(label: str, repro: list[float], plain: list[float], unit: str, goal: str) -> str:
    ours, theirs = statistics.median(repro), statistics.median(plain)
    return f"{label:<26}{ours:10.1f} {theirs:10.1f} {unit:<4}{ours / theirs:7.2f} x  goal <= {goal}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=2, help="repetitions of each command")
    parser.add_argument(
        "--parts",
        choices=("csv", "parquet"),
        default="csv",
        help="the plain script's format for the two parts",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pipeline-scale-") as scratch:
        scratch = Path(scratch)
        env = offline_env(scratch / "home")
        csv = scratch / "dataset.csv"
        start = time.perf_counter()
        write_dataset(csv, args.rows)
        size = csv.stat().st_size / 1e6
        print(
            f"{args.rows} rows x {FEATURES} features + target: {size:.0f} MB "
            f"({time.perf_counter() - start:.1f} s to write)"
        )
        start = time.perf_counter()
        project = bake(scratch, csv, env)
        csv.unlink()  # the project has its own copy
        print(f"bake (dataset=csv): {time.perf_counter() - start:.1f} s")
        env["PYTHONPATH"] = os.pathsep.join(
            [str(project / "src"), str(project / "toolkit" / "src")]
        )
        baked = cache_objects(project)
        plain_script = scratch / "plain.py"
        plain_script.write_text(PLAIN, encoding="utf-8")
        raw = project / "data" / "raw" / "dataset.csv"
        plain_command = [
            sys.executable,
            str(plain_script),
            str(raw),
            str(scratch / "plain"),
            args.parts,
        ]
        repro, plain = [], []
        for run in range(args.runs):
            reset_pipeline(project, baked)
            repro.append(measured([sys.executable, "-m", "dvc", "repro", "--force"], project, env))
            plain.append(measured(plain_command, scratch, env))
            check_same_work(project, scratch / "plain")
            shutil.rmtree(scratch / "plain")
            print(
                f"run {run + 1}: {shown(repro[-1], 'repro')}, {shown(plain[-1], 'plain')}"
                f"  (load average {load_average()})"
            )
    print(f"\nmedians of {args.runs} runs, plain parts as {args.parts}     repro      plain")
    for label, key, unit, goal in RATIOS:
        scale = 1024 if unit == "MiB" else 1  # ru_maxrss and VmRSS are in KiB
        ours, theirs = ([run[key] / scale for run in runs] for runs in (repro, plain))
        print(ratio_line(label, ours, theirs, unit, goal))
    print(f"load average at the end: {load_average()} (2 cores: above ~1 the numbers are noisy)")


if __name__ == "__main__":
    main()
