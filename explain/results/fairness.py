"""Fairness results: group metrics and disparities (:func:`explain.fairness`), the flip
probe of a sensitive input, and the per-group threshold preview.

Example:
    >>> import numpy as np
    >>> preview = ThresholdPreview(criterion="demographic_parity", groups=("a", "b"),
    ...                            thresholds=np.array([0.5, 0.3]), before=np.array([0.6, 0.2]),
    ...                            after=np.array([0.6, 0.55]), target=0.4, accuracy_before=0.8,
    ...                            accuracy_after=0.78, disparity_before=0.4, disparity_after=0.05)
    >>> preview.sentence()
    'per-group thresholds would bring the selection rate gap from 0.4 to 0.05, accuracy from 80.0% to 78.0%'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from explain.results._base import Exported, freeze, frozen

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    import plotly.graph_objects as go

__all__ = ["Fairness", "FlipProbe", "ThresholdPreview", "SHARES"]

# the per-group figures that are shares of rows (shown as percentages)
SHARES = frozenset({"accuracy", "selection_rate", "tpr", "fpr", "precision", "mean_confidence", "coverage"})

_RATE_OF = {"demographic_parity": "selection rate", "equal_opportunity": "true positive rate"}
_HEADLINE = {"classification": ("demographic_parity_difference", "selection_rate", "selection rate"),
             "regression": ("mae_gap", "mae", "mean absolute error")}


@dataclass(frozen=True)
class FlipProbe(Exported):
    """Decisions that change when only the sensitive input changes (see
    :func:`explain.fairness`).

    Attributes:
        columns: the input columns flipped.
        values: each observed value (combination) of them, as text.
        n: rows probed. pairs: (row, other value) pairs run.
        changed_rows: rows whose decision changes for some other value.
        changed_pairs: pairs whose decision changes.
        mean_abs_change, max_abs_change: regression: how far predictions move
            (classifiers: of the favourable class's probability).
        example_rows, example_from, example_to, example_before, example_after: a few
            changed rows: row id, value before and after, decision before and after.
        task: ``"classification"`` or ``"regression"``.
    """

    columns: tuple[str, ...]
    values: tuple[str, ...]
    n: int
    pairs: int
    changed_rows: int
    changed_pairs: int
    mean_abs_change: float
    max_abs_change: float
    example_rows: np.ndarray
    example_from: tuple[str, ...]
    example_to: tuple[str, ...]
    example_before: tuple[str, ...]
    example_after: tuple[str, ...]
    task: str = "classification"

    def __post_init__(self) -> None:
        freeze(self, ("example_rows",), ("columns", "values", "example_from", "example_to", "example_before",
                                         "example_after"))

    @property
    def rate(self) -> float:
        """The share of rows whose decision changes."""
        return self.changed_rows / self.n if self.n else float("nan")

    @property
    def examples(self) -> pd.DataFrame:
        """The example rows: ``row``, ``from``, ``to``, ``before``, ``after``."""
        import pandas as pd

        return pd.DataFrame({"row": self.example_rows, "from": self.example_from, "to": self.example_to,
                             "before": self.example_before, "after": self.example_after})

    def sentence(self) -> str:
        """One line: how many decisions change when only the sensitive input does."""
        what = " & ".join(self.columns)
        if self.task == "regression":
            return (f"changing only {what} moves predictions by {self.mean_abs_change:.3g} on average "
                    f"(at most {self.max_abs_change:.3g}) over {self.n:,} rows")
        return (f"changing only {what} changes {self.changed_rows:,} of {self.n:,} decisions ({self.rate:.1%})")


@dataclass(frozen=True)
class ThresholdPreview(Exported):
    """Per-group thresholds on the favourable class's probability that bring one rate
    (``criterion``) of every group to ``target`` as near as the data allow: a preview, not
    a fix (see :func:`explain.fairness`).

    Attributes:
        criterion: ``"demographic_parity"`` (selection rate) or ``"equal_opportunity"``
            (true positive rate).
        groups: the groups. thresholds: each group's threshold (decide favourably at or
            above it; NaN: the group keeps the model's decisions).
        before, after: each group's rate with the model's decisions and with the thresholds.
        target: the rate aimed at (the rate of every row with the model's decisions).
        accuracy_before, accuracy_after: accuracy of every row.
        disparity_before, disparity_after: the rate's max - min over the groups.
        notes: groups that kept their decisions, and why.
    """

    criterion: str
    groups: tuple[str, ...]
    thresholds: np.ndarray
    before: np.ndarray
    after: np.ndarray
    target: float
    accuracy_before: float
    accuracy_after: float
    disparity_before: float
    disparity_after: float
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        freeze(self, ("thresholds", "before", "after"), ("groups", "notes"))

    @property
    def table(self) -> pd.DataFrame:
        """One row per group: ``threshold``, ``before``, ``after``."""
        import pandas as pd

        return pd.DataFrame({"threshold": self.thresholds, "before": self.before, "after": self.after},
                            index=pd.Index(self.groups, name="group"))

    def sentence(self) -> str:
        """One line: the gap and the accuracy before and after."""
        return (f"per-group thresholds would bring the {_RATE_OF[self.criterion]} gap from "
                f"{self.disparity_before:.3g} to {self.disparity_after:.3g}, accuracy from "
                f"{self.accuracy_before:.1%} to {self.accuracy_after:.1%}")

    def plot(self, **options: Any) -> go.Figure:
        """Each group's rate before and after (see :func:`explain.plots.threshold_preview`)."""
        from explain.plots.fairness import threshold_preview

        return threshold_preview(self, **options)


@dataclass(frozen=True)
class Fairness(Exported):
    """The outcome of :func:`explain.fairness`; see it for each definition.

    Attributes:
        task: ``"classification"`` or ``"regression"``.
        sensitive: the columns that define the groups (``("groups",)`` for labels).
        groups: each group's label.
        codes: ``(n,)`` each row's group (a position in ``groups``). rows: row ids.
        counts: per group: ``count``; classifiers also ``positives``, ``negatives``,
            ``predicted_positives``, ``true_positives``, ``false_positives``, ``correct``.
        metrics: per group: ``accuracy``, ``selection_rate``, ``tpr``, ``fpr``,
            ``precision``, ``mean_confidence``, ``ece`` (classifiers) or
            ``mean_prediction``, ``mean_label``, ``mae`` (regression); NaN where undefined.
        intervals: ``(groups, 2)`` bootstrap interval of the rates (or means).
        disparities: by name: the six of fairlearn (classifiers) or ``mean_prediction_gap``,
            ``mean_label_gap``, ``mae_gap`` (regression); NaN where undefined.
        p_values, tests: each disparity's p-value against chance and the test behind it.
        extremes: each disparity's groups with the largest and the smallest rate.
        small: groups with fewer rows than ``params["small"]``: too few to judge.
        positive: the favourable class (classifiers). class_names: the model's classes.
        alpha: the level below which a p-value counts as beyond chance.
        flips: the flip probe, when the sensitive attribute is a model input, else None.
        mitigation: binary classifiers: threshold previews for demographic parity and
            equal opportunity.
        notes: what is undefined or left out, and why. mapping: how labels were matched.
        params: the options it ran with.
    """

    task: str
    sensitive: tuple[str, ...]
    groups: tuple[str, ...]
    codes: np.ndarray
    rows: np.ndarray
    counts: dict[str, np.ndarray]
    metrics: dict[str, np.ndarray]
    intervals: dict[str, np.ndarray]
    disparities: dict[str, float]
    p_values: dict[str, float]
    tests: dict[str, str]
    extremes: dict[str, tuple[str, str]]
    small: np.ndarray
    positive: str | None = None
    class_names: tuple[str, ...] | None = None
    alpha: float = 0.05
    flips: FlipProbe | None = None
    mitigation: tuple[ThresholdPreview, ...] = ()
    notes: tuple[str, ...] = ()
    mapping: str | None = None
    params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        freeze(self, ("codes", "rows", "small"), ("sensitive", "groups", "class_names", "notes"))
        for name in ("counts", "metrics", "intervals"):
            object.__setattr__(self, name, {str(k): frozen(v) for k, v in getattr(self, name).items()})
        for name in ("disparities", "p_values"):
            object.__setattr__(self, name, {str(k): float(v) for k, v in getattr(self, name).items()})
        object.__setattr__(self, "tests", {str(k): str(v) for k, v in self.tests.items()})
        object.__setattr__(self, "extremes", {str(k): (str(v[0]), str(v[1])) for k, v in self.extremes.items()})
        object.__setattr__(self, "mitigation", tuple(self.mitigation))

    @property
    def demographic_parity_difference(self) -> float:
        """Largest minus smallest selection rate over the groups (fairlearn's)."""
        return self.disparities.get("demographic_parity_difference", float("nan"))

    @property
    def demographic_parity_ratio(self) -> float:
        """Smallest over largest selection rate."""
        return self.disparities.get("demographic_parity_ratio", float("nan"))

    @property
    def equalized_odds_difference(self) -> float:
        """The larger of the TPR and FPR differences."""
        return self.disparities.get("equalized_odds_difference", float("nan"))

    @property
    def equalized_odds_ratio(self) -> float:
        """The smaller of the TPR and FPR ratios."""
        return self.disparities.get("equalized_odds_ratio", float("nan"))

    @property
    def equal_opportunity_difference(self) -> float:
        """Largest minus smallest true positive rate."""
        return self.disparities.get("equal_opportunity_difference", float("nan"))

    @property
    def equal_opportunity_ratio(self) -> float:
        """Smallest over largest true positive rate."""
        return self.disparities.get("equal_opportunity_ratio", float("nan"))

    @property
    def beyond_chance(self) -> dict[str, bool]:
        """Each disparity with a p-value: whether it is below ``alpha``."""
        return {k: bool(p < self.alpha) for k, p in self.p_values.items() if np.isfinite(p)}

    @property
    def by_group(self) -> pd.DataFrame:
        """One row per group: the counts, each figure and its interval (``<figure>_low``,
        ``<figure>_high``), and ``small``."""
        import pandas as pd

        frame = pd.DataFrame({k: v for k, v in self.counts.items() if k != "correct"},
                             index=pd.Index(self.groups, name="group"))
        for name, values in self.metrics.items():
            frame[name] = values
            if name in self.intervals:
                frame[f"{name}_low"], frame[f"{name}_high"] = self.intervals[name][:, 0], self.intervals[name][:, 1]
        frame["small"] = self.small
        return frame

    def verdict(self) -> str:
        """One sentence on the headline disparity (selection rate; regression: mean
        absolute error) and whether it is beyond what chance allows."""
        key, metric, words = _HEADLINE[self.task]
        gap = self.disparities.get(key, float("nan"))
        if not np.isfinite(gap) or len(self.groups) < 2:
            return f"the {words} cannot be compared between groups ({len(self.groups)} group(s) with it defined)"
        hi, lo = self.extremes[key]
        values = self.metrics[metric]
        p = self.p_values.get(key, float("nan"))
        judged = "no test" if not np.isfinite(p) else \
            f"{'beyond' if p < self.alpha else 'within'} what chance allows (p = {p:.2g})"
        return (f"{words} differs by {gap:.3g} between {hi!r} ({values[self.groups.index(hi)]:.3g}) and "
                f"{lo!r} ({values[self.groups.index(lo)]:.3g}): {judged}")

    def plot(self, metric: str | None = None, **options: Any) -> go.Figure:
        """Bars of one figure per group with its interval (see :func:`explain.plots.group_bars`)."""
        from explain.plots.fairness import group_bars

        return group_bars(self, metric, **options)

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out["flips"] = None if self.flips is None else self.flips.to_dict()
        out["mitigation"] = [m.to_dict() for m in self.mitigation]
        return out
