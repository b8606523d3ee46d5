"""Issue 11, `make test` itself: tests that share a module-scoped bake run on one xdist
worker (the bake is built once), and quick tests are handed out early (progress from the
first seconds). Checked on this suite's real collection, as `make test` sees it."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.helpers import TEMPLATE_DIR


def collected(*args: str) -> list[str]:
    """Node ids in the order pytest hands them to the xdist scheduler."""
    command = [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"]
    result = subprocess.run(
        [*command, *args, "tests"], cwd=TEMPLATE_DIR, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return [line for line in result.stdout.splitlines() if "::" in line]


def test_tests_sharing_a_module_fixture_are_one_xdist_group():
    ungrouped = collected("-m", "not xdist_group")
    # champion_project (gate), released (faults_registry), history (gc): module fixtures.
    for shared in (
        "tests/test_gate_e2e.py::test_equal_candidate_passes",
        "tests/test_faults_registry.py::",
        "tests/test_registry_gc.py::",
    ):
        assert not [node for node in ungrouped if node.startswith(shared)], shared
    # A test without a module fixture stays free to run on either worker.
    assert any(node.startswith("tests/test_hooks.py::") for node in ungrouped)


def test_the_largest_group_then_the_quick_tests_come_first():
    order = collected()
    modules = [node.split("::")[0] for node in collected("-m", "xdist_group")]
    size = max(modules.count(module) for module in modules)
    # One worker takes the longest unit at once (one of the largest, if several tie), the
    # other starts on quick tests.
    (first,) = {node.split("::")[0] for node in order[:size]}
    assert modules.count(first) == size
    slow = set(collected("-m", "slow"))
    assert order[size] not in slow
    assert order.index(next(n for n in order if n.startswith("tests/test_hooks.py"))) < (
        order.index(next(n for n in order if n.startswith("tests/test_gate_e2e.py")))
    )


def test_a_group_runs_on_one_xdist_worker():
    # Three tests sharing one module-scoped bake, as `make test` runs them.
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-n", "2"]
    command += ["--dist", "loadgroup", "-v", "tests/test_first_bake.py", "-k", "make_install"]
    result = subprocess.run(command, cwd=TEMPLATE_DIR, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    passed = re.findall(r"\[(gw\d)\] .*PASSED (\S+)", result.stdout)
    assert len(passed) == 3, result.stdout
    assert len({worker for worker, _ in passed}) == 1, passed
    assert all(node.endswith("@tests.test_first_bake") for _, node in passed), passed
