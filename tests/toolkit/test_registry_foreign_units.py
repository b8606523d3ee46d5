"""Tags written by other tools, on real git repositories (plain git, no DVC run):
manifests derived from the commit, the weights' check against dvc.lock's md5, the
``.gto`` stage allowlist, and GTO's whole-model deprecation."""

import json
from pathlib import Path

import pytest
import yaml
from registry_helpers import MODEL_NAME, set_identity
from registry_helpers import git as run_git
from weighbridge.registry import derived, gto_config, tags
from weighbridge.registry.cli import main
from weighbridge.registry.errors import RegistryError
from weighbridge.registry.gitutil import create_tag
from weighbridge.registry.store import load_registry

MODEL = MODEL_NAME  # the baked name: the CLI reads this model by default
START = 1_700_000_000
LOCK = {
    "schema": "2.0",
    "stages": {
        "train": {
            "deps": [{"path": "data/prepared/train.parquet", "hash": "md5", "md5": "a" * 32}],
            "outs": [{"path": f"models/{MODEL}", "hash": "md5", "md5": "b" * 32 + ".dir"}],
        }
    },
}
PIPELINE = {
    "metrics": ["metrics/evaluation.json"],
    "artifacts": {MODEL: {"path": f"models/{MODEL}"}},
}


def git(repo: Path, *args: str) -> str:
    return run_git(repo, *args).stdout


@pytest.fixture
def repo(tmp_path) -> Path:
    """One commit with a pipeline's files, registered by "GTO" (a plain-text message)."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "--quiet", "-b", "main")
    set_identity(repo)
    (repo / "metrics").mkdir()
    (repo / "metrics" / "evaluation.json").write_text(json.dumps({"accuracy": 0.9}))
    (repo / "dvc.yaml").write_text(yaml.safe_dump(PIPELINE))
    (repo / "dvc.lock").write_text(yaml.safe_dump(LOCK))
    (repo / "params.yaml").write_text(yaml.safe_dump({"train": {"C": 1.0}}))
    git(repo, "add", "-A")
    git(repo, "commit", "--quiet", "-m", "train")
    gto_tag(repo, f"{MODEL}@v0.0.1", START)
    return repo


def gto_tag(repo: Path, name: str, when: int, target: str = "HEAD") -> None:
    create_tag(repo, name, target, f"Written by GTO: {name}", when)


def test_a_manifest_is_derived_from_the_commit_of_a_tag_without_one(repo):
    version = load_registry(repo).version(MODEL, "v0.0.1")
    manifest = version.manifest
    assert manifest["derived"] is True and version.derived
    assert manifest["artifact"] == {"path": f"models/{MODEL}", "md5": "b" * 32 + ".dir"}
    assert manifest["data"] == {"data/prepared/train.parquet": "a" * 32}
    assert manifest["params"] == {"train": {"C": 1.0}}
    assert manifest["metrics"] == {"evaluation": {"accuracy": 0.9}}
    assert manifest["author"] == "Ada Lovelace <ada@example.com>"
    assert manifest["commit"] == git(repo, "rev-parse", "HEAD").strip()
    assert derived.artifact_of(version) == (f"models/{MODEL}", "b" * 32 + ".dir")


def test_listing_and_querying_never_derive_a_manifest(repo, monkeypatch, capsys):
    def forbidden(*args):
        raise AssertionError("derived a manifest")

    monkeypatch.setattr(derived, "derive_manifest", forbidden)
    for args in (["list"], ["history"], ["list", "--json"]):
        assert main(["-C", str(repo), *args]) == 0, capsys.readouterr().err
    # a query reads the tags' own manifests: a version registered by GTO has none
    assert main(["-C", str(repo), "query", "accuracy > 0.5"]) == 1
    assert "unknown field 'accuracy'" in capsys.readouterr().err


def test_show_says_the_manifest_was_derived(repo, capsys):
    assert main(["-C", str(repo), "show", "v0.0.1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["manifest"]["derived"] is True
    assert main(["-C", str(repo), "show", "v0.0.1"]) == 0
    assert "derived_from" in capsys.readouterr().out


def test_a_commit_without_a_pipeline_gives_a_one_line_refusal_where_weights_are_needed(repo):
    git(repo, "rm", "--quiet", "dvc.yaml")
    git(repo, "commit", "--quiet", "-m", "no pipeline")
    gto_tag(repo, f"{MODEL}@v0.0.2", START + 1)
    version = load_registry(repo).version(MODEL, "v0.0.2")
    assert version.manifest["underivable"] == "its commit has no dvc.yaml"
    with pytest.raises(RegistryError) as refused:
        derived.artifact_of(version)
    assert str(refused.value) == (
        f"tag {MODEL}@v0.0.2 has no manifest (written by another tool), and none can be "
        f"derived from commit {version.commit[:12]}: its commit has no dvc.yaml"
    )


def test_the_folder_hash_is_dvcs_own():
    from dvc_data.hashfile.hash_info import HashInfo
    from dvc_data.hashfile.meta import Meta
    from dvc_data.hashfile.tree import Tree

    md5s = {"model.skops": "1" * 32, "sub/signature.json": "2" * 32, "a.json": "3" * 32}
    tree = Tree()
    for name, md5 in md5s.items():
        tree.add(tuple(name.split("/")), Meta(), HashInfo("md5", md5))
    tree.digest()
    assert derived.tree_md5(md5s, "x.dir") == tree.hash_info.value


def test_files_that_do_not_make_up_dvc_locks_md5_are_refused(tmp_path):
    (tmp_path / "model.skops").write_bytes(b"weights")
    good = derived.tree_md5(
        {"model.skops": derived.digests_of_file(tmp_path / "model.skops")[0]}, ".dir"
    )
    files = derived.verified_folder(tmp_path, good, "m v1")
    assert files["model.skops"]["bytes"] == 7
    (tmp_path / "extra.txt").write_text("not in dvc.lock")
    with pytest.raises(RegistryError, match="refusing tampered or corrupted weights"):
        derived.verified_folder(tmp_path, good, "m v1")


@pytest.mark.parametrize(
    ("content", "allowed"),
    [
        ("stages: [dev, prod]\n", ["dev", "prod"]),
        ("STAGES: [dev]\n", ["dev"]),  # pydantic-settings: keys in any case
        ("stages: []\n", []),
        ("stages: null\ntypes: [model]\n", None),
        ("", None),
    ],
)
def test_gto_file_stages_are_read_as_gto_reads_them(repo, content, allowed):
    (repo / ".gto").write_text(content)
    assert gto_config.allowed_stages(repo) == allowed


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("foo: 1\n", ".gto has a key GTO does not know: 'foo'"),
        ("stages: prod\n", ".gto: stages must be a list of stage names"),
        ("stages: [1]\n", ".gto: stages must be a list of stage names"),
        ("stages: [dev, 'bad name']\n", ".gto: stages has an invalid stage name 'bad name'"),
        ("- a\n", ".gto is not a mapping of settings"),
    ],
)
def test_a_gto_file_gto_refuses_is_refused(repo, content, problem):
    (repo / ".gto").write_text(content)
    with pytest.raises(RegistryError) as refused:
        gto_config.require_allowed_stage(repo, "dev")
    assert str(refused.value) == f"{problem}: GTO refuses it too (Wrong config file)"


def test_the_environment_overrides_the_gto_file(repo, monkeypatch):
    (repo / ".gto").write_text("stages: [dev]\n")
    monkeypatch.setenv("GTO_STAGES", '["qa"]')
    assert gto_config.allowed_stages(repo) == ["qa"]
    monkeypatch.setenv("GTO_STAGES", "qa")
    with pytest.raises(RegistryError, match="GTO_STAGES is not a JSON list"):
        gto_config.allowed_stages(repo)


@pytest.mark.parametrize(
    ("events", "deprecated"),
    [
        ([("assign", 1), ("deprecate", 2)], True),
        ([("deprecate", 1), ("assign", 2)], False),  # any later event re-activates it
        ([("assign", 1), ("deprecate", 1)], False),  # GTO: a version event wins the second
        ([("deprecate", 1), ("create", 1)], True),  # GTO: a creation loses it
        ([("deprecate", 1), ("create", 2)], False),
    ],
)
def test_whole_model_deprecation_follows_gtos_order(repo, events, deprecated):
    names = {
        "assign": tags.assign_tag(MODEL, "production", 1),
        "deprecate": f"{MODEL}@deprecated",
        "create": f"{MODEL}@created",
    }
    for kind, offset in events:
        gto_tag(repo, names[kind], START + offset)
    registry = load_registry(repo)
    assert (registry.deprecation(MODEL) is not None) is deprecated
    assigned = not deprecated and any(kind == "assign" for kind, _ in events)
    expected = {"production": registry.version(MODEL, "v0.0.1")} if assigned else {}
    assert registry.stages(MODEL) == expected
    if deprecated and "assign" in dict(events):
        with pytest.raises(RegistryError, match="no stage is in effect, so 'production' names"):
            registry.resolve(MODEL, "production")


@pytest.mark.parametrize(
    ("pipeline", "lock", "underivable"),
    [
        ({"artifacts": ["x"]}, LOCK, f"its dvc.yaml declares no artifact {MODEL!r} (artifacts:)"),
        ({**PIPELINE, "metrics": 5}, LOCK, None),
        (
            {**PIPELINE, "metrics": [{}, "missing file.json", 3, "../out.json", "/a.json"]},
            LOCK,
            None,
        ),
        (PIPELINE, {"stages": [1]}, "its dvc.yaml or dvc.lock is not shaped as DVC writes them"),
    ],
)
def test_odd_pipeline_files_never_break_a_derivation(repo, pipeline, lock, underivable):
    (repo / "dvc.yaml").write_text(yaml.safe_dump(pipeline))
    (repo / "dvc.lock").write_text(yaml.safe_dump(lock))
    git(repo, "commit", "--quiet", "-am", "odd")
    gto_tag(repo, f"{MODEL}@v0.0.2", START + 1)
    manifest = load_registry(repo).version(MODEL, "v0.0.2").manifest
    assert manifest["derived"] is True and manifest.get("underivable") == underivable
