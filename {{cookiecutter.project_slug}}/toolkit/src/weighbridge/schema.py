"""The data schema, data/schema.yaml: every column's dtype, role and whether it may be missing.

```yaml
task: classification          # classification | regression
columns:                      # in file order
  - {name: species, dtype: category, role: target, nullable: false}
  - {name: island, dtype: category, role: feature, nullable: true}
  - {name: rowid, dtype: int64, role: ignore}
```

Reading values is reading.py's business; this module only says what the file means.
Projects baked before roles existed (a top-level ``target:`` and dtypes int64, float64,
string) still load: string is read as category, every other column is a feature.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from .errors import ProjectError

TASKS = ("classification", "regression")
DTYPES = ("int64", "float64", "bool", "category", "datetime")
ROLES = ("feature", "target", "ignore")
TARGET_DTYPES = {
    "classification": ("int64", "bool", "category"),
    "regression": ("int64", "float64"),
}
COLUMN_KEYS = ("name", "dtype", "role", "nullable")
LEGACY_DTYPES = {"int64": "int64", "float64": "float64", "string": "category"}


@dataclass(frozen=True)
class Column:
    name: str
    dtype: str
    role: str = "feature"
    nullable: bool = False


@dataclass(frozen=True)
class Schema:
    task: str
    columns: tuple[Column, ...]

    @property
    def target(self) -> str:
        return next(column.name for column in self.columns if column.role == "target")

    @property
    def feature_columns(self) -> list[Column]:
        return [column for column in self.columns if column.role == "feature"]

    @property
    def features(self) -> list[str]:
        return [column.name for column in self.feature_columns]

    @property
    def used_columns(self) -> list[Column]:
        """The columns prepare keeps (features and target, in file order)."""
        return [column for column in self.columns if column.role != "ignore"]

    @property
    def dtypes(self) -> dict[str, str]:
        return {column.name: column.dtype for column in self.columns}

    def column(self, name: str) -> Column:
        return next(column for column in self.columns if column.name == name)


def load_schema(path: Path) -> Schema:
    name = path.name
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ProjectError(f"{name}: file not found in {path.parent}") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise ProjectError(f"{name}: invalid YAML{where}") from exc
    if not isinstance(raw, dict):
        raise ProjectError(f"{name}: must be a mapping with task and columns")
    task, entries = raw.get("task"), raw.get("columns")
    if task not in TASKS:
        raise ProjectError(f"{name}: task: must be one of {', '.join(TASKS)}, got {task!r}")
    if not isinstance(entries, list) or not entries:
        raise ProjectError(f"{name}: columns: must be a non-empty list")
    if "target" in raw:  # the format before roles
        columns = tuple(
            legacy_column(name, i, entry, raw["target"]) for i, entry in enumerate(entries)
        )
    else:
        columns = tuple(parse_column(name, index, entry) for index, entry in enumerate(entries))
    check_columns(name, task, columns)
    return Schema(task=task, columns=columns)


def column_error(file: str, index: int, entry: object, key: str, problem: str) -> ProjectError:
    label = entry.get("name") if isinstance(entry, dict) else None
    where = f"column {label!r}" if isinstance(label, str) else f"columns[{index}]"
    return ProjectError(f"{file}: {where}: {key}: {problem}")


def parse_column(file: str, index: int, entry: object) -> Column:
    if not isinstance(entry, dict):
        raise ProjectError(f"{file}: columns[{index}]: must be a mapping with name, dtype, role")
    for key in entry:
        if key not in COLUMN_KEYS:
            raise column_error(
                file, index, entry, str(key), f"unknown key ({', '.join(COLUMN_KEYS)})"
            )
    name = entry.get("name")
    if not isinstance(name, str) or not name:
        raise column_error(file, index, entry, "name", f"must be a non-empty text, got {name!r}")
    values = {"dtype": DTYPES, "role": ROLES}
    for key, allowed in values.items():
        if entry.get(key) not in allowed:
            problem = f"must be one of {', '.join(allowed)}, got {entry.get(key)!r}"
            raise column_error(file, index, entry, key, problem)
    # An ignored column is never given to the model: whether it has gaps does not matter.
    nullable = entry.get("nullable", entry["role"] == "ignore")
    if not isinstance(nullable, bool):
        raise column_error(
            file, index, entry, "nullable", f"must be true or false, got {nullable!r}"
        )
    return Column(name, entry["dtype"], entry["role"], nullable)


def legacy_column(file: str, index: int, entry: object, target: object) -> Column:
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
        raise ProjectError(f"{file}: columns[{index}]: must be a mapping with name and dtype")
    dtype = LEGACY_DTYPES.get(entry.get("dtype"))
    if dtype is None:
        problem = f"must be one of {', '.join(LEGACY_DTYPES)}, got {entry.get('dtype')!r}"
        raise column_error(file, index, entry, "dtype", problem)
    return Column(entry["name"], dtype, "target" if entry["name"] == target else "feature")


def check_columns(file: str, task: str, columns: tuple[Column, ...]) -> None:
    names = [column.name for column in columns]
    duplicate = next((name for name in names if names.count(name) > 1), None)
    if duplicate is not None:
        raise ProjectError(f"{file}: column {duplicate!r}: name: listed twice")
    targets = [column for column in columns if column.role == "target"]
    if len(targets) != 1:
        found = ", ".join(repr(column.name) for column in targets) or "none"
        raise ProjectError(f"{file}: columns: exactly one needs role: target (found {found})")
    (target,) = targets
    if target.dtype not in TARGET_DTYPES[task]:
        raise ProjectError(
            f"{file}: column {target.name!r}: dtype: {target.dtype} cannot be the target of a "
            f"{task} (allowed: {', '.join(TARGET_DTYPES[task])})"
        )
    if target.nullable:
        raise ProjectError(
            f"{file}: column {target.name!r}: nullable: must be false for the target (prepare "
            "drops the rows whose target is missing)"
        )
    if not any(column.role == "feature" for column in columns):
        raise ProjectError(f"{file}: columns: needs at least one column with role: feature")


def shown_class(label: object) -> str:
    """A class label as a message shows it: text quoted, numbers bare (so 0 and '0' differ)."""
    if isinstance(label, str):
        return repr(label)
    return str(label.item() if hasattr(label, "item") else label)


def require_two_classes(target: pd.Series, source: object) -> None:
    """A classifier learns to tell classes apart: its data must hold at least two."""
    classes = target.dropna().unique()
    if len(classes) < 2:
        shown = shown_class(classes[0]) if len(classes) else "none"
        raise ProjectError(
            f"{source}: column {target.name!r} has a single class ({shown}): "
            "a classifier needs rows of at least two classes"
        )
