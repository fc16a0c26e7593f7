"""GlobalImportance: attributions summarised over a whole dataset, kept as running moments.

Example:
    >>> import numpy as np
    >>> from explain.results import GlobalImportance
    >>> g = GlobalImportance(mean_abs=np.array([0.5, 2.0]), mean=np.array([-0.5, 1.0]),
    ...                      std=np.array([0.0, 1.0]), n=4, method="saliency",
    ...                      modality="tabular", feature_names=("a", "b"))
    >>> g.top(1)
    [('b', 2.0)]
    >>> g.to_dict()["n"]
    4
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from explain.results._base import Exported, freeze

if TYPE_CHECKING:  # pragma: no cover
    import plotly.graph_objects as go

__all__ = ["GlobalImportance"]

_ARRAYS = ("mean_abs", "mean", "std", "counts", "target_counts")


@dataclass(frozen=True)
class GlobalImportance(Exported):
    """One attribution method's importance of every input over a whole dataset.

    Tabular and image results have one entry per input element: ``mean_abs`` has the
    shape of one example (``(features,)`` or ``(channels, height, width)``) and equals
    ``np.abs(attribute(...).values).mean(axis=0)``. Text results have one entry per
    distinct token *string* (special tokens included), in order of first occurrence:
    ``feature_names`` holds the tokens and ``counts`` how often each occurred, and the
    moments are taken over those occurrences, not over positions.

    Attributes:
        mean_abs: mean |attribution|, the global importance.
        mean: mean signed attribution (the direction of the average effect).
        std: standard deviation (population, ``ddof=0``) of the signed attribution.
        n: number of examples (rows, images, texts) summarised.
        method: the registry name of the attribution method.
        modality: ``"tabular"``, ``"image"`` or ``"text"``.
        feature_names: tabular feature names, or the token strings of a text result.
        class_names: names of the model's outputs, where known.
        counts: text only: occurrences of each token over all texts.
        target_counts: how many examples explained each output index.
        params: every option the method ran with, plus ``batch_size``.
    """

    mean_abs: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    n: int
    method: str
    modality: str
    feature_names: tuple[str, ...] | None = None
    class_names: tuple[str, ...] | None = None
    counts: np.ndarray | None = None
    target_counts: np.ndarray | None = None
    params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        freeze(self, _ARRAYS, ("feature_names", "class_names"))
        object.__setattr__(self, "n", int(self.n))

    @property
    def second_moment(self) -> np.ndarray:
        """Mean squared attribution, ``std**2 + mean**2``."""
        return np.asarray(self.std, dtype=float) ** 2 + np.asarray(self.mean, dtype=float) ** 2

    def names(self) -> list[str]:
        """A label per entry of the flattened ``mean_abs``: feature names or tokens where
        held, ``x0, x1, ...`` for unnamed features, ``c0 (row, col)`` for pixels."""
        size = int(np.size(self.mean_abs))
        if self.feature_names is not None and len(self.feature_names) == size:
            return list(self.feature_names)
        if self.modality == "image" and np.ndim(self.mean_abs) == 3:
            return [f"c{c} ({r}, {k})" for c, r, k in np.ndindex(*np.shape(self.mean_abs))]
        return [f"x{j}" for j in range(size)]

    def top(self, k: int = 10, *, min_count: int = 1) -> list[tuple[str, float]]:
        """The ``k`` most important entries as ``(name, mean_abs)``, largest first.

        Args:
            k: how many to return.
            min_count: text only: skip tokens seen fewer times than this.
        """
        values = np.asarray(self.mean_abs, dtype=float).reshape(-1)
        keep = np.ones(values.size, dtype=bool)
        if self.counts is not None:
            keep = np.asarray(self.counts) >= int(min_count)
        order = [j for j in np.argsort(-values, kind="stable") if keep[j]][: int(k)]
        names = self.names()
        return [(names[j], float(values[j])) for j in order]

    def plot(self, **options: Any) -> go.Figure:
        """Bars of the most important features or tokens; a heatmap for images.

        Args:
            **options: passed to :func:`explain.plots.importance_bars` or
                :func:`explain.plots.importance_map`.
        """
        from explain.plots.importance import importance_bars, importance_map

        if self.modality == "image":
            return importance_map(self, **options)
        return importance_bars(self, **options)
