"""The result of :func:`explain.counterfactuals`: per query, up to ``n`` changed rows that
the model decides otherwise, with their measures.

Example:
    >>> import numpy as np
    >>> cf = Counterfactuals(feature_names=("age", "income"), queries=np.array([[30.0, 10.0]]),
    ...                      values=np.array([[30.0, 14.0]]), query_index=np.array([0]),
    ...                      validity=np.array([True]), sparsity=np.array([1]), proximity=np.array([0.4]),
    ...                      plausibility=np.array([0.1]), prediction=np.array([1.0]),
    ...                      query_prediction=np.array([0.0]), diversity=np.array([np.nan]),
    ...                      targets=("yes",), reasons=("",), outputs=("no", "yes"), task="classification")
    >>> cf.examples[0]
        age  income
    0  30.0    14.0
    >>> cf.changes(0)
      feature  query  counterfactual 0
    0  income   10.0              14.0
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from explain.errors import InputError
from explain.results._base import Exported, freeze, frozen

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    import plotly.graph_objects as go

__all__ = ["Counterfactuals"]


@dataclass(frozen=True)
class Counterfactuals(Exported):
    """The outcome of :func:`explain.counterfactuals`.

    Attributes:
        feature_names: the feature columns.
        queries: ``(queries, features)`` the rows explained.
        values: ``(found, features)`` every counterfactual, grouped by query.
        query_index: ``(found,)`` the query each one belongs to.
        validity: ``(found,)`` whether a fresh forward pass reaches the target (all True:
            invalid ones are dropped).
        sparsity: ``(found,)`` features changed (a one-hot group counts once).
        proximity: ``(found,)`` mean |change| over the features in MAD units.
        plausibility: ``(found,)`` distance in MAD units to the nearest reference row that
            the model puts in the target (inf when none does).
        prediction: ``(found,)`` the class index or the predicted value reached.
        query_prediction: ``(queries,)`` the query's class index or prediction.
        diversity: ``(queries,)`` mean pairwise distance (MAD units) of each query's set
            (NaN for fewer than two).
        targets: each query's target (class name or range). reasons: why a query has fewer
            than ``n`` (or no) counterfactuals; "" where it has ``n``.
        outputs: class names (or ``"prediction"``). task: the model's task.
        methods: the search that found each query's set. params: the options it ran with.
        robustness: ``(found,)`` the share of small seeded perturbations (Gaussian noise of
            0.1 MAD on each mutable feature, projected onto the constraints) under which the
            counterfactual still reaches the target (:mod:`explain.recourse.stability`);
            NaN where not measured.
        holds: per other model the counterfactuals were checked on (``also=``, e.g. a
            compressed copy), ``(found,)`` whether each reaches the target there too.
    """

    feature_names: tuple[str, ...]
    queries: np.ndarray
    values: np.ndarray
    query_index: np.ndarray
    validity: np.ndarray
    sparsity: np.ndarray
    proximity: np.ndarray
    plausibility: np.ndarray
    prediction: np.ndarray
    query_prediction: np.ndarray
    diversity: np.ndarray
    targets: tuple[str, ...]
    reasons: tuple[str, ...]
    outputs: tuple[str, ...]
    task: str
    methods: tuple[str, ...] = ()
    params: dict[str, Any] = field(default_factory=dict)
    robustness: np.ndarray | None = None
    holds: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.robustness is None:
            object.__setattr__(self, "robustness", np.full(len(self.values), np.nan))
        object.__setattr__(self, "holds", {str(k): frozen(v) for k, v in self.holds.items()})
        freeze(self, ("queries", "values", "query_index", "validity", "sparsity", "proximity", "plausibility",
                      "prediction", "query_prediction", "diversity", "robustness"),
               ("feature_names", "targets", "reasons", "outputs", "methods"))

    def __len__(self) -> int:
        return len(self.queries)

    def _check(self, i: int) -> int:
        if not -len(self) <= int(i) < len(self):
            raise InputError(f"query {i} is out of range for {len(self)} queries; pass 0 to {len(self) - 1}.")
        return int(i) % len(self)

    @property
    def examples(self) -> list[pd.DataFrame]:
        """Per query, its counterfactuals as a DataFrame in the feature columns."""
        import pandas as pd

        return [pd.DataFrame(self.values[self.query_index == i], columns=list(self.feature_names))
                for i in range(len(self))]

    def frame(self) -> pd.DataFrame:
        """Every counterfactual with its query, measures and prediction, one row each."""
        import pandas as pd

        frame = pd.DataFrame(self.values, columns=list(self.feature_names))
        for name in ("validity", "sparsity", "proximity", "plausibility", "robustness", "prediction"):
            frame[name] = getattr(self, name)
        for name, held in self.holds.items():
            frame[f"holds on {name}"] = held
        frame.insert(0, "query", self.query_index)
        return frame

    def changes(self, i: int) -> pd.DataFrame:
        """Query ``i``'s changed features: the query's value and each counterfactual's."""
        import pandas as pd

        i = self._check(i)
        mine = self.values[self.query_index == i]
        changed = [j for j in range(len(self.feature_names)) if (mine[:, j] != self.queries[i, j]).any()]
        frame = pd.DataFrame({"feature": [self.feature_names[j] for j in changed],
                              "query": [self.queries[i, j] for j in changed]})
        for k, row in enumerate(mine):
            frame[f"counterfactual {k}"] = [row[j] for j in changed]
        return frame

    def summary(self) -> pd.DataFrame:
        """One row per query: target, counterfactuals found, mean measures (robustness too),
        diversity, reason."""
        import pandas as pd

        found = np.bincount(self.query_index.astype(int), minlength=len(self)) if len(self.values) else \
            np.zeros(len(self), dtype=int)

        def mean(values: np.ndarray) -> list[float]:
            return [float(values[self.query_index == i].mean()) if found[i] else float("nan") for i in range(len(self))]

        frame = pd.DataFrame({"target": self.targets, "found": found, "sparsity": mean(self.sparsity),
                              "proximity": mean(self.proximity), "plausibility": mean(self.plausibility),
                              "robustness": mean(self.robustness), "diversity": self.diversity, "reason": self.reasons})
        for k, (name, held) in enumerate(self.holds.items()):
            frame.insert(6 + k, f"holds on {name}", mean(held.astype(float)))
        return frame

    def plot(self, index: int = 0, **options: Any) -> go.Figure:
        """Query ``index`` beside its counterfactuals, changes marked (see
        :func:`explain.plots.counterfactual_table`)."""
        from explain.plots.recourse import counterfactual_table

        return counterfactual_table(self, index, **options)
