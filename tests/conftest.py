"""Shared fixtures for the template tests.

Every test runs against real git, real DVC and real cookiecutter. The session fixture below
isolates them from the machine: a private global git config with an identity, a private
DVC global config with analytics and update checks off, so no test reads the developer's
settings or sends traffic anywhere.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from tests.helpers import bake_ok, train_and_commit
from tests.s3_server import s3_bucket, s3_server  # noqa: F401  (fixtures)

VENV_BIN = Path(sys.executable).parent


@pytest.fixture(scope="session", autouse=True)
def isolated_tools(tmp_path_factory: pytest.TempPathFactory) -> None:
    home = tmp_path_factory.mktemp("home")
    gitconfig = home / ".gitconfig"
    gitconfig.write_text(
        "[user]\n\tname = Test Engineer\n\temail = test@example.invalid\n"
        "[init]\n\tdefaultBranch = main\n[advice]\n\tdetachedHead = false\n"
    )
    dvc_global = home / "dvc-global"
    dvc_global.mkdir()
    (dvc_global / "config").write_text("[core]\n    analytics = false\n    check_update = false\n")
    updates = {
        "GIT_CONFIG_GLOBAL": str(gitconfig),
        "GIT_CONFIG_NOSYSTEM": "1",
        "DVC_GLOBAL_CONFIG_DIR": str(dvc_global),
        "DVC_SITE_CACHE_DIR": str(home / "dvc-site-cache"),
        "DVC_NO_ANALYTICS": "1",
        "DVC_STUDIO_OFFLINE": "1",
        "ITERATIVE_DO_NOT_TRACK": "1",
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    saved = {key: os.environ.get(key) for key in updates}
    os.environ.update(updates)
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture
def default_project(cookies) -> Path:
    return bake_ok(cookies)


@pytest.fixture(scope="session")
def trained_default(cookies_session) -> Path:
    """The default bake, trained (`dvc repro`) and committed: built once per test process
    (under xdist, once per worker) for the modules that start from a trained project. Never
    change it: take a private copy with ``tests.helpers.copy_trained``."""
    return train_and_commit(bake_ok(cookies_session))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Group and order the tests for `make test` (`-n 2 --dist loadgroup
    --no-loadscope-reorder`: work units are handed out in this order)."""
    groups = group_modules_with_shared_fixtures(items)
    items[:] = sorted(items, key=lambda item: run_order(item, groups))
    if getattr(config.option, "loadgroup", False):  # on an xdist worker with --dist loadgroup
        for item in items:
            name_group_in_node_id(item)


def name_group_in_node_id(item: pytest.Item) -> None:
    """What xdist 3.8 does for loadgroup (the scheduler groups by the `@group` suffix of the
    node id), done so that pytest 9 sees it: xdist still writes ``item._nodeid``, which
    pytest 9 no longer reads, so without this every group is silently spread over both
    workers and each builds the module's fixture again."""
    marker = item.get_closest_marker("xdist_group")
    if marker is None or "@" in item.nodeid.rpartition("]")[2]:
        return
    suffixed = f"{item.nodeid}@{group_name(marker)}"
    try:
        from _pytest.nodeid import coerce_node_id  # pytest 9
    except ImportError:
        item._nodeid = suffixed  # pytest 8, as xdist itself does
    else:
        item._id = coerce_node_id(suffixed)


def group_name(marker: pytest.Mark) -> str:
    return str(marker.args[0] if marker.args else marker.kwargs.get("name", "default"))


def group_modules_with_shared_fixtures(items: list[pytest.Item]) -> dict[str, int]:
    """Keep each module whose tests share a module-scoped fixture (a bake, a training) on
    one xdist worker: spread over both workers, each would build the fixture again.
    Returns each group's number of tests."""
    sizes: dict[str, int] = {}
    for item in items:
        marker = item.get_closest_marker("xdist_group")
        if marker is None and uses_module_fixture(item):
            decorator = pytest.mark.xdist_group(item.module.__name__)
            item.add_marker(decorator)
            marker = decorator.mark
        if marker is not None:
            sizes[group_name(marker)] = sizes.get(group_name(marker), 0) + 1
    return sizes


def uses_module_fixture(item: pytest.Item) -> bool:
    fixtures = getattr(item, "_fixtureinfo", None)
    definitions = fixtures.name2fixturedefs.values() if fixtures else ()
    return any(defs and defs[-1].scope == "module" for defs in definitions)


def run_order(item: pytest.Item, groups: dict[str, int]) -> tuple[int, int]:
    """The largest group first (one worker starts the longest unit at once), then the quick
    tests (the other worker reports results from the first seconds), then the other groups,
    largest first, then the remaining slow tests. ``sorted`` keeps file order within a rank."""
    marker = item.get_closest_marker("xdist_group")
    if marker is not None:
        name = group_name(marker)
        largest = max(groups, key=groups.get)
        return (0, 0) if name == largest else (2, -groups[name])
    if item.get_closest_marker("slow") is None:
        # test_bake's cases each run a baked project's own suite: the slowest of the quick.
        return (1, 1 if item.module.__name__.endswith("test_bake") else 0)
    return (3, 0)
