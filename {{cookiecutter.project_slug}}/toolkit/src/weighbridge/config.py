"""Project paths and params.yaml: load and validate each stage's section.

Each stage validates only its own section, so a typo in ``gate`` never stops ``prepare``.
Every problem is one ProjectError naming the file and the dotted key.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from . import metrics
from .errors import ProjectError
from .project import default_model

GATE_TESTS = ("none", "bootstrap", "mcnemar")
MAX_SEED = 2**32 - 1


@dataclass(frozen=True)
class ProjectPaths:
    """Every path of the pipeline, relative to the project root (see docs in README)."""

    root: Path

    def shown(self, path: Path) -> str:
        """``path`` as messages show it: relative to the project, as the user types it."""
        return path.relative_to(self.root).as_posix()

    @property
    def params(self) -> Path:
        return self.root / "params.yaml"

    @property
    def raw_csv(self) -> Path:
        return self.root / "data" / "raw" / "dataset.csv"

    @property
    def schema(self) -> Path:
        return self.root / "data" / "schema.yaml"

    @property
    def train_data(self) -> Path:
        return self.root / "data" / "prepared" / "train.parquet"

    @property
    def holdout_data(self) -> Path:
        return self.root / "data" / "prepared" / "holdout.parquet"

    @cached_property  # every model path asks for it: dvc.yaml is read once per ProjectPaths
    def model_name(self) -> str:
        """The model artifact dvc.yaml declares (its folder is ``models/<name>``)."""
        name = default_model(self.root)
        if name is None:
            raise ProjectError("dvc.yaml: no artifact of type model under artifacts:")
        return name

    @property
    def model_dir(self) -> Path:
        return self.root / "models" / self.model_name

    @property
    def model_file(self) -> Path:
        return self.model_dir / "model.skops"

    @property
    def signature_file(self) -> Path:
        return self.model_dir / "signature.json"

    @property
    def environment_file(self) -> Path:
        return self.model_dir / "environment.json"

    @property
    def evaluation_json(self) -> Path:
        return self.root / "metrics" / "evaluation.json"

    @property
    def gate_json(self) -> Path:
        """The gate's numbers and booleans (declared as metrics in dvc.yaml)."""
        return self.root / "metrics" / "gate.json"

    @property
    def gate_report(self) -> Path:
        """The gate's bookkeeping: summary, checks, production and hold-out identities."""
        return self.root / "reports" / "gate.json"

    @property
    def plots_dir(self) -> Path:
        return self.root / "plots"


SPLITS = ("hash", "random", "time")


@dataclass(frozen=True)
class PrepareParams:
    test_size: float
    seed: int
    stratify: bool  # random split only
    split: str = "random"  # params.yaml without prepare.split: the rule of older projects
    time_column: str | None = None  # required by split time


@dataclass(frozen=True)
class GateParams:
    metric: str
    greater_is_better: bool
    min_value: float | None  # None: no absolute floor, the trivial model's score is the floor
    max_regression: float
    test: str
    alpha: float
    n_resamples: int
    seed: int
    # how much better than the trivial model (majority class, mean) the candidate must be
    trivial_margin: float = 0.0
    # how much worse than the best version production has held; None: no bound (older
    # params.yaml without the key)
    max_total_regression: float | None = None


class Section:
    """Typed, validated access to one section of params.yaml."""

    def __init__(self, path: Path, name: str, values: dict[str, Any]):
        self.file = path.name
        self.name = name
        self.values = values

    def error(self, key: str, problem: str) -> ProjectError:
        return ProjectError(f"{self.file}: {self.name}.{key}: {problem}")

    def reject_unknown(self, known: set[str]) -> None:
        for key in self.values:
            if key not in known:
                allowed = ", ".join(sorted(known))
                raise self.error(str(key), f"unknown key (allowed: {allowed})")

    def get(self, key: str, default: Any = ..., *, optional: bool = False) -> Any:
        if key in self.values:
            return self.values[key]
        if optional:
            return default
        raise self.error(key, "missing")

    def number(self, key: str, low: float, high: float, *, inclusive: bool = True) -> float:
        value = self.get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.error(key, f"must be a number, got {value!r}")
        inside = low <= value <= high if inclusive else low < value < high
        if not math.isfinite(value) or not inside:
            brackets = "[]" if inclusive else "()"
            bounds = f"{brackets[0]}{low}, {high}{brackets[1]}"
            raise self.error(key, f"must be in {bounds}, got {value!r}")
        return float(value)

    def integer(self, key: str, low: int, high: int) -> int:
        value = self.get(key)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(key, f"must be an integer, got {value!r}")
        if not low <= value <= high:
            raise self.error(key, f"must be between {low} and {high}, got {value!r}")
        return value

    def boolean(self, key: str) -> bool:
        value = self.get(key)
        if not isinstance(value, bool):
            raise self.error(key, f"must be true or false, got {value!r}")
        return value

    def choice(self, key: str, choices: tuple[str, ...]) -> str:
        value = self.get(key)
        if not isinstance(value, str) or value not in choices:
            raise self.error(key, f"must be one of {', '.join(choices)}, got {value!r}")
        return value

    def mapping(self, key: str) -> dict[str, Any]:
        value = self.get(key, {}, optional=True)
        if value is None:
            return {}
        if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
            raise self.error(key, f"must be a mapping of names to values, got {value!r}")
        return value


def read_params(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ProjectError(f"{path.name}: file not found in {path.parent}")
    try:
        params = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise ProjectError(f"{path.name}: invalid YAML{where}") from exc
    if not isinstance(params, dict):
        raise ProjectError(f"{path.name}: must be a mapping with prepare, train and gate sections")
    return params


def load_section(path: Path, name: str) -> Section:
    values = read_params(path).get(name)
    if values is None:
        raise ProjectError(f"{path.name}: {name}: missing section")
    if not isinstance(values, dict):
        raise ProjectError(f"{path.name}: {name}: must be a mapping, got {values!r}")
    return Section(path, name, values)


def load_prepare(path: Path, task: str) -> PrepareParams:
    section = load_section(path, "prepare")
    section.reject_unknown({"test_size", "seed", "stratify", "split", "time_column"})
    params = PrepareParams(
        test_size=section.number("test_size", 0.0, 1.0, inclusive=False),
        seed=section.integer("seed", 0, MAX_SEED),
        stratify=section.boolean("stratify"),
        split=section.choice("split", SPLITS) if "split" in section.values else "random",
        time_column=section.get("time_column", None, optional=True),
    )
    if params.stratify and task != "classification":
        raise section.error("stratify", "can only be true for classification")
    if params.time_column is not None and not isinstance(params.time_column, str):
        raise section.error("time_column", f"must be a column name, got {params.time_column!r}")
    if params.split == "time" and not params.time_column:
        raise section.error("time_column", "required when prepare.split is time")
    return params


def load_gate(path: Path, task: str) -> GateParams:
    section = load_section(path, "gate")
    known = {"metric", "greater_is_better", "min_value", "max_regression"}
    # stages: which stages promote gates besides production (read by the registry)
    known |= {"trivial_margin", "max_total_regression"}
    section.reject_unknown(known | {"test", "alpha", "n_resamples", "seed", "stages"})
    stages = section.get("stages", [], optional=True)
    if not isinstance(stages, list) or not all(isinstance(name, str) for name in stages):
        raise section.error("stages", f"must be a list of stage names, got {stages!r}")
    metric = section.choice("metric", metrics.metric_names(task))
    greater = section.get("greater_is_better", None, optional=True)
    if greater is None:
        greater = metrics.GREATER_IS_BETTER[metric]
    elif not isinstance(greater, bool):
        raise section.error("greater_is_better", f"must be true, false or null, got {greater!r}")
    test = section.choice("test", GATE_TESTS) if "test" in section.values else "none"
    if test == "mcnemar" and metric != "accuracy":
        raise section.error(
            "test",
            f"mcnemar compares paired correctness, so it needs metric accuracy "
            f"(classification), not {metric}: use bootstrap",
        )
    return GateParams(
        metric=metric,
        greater_is_better=greater,
        min_value=section.number("min_value", -math.inf, math.inf)
        if section.get("min_value") is not None
        else None,
        max_regression=section.number("max_regression", 0.0, math.inf),
        trivial_margin=section.number("trivial_margin", 0.0, math.inf)
        if "trivial_margin" in section.values
        else 0.0,
        max_total_regression=section.number("max_total_regression", 0.0, math.inf)
        if section.get("max_total_regression", None, optional=True) is not None
        else None,
        test=test,
        alpha=section.number("alpha", 0.0, 1.0, inclusive=False)
        if "alpha" in section.values
        else 0.05,
        n_resamples=section.integer("n_resamples", 1, 1_000_000)
        if "n_resamples" in section.values
        else 1000,
        seed=section.integer("seed", 0, MAX_SEED) if "seed" in section.values else 0,
    )
