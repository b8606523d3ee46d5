"""The package's layers, read from its source with ast: no import cycle, and no lower layer
importing a higher one (the gate never imports the registry)."""

from __future__ import annotations

import ast
from pathlib import Path

import {{ cookiecutter.package_name }} as package

ROOT = Path(package.__file__).resolve().parent
NAME = package.__name__
# Stage entry modules (dvc.yaml runs them) sit on top; nothing imports them.
STAGES = {"prepare", "train", "evaluate", "gate_stage"}
# The bottom: data, model and scoring helpers; they import only each other.
BOTTOM = {
    "__init__", "config", "errors", "schema", "reading", "row_shape", "schema_inference",
    "model_io", "metrics", "estimators", "scoring", "storage_errors", "plots", "profiles", "psi",
    "batch", "preprocessing", "signature", "splitting", "balance",
}  # fmt: skip


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join((NAME, *parts))


MODULES = {module_name(path): path for path in ROOT.rglob("*.py")}


def resolve(importer: str, node: ast.ImportFrom) -> list[str]:
    """The project modules one ``from … import …`` loads (every import, lazy ones too)."""
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


def layer(module: str) -> str:
    parts = module.split(".")[1:] or ["__init__"]
    if parts[0] in STAGES:
        return "stage"
    if parts[0] in BOTTOM:
        return "bottom"
    return parts[0]  # gate, registry, predict


def test_every_module_is_placed_in_a_layer():
    assert {layer(module) for module in MODULES} == {
        "stage",
        "bottom",
        "gate",
        "registry",
        "predict",
    }


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


ALLOWED = {
    "bottom": {"bottom"},
    "gate": {"bottom", "gate"},
    "predict": {"bottom"},
    "registry": {"bottom", "gate", "registry"},
    "stage": {"bottom", "gate", "registry"},
}


def test_lower_layers_never_import_higher_ones():
    wrong = sorted(
        f"{module} imports {imported}"
        for module, imported_modules in GRAPH.items()
        for imported in imported_modules
        if layer(imported) not in ALLOWED[layer(module)]
    )
    assert wrong == []


def test_the_checker_sees_relative_and_lazy_imports():
    assert f"{NAME}.registry.champion" in GRAPH[f"{NAME}.gate_stage"]
    assert f"{NAME}.registry.check" in GRAPH[f"{NAME}.registry.actions"]  # a lazy import
    assert f"{NAME}.gate.stats" in GRAPH[f"{NAME}.gate.checks"]  # from . import stats
