"""The registry CLI on real git + DVC repositories with bare remotes."""

import hashlib
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import weighbridge
import yaml
from pipeline_helpers import PACKAGE
from registry_helpers import (
    MODEL_NAME,
    call,
    call_json,
    copy_project,
    dvc,
    git,
    main_ok,
    make_project,
    remote_tags,
    retrain,
    tag_names,
    tool_env,
)
from weighbridge.registry.store import load_registry

pytestmark = pytest.mark.slow  # every test here drives real git + DVC repositories


@pytest.fixture(scope="module")
def two_versions(tmp_path_factory) -> Path:
    """v1.0.0 (accuracy 0.9) and v1.1.0 (accuracy 0.92), nothing staged."""
    repo = make_project(tmp_path_factory.mktemp("two-versions"))
    assert main_ok(repo, "register")
    retrain(repo, 0.92)
    assert main_ok(repo, "register", "--bump", "minor")
    return repo


@pytest.fixture
def repo(two_versions, tmp_path) -> Path:
    return copy_project(two_versions, tmp_path / "copy")


def refused(capsys, repo: Path, *args: str) -> str:
    """Run a command that must fail: one error line, exit 1, no tag changed."""
    before = tag_names(repo)
    code, out, err = call(capsys, repo, *args)
    assert code == 1, out
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert tag_names(repo) == before
    return err


def test_register_writes_manifest_of_head(capsys, tmp_path):
    repo = make_project(tmp_path)
    code, out, _ = call(capsys, repo, "register")
    assert code == 0 and f"registered {MODEL_NAME} v1.0.0" in out
    message = git(repo, "tag", "-l", "--format=%(contents)", f"{MODEL_NAME}@v1.0.0").stdout
    first_line, blank, body = message.partition("\n\n")
    assert first_line == f"Register {MODEL_NAME} v1.0.0" and blank
    manifest = json.loads(body)
    weights = repo / "models" / MODEL_NAME / "model.skops"
    files = manifest["artifact"]["files"]
    assert files["model.skops"]["sha256"] == hashlib.sha256(weights.read_bytes()).hexdigest()
    assert files["model.skops"]["bytes"] == weights.stat().st_size
    lock = yaml.safe_load((repo / "dvc.lock").read_text())
    raw = next(d for d in lock["stages"]["prepare"]["deps"] if d["path"] == "data/raw/dataset.csv")
    assert manifest["data"]["data/raw/dataset.csv"] == raw["md5"]
    assert manifest["commit"] == git(repo, "rev-parse", "HEAD").stdout.strip()
    assert manifest["params"]["train"]["quality"] == 0.9
    assert manifest["metrics"]["evaluation"]["accuracy"] == 0.9
    assert manifest["gate"]["passed"] is True
    assert manifest["environment"]["packages"] == {"scikit-learn": "1.0"}
    assert manifest["environment"]["registered_with_python"].count(".") == 2
    assert manifest["toolkit"] == {"name": "weighbridge", "version": weighbridge.__version__}
    assert manifest["author"] == "Ada Lovelace <ada@example.com>"
    assert git(repo, "cat-file", "-t", f"{MODEL_NAME}@v1.0.0").stdout.strip() == "tag"


def test_register_bumps_patch_by_default_and_takes_explicit_versions(capsys, repo):
    retrain(repo, 0.93)
    assert call_json(capsys, repo, "register")["version"] == "v1.1.1"
    retrain(repo, 0.94)
    assert call_json(capsys, repo, "register", "--version", "2.0.0")["version"] == "v2.0.0"


def test_register_refuses_a_dirty_work_tree(capsys, repo):
    (repo / "params.yaml").write_text((repo / "params.yaml").read_text() + "\n# edit\n")
    assert "work tree is dirty (params.yaml)" in refused(capsys, repo, "register")


def test_register_refuses_a_stale_pipeline(capsys, repo):
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["train"]["seed"] = 99
    (repo / "params.yaml").write_text(yaml.safe_dump(params))
    git(repo, "commit", "-qam", "change seed, forget repro")
    err = refused(capsys, repo, "register")
    assert "pipeline is not up to date (changed: train)" in err


def test_register_refuses_a_failed_gate(capsys, repo):
    retrain(repo, 0.5)
    assert "gate failed" in refused(capsys, repo, "register")


def test_register_refuses_a_registered_head(capsys, repo):
    assert f"already registered as {MODEL_NAME} v1.1.0" in refused(capsys, repo, "register")


@pytest.mark.parametrize(
    ("version", "problem"),
    [
        ("v1.1.0", "version v1.1.0 of classifier already exists"),
        ("v1.0.5", "not greater than the latest version v1.1.0"),
        ("v1.2", "invalid version 'v1.2'"),
    ],
)
def test_register_refuses_bad_versions(capsys, repo, version, problem):
    retrain(repo, 0.95)
    assert problem.replace("classifier", MODEL_NAME) in refused(
        capsys, repo, "register", "--version", version
    )


def test_promote_rollback_keep_history_and_walk_back(capsys, repo):
    retrain(repo, 0.95)
    assert call_json(capsys, repo, "register")["version"] == "v1.1.1"
    for version in ("v1.0.0", "v1.1.0", "v1.1.1"):
        call_json(capsys, repo, "promote", version, "--stage", "staging")
    first = call_json(capsys, repo, "rollback", "--stage", "staging", "--reason", "bad latency")
    assert (first["previous"], first["version"]) == ("v1.1.1", "v1.1.0")
    second = call_json(capsys, repo, "rollback", "--stage", "staging", "--reason", "still bad")
    assert (second["previous"], second["version"]) == ("v1.1.0", "v1.0.0")
    assert "no earlier version" in refused(
        capsys, repo, "rollback", "--stage", "staging", "--reason", "x"
    )
    named = call_json(
        capsys, repo, "rollback", "--stage", "staging", "--to", "v1.1.1", "--reason", "fixed"
    )
    assert named["version"] == "v1.1.1"
    stage_tags = [t for t in tag_names(repo) if "#staging#" in t]
    assert len(stage_tags) == 6  # nothing deleted or moved: every event is a new tag
    registry = load_registry(repo)
    assert registry.stage_version(MODEL_NAME, "staging").version == "v1.1.1"
    rollback_event = registry.events(MODEL_NAME)[-1].details
    assert rollback_event["action"] == "rollback" and rollback_event["reason"] == "fixed"


def test_stage_counters_and_tagger_times_strictly_increase(capsys, repo):
    call_json(capsys, repo, "promote", "v1.0.0", "--stage", "staging")
    call_json(capsys, repo, "promote", "v1.1.0", "--stage", "staging")
    call_json(capsys, repo, "deprecate", "v1.0.0", "--reason", "leaky feature")
    events = load_registry(repo).events(MODEL_NAME)
    times = [e.time for e in events]
    assert times == sorted(set(times)), "each tag must be at least one second after the last"
    assert [e.tag for e in events][2:] == [
        f"{MODEL_NAME}#staging#1",
        f"{MODEL_NAME}#staging#2",
        f"{MODEL_NAME}@v1.0.0!",
    ]


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (("promote", "v9.9.9", "--stage", "staging"), "unknown version 'v9.9.9'"),
        (("promote", "v1.0.0", "--stage=-staging"), "invalid stage name '-staging'"),
        (("promote", "v1.0.0", "--stage", "prod#1"), "invalid stage name 'prod#1'"),
        (("promote", "v1.0.0", "--stage", "staging", "--force"), "--force needs --reason"),
        (("rollback", "--stage", "nowhere", "--reason", "x"), "unknown stage 'nowhere'"),
        (("rollback", "--stage", "staging"), "the following arguments are required: --reason"),
        (("show", "nowhere"), "unknown version or stage 'nowhere'"),
        (("diff", "v1.0.0", "v7.0.0"), "unknown version or stage 'v7.0.0'"),
        (("deprecate", "v3.0.0", "--reason", "x"), "unknown version 'v3.0.0'"),
        (("query", "accuracy >> 1"), "unexpected token '>'"),
        (("query", "acuracy > 0.5"), "unknown field 'acuracy'"),
        (("query", "accuracy > 0.5", "--stage", "nowhere"), "unknown stage 'nowhere'"),
    ],
)
def test_bad_input_is_one_line_and_changes_nothing(capsys, repo, args, problem):
    assert problem in refused(capsys, repo, *args)


def test_promote_refuses_twice_and_deprecated_versions(capsys, repo):
    call_json(capsys, repo, "promote", "v1.0.0", "--stage", "staging")
    assert "already in stage staging" in refused(
        capsys, repo, "promote", "v1.0.0", "--stage", "staging"
    )
    call_json(capsys, repo, "deprecate", "v1.1.0", "--reason", "broken")
    assert "v1.1.0 is deprecated" in refused(
        capsys, repo, "promote", "v1.1.0", "--stage", "staging"
    )
    assert "v1.1.0 is deprecated" in refused(
        capsys, repo, "deprecate", "v1.1.0", "--reason", "again"
    )


def test_deprecate_moves_latest_and_frees_the_stage(capsys, repo):
    call_json(capsys, repo, "promote", "v1.1.0", "--stage", "staging")
    result = call_json(capsys, repo, "deprecate", "v1.1.0", "--reason", "leaky feature")
    assert result["tag"] == f"{MODEL_NAME}@v1.1.0!"
    listing = call_json(capsys, repo, "list")
    assert listing["latest"] == "v1.0.0" and listing["stages"] == {}
    assert [v["deprecated"] for v in listing["versions"]] == [False, True]
    retrain(repo, 0.97)
    # a deprecated version's number is never reused
    err = refused(capsys, repo, "register", "--version", "v1.1.0")
    assert f"version v1.1.0 of {MODEL_NAME} already exists" in err
    assert call_json(capsys, repo, "register")["version"] == "v1.1.1"


def test_list_show_history_human_and_json(capsys, repo):
    call_json(capsys, repo, "promote", "v1.1.0", "--stage", "staging", "--reason", "canary ok")
    code, out, _ = call(capsys, repo, "list")
    assert code == 0 and f"{MODEL_NAME}: latest v1.1.0; staging v1.1.0" in out
    assert "v1.0.0" in out and "active" in out
    shown = call_json(capsys, repo, "show", "staging")
    assert (
        shown["version"] == "v1.1.0"
        and shown["manifest"]["metrics"]["evaluation"]["accuracy"] == 0.92
    )
    code, out, _ = call(capsys, repo, "show", "v1.0.0")
    assert "metrics.evaluation.accuracy" in out and "0.9" in out
    history = call_json(capsys, repo, "history")
    assert [(e["event"], e["version"], e["stage"]) for e in history] == [
        ("register", "v1.0.0", None),
        ("register", "v1.1.0", None),
        ("assign", "v1.1.0", "staging"),
    ]
    assert "canary ok" in history[-1]["message"]


def test_query_filters_by_metric_author_since_and_stage(capsys, repo):
    found = call_json(capsys, repo, "query", "accuracy > 0.91")
    assert [v["version"] for v in found] == ["v1.1.0"] and found[0]["values"] == {"accuracy": 0.92}
    assert len(call_json(capsys, repo, "query", "accuracy >= 0.9 and f1 > 0")) == 2
    assert call_json(capsys, repo, "query", "accuracy > 0", "--author", "nobody") == []
    assert len(call_json(capsys, repo, "query", "accuracy > 0", "--author", "ADA@example")) == 2
    assert len(call_json(capsys, repo, "query", "accuracy > 0", "--since", "30d")) == 2
    assert call_json(capsys, repo, "query", "accuracy > 0", "--since", "2999-01-01") == []
    call_json(capsys, repo, "promote", "v1.0.0", "--stage", "staging")
    staged = call_json(capsys, repo, "query", "accuracy > 0", "--stage", "staging")
    assert [v["version"] for v in staged] == ["v1.0.0"]


def test_diff_puts_changed_science_first_and_bookkeeping_last(capsys, repo):
    diff = call_json(capsys, repo, "diff", "v1.0.0", "v1.1.0")
    named = {(f"{r['section']}.{r['key']}" if r["key"] else r["section"]): r for r in diff["rows"]}
    names = list(named)
    changed = {name for name, r in named.items() if r["changed"]}
    science = {name for name, r in named.items() if r["kind"] == "science"}
    assert changed & science == {
        "params.train.quality",
        "metrics.evaluation.accuracy",
        "metrics.evaluation.f1",
        "metrics.gate.candidate",
        "artifact.md5",
        "artifact.files.model.skops.sha256",
        "artifact.files.model.skops.bytes",
    }
    # --json stays complete: the bookkeeping is there too, and the gate's copy of a metric
    assert {"commit", "created", "gate.candidate", "environment.registered_with_python"} <= (
        set(names) - science
    )
    kinds = [(r["kind"], r["changed"]) for r in diff["rows"]]
    assert kinds == sorted(kinds, key=lambda k: (k[0] != "science", not k[1]))
    code, out, _ = call(capsys, repo, "diff", "v1.0.0", "v1.1.0")
    lines = out.splitlines()[2:]
    first_rows = [line.split()[1] for line in lines[:7]]
    assert all(line.startswith("*") for line in lines[:7]) and set(first_rows) == changed & science
    quality = next(x for x in lines if "params.train.quality" in x)
    assert "0.9" in quality and "0.92" in quality
    commit = next(i for i, x in enumerate(lines) if x.split()[1:2] == ["commit"])
    data = next(i for i, x in enumerate(lines) if "data.data/raw/dataset.csv" in x)
    assert data < commit and lines[commit].startswith("*")
    assert "gate.candidate" not in {x.split()[-3] for x in lines if x.strip()}  # once, as metric
    assert out.splitlines()[-1].startswith("7 of ") and "bookkeeping rows differ" in out


def test_show_prints_each_fact_once(capsys, repo):
    code, out, _ = call(capsys, repo, "show", "v1.1.0")
    keys = [line.split()[0] for line in out.splitlines() if line.strip()]
    assert code == 0 and len(keys) == len(set(keys)), out
    assert "metrics.gate.candidate" in keys and "gate.candidate" not in keys
    assert "gate.metric" in keys and "metrics.gate.metric" not in keys  # text: the gate's
    assert keys.count("commit") == 1 and "params.train.quality" in keys
    shown = call_json(capsys, repo, "show", "v1.1.0")["manifest"]
    assert shown["gate"]["candidate"] == shown["metrics"]["gate"]["candidate"] == 0.92


def test_push_sends_only_the_new_tag(capsys, repo):
    result = call_json(capsys, repo, "promote", "v1.1.0", "--stage", "staging", "--push")
    assert result["pushed_to"] == "origin"
    assert remote_tags(repo) == [f"{MODEL_NAME}#staging#1"]


def test_two_clones_pushing_the_same_version_one_wins(capsys, repo, tmp_path):
    remote = repo.parent / "remote.git"
    git(repo, "push", "-q", "origin", "main", "--tags")
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(remote), str(other))
    git(other, "config", "user.name", "Bob")
    git(other, "config", "user.email", "bob@example.com")
    retrain(repo, 0.95)
    # the other clone has no DVC cache: give it its own commit with the same pipeline state
    other_repo_cache = repo / ".dvc" / "cache"
    git(other, "fetch", "-q", str(repo), "main")
    git(other, "merge", "-q", "--ff-only", "FETCH_HEAD")
    git(other, "commit", "-q", "--allow-empty", "-m", "bob's build")
    subprocess.run(["cp", "-r", str(other_repo_cache), str(other / ".dvc")], check=True)
    subprocess.run(
        [sys.executable, "-m", "dvc", "checkout", "-q"], cwd=other, env=tool_env(), check=True
    )
    won = call_json(capsys, repo, "register", "--push")
    assert won["version"] == "v1.1.1" and won["pushed_to"] == "origin"
    err = refused(capsys, other, "register", "--push")
    assert (
        "push of classifier@v1.1.1 to origin was refused".replace("classifier", MODEL_NAME) in err
    )
    assert "local tag was deleted" in err
    remote_commit = git(
        repo, "ls-remote", "origin", f"refs/tags/{MODEL_NAME}@v1.1.1" + "^{}"
    ).stdout.split()[0]
    assert remote_commit == won["commit"]
    # nothing lost: after fetching, the loser registers the next version
    git(other, "fetch", "-q", "--tags", "origin")
    assert call_json(capsys, other, "register", "--push")["version"] == "v1.1.2"


def test_read_path_loads_no_heavy_modules(repo):
    probe = (
        "import sys\n"
        f"from weighbridge.registry.cli import main\n"
        "for args in (['list'], ['history'], ['show', 'v1.0.0'], ['diff', 'v1.0.0', 'v1.1.0'],"
        " ['query', 'accuracy > 0']):\n"
        f"    assert main([*args, '-C', {str(repo)!r}, '--json']) == 0\n"
        "heavy = ('dvc', 'sklearn', 'pandas', 'yaml', 'numpy')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=tool_env()
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_module_entry_point_runs(repo):
    result = subprocess.run(
        [sys.executable, "-m", f"{PACKAGE}.registry", "list", "--json"],
        cwd=repo,
        capture_output=True,
        text=True,
        env=tool_env(),
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["latest"] == "v1.1.0"


# --- reasons: any text round-trips, nothing raw reaches a terminal ------------------

REASONS = [
    "bad model\n\nsee ticket 42",
    "quotes \" and ' and \\ backslash",
    '{"action": "promote", "reason": "looks like JSON"}',
    f"Promote {MODEL_NAME} v1.0.0 to staging\n\n" + json.dumps({"action": "rollback"}) + "\n",
    "trailing spaces   \n\n\n  leading\r\nCRLF\tand\ttabs  \n",
    "# a comment line\n#another",
    "escapes \x1b[31mred\x1b[0m, a bell \x07, a title \x1b]0;owned\x07, NUL \x00",
    "unicode: café, 日本語, 🚀, rtl \u202eoverride, nbsp\u00a0, separator\u2028",
    "-----BEGIN PGP SIGNATURE-----\nnot a signature",
    "   ",
    "x" * 5000,
]


@pytest.fixture
def quick_tags(monkeypatch):
    """Tags one second apart without waiting for the clock (git still orders them)."""
    from weighbridge.registry import gitutil

    monkeypatch.setattr(gitutil, "wait_past", lambda last: max(last + 1, int(time.time())))


def printable_lines(text: str) -> bool:
    return all(char.isprintable() or char == "\n" for char in text)


def test_any_reason_round_trips_exactly(capsys, repo, quick_tags):
    for number, reason in enumerate(REASONS):
        version = ("v1.0.0", "v1.1.0")[number % 2]
        call_json(capsys, repo, "promote", version, "--stage", "staging", "--reason", reason)
    call_json(capsys, repo, "deprecate", "v1.0.0", "--reason", REASONS[0])
    history = call_json(capsys, repo, "history")
    assert [e["reason"] for e in history[2:]] == [*REASONS, REASONS[0]]
    for event in load_registry(repo).events(MODEL_NAME)[2:]:
        first_line, blank, body = event.message.partition("\n\n")
        assert blank and json.loads(body)["reason"] in REASONS
        assert first_line.isprintable() and len(first_line) <= 200

    code, out, _ = call(capsys, repo, "history")
    assert code == 0 and printable_lines(out) and "\\x1b[31mred" in out


def test_a_blank_line_in_a_reason_keeps_the_rollback(capsys, repo, quick_tags):
    call_json(capsys, repo, "promote", "v1.0.0", "--stage", "staging")
    call_json(capsys, repo, "promote", "v1.1.0", "--stage", "staging")
    back = call_json(capsys, repo, "rollback", "--stage", "staging", "--reason", REASONS[0])
    assert (back["previous"], back["version"]) == ("v1.1.0", "v1.0.0")
    # read as a rollback, not a promotion: nothing earlier to go back to
    err = refused(capsys, repo, "rollback", "--stage", "staging", "--reason", "again")
    assert "no earlier version of" in err


def test_a_reason_that_is_not_utf8_is_refused(capsys, repo):
    err = refused(capsys, repo, "promote", "v1.0.0", "--stage", "staging", "--reason", "caf\udce9")
    not_utf8 = "--reason is not valid UTF-8 text (byte 0xe9 at character 4): give it in UTF-8"
    assert err == f"error: {not_utf8}\n"
    err = refused(capsys, repo, "deprecate", "v1.0.0", "--reason", "\ud800")
    assert "(U+D800 at character 1)" in err


def add_second_model(repo: Path) -> None:
    """A second artifact, ``other``, made from the first by a stage with its own params."""
    pipeline = yaml.safe_load((repo / "dvc.yaml").read_text())
    copy = "import shutil; shutil.copytree('models/{0}', 'models/other', dirs_exist_ok=True)"
    pipeline["stages"]["train_other"] = {
        "cmd": f'python -c "{copy.format(MODEL_NAME)}"',
        "deps": [f"models/{MODEL_NAME}"],
        "params": ["other"],
        "outs": ["models/other"],
    }
    pipeline["artifacts"] = {
        MODEL_NAME: {"path": f"models/{MODEL_NAME}", "type": "model"},
        "other": {"path": "models/other", "type": "model"},
    }
    (repo / "dvc.yaml").write_text(yaml.safe_dump(pipeline, sort_keys=False))
    params = yaml.safe_load((repo / "params.yaml").read_text())
    (repo / "params.yaml").write_text(yaml.safe_dump({**params, "other": {"depth": 2}}))
    retrain(repo, 0.95)


def test_each_model_records_only_its_own_params_metrics_and_gate(capsys, repo):
    add_second_model(repo)
    other = call_json(capsys, repo, "register", "--model", "other")
    assert other["version"] == "v1.0.0"
    manifest = call_json(capsys, repo, "show", "--model", "other", "v1.0.0")["manifest"]
    assert sorted(manifest["params"]) == ["other", "train"]  # train made the weights it copies
    assert manifest["metrics"] == {} and manifest["gate"] is None
    assert manifest["artifact"]["path"] == "models/other"
    assert set(manifest["artifact"]["files"]) == {"model.skops", "environment.json"}
    call_json(capsys, repo, "register")
    mine = call_json(capsys, repo, "show", "v1.1.1")["manifest"]
    assert sorted(mine["params"]) == ["gate", "train"] and sorted(mine["metrics"]) == [
        "evaluation",
        "gate",
    ]
    assert mine["gate"]["passed"] is True


@pytest.mark.parametrize(
    "command", [("register",), ("list",), ("promote", "v1.0.0", "--stage", "qa")]
)
def test_an_unknown_model_is_refused_naming_the_known_ones(capsys, repo, command):
    add_second_model(repo)
    err = refused(capsys, repo, *command, "--model", "classifer")
    assert err == (
        "error: unknown model 'classifer': not in dvc.yaml's artifacts nor in the tags "
        f"(known models: {', '.join(sorted([MODEL_NAME, 'other']))})\n"
    )


@pytest.mark.parametrize(
    "command",
    [("check",), ("deploy", "--version", "v1.0.0"), ("verify", "v1.0.0"), ("gc", "--dry-run")],
)
def test_plugin_commands_refuse_an_unknown_model_naming_the_known_ones(capsys, repo, command):
    """They used to fail later, on a file of that model (check: "signature ... missing")."""
    add_second_model(repo)
    target = repo.parent / "serving"
    extra = ("--to", str(target)) if command[0] == "deploy" else ()
    before = git(repo, "status", "--porcelain", "--ignored").stdout, remote_files(repo)
    err = refused(capsys, repo, *command, *extra, "--model", "classifer")
    assert err == (
        "error: unknown model 'classifer': not in dvc.yaml's artifacts nor in the tags "
        f"(known models: {', '.join(sorted([MODEL_NAME, 'other']))})\n"
    )
    assert (git(repo, "status", "--porcelain", "--ignored").stdout, remote_files(repo)) == before
    assert not target.exists()


def remote_files(repo: Path) -> dict[str, bytes]:
    remote = repo.parent / "dvc-remote"
    files = (p for p in remote.rglob("*") if p.is_file())
    return {p.relative_to(remote).as_posix(): p.read_bytes() for p in files}


def test_register_refuses_without_a_dvc_remote(capsys, repo):
    retrain(repo, 0.95)
    dvc(repo, "remote", "remove", "--local", "storage")
    dvc(repo, "remote", "remove", "storage")
    git(repo, "commit", "-qam", "no DVC remote")
    err = refused(capsys, repo, "register")
    assert err == (
        f"error: cannot put the weights of {MODEL_NAME} v1.1.1 (models/{MODEL_NAME}) on a DVC "
        "remote: none is configured (dvc remote add -d NAME URL)\n"
    )


def test_promote_pushes_weights_the_remote_lacks_and_refuses_weights_found_nowhere(capsys, repo):
    remote = repo.parent / "dvc-remote"
    shutil.rmtree(remote)  # as if v1.0.0 and v1.1.0 had been registered before this rule
    # and the remote moved since: v1.0.0's commit names the old one, which has its weights
    dvc(repo, "config", "--local", "--unset", "remote.storage.url")
    dvc(repo, "remote", "modify", "storage", "url", str(remote))
    git(repo, "commit", "-qam", "the DVC remote moved")
    call_json(capsys, repo, "promote", "v1.0.0", "--stage", "staging")
    pushed = remote_files(repo)
    assert pushed and all(
        hashlib.md5(body).hexdigest() in name.replace("/", "") for name, body in pushed.items()
    )
    shutil.rmtree(remote)
    remote.mkdir()  # an empty remote (a missing one is named as such)
    shutil.rmtree(repo / ".dvc" / "cache")  # v1.1.0's weights are nowhere now
    err = refused(capsys, repo, "promote", "v1.1.0", "--stage", "staging")
    assert re.fullmatch(
        rf"error: cannot put the weights of {MODEL_NAME} v1\.1\.0 \(models/{MODEL_NAME}\) on DVC "
        r"remote 'storage' \(.*dvc-remote\): 1 of its objects are neither in the local cache nor "
        r"on the remote \([0-9a-f]{32}\.dir\): dvc push them from the machine that built it\n",
        err,
    ), err
    assert remote_files(repo) == {}


def test_register_force_records_why_the_gate_was_overridden(capsys, repo):
    retrain(repo, 0.5)
    assert "gate failed" in refused(capsys, repo, "register")
    err = refused(capsys, repo, "register", "--force")
    assert err == "error: --force needs --reason TEXT: say why the gate is overridden\n"
    err = refused(capsys, repo, "register", "--reason", "why")
    assert err == "error: register takes --reason only with --force (it says why)\n"
    result = call_json(capsys, repo, "register", "--force", "--reason", "the classes changed")
    manifest = call_json(capsys, repo, "show", result["version"])["manifest"]
    assert manifest["gate_overridden"] == {
        "reason": "the classes changed",
        "by": "Ada Lovelace <ada@example.com>",
    }
    assert manifest["gate"]["passed"] is False  # the verdict it was registered despite
    message = git(repo, "tag", "-l", "--format=%(contents:subject)", result["tag"]).stdout
    assert message.strip() == f"Register {MODEL_NAME} v1.1.1 despite the gate: the classes changed"


@pytest.mark.parametrize("damage", ["latin-1 byte", "a folder"])
def test_a_dvc_yaml_that_cannot_be_read_is_one_error_line(capsys, tmp_path, damage):
    """The default model comes from dvc.yaml: when it cannot be read, say so in one line."""
    repo = make_project(tmp_path)
    dvc_yaml = repo / "dvc.yaml"
    if damage == "a folder":
        dvc_yaml.unlink()
        dvc_yaml.mkdir()
    else:
        dvc_yaml.write_bytes(dvc_yaml.read_bytes() + b"# caf\xe9\n")
    code, out, err = call(capsys, repo, "list")
    assert (code, out) == (1, "")
    assert err.startswith("error: dvc.yaml: cannot be read (") and err.count("\n") == 1


def test_deploy_with_repo_takes_the_model_of_the_tags_it_reads(capsys, tmp_path):
    """Run inside a project whose dvc.yaml names another model, deploy --repo still deploys
    the model the given repository's tags hold (it never takes this folder's name)."""
    source = make_project(tmp_path / "source", model="churn")
    assert call(capsys, source, "register")[0] == 0
    here = make_project(tmp_path / "here")  # its dvc.yaml declares MODEL_NAME, not churn
    target = tmp_path / "serving"
    args = ("--version", "v1.0.0", "--repo", str(source), "--to", str(target))
    code, out, err = call(capsys, here, "deploy", *args)
    assert code == 0, err
    assert json.loads((target / "DEPLOYED.json").read_text())["model"] == "churn"
