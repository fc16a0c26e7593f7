"""Results about groups of rows beyond the model's decisions: how balanced the data are
(:func:`explain.data_balance`) and what the model leans on in each group
(:func:`explain.group_importance`).

Example:
    >>> import numpy as np
    >>> balance = DataBalance(sensitive=("sex",), groups=("f", "m"), count=np.array([30, 70]),
    ...                       features=("age",), means=np.array([[40.0], [50.0]]),
    ...                       smd=np.array([[-0.8], [0.8]]))
    >>> balance.sentence()
    "the largest imbalance is age: 'f' against the rest, standardised mean difference -0.8 (|SMD| above 0.1 counts as imbalanced)"
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from explain.results._base import Exported, freeze

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    import plotly.graph_objects as go

__all__ = ["DataBalance", "GroupImportance", "IMBALANCED"]

IMBALANCED = 0.1  # |standardised mean difference| above this is commonly called imbalanced


@dataclass(frozen=True)
class DataBalance(Exported):
    """The outcome of :func:`explain.data_balance`.

    Attributes:
        sensitive: the columns that define the groups. groups: each group's label.
        count: rows per group.
        class_names: the label's classes (classification), else None.
        label_counts: ``(groups, classes)`` rows of each class per group (classification).
        mean_label: mean label per group (regression).
        features: the feature columns compared (the sensitive ones left out).
        means: ``(groups, features)`` each group's mean.
        smd: ``(groups, features)`` standardised mean difference of each group against the
            rest of the rows, ``(mean_group - mean_rest) / sqrt((var_group + var_rest) / 2)``
            (sample variances; 0 where both are constant and equal, ±inf where constant and
            different; NaN where a side has fewer than two rows). With two groups it is the
            usual SMD between them (the second row is minus the first).
        notes: what could not be compared.
    """

    sensitive: tuple[str, ...]
    groups: tuple[str, ...]
    count: np.ndarray
    features: tuple[str, ...]
    means: np.ndarray
    smd: np.ndarray
    class_names: tuple[str, ...] | None = None
    label_counts: np.ndarray | None = None
    mean_label: np.ndarray | None = None
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        freeze(self, ("count", "means", "smd", "label_counts", "mean_label"),
               ("sensitive", "groups", "features", "class_names", "notes"))

    @property
    def by_group(self) -> pd.DataFrame:
        """One row per group: ``count``, ``share`` of all rows, then the share of each
        class (classification) or ``mean_label`` (regression)."""
        import pandas as pd

        frame = pd.DataFrame({"count": self.count, "share": self.count / max(int(self.count.sum()), 1)},
                             index=pd.Index(self.groups, name="group"))
        if self.label_counts is not None:
            shares = self.label_counts / np.maximum(self.label_counts.sum(axis=1, keepdims=True), 1)
            for c, name in enumerate(self.class_names or ()):
                frame[f"share {name}"] = shares[:, c]
        if self.mean_label is not None:
            frame["mean_label"] = self.mean_label
        return frame

    @property
    def smd_table(self) -> pd.DataFrame:
        """The standardised mean differences: one row per group, one column per feature."""
        import pandas as pd

        return pd.DataFrame(self.smd, index=pd.Index(self.groups, name="group"), columns=list(self.features))

    def largest(self) -> tuple[str, str, float] | None:
        """The feature, group and SMD of the largest |SMD|, or None when none is defined."""
        magnitude = np.where(np.isnan(self.smd), -1.0, np.abs(self.smd))
        if not magnitude.size or magnitude.max() < 0:
            return None
        g, f = np.unravel_index(int(np.argmax(magnitude)), magnitude.shape)
        return self.features[f], self.groups[g], float(self.smd[g, f])

    def sentence(self) -> str:
        """One line naming the largest imbalance between groups."""
        found = self.largest()
        if found is None:
            return "no feature could be compared between groups"
        feature, group, value = found
        verdict = "counts as imbalanced" if abs(value) > IMBALANCED else "would count as imbalanced"
        return (f"the largest imbalance is {feature}: {group!r} against the rest, standardised mean difference "
                f"{value:.3g} (|SMD| above {IMBALANCED} {verdict})")

    def plot(self, **options: Any) -> go.Figure:
        """The largest |SMD| per feature (see :func:`explain.plots.balance_bars`)."""
        from explain.plots.fairness import balance_bars

        return balance_bars(self, **options)


@dataclass(frozen=True)
class GroupImportance(Exported):
    """The outcome of :func:`explain.group_importance`.

    Attributes:
        sensitive, groups: as in :class:`DataBalance`.
        features: the features (or tokens every group saw).
        values: ``(groups, features)`` mean |attribution| over each group's rows.
        size: rows per group; n: rows attributed per group (at most ``sample``).
        spearman: ``(groups, groups)`` Spearman rank correlation of the groups' importances.
        method: the attribution method.
        leans: the feature the model leans on most more for one group than another:
            ``(feature, group more, group less, ratio)``, or None.
        params: the options it ran with.
    """

    sensitive: tuple[str, ...]
    groups: tuple[str, ...]
    features: tuple[str, ...]
    values: np.ndarray
    size: np.ndarray
    n: np.ndarray
    spearman: np.ndarray
    method: str
    leans: tuple[str, str, str, float] | None = None
    params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        freeze(self, ("values", "size", "n", "spearman"), ("sensitive", "groups", "features"))
        if self.leans is not None:
            feature, more, less, ratio = self.leans
            object.__setattr__(self, "leans", (str(feature), str(more), str(less), float(ratio)))

    def frame(self) -> pd.DataFrame:
        """Mean |attribution|: one row per feature, one column per group."""
        import pandas as pd

        return pd.DataFrame(self.values.T, index=pd.Index(self.features, name="feature"), columns=list(self.groups))

    def sentence(self) -> str:
        """One line: the feature the model leans on more for one group than another."""
        if self.leans is None:
            return "the model leans on no feature (every attribution is zero)"
        feature, more, less, ratio = self.leans
        if not np.isfinite(ratio):
            return f"the model leans on {feature} for {more!r} and not at all for {less!r}"
        if ratio < 1.1:
            return f"the model leans on the same features in every group (largest change: {feature} {ratio:.1f}x)"
        return f"the model leans on {feature} {ratio:.1f}x more for {more!r} than for {less!r}"

    def plot(self, **options: Any) -> go.Figure:
        """Grouped bars of the most important features (see :func:`explain.plots.group_importance`)."""
        from explain.plots.fairness import group_importance

        return group_importance(self, **options)

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        if self.leans is not None and not np.isfinite(self.leans[3]):
            out["leans"] = [*self.leans[:3], None]
        return out
