"""The production gate end to end: real bakes, real `dvc repro` and `dvc exp run` (in the
workspace, queued and temporary), real tags written by the project's own registry CLI,
production weights read through DVC at their commit.

The gate stage records, the registry enforces: a rejected candidate is recorded (the stage
succeeds) and `registry check`, `register` and `promote` refuse it.

One project is built per module (v1.0.0 good and in production, v1.0.1 clearly worse,
v1.0.2 a little worse) and every test works on its own copy of it.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import time
from pathlib import Path

import pytest
import yaml

from tests.helpers import bake_ok, copy_trained, dvc, git, pymod

pytestmark = pytest.mark.slow


# on the default bake's hold-out (146 rows, hash split), production C=1 scores 0.9658
CLEARLY_WORSE = 1e-3  # 0.9041: far above the trivial model's 0.6233, 6 points below
ONE_ROW_BELOW = 0.015  # 0.9589: one hold-out row worse than C=1


def set_params(project: Path, section: str, **values) -> None:
    path = project / "params.yaml"
    params = yaml.safe_load(path.read_text())
    for key, value in values.items():
        if key == "hyperparams":
            params[section]["hyperparams"].update(value)
        else:
            params[section][key] = value
    path.write_text(yaml.safe_dump(params, sort_keys=False))


def registry(project: Path, *args: str, check: bool = True):
    return pymod(project, "registry", *args, check=check)


def gate_report(project: Path) -> dict:
    """The recorded verdict's bookkeeping (summary, checks, production, hold-out)."""
    return json.loads((project / "reports" / "gate.json").read_text())


def gate_metrics(project: Path) -> dict:
    """The recorded verdict's numbers (declared as DVC metrics)."""
    return json.loads((project / "metrics" / "gate.json").read_text())


def commit_all(project: Path, message: str) -> None:
    git(project, "add", "-A")
    git(project, "commit", "-qm", message)


def train_and_register(project: Path, message: str, **train) -> dict:
    if train:
        set_params(project, "train", hyperparams=train)
    dvc(project, "repro")
    verdict = gate_report(project)
    commit_all(project, message)
    registry(project, "register")
    return verdict


def tags(project: Path) -> set[str]:
    return set(git(project, "tag").stdout.split())


def copy_project(source: Path, into: Path) -> Path:
    """A private copy (with its .git and DVC cache); its DVC remote is a private copy too,
    redirected with `dvc remote modify --local` (which DVC honours at every revision)."""
    target = into / source.name
    shutil.copytree(source, target, symlinks=True)
    remote = into / "remote"
    shutil.copytree(source.parent / f"{source.name}-dvc-remote", remote)
    dvc(target, "remote", "modify", "--local", "storage", "url", str(remote))
    return target


@pytest.fixture(scope="module")
def champion_project(trained_default, tmp_path_factory) -> dict:
    """v1.0.0 (C=1) in production; v1.0.1 (C=1e-3) and v1.0.2 (C=0.015) registered."""
    project = copy_trained(trained_default, tmp_path_factory.mktemp("champion"))  # C=1
    first = gate_report(project)
    registry(project, "register")
    set_params(project, "gate", min_value=0.5)  # let the bad model register
    worse = train_and_register(project, "Train C=1e-3", C=CLEARLY_WORSE)
    noisy = train_and_register(project, "Train C=0.015", C=ONE_ROW_BELOW)
    promoted = registry(project, "promote", "v1.0.0", "--stage", "production")
    dvc(project, "push", "-T")  # every tagged version's weights on the remote
    return {
        "project": project,
        "first_gate": first,
        "worse_gate": worse,
        "noisy_gate": noisy,
        "promote_output": promoted.stdout,
    }


@pytest.fixture
def project(champion_project, tmp_path) -> Path:
    return copy_project(champion_project["project"], tmp_path)


def test_without_production_only_the_floor_applies(champion_project):
    verdict = champion_project["first_gate"]
    assert verdict["passed"] is True
    assert verdict["production"] is None and "only the floors" in verdict["note"]
    assert [check["name"] for check in verdict["checks"]] == ["min_value", "trivial"]
    assert "gate passed: accuracy" in champion_project["promote_output"]


def test_equal_candidate_passes_and_a_noop_repro_keeps_the_tree_clean(project):
    set_params(project, "train", hyperparams={"C": 1.0})
    set_params(project, "gate", min_value=0.8)
    dvc(project, "repro")
    verdict = gate_report(project)
    assert verdict["passed"] is True
    assert verdict["candidate"] == verdict["baseline"]  # the very same weights
    production = verdict["production"]
    tagged = git(project, "rev-list", "-n1", "classifier@v1.0.0").stdout.strip()
    assert (production["version"], production["commit"]) == ("v1.0.0", tagged)
    holdout = project / "data" / "prepared" / "holdout.parquet"
    assert verdict["holdout"]["sha256"] == hashlib.sha256(holdout.read_bytes()).hexdigest()
    (check,) = [c for c in verdict["checks"] if c["name"] == "max_regression"]
    assert check["threshold"] == pytest.approx(verdict["baseline"] - 0.02)
    commit_all(project, "Back to C=1")
    dvc(project, "repro")
    assert git(project, "status", "--porcelain").stdout == ""


def test_clearly_worse_candidate_is_recorded_and_refused(project, champion_project):
    worse = champion_project["worse_gate"]
    assert worse["production"] is None  # it was registered before anything was in production
    set_params(project, "train", hyperparams={"C": CLEARLY_WORSE})
    ran = dvc(project, "repro")  # the stage records the rejection and succeeds
    assert "gate rejected: accuracy 0.9041 vs production v1.0.0 0.9658" in ran.stdout
    verdict = gate_report(project)
    assert verdict["passed"] is False and gate_metrics(project)["passed"] is False
    (check,) = [c for c in verdict["checks"] if c["name"] == "max_regression"]
    assert check["passed"] is False and check["value"] < check["threshold"] - 0.04
    print(f"C=1e-3 accuracy {verdict['candidate']:.4f} vs production {verdict['baseline']:.4f}")

    checked = registry(project, "check", check=False)  # what CI runs
    assert checked.returncode == 1 and "Traceback" not in checked.stderr
    (line,) = checked.stderr.splitlines()
    assert re.fullmatch(
        r"error: gate rejected models/classifier \(HEAD [0-9a-f]{8}, work tree modified\): "
        r"accuracy 0\.9041 vs production v1\.0\.0 0\.9658: is below the threshold 0\.9458 "
        r"\(max_regression 0\.02\)",
        line,
    )
    assert "FAIL max_regression" in checked.stdout

    before = tags(project)
    refused = registry(project, "promote", "v1.0.1", "--stage", "production", check=False)
    assert refused.returncode != 0
    (line,) = refused.stderr.strip().splitlines()
    assert line.startswith("error: gate refused v1.0.1 for production")
    assert "accuracy 0.9041 vs production v1.0.0 0.9658" in line and "threshold 0.9458" in line
    assert tags(project) == before
    assert registry(project, "show", "production").stdout.count("v1.0.0") >= 1


def test_forced_promotion_records_the_reason_and_the_failed_numbers(project):
    promote = ("promote", "v1.0.1", "--stage", "production", "--force")
    no_reason = registry(project, *promote, check=False)
    assert no_reason.returncode != 0 and "--reason" in no_reason.stderr
    before = tags(project)
    registry(project, *promote, "--reason", "hotfix test")
    (tag,) = tags(project) - before
    message = git(project, "tag", "-l", "--format=%(contents)", tag).stdout
    body = json.loads(message.partition("\n\n")[2])
    assert body["reason"] == "hotfix test" and body["forced"] is True
    gate = body["gate"]
    assert gate["passed"] is False and gate["candidate_version"]["version"] == "v1.0.1"
    assert gate["production"]["version"] == "v1.0.0"
    (check,) = [c for c in gate["checks"] if c["name"] == "max_regression"]
    assert gate["candidate"] < check["threshold"]


@pytest.mark.parametrize(
    ("max_regression", "test", "passes"),
    [
        (0.0, "none", False),  # one row worse: fails without a test
        (0.02, "none", True),  # worse, but within max_regression
        (0.0, "bootstrap", True),  # within noise
        (0.0, "mcnemar", True),
    ],
)
def test_a_small_difference(project, max_regression, test, passes):
    set_params(project, "gate", max_regression=max_regression, test=test)
    result = pymod(project, "gate_stage")  # a rejection is recorded: the stage succeeds
    assert result.stdout.startswith("gate passed: " if passes else "gate rejected: ")
    verdict = gate_report(project)
    assert verdict["passed"] is passes and gate_metrics(project)["passed"] is passes
    if test != "none":
        assert gate_metrics(project)["p_value"] == verdict["test_result"]["p_value"]
    assert verdict["baseline"] - verdict["candidate"] == pytest.approx(1 / 146)
    if test == "none":
        assert verdict["test_result"] is None
    else:
        assert verdict["test_result"]["name"] == test
        assert verdict["test_result"]["p_value"] > 0.05
        print(f"{test}: p = {verdict['test_result']['p_value']:.3f}")
    promoted = registry(project, "promote", "v1.0.2", "--stage", "production", check=False)
    assert (promoted.returncode == 0) is passes, promoted.stderr


def test_production_weights_are_read_from_the_remote_when_the_cache_lacks_them(project):
    shutil.rmtree(project / ".dvc" / "cache")
    started = time.perf_counter()
    pymod(project, "gate_stage")
    print(f"gate with production fetched from the remote: {time.perf_counter() - started:.1f}s")
    assert gate_report(project)["production"]["version"] == "v1.0.0"


def test_missing_production_weights_name_the_version(project, tmp_path):
    shutil.rmtree(project / ".dvc" / "cache")
    empty = tmp_path / "empty-remote"
    empty.mkdir()
    dvc(project, "remote", "modify", "--local", "storage", "url", str(empty))
    result = pymod(project, "gate_stage", check=False)
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: classifier v1.0.0 (commit ")
    assert line.endswith(
        f"cannot load its weights models/classifier: they are neither in the DVC cache nor on "
        f"the DVC remote 'storage' ({empty}); push them from a machine that has them "
        "(`dvc push -T` pushes every tag)"
    )
    assert git(project, "status", "--porcelain").stdout == ""  # nothing half-written


def test_tampered_production_weights_are_refused(project):
    manifest = json.loads(
        git(project, "tag", "-l", "--format=%(contents)", "classifier@v1.0.0").stdout.partition(
            "\n\n"
        )[2]
    )
    listing_md5 = manifest["artifact"]["md5"]
    cache = project / ".dvc" / "cache" / "files" / "md5"
    listing = json.loads((cache / listing_md5[:2] / listing_md5[2:]).read_text())
    (weights_md5,) = [e["md5"] for e in listing if e["relpath"] == "model.skops"]
    weights = cache / weights_md5[:2] / weights_md5[2:]
    weights.chmod(0o644)
    data = bytearray(weights.read_bytes())
    data[200] ^= 0xFF
    weights.write_bytes(bytes(data))

    for result in (
        pymod(project, "gate_stage", check=False),
        registry(project, "promote", "v1.0.2", "--stage", "production", check=False),
    ):
        assert result.returncode != 0
        (line,) = result.stderr.strip().splitlines()
        assert "classifier v1.0.0" in line and "refusing tampered or corrupted weights" in line


ONE_ROW_WORSE = 0.005  # wine: C=1 gets all 45 hold-out rows right, C=0.005 all but one


def test_one_row_worse_on_the_wine_holdout_passes_by_default(cookies):
    """The bundled wine set holds out 45 rows: one row is 0.022 of accuracy, more than the
    default max_regression 0.02. The tolerance is never finer than one row, so one row of
    noise does not fail a candidate as good as production (the verdict says so)."""
    project = bake_ok(cookies, dataset="wine")
    # the old random split (45 rows); the default hash split holds out 51: one row is 0.0196
    set_params(project, "prepare", split="random")
    shipped = yaml.safe_load((project / "params.yaml").read_text())["gate"]
    assert (shipped["max_regression"], shipped["test"]) == (0.02, "none")
    train_and_register(project, "Train C=1")
    registry(project, "promote", "v1.0.0", "--stage", "production")
    set_params(project, "train", hyperparams={"C": ONE_ROW_WORSE})
    dvc(project, "repro")
    verdict = gate_report(project)
    assert round((verdict["baseline"] - verdict["candidate"]) * 45) == 1, verdict["summary"]
    assert verdict["passed"] is True and gate_metrics(project)["passed"] is True
    assert verdict["tolerance"] == gate_metrics(project)["tolerance"] == pytest.approx(1 / 45)
    (check,) = [c for c in verdict["checks"] if c["name"] == "max_regression"]
    assert "(max_regression 0.02, raised to one hold-out row: 0.0222)" in check["detail"]


def test_mcnemar_needs_accuracy(project):
    set_params(project, "gate", metric="f1", test="mcnemar")
    result = pymod(project, "gate_stage", check=False)
    assert result.returncode == 1
    assert result.stderr.startswith("error: params.yaml: gate.test: mcnemar")


def test_regression_with_a_lower_is_better_metric(cookies):
    project = bake_ok(cookies, dataset="diabetes")
    set_params(project, "prepare", split="random")  # the hold-out these numbers were set on
    set_params(project, "gate", metric="rmse", min_value=100.0, max_regression=1.0)
    first = train_and_register(project, "Train ridge alpha=1")
    assert first["greater_is_better"] is False
    registry(project, "promote", "v1.0.0", "--stage", "production")

    set_params(project, "train", hyperparams={"alpha": 1.2})  # a hair different: passes
    dvc(project, "repro")
    close = gate_report(project)
    assert close["passed"] is True and close["production"]["version"] == "v1.0.0"
    assert abs(close["candidate"] - close["baseline"]) < 1.0

    set_params(project, "train", hyperparams={"alpha": 1000.0})  # far too smooth: fails
    dvc(project, "repro")  # recorded, not raised
    verdict = gate_report(project)
    (check,) = [c for c in verdict["checks"] if c["name"] == "max_regression"]
    assert check["threshold"] == pytest.approx(verdict["baseline"] + 1.0)
    assert check["passed"] is False and check["value"] > check["threshold"]
    assert "is above the threshold" in check["detail"]
    print(f"rmse {verdict['candidate']:.2f} vs production {verdict['baseline']:.2f}")

    set_params(project, "gate", test="bootstrap")
    assert pymod(project, "gate_stage").stdout.startswith("gate rejected: ")
    assert gate_report(project)["test_result"]["p_value"] < 0.05
    set_params(project, "gate", test="mcnemar")
    wrong = pymod(project, "gate_stage", check=False)
    assert wrong.returncode == 1 and "params.yaml: gate.test: mcnemar" in wrong.stderr


# --- the gate stage records, the registry enforces: sweeps, promotion, CI ---------------

BELOW = 0.001  # accuracy 0.9041: above the floor, 6 points below production's 0.9658


def experiments_gate(project: Path) -> dict[str, dict]:
    """Each experiment's metrics/gate.json as `dvc exp show --json` records it, by name."""
    recorded = {}
    for row in json.loads(dvc(project, "exp", "show", "--json").stdout):
        for experiment in row.get("experiments") or []:
            for rev in experiment["revs"]:
                recorded[rev["name"]] = rev["data"]["metrics"]["metrics/gate.json"]["data"]
    return recorded


def test_a_sweep_is_judged_against_production_queued_temporary_or_not(project):
    """Queued and --temp experiments run in a copy without the tags: the gate finds them
    through DVC_ROOT (the repository they were started from), and a rejection is recorded
    (the stage succeeds), never lost."""
    started = time.perf_counter()
    dvc(project, "exp", "run", "--queue", "-S", f"train.hyperparams.C={BELOW}", "-n", "below")
    dvc(project, "exp", "run", "--queue", "-S", "train.hyperparams.C=1.0", "-n", "same")
    dvc(project, "exp", "run", "--run-all")
    dvc(project, "exp", "run", "--temp", "-S", f"train.hyperparams.C={BELOW}", "-n", "temp")
    print(f"two queued and one temporary experiment: {time.perf_counter() - started:.0f}s")
    recorded = experiments_gate(project)
    production = recorded["same"]["baseline"]
    assert recorded["same"]["passed"] is True and recorded["same"]["candidate"] == production
    assert recorded["below"]["passed"] is False and recorded["below"]["baseline"] == production
    assert recorded["temp"] == recorded["below"]

    set_params(project, "train", hyperparams={"C": BELOW})
    dvc(project, "repro")  # the same params in the work tree: the same verdict
    assert gate_metrics(project) == recorded["below"]
    assert gate_report(project)["production"]["version"] == "v1.0.0"


def test_after_a_promotion_a_noop_repro_changes_nothing(project):
    """The verdict recorded at HEAD is about the production of its time; `registry check`
    judges again against production now, and says the record is stale."""
    registry(project, "promote", "v1.0.2", "--stage", "production")
    assert "Running stage" not in dvc(project, "repro").stdout
    assert git(project, "status", "--porcelain").stdout == ""

    checked = registry(project, "check")
    summary, note = checked.stdout.splitlines()
    assert summary.startswith("gate passed: ") and "vs production v1.0.2" in summary
    assert note.startswith(
        "note: the verdict recorded in reports/gate.json was computed against no production; "
        "production is now v1.0.2 (commit "
    )
    assert git(project, "status", "--porcelain").stdout == ""  # check writes nothing

    shown = json.loads(dvc(project, "metrics", "show", "--json").stdout)
    values = [value for file in shown[""]["data"].values() for value in file["data"].values()]
    assert values and all(isinstance(value, (bool, int, float)) for value in values), shown
