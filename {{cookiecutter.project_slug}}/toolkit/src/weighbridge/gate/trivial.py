"""The trivial model of the task, the floor every candidate must beat.

Classification: scikit-learn's DummyClassifier(strategy="prior"), which always answers the
majority class with the class shares as probabilities; regression: DummyRegressor, the
median for mae (the constant that minimises it) and the mean otherwise. It is fitted on
the rows it is scored on, so it is the best such constant for those rows: a model that
cannot beat it has learnt nothing the class shares do not already say.
"""

from __future__ import annotations

import numpy as np
from sklearn.dummy import DummyClassifier, DummyRegressor

from ..scoring import Predictions, scores
from .inputs import Holdout


def trivial_value(holdout: Holdout, metric: str) -> float:
    """The trivial model's ``metric`` on the hold-out rows."""
    target = holdout.frame[holdout.schema.target]
    placeholder = np.zeros((len(target), 1))  # a dummy model ignores its inputs
    if holdout.schema.task == "classification":
        model = DummyClassifier(strategy="prior").fit(placeholder, target)
        predictions = Predictions(
            target,
            model.predict(placeholder),
            model.predict_proba(placeholder),
            list(model.classes_),
        )
    else:
        strategy = "median" if metric == "mae" else "mean"
        model = DummyRegressor(strategy=strategy).fit(placeholder, target)
        predictions = Predictions(target, model.predict(placeholder), None, None)
    return scores(predictions)[metric]
