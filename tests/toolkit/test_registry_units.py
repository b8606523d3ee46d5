"""The registry's parts: tag grammar, semver, query language, diff rows, and the
read cache (on real git repositories, with plain git: no DVC needed)."""

import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from weighbridge.registry import query, render, tags
from weighbridge.registry.errors import RegistryError
from weighbridge.registry.gitutil import create_tag, read_tags
from weighbridge.registry.semver import SemVer
from weighbridge.registry.store import (
    MESSAGES,
    RECORDS,
    SECTIONS,
    Registry,
    load_registry,
)
from weighbridge.registry.tagcache import CACHE_DIR, HEADER, pack, unpack


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("clf@v1.2.3", tags.ParsedTag("clf", tags.REGISTER, version="v1.2.3")),
        ("clf@v1.2.3!", tags.ParsedTag("clf", tags.DEREGISTER, version="v1.2.3")),
        ("clf@v1.2.3!#7", tags.ParsedTag("clf", tags.DEREGISTER, version="v1.2.3", counter=7)),
        ("clf#prod#4", tags.ParsedTag("clf", tags.ASSIGN, stage="prod", counter=4)),
        ("clf#prod", tags.ParsedTag("clf", tags.ASSIGN, stage="prod")),
        ("clf#prod!#5", tags.ParsedTag("clf", tags.UNASSIGN, stage="prod", counter=5)),
        ("clf@deprecated", tags.ParsedTag("clf", tags.DEPRECATE)),
        (
            "dir/sub=my-model@v0.1.0-rc.1",
            tags.ParsedTag("dir/sub:my-model", tags.REGISTER, version="v0.1.0-rc.1"),
        ),
    ],
)
def test_parse_tag_reads_every_gto_form(tag, expected):
    assert tags.parse_tag(tag) == expected


@pytest.mark.parametrize(
    "tag", ["v1.0.0", "clf@1.0.0", "clf@v1.0", "clf#-prod#1", "clf#prod#x", "-clf@v1.0.0"]
)
def test_parse_tag_ignores_non_registry_tags(tag):
    assert tags.parse_tag(tag) is None


def test_tag_writers_round_trip_through_the_grammar():
    model = "dir:clf"
    assert tags.version_tag(model, "v1.0.0") == "dir=clf@v1.0.0"
    written = [
        tags.version_tag(model, "v1.0.0"),
        tags.deregister_tag(model, "v1.0.0"),
        tags.assign_tag(model, "prod", 3),
        tags.unassign_tag(model, "prod", 4),
    ]
    actions = [tags.parse_tag(t).action for t in written]
    assert actions == [tags.REGISTER, tags.DEREGISTER, tags.ASSIGN, tags.UNASSIGN]
    assert all(tags.parse_tag(t).model == model for t in written)


def test_stage_names_follow_gtos_rule():
    assert tags.is_valid_name("production") and tags.is_valid_name("a/b_c-1")
    assert not any(tags.is_valid_name(s) for s in ["-x", "x-", "a b", "p#1", "p@1", ""])


def test_semver_orders_releases_after_prereleases_and_bumps():
    ordered = [
        "v1.0.0-alpha",
        "v1.0.0-alpha.1",
        "v1.0.0-beta",
        "v1.0.0",
        "v1.0.1",
        "v1.10.0",
        "v2.0.0",
    ]
    assert sorted(ordered[3:] + ordered[:3], key=SemVer.parse) == ordered
    assert str(SemVer.parse("1.2.3").bump("minor")) == "v1.3.0"
    assert str(SemVer.parse("v1.2.3").bump("major")) == "v2.0.0"
    assert str(SemVer.parse("v1.2.3+build.5")) == "v1.2.3+build.5"


@pytest.mark.parametrize("bad", ["v1.2", "v01.2.3", "1.2.x", "latest", "v1.2.3.4"])
def test_semver_rejects_invalid_versions_naming_them(bad):
    with pytest.raises(RegistryError, match="invalid version"):
        SemVer.parse(bad)


MANIFEST = {
    "metrics": {"evaluation": {"accuracy": 0.91, "f1": 0.88}, "gate": {"passed": True}},
    "params": {"train": {"estimator": "random_forest", "seed": 3}},
}


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("accuracy > 0.9", True),
        ("accuracy>=0.91 and f1 < 0.9", True),
        ("accuracy > 0.95", False),
        ("metrics.evaluation.f1 == 0.88", True),
        ("params.train.estimator == random_forest", True),
        ("params.train.estimator != 'random_forest'", False),
        ("params.train.seed <= 3 AND accuracy != 1", True),
        ("", True),
    ],
)
def test_query_conditions_evaluate_against_manifest(expression, expected):
    conditions = query.parse(expression)
    assert all(c.holds(MANIFEST) for c in conditions) is expected


@pytest.mark.parametrize(
    ("expression", "token"),
    [
        ("accuracy >> 0.9", "'>'"),
        ("accuracy ~ 0.9", "'~'"),
        ("accuracy > 0.9 or f1 > 0.8", "'or'"),
        ("accuracy >", "end of query"),
        ("> 0.9", "'>'"),
        ("accuracy > fast", "'fast'"),
    ],
)
def test_query_syntax_errors_name_the_token(expression, token):
    with pytest.raises(RegistryError, match="query:") as caught:
        query.parse(expression)
    assert token in str(caught.value)


def test_query_since_accepts_dates_and_days():
    assert query.since_cutoff("2024-01-02") == 1704153600
    with pytest.raises(RegistryError, match="--since 'last week'"):
        query.since_cutoff("last week")


def test_diff_rows_mark_changed_values_only():
    a = {"params": {"train": {"seed": 1, "depth": 3}}, "data": {"d.csv": "aa"}}
    b = {"params": {"train": {"seed": 2, "depth": 3}}, "data": {"d.csv": "aa"}}
    rows = {f"{r['section']}.{r['key']}": r["changed"] for r in render.diff_rows(a, b)}
    assert rows == {"params.train.seed": True, "params.train.depth": False, "data.d.csv": False}


def test_semver_equality_ignores_build_metadata():
    assert SemVer.parse("v1.0.0+a") == SemVer.parse("v1.0.0+b")
    assert hash(SemVer.parse("v1.0.0+a")) == hash(SemVer.parse("v1.0.0"))
    assert SemVer.parse("v1.0.0-rc.1") < SemVer.parse("v1.0.0") <= SemVer.parse("v1.0.0")
    assert SemVer.parse("v1.0.0") != SemVer.parse("v1.0.1")


# The read cache, on real repositories -------------------------------------------

MODEL = "clf"
START = 1_700_000_000


def run_git(repo: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


def register(repo: Path, version: str, accuracy: float, when: int, commit: bool = True) -> None:
    """A commit (unless ``commit`` is False) and its register tag with a manifest."""
    if commit:
        run_git(repo, "commit", "--quiet", "--allow-empty", "-m", f"train {version}")
    manifest = {
        "manifest": 1,
        "model": MODEL,
        "version": version,
        "params": {"train": {"seed": int(accuracy * 100)}},
        "metrics": {"evaluation": {"accuracy": accuracy, "f1": accuracy - 0.01}},
        "gate": {"passed": True},
    }
    message = f"Register {MODEL} {version}\n\n{json.dumps(manifest, indent=2)}\n"
    create_tag(repo, tags.version_tag(MODEL, version), "HEAD", message, when)


@pytest.fixture
def repo(tmp_path) -> Path:
    """Three versions, a promotion, a deprecation, a lightweight stage tag, a plain tag."""
    repo = tmp_path / "repo"
    repo.mkdir()
    run_git(repo, "init", "--quiet", "-b", "main")
    run_git(repo, "config", "user.name", "Ada Lovelace")
    run_git(repo, "config", "user.email", "ada@example.com")
    for i, accuracy in enumerate([0.90, 0.93, 0.95]):
        register(repo, f"v1.{i}.0", accuracy, START + 10 * i)
    promote = f"Promote {MODEL} v1.1.0 to production\n\n" + json.dumps({"action": "promote"})
    create_tag(repo, tags.assign_tag(MODEL, "production", 1), "HEAD~1", promote, START + 31)
    create_tag(repo, tags.deregister_tag(MODEL, "v1.0.0"), "HEAD~2", "Deprecate", START + 32)
    run_git(repo, "tag", tags.assign_tag(MODEL, "staging", 5), "HEAD")  # lightweight
    run_git(repo, "tag", "-a", "-m", "not a registry tag", "release-1", "HEAD")
    return repo


@pytest.fixture
def git_log(tmp_path, monkeypatch) -> Path:
    """Real git behind a wrapper that logs each git command (and the ids cat-file reads)."""
    wrappers = tmp_path / "wrappers"
    wrappers.mkdir()
    log = tmp_path / "git.log"
    script = wrappers / "git"
    script.write_text(
        "#!/bin/sh\n"
        f'echo "$3" >> "{log}"\n'
        'if [ "$3" = cat-file ]; then\n'
        f'  tee -a "{log}.ids" | "{shutil.which("git")}" "$@"\n'
        "else\n"
        f'  exec "{shutil.which("git")}" "$@"\n'
        "fi\n"
    )
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{wrappers}{os.pathsep}{os.environ['PATH']}")
    return log


def git_calls(log: Path) -> list[str]:
    """The git commands run since the last call (and forget them)."""
    calls = log.read_text().split() if log.exists() else []
    log.unlink(missing_ok=True)
    return calls


def ids_read(log: Path) -> int:
    ids = Path(f"{log}.ids")
    count = len(ids.read_text().split()) if ids.exists() else 0
    ids.unlink(missing_ok=True)
    return count


def snapshot(registry: Registry) -> dict:
    """Everything the read commands show, manifests and messages included."""
    versions = registry.versions(MODEL)
    return {
        "models": registry.models(),
        "versions": [v.to_dict() for v in versions],
        "manifests": [(v.manifest, v.metrics, v.manifest_keys, v.message) for v in versions],
        "sections": [query.value_of(v, "params.train.seed") for v in versions],
        "events": [(e.to_dict(), e.details) for e in registry.events(MODEL)],
        "stages": {stage: v.version for stage, v in registry.stages(MODEL).items()},
        "latest": registry.latest(MODEL).version,
        "counters": (registry.next_counter(MODEL), registry.last_time(MODEL)),
    }


def cache_file(repo: Path, name: str) -> Path:
    return repo / ".git" / CACHE_DIR / name


def test_cached_read_equals_cold_read_with_one_git_process(repo, git_log):
    cold = snapshot(load_registry(repo))
    assert git_calls(git_log) == ["for-each-ref", "cat-file"]
    assert ids_read(git_log) == 6  # registry tags only: not the plain release-1
    assert all(cache_file(repo, name).is_file() for name in (RECORDS, MESSAGES, SECTIONS))

    warm = snapshot(load_registry(repo))
    assert git_calls(git_log) == ["for-each-ref"]  # messages and manifests too from the cache
    assert warm == cold
    # and both are what for-each-ref with %(contents) says, without any cache
    assert cold == snapshot(Registry(read_tags(repo)))
    assert cold["latest"] == "v1.2.0" and cold["stages"] == {"production": "v1.1.0"}
    assert [v["deprecated"] for v in cold["versions"]] == [True, False, False]
    assert cold["counters"] == (6, START + 32)  # the lightweight stage tag counts for N


def test_a_tag_added_after_caching_is_read_alone(repo, git_log):
    load_registry(repo)
    register(repo, "v1.3.0", 0.99, START + 40)
    git_calls(git_log), ids_read(git_log)

    registry = load_registry(repo)
    assert git_calls(git_log) == ["for-each-ref", "cat-file"]
    assert ids_read(git_log) == 1
    assert registry.latest(MODEL).version == "v1.3.0"
    assert registry.latest(MODEL).metrics == {"evaluation": {"accuracy": 0.99, "f1": 0.98}}
    assert snapshot(registry) == snapshot(Registry(read_tags(repo)))
    git_calls(git_log)
    assert snapshot(load_registry(repo)) == snapshot(registry)
    assert git_calls(git_log) == ["for-each-ref"]


def test_a_recreated_tag_is_read_again_and_a_deleted_one_disappears(repo, git_log):
    load_registry(repo)
    run_git(repo, "tag", "-d", "clf@v1.1.0", "clf@v1.2.0")
    register(repo, "v1.1.0", 0.5, START + 50, commit=False)  # same name, new content

    registry = load_registry(repo)
    assert [v.version for v in registry.versions(MODEL)] == ["v1.0.0", "v1.1.0"]
    assert registry.version(MODEL, "v1.1.0").metrics["evaluation"]["accuracy"] == 0.5
    assert registry.version(MODEL, "v1.1.0").manifest["params"]["train"]["seed"] == 50
    assert snapshot(registry) == snapshot(Registry(read_tags(repo)))
    assert snapshot(load_registry(repo)) == snapshot(registry)


CACHE_FILES = (RECORDS, MESSAGES, SECTIONS)


def flipped(data: bytes, *positions: int) -> bytes:
    damaged = bytearray(data)
    for position in positions:
        damaged[position] ^= 0xFF
    return bytes(damaged)


def wrong_shape(name: str, data: bytes) -> bytes:
    # a file with a good digest over content of the wrong shape
    return pack(name, ["not a record"] if name == RECORDS else {"an id": "not bytes"})


@pytest.mark.parametrize(
    "damage",
    [
        lambda name, data: b"not a cache at all",
        lambda name, data: b"",
        lambda name, data: data[: len(data) // 2],
        lambda name, data: flipped(data, len(data) // 2),
        lambda name, data: flipped(data, len(HEADER)),  # the digest itself
        lambda name, data: data + b"\0",
        wrong_shape,
        lambda name, data: pack(MESSAGES if name == RECORDS else RECORDS, unpack(name, data)),
        lambda name, data: data.replace(HEADER.encode(), HEADER.replace("3.", "2.").encode()),
    ],
    ids=[
        "garbage",
        "empty",
        "truncated",
        "flipped-byte",
        "flipped-digest",
        "appended",
        "wrong-shape",
        "other-file",
        "other-python",
    ],
)
def test_a_damaged_cache_is_ignored_and_rebuilt(repo, git_log, damage):
    cold = snapshot(load_registry(repo))
    for name in CACHE_FILES:
        path = cache_file(repo, name)
        path.write_bytes(damage(name, path.read_bytes()))
    git_calls(git_log)

    assert snapshot(load_registry(repo)) == cold
    assert git_calls(git_log) == ["for-each-ref", "cat-file"]
    assert snapshot(load_registry(repo)) == cold  # rebuilt: a plain cache hit again
    assert git_calls(git_log) == ["for-each-ref"]


def reassign_production(repo: Path) -> None:
    """v1.2.0 into production after v1.1.0 (one second apart: one byte of the time)."""
    promote = f"Promote {MODEL} v1.2.0 to production\n\n" + json.dumps({"action": "promote"})
    create_tag(repo, tags.assign_tag(MODEL, "production", 7), "HEAD", promote, START + 40)


READS = (["list"], ["show", "production"])


def cli_output(capsys, repo: Path, args: list[str]) -> str:
    code, out, err = run_cli(capsys, *args, "-C", str(repo), "--model", MODEL, "--json")
    assert code == 0 and not err, err
    return out


def cli_outputs(capsys, repo: Path) -> list[str]:
    """What ``list --json`` and ``show production --json`` print."""
    return [cli_output(capsys, repo, args) for args in READS]


def test_a_byte_that_moves_production_is_detected(repo, capsys):
    """The case that let a worse model into production: one byte of an assignment's
    time, and production was the version assigned before."""
    reassign_production(repo)
    truth = cli_outputs(capsys, repo)
    assert json.loads(truth[0])["stages"] == {"production": "v1.2.0"}
    records = cache_file(repo, RECORDS)
    when = b"i" + (START + 40).to_bytes(4, "little")
    assert records.read_bytes().count(when) == 1
    earlier = b"i" + (START).to_bytes(4, "little")  # differs in one byte
    records.write_bytes(records.read_bytes().replace(when, earlier))

    assert cli_outputs(capsys, repo) == truth


def test_random_byte_flips_never_change_an_answer(repo, capsys):
    """200 flips of one or two bytes anywhere in the cache: list and show production
    (by turns) answer as they do without any cache."""
    reassign_production(repo)
    truth = []
    for args in READS:
        shutil.rmtree(repo / ".git" / CACHE_DIR, ignore_errors=True)
        truth.append(cli_output(capsys, repo, args))
    pristine = {name: cache_file(repo, name).read_bytes() for name in CACHE_FILES}
    chance = random.Random(8)
    for turn in range(200):
        for name, data in pristine.items():
            cache_file(repo, name).write_bytes(data)
        name = chance.choice(CACHE_FILES)
        positions = chance.sample(range(len(pristine[name])), chance.choice([1, 2]))
        cache_file(repo, name).write_bytes(flipped(pristine[name], *positions))
        read = turn % len(READS)
        assert cli_output(capsys, repo, READS[read]) == truth[read], (name, positions)


def rewrite(repo: Path, name: str, change) -> None:
    """Change a cache file's content and give it a good digest: a deliberate edit."""
    path = cache_file(repo, name)
    path.write_bytes(pack(name, change(unpack(name, path.read_bytes()))))


def test_an_edited_message_is_not_believed(repo, git_log):
    """Messages (manifests, stage events) are used only if they hash to their tag's id."""
    cold = snapshot(load_registry(repo))

    def raise_accuracy(objects: dict) -> dict:
        higher = (b'"accuracy": 0.9,', b'"accuracy": 1.0,')
        return {oid: raw.replace(*higher) for oid, raw in objects.items()}

    rewrite(repo, MESSAGES, raise_accuracy)
    git_calls(git_log), ids_read(git_log)
    assert snapshot(load_registry(repo)) == cold
    assert git_calls(git_log) == ["for-each-ref", "cat-file"] and ids_read(git_log) == 1


def test_a_record_answers_only_for_the_tag_object_it_was_read_from(repo, tmp_path):
    """A cache copied from a repository where the same tag names are other objects."""
    load_registry(repo)
    other = tmp_path / "other"
    shutil.copytree(repo, other)
    run_git(other, "tag", "-d", "clf@v1.2.0", "clf#production#1")
    register(other, "v1.2.0", 0.5, START + 45, commit=False)
    promote = f"Promote {MODEL} v1.2.0 to production"
    create_tag(other, tags.assign_tag(MODEL, "production", 1), "HEAD", promote, START + 46)
    shutil.rmtree(other / ".git" / CACHE_DIR)
    shutil.copytree(repo / ".git" / CACHE_DIR, other / ".git" / CACHE_DIR)

    assert snapshot(load_registry(other)) == snapshot(Registry(read_tags(other)))
    production = load_registry(other).stage_version(MODEL, "production")
    assert (production.version, production.metrics["evaluation"]["accuracy"]) == ("v1.2.0", 0.5)


@pytest.mark.parametrize("damage", ["deleted", "garbage", "not-bytes"])
def test_missing_messages_are_read_in_one_batch(repo, git_log, damage):
    cold = snapshot(load_registry(repo))
    messages = cache_file(repo, MESSAGES)
    if damage == "deleted":
        messages.unlink()
    elif damage == "garbage":
        messages.write_bytes(b"garbage")
    else:
        rewrite(repo, MESSAGES, lambda objects: dict.fromkeys(objects, 1))
    git_calls(git_log), ids_read(git_log)

    registry = load_registry(repo)
    assert git_calls(git_log) == ["for-each-ref"]  # list and query need no message
    assert snapshot(registry) == cold
    assert git_calls(git_log) == ["cat-file"] and ids_read(git_log) == 5  # annotated ones


def test_missing_sections_are_rebuilt_from_the_manifests(repo, git_log):
    cold = snapshot(load_registry(repo))
    cache_file(repo, SECTIONS).unlink()
    git_calls(git_log)

    assert snapshot(load_registry(repo)) == cold
    assert git_calls(git_log) == ["for-each-ref"]  # from the cached messages
    assert snapshot(load_registry(repo)) == cold
    assert git_calls(git_log) == ["for-each-ref"] and cache_file(repo, SECTIONS).is_file()


def test_an_unwritable_cache_never_fails_a_read(repo, git_log):
    (repo / ".git" / CACHE_DIR).write_text("in the way: the cache directory can't be made")
    cold = snapshot(Registry(read_tags(repo)))
    assert snapshot(load_registry(repo)) == cold
    assert snapshot(load_registry(repo)) == cold
    assert (repo / ".git" / CACHE_DIR).read_text().startswith("in the way")


def stage_message(verb: str, version: str, reason: str | None, action: str) -> str:
    """A stage tag's message as this project wrote it before reasons were kept on one
    line: the reason, blank lines and all, on the first line."""
    details = {"registry_event": 1, "action": action, "version": version, "reason": reason}
    first = f"{verb} {MODEL} {version} to staging" + (f": {reason}" if reason else "")
    return f"{first}\n\n{json.dumps(details, indent=2, sort_keys=True)}\n"


def test_tags_written_before_keep_their_reasons_and_rollbacks(repo):
    from weighbridge.registry.actions import stage_stack

    reason = 'bad model\n\nsee ticket 42\n\n{"action": "promote"}'
    for counter, (verb, version, why, action) in enumerate(
        [
            ("Promote", "v1.1.0", None, "promote"),
            ("Promote", "v1.2.0", None, "promote"),
            ("Roll back", "v1.1.0", reason, "rollback"),
        ]
    ):
        commit = {"v1.1.0": "HEAD~1", "v1.2.0": "HEAD"}[version]
        message = stage_message(verb, version, why, action)
        tag = tags.assign_tag(MODEL, "staging", 10 + counter)
        create_tag(repo, tag, commit, message, START + 40 + counter)

    for registry in (load_registry(repo), load_registry(repo), Registry(read_tags(repo))):
        rollback = registry.events(MODEL)[-1]
        assert rollback.details["action"] == "rollback" and rollback.reason == reason
        assert stage_stack(registry, MODEL, "staging") == ["v1.1.0"]


def test_signed_tags_are_read_without_their_signature(repo, tmp_path):
    """``tag.gpgSign``: git appends a signature to every tag message it writes."""
    if shutil.which("ssh-keygen") is None:
        pytest.skip("ssh-keygen is not installed")
    key = tmp_path / "key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    signing = {"gpg.format": "ssh", "user.signingKey": f"{key}.pub", "tag.gpgSign": "true"}
    for name, value in signing.items():
        run_git(repo, "config", name, value)
    register(repo, "v1.3.0", 0.97, START + 40)
    assert "-----BEGIN SSH SIGNATURE-----" in run_git(repo, "cat-file", "-p", "clf@v1.3.0")

    for registry in (load_registry(repo), load_registry(repo), Registry(read_tags(repo))):
        version = registry.version(MODEL, "v1.3.0")
        assert version.metrics["evaluation"]["accuracy"] == 0.97
        assert version.manifest["version"] == "v1.3.0" and "SIGNATURE" not in version.message


@pytest.mark.parametrize("separator", ["\u2028", "\u0085", "\u2029"])
def test_a_tag_name_is_never_cut_at_a_unicode_line_separator(repo, separator):
    """``clf#production#5<U+2028>x`` is no assignment for git or GTO: nor for the registry."""
    run_git(repo, "tag", "-a", "-m", "not a stage", f"clf#production#5{separator}x", "HEAD")
    for registry in (load_registry(repo), load_registry(repo)):
        assert snapshot(registry) == snapshot(Registry(read_tags(repo)))
        assert registry.stage_version(MODEL, "production").version == "v1.1.0"


def other_tool_tag(repo: Path, name: str, message: bytes, tagger: str, when: int) -> None:
    env = {**os.environ, "GIT_COMMITTER_NAME": tagger, "GIT_COMMITTER_DATE": f"{when} +0000"}
    subprocess.run(
        ["git", "-C", str(repo), "tag", "-a", "--cleanup=verbatim", "-F", "-", name, "HEAD"],
        input=message,
        env=env,
        check=True,
    )


def test_what_other_tools_write_is_read_and_shown_printable(repo, capsys):
    """Tags from anyone who can push: bytes that are not UTF-8, terminal escapes in a
    message, a tagger name and a manifest, a message of megabytes."""
    escape = "\x1b]0;owned\x07\x1b[2J"
    metrics = {"evaluation": {"accuracy": 0.5}}
    manifest = {"manifest": 1, "params": {"note": escape}, "metrics": metrics}
    message = f"Register {escape}\n\n{json.dumps(manifest)}\n".encode()
    run_git(repo, "commit", "--quiet", "--allow-empty", "-m", "other tool")
    other_tool_tag(repo, "clf@v1.3.0", message, f"Eve {escape}", START + 40)
    huge = b"caf\xe9 \xff\xfe\n\n" + b"x" * 3_000_000
    other_tool_tag(repo, "clf#staging#9", huge, "Eve", START + 41)

    for args in (["list"], ["history"], ["show", "v1.3.0"], ["show", "staging"]):
        for json_output in ([], ["--json"]):
            code, out, err = run_cli(capsys, *args, "-C", str(repo), "--model", MODEL, *json_output)
            assert code == 0 and not err, err
            assert all(char.isprintable() or char == "\n" for char in out), args
    shown = json.loads(cli_output(capsys, repo, ["show", "v1.3.0"]))
    assert shown["manifest"]["params"]["note"] == escape  # JSON keeps it, escaped
    history = json.loads(cli_output(capsys, repo, ["history"]))
    assert history[-1]["message"].startswith("caf\ufffd \ufffd\ufffd")


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("plain text, café 🚀", "plain text, café 🚀"),
        ("\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m"),
        ("a\nb\r\tc\x00", "a\\nb\\r\\tc\\x00"),
        ("rtl \u202e mark, line\u2028sep", "rtl \\u202e mark, line\\u2028sep"),
        ("\x9b2J (C1 CSI)", "\\x9b2J (C1 CSI)"),
    ],
)
def test_printable_escapes_what_a_terminal_would_act_on(text, shown):
    assert render.printable(text) == shown
    assert render.cell_text(text) == shown


def test_one_line_summarises_a_reason_for_a_tags_first_line():
    assert render.one_line(" bad model\n\n see\tticket\r\n42 ") == "bad model see ticket 42"
    assert render.one_line("a\x1b[2Jb\u2028c") == "a\\x1b[2Jb c"
    assert render.one_line("x" * 300, 200) == "x" * 197 + "..."


@pytest.mark.parametrize(
    "field",
    ["accuracy", "f1", "metrics.evaluation.accuracy", "evaluation.f1", "params.train.seed"]
    + ["gate.passed", "gate", "version", "metrics", "nothing", "metrics.nothing"],
)
def test_cached_metrics_answer_queries_like_the_manifest(repo, field):
    load_registry(repo)
    for version in load_registry(repo).versions(MODEL):
        assert query.value_of(version, field) == query.lookup(version.manifest, field)


def test_list_and_query_import_nothing_slow(repo):
    package = query.__name__.split(".")[0]
    probe = (
        "import sys\n"
        f"from {package}.registry.cli import main\n"
        f"assert main(['list', '-C', {str(repo)!r}, '--model', 'clf', '--json']) == 0\n"
        f"assert main(['query', 'accuracy > 0', '-C', {str(repo)!r}, '--model', 'clf']) == 0\n"
        "slow = ('dataclasses', 'inspect', 'yaml', 'dvc', 'sklearn', 'pandas', 'numpy')\n"
        "print(sorted(m for m in slow if m in sys.modules))\n"
    )
    src = Path(query.__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(src)}
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"


# --- command line: shared options and version arguments ----------------------------------


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    from weighbridge.registry.cli import main

    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    "args",
    [
        ["-C", "{repo}", "--model", MODEL, "--json", "list"],  # before the command, like git
        ["list", "-C", "{repo}", "--model", MODEL, "--json"],
        ["-C", "{repo}", "list", "--model", MODEL, "--json"],  # mixed: neither wipes the other
        ["--model", MODEL, "--json", "list", "-C", "{repo}"],
    ],
)
def test_shared_options_go_before_or_after_the_command(capsys, repo, tmp_path, monkeypatch, args):
    monkeypatch.chdir(tmp_path)  # not the project: only -C can lead there
    code, out, err = run_cli(capsys, *(arg.format(repo=repo) for arg in args))
    assert code == 0, err
    listed = json.loads(out)
    assert (listed["model"], listed["latest"]) == (MODEL, "v1.2.0")


@pytest.mark.parametrize(
    ("command", "problem"),
    [
        (["deploy", "--version", "1.1.0", "--to", "{out}"], "no artifact.path"),
        (["verify", "1.1.0"], "lists no artifact files"),
    ],
)
def test_deploy_and_verify_accept_a_version_without_v(capsys, repo, tmp_path, command, problem):
    """Like show and promote: 1.1.0 is v1.1.0 (found; it is refused only later, for its
    manifest, which has no artifact here)."""
    args = [arg.format(out=tmp_path / "out") for arg in command]
    code, out, err = run_cli(capsys, *args, "-C", str(repo), "--model", MODEL)
    assert code == 1 and err.count("\n") == 1, err
    assert f"tag {MODEL}@v1.1.0: " in err and problem in err
    assert not (tmp_path / "out").exists()


def test_fetching_tags_from_a_missing_repo_names_gits_cause(tmp_path):
    from weighbridge.registry.deploy import _fetch_tags

    missing = tmp_path / "nowhere.git"
    with pytest.raises(RegistryError) as caught:
        _fetch_tags(str(missing), tmp_path / "tags")
    message = str(caught.value)
    expected = f"cannot read the tags of {missing}: '{missing}' does not appear to be a git"
    assert message.startswith(expected), message
    assert "fatal" not in message and "exists." not in message


def test_verify_report_json_and_text(capsys, repo):
    import argparse

    from weighbridge.registry.verify import _report

    version = load_registry(repo).version(MODEL, "v1.1.0")
    same = {"expected": "aa", "actual": "aa", "match": True}
    _report(argparse.Namespace(json=False), version, {"model.skops": same})
    assert capsys.readouterr().out.startswith(f"reproducible: {MODEL} v1.1.0 (")

    missing = {"expected": "bb", "actual": None, "match": False}
    files = {"model.skops": same, "signature.json": missing}
    with pytest.raises(RegistryError, match="signature.json: expected sha256 bb, got missing"):
        _report(argparse.Namespace(json=True), version, files)
    printed = json.loads(capsys.readouterr().out)  # the JSON is printed before the error
    assert printed == {
        "model": MODEL,
        "version": "v1.1.0",
        "commit": version.commit,
        "reproducible": False,
        "files": files,
    }
