"""The gate's verdict: its checks, and the two files it is recorded in.

``metrics/gate.json`` (declared under ``metrics:`` in dvc.yaml) holds numbers and booleans
only, so ``dvc metrics show``, ``dvc exp show`` and ``dvc metrics diff`` stay readable;
``reports/gate.json`` holds the bookkeeping: the summary, each check's detail, which
production version and which hold-out set the verdict is about. Neither has a timestamp:
the same inputs give the same bytes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from ..config import GateParams
from .stats import PairedTest


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    value: float | None
    threshold: float | None  # None when there is nothing to compare against
    detail: str


@dataclass(frozen=True)
class GateResult:
    passed: bool
    params: GateParams
    checks: list[Check]
    holdout: dict[str, Any]  # {"path", "sha256", "rows_scored", "rows_left_out"}
    production: dict[str, str] | None  # {"version", "commit", "weights_sha256"}
    candidate: float | None = None  # None when the hold-out set cannot measure the candidate
    baseline: float | None = None  # production's value; None without (a comparable) production
    trivial: float | None = None  # the trivial model's value on the same rows
    # the best version production has held, scored on the same rows: {"version", "value"}
    best: dict[str, Any] | None = None
    test: PairedTest | None = None
    candidate_version: dict[str, str] | None = None  # promote's candidate: a registered version
    note: str | None = None
    # how much worse than production was allowed: max_regression, or one hold-out row when
    # that is more (None: no comparable production)
    tolerance: float | None = None

    @property
    def metric(self) -> str:
        return self.params.metric

    @property
    def greater_is_better(self) -> bool:
        return self.params.greater_is_better

    @property
    def production_version(self) -> str | None:
        return self.production["version"] if self.production else None

    def details(self) -> str:
        """The failed checks (or all of them), each naming the metric, values and threshold."""
        shown = [check for check in self.checks if not check.passed] or self.checks
        return "; ".join(check.detail for check in shown)

    def summary(self) -> str:
        return f"gate {'passed' if self.passed else 'failed'}: {self.details()}"

    def to_metrics(self) -> dict[str, Any]:
        """metrics/gate.json: numbers and booleans, nothing else (an unknown value, like
        the baseline without production, is left out)."""
        numbers = {
            "passed": self.passed,
            "candidate": self.candidate,
            "baseline": self.baseline,
            "trivial": self.trivial,
            "best": self.best["value"] if self.best else None,
            "min_value": self.params.min_value,
            "trivial_margin": self.params.trivial_margin,
            "max_regression": self.params.max_regression,
            "max_total_regression": self.params.max_total_regression,
            "tolerance": self.tolerance,
            "p_value": self.test.p_value if self.test is not None else None,
            "rows_scored": self.holdout.get("rows_scored"),
            "rows_left_out": self.holdout.get("rows_left_out"),
        }
        return {key: value for key, value in numbers.items() if value is not None}

    def to_record(self) -> dict[str, Any]:
        """reports/gate.json, and the ``gate`` of a manifest or a promotion tag."""
        record = {
            "passed": self.passed,
            "summary": self.summary(),
            "metric": self.metric,
            "greater_is_better": self.greater_is_better,
            "candidate": self.candidate,
            "baseline": self.baseline,
            "trivial": self.trivial,
            "best": self.best,
            "min_value": self.params.min_value,
            "trivial_margin": self.params.trivial_margin,
            "max_regression": self.params.max_regression,
            "max_total_regression": self.params.max_total_regression,
            "tolerance": self.tolerance,
            "test": self.params.test,
            "alpha": self.params.alpha if self.params.test != "none" else None,
            "checks": [asdict(check) for check in self.checks],
            "production": self.production,
            "holdout": self.holdout,
            "test_result": self.test.to_dict() if self.test is not None else None,
        }
        if self.note is not None:
            record["note"] = self.note
        if self.candidate_version is not None:
            record["candidate_version"] = self.candidate_version
        return record

    def to_dict(self) -> dict[str, Any]:
        """What the registry records of a promotion's gate (its seam: ``passed``,
        ``summary()`` and ``to_dict()``)."""
        return self.to_record()
