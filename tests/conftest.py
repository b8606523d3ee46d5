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
    """Keep each module whose tests share a module-scoped fixture (a bake, a training) on
    one xdist worker: with `--dist loadgroup` its tests would otherwise be spread over both
    workers and each would build the fixture again."""
    for item in items:
        if item.get_closest_marker("xdist_group"):
            continue
        fixtures = getattr(item, "_fixtureinfo", None)
        definitions = fixtures.name2fixturedefs.values() if fixtures else ()
        if any(defs and defs[-1].scope == "module" for defs in definitions):
            item.add_marker(pytest.mark.xdist_group(item.module.__name__))
