"""Class balance: when plain accuracy rewards a model that always answers the majority class.

Imbalanced here means the majority class holds at least ``IMBALANCED_SHARE`` (70%) of the
rows: in a binary task, a minority under 30%. There a model that always answers the
majority class scores 0.7 or more of accuracy and learns nothing, so the default gate
metric is balanced accuracy (the mean of the per-class recalls): the majority-class model
scores exactly 1/classes on it, and it judges the model's actual answers (roc_auc would
not: a model that never says "yes" can still rank well). The bake (hooks) and the gate
stage (a warning when the user keeps accuracy) use this one rule.
"""

from __future__ import annotations

import pandas as pd

from .schema import shown_class

IMBALANCED_SHARE = 0.7
BALANCED_METRIC = "balanced_accuracy"


def class_shares(target: pd.Series) -> pd.Series:
    """Each class's share of the rows, largest first."""
    return target.dropna().value_counts(normalize=True, sort=True)


def imbalance(target: pd.Series) -> str | None:
    """The class shares as text ("no 79.4%, yes 20.6%") when the classes are imbalanced;
    None when they are not."""
    shares = class_shares(target)
    if len(shares) < 2 or shares.iloc[0] < IMBALANCED_SHARE:
        return None
    return ", ".join(f"{shown_class(label)} {share:.1%}" for label, share in shares.items())


def accuracy_warning(metric: str, task: str, target: pd.Series) -> str | None:
    """One line when the gate judges imbalanced classes by plain accuracy."""
    shares = imbalance(target) if task == "classification" and metric == "accuracy" else None
    if shares is None:
        return None
    majority = class_shares(target)
    return (
        f"warning: gate.metric accuracy on imbalanced classes ({shares}): always answering "
        f"{shown_class(majority.index[0])} scores {majority.iloc[0]:.4f}; "
        f"{BALANCED_METRIC} cannot be won that way"
    )
