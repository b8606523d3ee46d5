"""Real git + DVC repositories for the registry tests.

The toy pipeline has the project's shape (prepare → train → evaluate → gate, weights
in ``models/<model>/``, metrics and the gate's report as JSON in git) but needs no
scikit-learn, so a repository with a few versions builds in seconds.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml
from pipeline_helpers import MODEL_NAME, PYTHONPATH
from weighbridge.registry.cli import main

TOY_PIPELINE = """
import json, platform, shutil, sys
from pathlib import Path
import yaml

params = yaml.safe_load(Path("params.yaml").read_text())
stage = sys.argv[1]
model_dir = Path("models") / sys.argv[2]
if stage == "prepare":
    Path("data/prepared").mkdir(parents=True, exist_ok=True)
    shutil.copy("data/raw/dataset.csv", "data/prepared/holdout.csv")
elif stage == "train":
    model_dir.mkdir(parents=True, exist_ok=True)
    seed, quality = params["train"]["seed"], params["train"]["quality"]
    (model_dir / "model.skops").write_text(f"weights seed={seed} quality={quality}")
    env = {"python": platform.python_version(), "packages": {"scikit-learn": "1.0"}}
    (model_dir / "environment.json").write_text(json.dumps(env))
elif stage == "evaluate":
    Path("metrics").mkdir(exist_ok=True)
    quality = float(model_dir.joinpath("model.skops").read_text().split("quality=")[1])
    scores = {"accuracy": quality, "f1": round(quality - 0.01, 4)}
    Path("metrics/evaluation.json").write_text(json.dumps(scores))
elif stage == "gate":
    accuracy = json.loads(Path("metrics/evaluation.json").read_text())["accuracy"]
    floor = params["gate"]["min_value"]
    verdict = {"passed": accuracy >= floor, "candidate": accuracy, "min_value": floor}
    Path("metrics/gate.json").write_text(json.dumps(verdict))
    Path("reports").mkdir(exist_ok=True)
    summary = "gate passed" if verdict["passed"] else f"gate failed: {accuracy} < {floor}"
    report = {**verdict, "metric": "accuracy", "summary": summary, "production": None}
    Path("reports/gate.json").write_text(json.dumps(report))
"""


def dvc_yaml(model: str) -> dict:
    def run(stage: str) -> str:
        return f"python toy_pipeline.py {stage} {model}"

    return {
        "stages": {
            "prepare": {
                "cmd": run("prepare"),
                "deps": ["data/raw/dataset.csv", "toy_pipeline.py"],
                "outs": ["data/prepared/holdout.csv"],
            },
            "train": {
                "cmd": run("train"),
                "deps": ["data/prepared/holdout.csv", "toy_pipeline.py"],
                "params": ["train"],
                "outs": [f"models/{model}"],
            },
            "evaluate": {
                "cmd": run("evaluate"),
                "deps": [f"models/{model}", "toy_pipeline.py"],
                "outs": [{"metrics/evaluation.json": {"cache": False}}],
            },
            "gate": {
                "cmd": run("gate"),
                "deps": ["metrics/evaluation.json"],
                "params": ["gate"],
                "outs": [
                    {"metrics/gate.json": {"cache": False}},
                    {"reports/gate.json": {"cache": False}},
                ],
            },
        },
        # the registry's default model: the artifact of type model, as in a baked project
        "artifacts": {model: {"path": f"models/{model}", "type": "model"}},
    }


def tool_env() -> dict[str, str]:
    """The environment for children: this interpreter's bin first, the project's package and
    the toolkit importable (tests run them without installing), no telemetry."""
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [PYTHONPATH, os.environ.get("PYTHONPATH")])),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "DVC_NO_ANALYTICS": "1",
        "DVC_STUDIO_OFFLINE": "1",
        "ITERATIVE_DO_NOT_TRACK": "1",
    }


def sh(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True, env=tool_env())
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def git(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return sh(repo, "git", *args, check=check)


def dvc(repo: Path, *args: str) -> subprocess.CompletedProcess:
    return sh(repo, sys.executable, "-m", "dvc", *args)


def set_identity(repo: Path, name: str = "Ada Lovelace", email: str = "ada@example.com") -> None:
    git(repo, "config", "user.name", name)
    git(repo, "config", "user.email", email)


def make_project(root: Path, model: str = MODEL_NAME) -> Path:
    """A git + DVC repo with the toy pipeline run once and committed, plus a bare remote
    and a DVC folder remote (register puts the weights there before tagging)."""
    repo, remote = root / "project", root / "remote.git"
    repo.mkdir(parents=True)
    git(root, "init", "--quiet", "--bare", str(remote))
    git(repo, "init", "--quiet", "-b", "main")
    set_identity(repo)
    git(repo, "remote", "add", "origin", str(remote))
    dvc(repo, "init", "--quiet")
    dvc(repo, "config", "core.analytics", "false")
    dvc(repo, "remote", "add", "--default", "storage", str(root / "dvc-remote"))
    (repo / "data" / "raw").mkdir(parents=True)
    (repo / "data" / "raw" / "dataset.csv").write_text("x,y\n1,0\n2,1\n3,0\n")
    (repo / "toy_pipeline.py").write_text(TOY_PIPELINE)
    (repo / "dvc.yaml").write_text(yaml.safe_dump(dvc_yaml(model), sort_keys=False))
    params = {"train": {"seed": 1, "quality": 0.9}, "gate": {"min_value": 0.8}}
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    dvc(repo, "repro", "--quiet")
    git(repo, "add", "-A")
    git(repo, "commit", "--quiet", "-m", "first model")
    return repo


def retrain(repo: Path, quality: float, seed: int = 1) -> None:
    """Change the train params, run the pipeline, commit: a new registrable HEAD."""
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["train"].update({"quality": quality, "seed": seed})
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    dvc(repo, "repro", "--quiet")
    git(repo, "add", "-A")
    git(repo, "commit", "--quiet", "-m", f"retrain quality={quality} seed={seed}")


def copy_project(source: Path, root: Path) -> Path:
    """A private copy of a prepared project (and its remote) for one test."""
    shutil.copytree(source.parent, root, symlinks=True)
    repo = root / "project"
    git(repo, "remote", "set-url", "origin", str(root / "remote.git"))
    # --local: the copy's own remote without a change to the committed .dvc/config
    dvc(repo, "remote", "modify", "--local", "storage", "url", str(root / "dvc-remote"))
    return repo


def call(capsys, repo: Path, *args: str) -> tuple[int, str, str]:
    """Run the registry CLI in-process on ``repo``; return (exit code, stdout, stderr)."""
    capsys.readouterr()
    code = main([args[0], "-C", str(repo), *args[1:]])
    out, err = capsys.readouterr()
    return code, out, err


def main_ok(repo: Path, *args: str) -> bool:
    """Run the registry CLI in-process on ``repo`` (outside a test: no capsys); succeeded?"""
    return main([args[0], "-C", str(repo), *args[1:]]) == 0


def call_json(capsys, repo: Path, *args: str):
    code, out, err = call(capsys, repo, *args, "--json")
    assert code == 0, err
    return json.loads(out)


def tag_names(repo: Path) -> list[str]:
    return sorted(git(repo, "tag", "--list").stdout.split())


def remote_tags(repo: Path) -> list[str]:
    refs = git(repo, "ls-remote", "--tags", "origin").stdout.split()
    names = (r[len("refs/tags/") :] for r in refs if r.startswith("refs/tags/"))
    return sorted(n for n in names if not n.endswith("^{}"))
