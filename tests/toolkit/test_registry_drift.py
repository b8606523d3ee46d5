"""Training-data profiles in the registry: the manifest's summary, ``diff``'s data section and
``registry drift`` against a live batch, on real git + DVC repositories (the toy pipeline,
its train stage also writing this package's profile of the iris data)."""

import hashlib
from pathlib import Path

import pandas as pd
import pytest
import yaml
from registry_helpers import (
    MODEL_NAME,
    call,
    call_json,
    copy_project,
    dvc,
    git,
    main_ok,
    make_project,
    tag_names,
)
from sklearn.datasets import load_iris

pytestmark = pytest.mark.slow  # real git + DVC repositories

SHIFTED = "petal length (cm)"
# The toy train stage, plus the profile train writes (the package's own code).
PROFILE_STEP = """
if stage == "train":
    import pandas as pd
    from weighbridge.profiles import profile, write_profile

    data = pd.read_csv("data/raw/dataset.csv")
    features = dict.fromkeys([name for name in data.columns if name != "species"], "float64")
    write_profile(model_dir, profile(data, features, "species", "category"))
"""


def iris() -> pd.DataFrame:
    data = load_iris(as_frame=True).frame.rename(columns={"target": "species"})
    data["species"] = data["species"].map(dict(enumerate(load_iris().target_names)))
    return data


def features_only(data: pd.DataFrame) -> pd.DataFrame:
    return data.drop(columns=["species"])


def commit_data(repo: Path, data: pd.DataFrame, message: str) -> None:
    data.to_csv(repo / "data" / "raw" / "dataset.csv", index=False)
    dvc(repo, "repro", "--quiet")
    git(repo, "add", "-A")
    git(repo, "commit", "--quiet", "-m", message)


@pytest.fixture(scope="module")
def profiled(tmp_path_factory) -> Path:
    """v1.0.0 (no profile: trained before profiles), v1.1.0 on iris, v1.2.0 on iris with
    one feature moved; v1.1.0 in staging."""
    repo = make_project(tmp_path_factory.mktemp("profiled"))
    assert main_ok(repo, "register")
    script = repo / "toy_pipeline.py"
    script.write_text(script.read_text() + PROFILE_STEP)
    pipeline = yaml.safe_load((repo / "dvc.yaml").read_text())
    pipeline["artifacts"] = {MODEL_NAME: {"path": f"models/{MODEL_NAME}", "type": "model"}}
    (repo / "dvc.yaml").write_text(yaml.safe_dump(pipeline, sort_keys=False))
    commit_data(repo, iris(), "iris")
    assert main_ok(repo, "register", "--bump", "minor")
    assert main_ok(repo, "promote", "v1.1.0", "--stage", "staging")
    commit_data(repo, iris().assign(**{SHIFTED: lambda d: d[SHIFTED] + 2.5}), "moved")
    assert main_ok(repo, "register", "--bump", "minor")
    return repo


@pytest.fixture
def repo(profiled, tmp_path) -> Path:
    return copy_project(profiled, tmp_path / "copy")


def batch(tmp_path: Path, data: pd.DataFrame, name: str = "batch.csv") -> Path:
    path = tmp_path / name
    data.to_csv(path, index=False)
    return path


def test_the_manifest_summarises_the_profile_and_hashes_it(capsys, repo):
    manifest = call_json(capsys, repo, "show", "v1.2.0")["manifest"]
    summary = manifest["data"]["profile"]
    assert summary["rows"] == 150 and summary["features"] == 4 and summary["missing"] == {}
    assert summary["file"] == f"{manifest['artifact']['path']}/profile.json"
    written = (repo / summary["file"]).read_bytes()  # HEAD is v1.2.0
    recorded = manifest["artifact"]["files"]["profile.json"]
    assert recorded == {"sha256": hashlib.sha256(written).hexdigest(), "bytes": len(written)}
    assert "profile" not in call_json(capsys, repo, "show", "v1.0.0")["manifest"]["data"]


def test_diff_flags_only_the_feature_whose_training_data_moved(capsys, repo):
    result = call_json(capsys, repo, "diff", "v1.1.0", "v1.2.0")
    section = result["data_drift"]
    assert section["measure"] == "PSI" and section["threshold"] == 0.2
    levels = {row["feature"]: row["level"] for row in section["features"]}
    assert {name for name, level in levels.items() if level == "flagged"} == {SHIFTED}
    assert len(levels) == 5  # four features and the target (species: unchanged)
    code, out, _ = call(capsys, repo, "diff", "v1.1.0", "v1.2.0")
    data_part = out[out.index("data drift (PSI") :]
    assert code == 0 and SHIFTED in data_part and "flagged" in data_part
    assert "4 of 5 stable" in data_part and "sepal" not in data_part  # unchanged stay quiet
    same = call_json(capsys, repo, "diff", "v1.1.0", "staging")["data_drift"]["features"]
    assert {row["psi"] for row in same} == {0}


def test_diff_threshold_is_settable_and_old_versions_say_they_have_no_profile(capsys, repo):
    loose = call_json(capsys, repo, "diff", "v1.1.0", "v1.2.0", "--threshold", "50")
    assert all(row["level"] != "flagged" for row in loose["data_drift"]["features"])
    old = call_json(capsys, repo, "diff", "v1.0.0", "v1.1.0")["data_drift"]
    assert old["features"] == [] and old["note"] == "no training-data profile in v1.0.0"
    code, out, _ = call(capsys, repo, "diff", "v1.0.0", "v1.1.0")
    assert code == 0 and out.rstrip().endswith("not scored, no training-data profile in v1.0.0")


def test_a_sample_of_the_training_data_passes(capsys, repo, tmp_path):
    sample = batch(tmp_path, features_only(iris()).sample(100, random_state=4))
    code, out, err = call(capsys, repo, "drift", "staging", "--input", str(sample))
    assert code == 0 and err == "", err
    assert "PSI" in out and "no drift" in out and "(100 rows)" in out
    data = call_json(capsys, repo, "drift", "v1.1.0", "--input", str(sample))
    assert data["drift"] is False and data["rows"] == 100 and data["reference_rows"] == 150
    assert all(row["psi"] < 0.2 for row in data["features"])


def test_a_shifted_batch_exits_1_naming_the_feature(capsys, repo, tmp_path):
    moved = features_only(iris()).sample(100, random_state=5)
    moved[SHIFTED] = moved[SHIFTED] + 2.5
    path = batch(tmp_path, moved)
    before = tag_names(repo)
    code, out, err = call(capsys, repo, "drift", "v1.1.0", "--input", str(path))
    assert code == 1, err
    (line,) = err.splitlines()
    assert line.startswith(f"drift: {SHIFTED} PSI ") and line.endswith(" > 0.2")
    assert "1 feature(s) drifted" in out
    assert tag_names(repo) == before and git(repo, "status", "--porcelain").stdout == ""
    # the version trained on the moved data sees the same batch as normal
    assert call(capsys, repo, "drift", "v1.2.0", "--input", str(path))[0] == 0


def test_the_threshold_is_settable(capsys, repo, tmp_path):
    sample = batch(tmp_path, features_only(iris()).sample(60, random_state=6))
    args = ("drift", "v1.1.0", "--input", str(sample), "--threshold", "0.001")
    code, _, err = call(capsys, repo, *args)
    assert code == 1 and err.count("drift: ") >= 1


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (lambda d: d.drop(columns=[SHIFTED]), f"column '{SHIFTED}': missing"),
        (lambda d: d.assign(**{SHIFTED: "x"}), f"column '{SHIFTED}': expected float64, got 'x'"),
        (lambda d: d.assign(species="setosa"), "column 'species': not an input of the model"),
        (lambda d: d.iloc[:0], "no data rows"),
    ],
)
def test_bad_batches_are_one_line_and_exit_2(capsys, repo, tmp_path, content, problem):
    path = batch(tmp_path, content(iris() if "species" in problem else features_only(iris())))
    code, out, err = call(capsys, repo, "drift", "v1.1.0", "--input", str(path))
    assert (code, out) == (2, "") and err.count("\n") == 1, err
    assert err.startswith(f"error: {path}: ") and problem in err


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (("v1.1.0", "--input", "absent.csv"), "absent.csv: file not found"),
        (("v1.1.0", "--input", "empty.csv"), "empty.csv: file is empty"),
        (("v1.0.0", "--input", "good.csv"), "trained before data profiles existed"),
        (("v9.9.9", "--input", "good.csv"), "unknown version or stage 'v9.9.9'"),
        (("v1.1.0",), "the following arguments are required: --input"),
        (("v1.1.0", "--input", "good.csv", "--threshold", "-1"), "must be a positive number"),
    ],
)
def test_unscorable_runs_are_one_line_and_exit_2(capsys, repo, tmp_path, args, problem):
    (tmp_path / "empty.csv").write_text("")
    features_only(iris()).to_csv(tmp_path / "good.csv", index=False)
    given = [str(tmp_path / a) if a.endswith(".csv") else a for a in args]
    code, out, err = call(capsys, repo, "drift", *given)
    assert (code, out) == (2, "") and err.startswith("error: ") and err.count("\n") == 1, err
    assert problem in err


def test_a_tampered_profile_is_refused(capsys, repo, tmp_path):
    """The profile is read at the version's commit through DVC and checked against the
    sha256 in its manifest, like the weights."""
    manifest = call_json(capsys, repo, "show", "v1.1.0")["manifest"]
    expected = manifest["artifact"]["files"]["profile.json"]["sha256"]
    for store in (repo / ".dvc" / "cache", repo.parent / "dvc-remote"):
        tamper_profiles(store)
    sample = batch(tmp_path, features_only(iris()))
    code, _, err = call(capsys, repo, "drift", "v1.1.0", "--input", str(sample))
    assert code == 2 and "refusing tampered or corrupted" in err and expected[:12] in err


def tamper_profiles(store: Path) -> None:
    """Change the row count in every stored profile (a DVC cache or remote folder)."""
    for path in store.rglob("*"):
        if path.is_file() and b'"profile":1' in path.read_bytes():
            path.chmod(0o644)
            path.write_bytes(path.read_bytes().replace(b'"rows":150', b'"rows":151'))


def test_a_version_registered_by_another_tool_is_scored_from_its_commit(capsys, repo, tmp_path):
    """A GTO-style tag (no manifest): drift reads its folder at the commit, checked against
    dvc.lock; diff says why it does not compare its profile."""
    commit = call_json(capsys, repo, "show", "v1.1.0")["commit"]
    git(repo, "tag", "-a", f"{MODEL_NAME}@v2.0.0", "-m", "Registered by gto", commit)
    moved = features_only(iris())
    moved[SHIFTED] = moved[SHIFTED] + 2.5
    code, _, err = call(capsys, repo, "drift", "v2.0.0", "--input", str(batch(tmp_path, moved)))
    assert code == 1 and err.startswith(f"drift: {SHIFTED} PSI "), err
    note = call_json(capsys, repo, "diff", "v1.1.0", "v2.0.0")["data_drift"]["note"]
    assert note.startswith("no training-data profile in v2.0.0 (registered by another tool")
