"""The floors of the toolkit and of the project's package, read from their source with ast:
no import cycle, no floor importing a higher one, and the toolkit never importing the
project's package (every import counts, lazy ones too)."""

from __future__ import annotations

import ast
from pathlib import Path

from pipeline_helpers import PACKAGE, SRC, TOOLKIT_SRC

TOOLKIT = "weighbridge"
# The toolkit's floors, lowest first: each may import only its own floor and lower ones.
# The registry's grammar and git sit at its bottom, then the store, then the actions, then
# serving and views.
FLOORS = {
    "data": {
        "", "config", "errors", "project", "schema", "reading", "schema_inference",
        "transformers", "signature", "model_io", "metrics", "scoring", "storage_errors",
        "plots", "profiles", "psi", "batch", "row_shape", "splitting", "balance",
    },
    "gate": {
        "gate", "gate.checks", "gate.inputs", "gate.stats", "gate.verdict", "gate.rows",
        "gate.trivial",
    },
    "grammar and git": {
        "registry", "registry.errors", "registry.tags", "registry.semver", "registry.gitutil",
        "registry.gto_config", "registry.render",
    },
    "store": {
        "registry.store", "registry.tagcache", "registry.derived", "registry.manifest",
        "registry.models", "registry.committed", "registry.query", "registry.artifact_files",
        "registry.lineage",
    },
    "actions": {
        "registry.actions", "registry.check", "registry.champion", "registry.pipeline",
        "registry.remote_weights", "registry.gc", "registry.remote_sweep",
        "registry.trained_rows", "registry.gate_stage",
    },
    "serving and views": {
        "registry.cli", "registry.__main__", "registry.deploy", "registry.deploy_folder",
        "registry.verify", "registry.drift", "registry.report", "registry.report_pages",
        "registry.report_figures", "registry.report_profile", "registry.svg", "predict",
    },
}  # fmt: skip
ORDER = list(FLOORS)


def module_name(root: Path, path: Path) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def modules_of(root: Path) -> dict[str, Path]:
    return {module_name(root, path): path for path in root.rglob("*.py")}


MODULES = {**modules_of(TOOLKIT_SRC / TOOLKIT), **modules_of(SRC / PACKAGE)}


def resolve(importer: str, node: ast.ImportFrom) -> list[str]:
    """The modules of either package one ``from … import …`` loads."""
    is_package = MODULES[importer].name == "__init__.py"
    base = importer.split(".")
    if node.level:
        base = base[: len(base) - node.level + (1 if is_package else 0)]
        target = ".".join([*base, *(node.module.split(".") if node.module else [])])
    else:
        target = node.module or ""
    found = [
        f"{target}.{alias.name}" for alias in node.names if f"{target}.{alias.name}" in MODULES
    ]
    return found or ([target] if target in MODULES else [])


def imports(module: str) -> set[str]:
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            found.update(resolve(module, node))
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in MODULES)
    return found - {module}


GRAPH = {module: imports(module) for module in MODULES}


def floor(module: str) -> str:
    if module.split(".")[0] == PACKAGE:
        return "project"
    inside = module.removeprefix(TOOLKIT).removeprefix(".")
    (name,) = [name for name, members in FLOORS.items() if inside in members] or ["unplaced"]
    return name


def test_every_toolkit_module_stands_on_one_floor():
    unplaced = sorted(module for module in MODULES if floor(module) == "unplaced")
    assert unplaced == []
    listed = {f"{TOOLKIT}.{name}".rstrip(".") for members in FLOORS.values() for name in members}
    assert listed - set(MODULES) == set()  # no floor names a module that is gone


def test_no_import_cycles():
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> None:
        if module in path:
            cycle = path[path.index(module) :] + [module]
            raise AssertionError("import cycle: " + " -> ".join(cycle))
        if module in done:
            return
        for imported in sorted(GRAPH[module]):
            visit(imported, [*path, module])
        done.add(module)

    for module in sorted(MODULES):
        visit(module, [])


def allowed(importer: str, imported: str) -> bool:
    """The project's package may import any floor of the toolkit; the toolkit never imports
    the project's package, and a floor imports only its own and lower floors."""
    if floor(importer) == "project":
        return True
    if floor(imported) == "project":
        return False
    return ORDER.index(floor(imported)) <= ORDER.index(floor(importer))


def test_lower_floors_never_import_higher_ones_nor_the_project():
    wrong = sorted(
        f"{module} ({floor(module)}) imports {imported} ({floor(imported)})"
        for module, imported_modules in GRAPH.items()
        for imported in imported_modules
        if not allowed(module, imported)
    )
    assert wrong == []


def test_the_checker_sees_relative_lazy_and_cross_package_imports():
    assert f"{TOOLKIT}.registry.gate_stage" in GRAPH[f"{PACKAGE}.gate_stage"]
    assert f"{TOOLKIT}.registry.champion" in GRAPH[f"{TOOLKIT}.registry.gate_stage"]
    assert f"{TOOLKIT}.registry.check" in GRAPH[f"{TOOLKIT}.registry.actions"]  # a lazy import
    assert f"{TOOLKIT}.gate.stats" in GRAPH[f"{TOOLKIT}.gate.checks"]  # from . import stats
    assert f"{PACKAGE}.preprocessing" in GRAPH[f"{PACKAGE}.estimators"]
    assert not allowed(f"{TOOLKIT}.model_io", f"{PACKAGE}.preprocessing")
    assert not allowed(f"{TOOLKIT}.gate.checks", f"{TOOLKIT}.registry.store")
