"""The registry's pure parts: tag grammar, semver, query language, diff rows."""

import pytest

from {{ cookiecutter.package_name }}.registry import query, render, tags
from {{ cookiecutter.package_name }}.registry.errors import RegistryError
from {{ cookiecutter.package_name }}.registry.semver import SemVer


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
