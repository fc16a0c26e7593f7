"""Performance and SliceMetrics: how well the model does on labelled rows, overall
(:func:`explain.performance`) and on slices the user defines (:func:`explain.slices`).

Example:
    >>> import numpy as np
    >>> from explain.results import Performance
    >>> table = np.array([[np.inf, 0, 0, np.nan, 0, 0, 0, 0, 0], [0.8, 1, 0, 1, 0.5, 2 / 3, 0, 0.5, 0.25],
    ...                   [0.3, 2, 1, 2 / 3, 1, 0.8, 0.5, 1, 0.75], [0.1, 2, 2, 0.5, 1, 2 / 3, 1, 1, 1]])
    >>> perf = Performance(task="classification", labels=np.array([1, 0, 1, 0]),
    ...                    predictions=np.array([1, 0, 0, 0]), accuracy=0.75, threshold_points=table)
    >>> perf.best_threshold("f1"), perf.best_threshold(cost_ratio=0.1)  # a false alarm costs 10 misses
    (0.3, 0.8)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from explain.errors import InputError
from explain.results._base import Exported, freeze

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["Performance", "SliceMetrics", "THRESHOLD_COLUMNS"]

THRESHOLD_COLUMNS = ("threshold", "tp", "fp", "precision", "recall", "f1", "fpr", "tpr",
                     "predicted_positive_rate")
_BEST = ("f1", "accuracy", "youden")


@dataclass(frozen=True)
class Performance(Exported):
    """The outcome of :func:`explain.performance`; see it for each definition.

    Attributes:
        task: ``"classification"`` or ``"regression"``.
        labels: the true output index (classifiers) or value of each row, ``(n,)``.
        predictions: the predicted class (at ``threshold`` where one is set) or value.
        rows: the row id of each example (``Dataset.rows``).
        class_names: the name of each output (classifiers).
        accuracy, balanced_accuracy, f1_macro: classifiers' headline figures.
        confusion_matrix: ``(k, k)`` counts, rows the true class, columns the predicted.
        precision, recall, f1, support: per class, ``(k,)``; see :attr:`per_class`.
        class_roc_auc, class_average_precision: per class, one against the rest (NaN for
            a class without true rows or with nothing else).
        roc_auc: binary: of the scores of class 1; multiclass: the macro mean one against
            the rest; None where a class has no rows (said in ``notes``).
        average_precision: binary: of class 1; multiclass: the macro mean over the classes
            present.
        log_loss, brier: of the predicted probabilities.
        roc_points: ``(m, 4)``: class, false positive rate, true positive rate, threshold
            (binary: class 1 only; multiclass: each class against the rest).
        pr_points: ``(m, 4)``: class, recall, precision, threshold (NaN at the last point
            of each class, precision 1 at recall 0, which has no threshold).
        threshold_points: binary: ``(t, 9)`` in :data:`THRESHOLD_COLUMNS` order; see
            :attr:`thresholds`.
        threshold: binary: the threshold on the score of class 1 the predictions use
            (None: the largest output wins, as 0.5).
        r2, mae, rmse: regression's headline figures.
        intervals: percentile bootstrap interval of each headline figure.
        mapping: how labels were matched with outputs where that was assumed.
        notes: what could not be measured, and why.
        params: the options it ran with.
    """

    task: str
    labels: np.ndarray
    predictions: np.ndarray
    rows: np.ndarray | None = None
    class_names: tuple[str, ...] | None = None
    accuracy: float | None = None
    balanced_accuracy: float | None = None
    f1_macro: float | None = None
    confusion_matrix: np.ndarray | None = None
    precision: np.ndarray | None = None
    recall: np.ndarray | None = None
    f1: np.ndarray | None = None
    support: np.ndarray | None = None
    class_roc_auc: np.ndarray | None = None
    class_average_precision: np.ndarray | None = None
    roc_auc: float | None = None
    average_precision: float | None = None
    log_loss: float | None = None
    brier: float | None = None
    roc_points: np.ndarray | None = None
    pr_points: np.ndarray | None = None
    threshold_points: np.ndarray | None = None
    threshold: float | None = None
    r2: float | None = None
    mae: float | None = None
    rmse: float | None = None
    intervals: dict[str, tuple[float, float]] = field(default_factory=dict)
    mapping: str | None = None
    notes: tuple[str, ...] = ()
    params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        freeze(self, ("labels", "predictions", "rows", "confusion_matrix", "precision", "recall", "f1",
                      "support", "class_roc_auc", "class_average_precision", "roc_points", "pr_points",
                      "threshold_points"), ("class_names", "notes"))
        object.__setattr__(self, "intervals",
                           {str(k): (float(v[0]), float(v[1])) for k, v in self.intervals.items()})

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    @property
    def metrics(self) -> dict[str, float]:
        """The headline figures that are defined, by name (for gates and reports)."""
        names = ("accuracy", "balanced_accuracy", "f1_macro", "roc_auc", "average_precision", "log_loss",
                 "brier") if self.task == "classification" else ("r2", "mae", "rmse")
        return {n: float(getattr(self, n)) for n in names if getattr(self, n) is not None}

    @property
    def residuals(self) -> np.ndarray:
        """Regression: true value minus prediction, ``(n,)``."""
        if self.task != "regression":
            raise InputError("residuals are for regression models; this is a classifier: see confusion_matrix.")
        return np.asarray(self.labels, dtype=np.float64) - self.predictions

    @property
    def per_class(self) -> pd.DataFrame:
        """Classifiers: one row per class (indexed by name): ``precision``, ``recall``,
        ``f1``, ``support``, and ``roc_auc`` and ``average_precision`` of the class
        against the rest."""
        import pandas as pd

        if self.task != "classification":
            raise InputError("per_class is for classifiers; this is a regression: see r2, mae, rmse.")
        names = self.class_names or tuple(str(i) for i in range(len(self.support)))
        return pd.DataFrame({"precision": self.precision, "recall": self.recall, "f1": self.f1,
                             "support": self.support, "roc_auc": self.class_roc_auc,
                             "average_precision": self.class_average_precision},
                            index=pd.Index(names, name="class"))

    def _curve(self, points: np.ndarray | None, columns: tuple[str, ...]) -> pd.DataFrame:
        import pandas as pd

        if points is None:
            raise InputError("curves are for classifiers; this is a regression: see residuals.")
        names = self.class_names or tuple(str(i) for i in range(int(points[:, 0].max()) + 1))
        frame = pd.DataFrame(points[:, 1:], columns=list(columns))
        frame.insert(0, "class", [names[int(c)] for c in points[:, 0]])
        return frame

    @property
    def roc(self) -> pd.DataFrame:
        """The ROC curve(s): ``class``, ``fpr``, ``tpr``, ``threshold`` (sklearn's ``roc_curve``)."""
        return self._curve(self.roc_points, ("fpr", "tpr", "threshold"))

    @property
    def precision_recall(self) -> pd.DataFrame:
        """The precision-recall curve(s): ``class``, ``recall``, ``precision``, ``threshold``
        (sklearn's ``precision_recall_curve``)."""
        return self._curve(self.pr_points, ("recall", "precision", "threshold"))

    @property
    def thresholds(self) -> pd.DataFrame:
        """Binary: the metrics when rows whose score of class 1 is at least ``threshold``
        are called positive, at every distinct score (highest first; the first row, at
        infinity, calls nothing positive)."""
        import pandas as pd

        if self.threshold_points is None:
            raise InputError("thresholds are for binary classifiers; this model has "
                             f"{'no classes' if self.task == 'regression' else 'more than two classes'}.")
        return pd.DataFrame(self.threshold_points, columns=list(THRESHOLD_COLUMNS))

    def best_threshold(self, metric: str = "f1", *, cost_ratio: float | None = None) -> float:
        """Binary: the threshold on the score of class 1 that maximises ``metric``
        (``"f1"``, ``"accuracy"`` or ``"youden"``: tpr - fpr) or, with ``cost_ratio``, that
        minimises the cost ``false positives + cost_ratio * false negatives`` (a missed
        positive costs ``cost_ratio`` false alarms). Ties go to the highest threshold.

        Raises:
            InputError: not a binary classifier, an unknown metric, or a negative cost ratio.
        """
        table = self.thresholds
        positives = float(np.sum(np.asarray(self.labels) == 1))
        if cost_ratio is not None:
            if isinstance(cost_ratio, bool) or not isinstance(cost_ratio, (int, float)) or not cost_ratio >= 0:
                raise InputError(f"cost_ratio must be a number >= 0, got {cost_ratio!r}; pass e.g. cost_ratio=5.0 "
                                 "(a missed positive costs as much as 5 false alarms).")
            cost = table["fp"] + float(cost_ratio) * (positives - table["tp"])
            return float(table["threshold"].iloc[int(np.argmin(cost.to_numpy()))])
        if metric not in _BEST:
            raise InputError(f"metric must be one of {', '.join(map(repr, _BEST))}, got {metric!r}; "
                             "pass e.g. metric='f1', or cost_ratio=5.0.")
        negatives = len(self) - positives
        score = {"f1": table["f1"], "youden": table["tpr"] - table["fpr"],
                 "accuracy": (table["tp"] + negatives - table["fp"]) / len(self)}[metric]
        return float(table["threshold"].iloc[int(np.nanargmax(score.to_numpy()))])


@dataclass(frozen=True)
class SliceMetrics(Exported):
    """The outcome of :func:`explain.slices`: the metric on each slice against the rest.

    Attributes:
        metric: ``"error_rate"`` (classifiers) or ``"mae"`` (regression).
        names, rules: each slice's name and its rule.
        size: rows in each slice.
        value, low, high: the metric on each slice and its interval at ``level`` (Wilson
            for an error rate, Student's t for a mean absolute error).
        rest, rest_size: the metric on the rows outside the slice, and their number.
        tests: the test that compared slice and rest: ``"fisher"`` (Fisher's exact, when
            an expected count is below 5), ``"z"`` (two proportions), ``"welch"`` (Welch's
            t), or ``""`` where there was nothing to compare.
        p_value: its two-sided p-value (NaN where there was nothing to compare).
        p_adjusted: Holm's adjustment for the number of slices compared.
        flagged: ``p_adjusted < alpha``: the slice differs from the rest beyond chance.
        members: ``(slices, n)``: whether each row is in each slice.
        rows: the row id of each example (``Dataset.rows``).
        overall: the metric on every row.
        alpha, level: the significance level and the interval's confidence level.
        params: the options it ran with.
    """

    metric: str
    names: tuple[str, ...]
    rules: tuple[str, ...]
    size: np.ndarray
    value: np.ndarray
    low: np.ndarray
    high: np.ndarray
    rest: np.ndarray
    rest_size: np.ndarray
    tests: tuple[str, ...]
    p_value: np.ndarray
    p_adjusted: np.ndarray
    flagged: np.ndarray
    members: np.ndarray
    rows: np.ndarray
    overall: float
    alpha: float = 0.05
    level: float = 0.95
    params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        freeze(self, ("size", "value", "low", "high", "rest", "rest_size", "p_value", "p_adjusted", "flagged",
                      "members", "rows"), ("names", "rules", "tests"))

    def __len__(self) -> int:
        return len(self.names)

    @property
    def table(self) -> pd.DataFrame:
        """One row per slice, indexed by name: ``rule``, ``size``, the metric (``value``,
        ``low``, ``high``), ``rest``, ``rest_size``, ``difference`` (slice - rest),
        ``test``, ``p_value``, ``p_adjusted`` and ``flagged``."""
        import pandas as pd

        return pd.DataFrame({
            "rule": self.rules, "size": self.size, "value": self.value, "low": self.low, "high": self.high,
            "rest": self.rest, "rest_size": self.rest_size, "difference": self.value - self.rest,
            "test": self.tests, "p_value": self.p_value, "p_adjusted": self.p_adjusted, "flagged": self.flagged,
        }, index=pd.Index(self.names, name="slice"))

    def rows_of(self, name: str) -> np.ndarray:
        """The row ids of slice ``name``.

        Raises:
            InputError: no slice has that name.
        """
        if name not in self.names:
            raise InputError(f"No slice is named {name!r}; the slices are {list(self.names)}.")
        return self.rows[self.members[self.names.index(name)]]
