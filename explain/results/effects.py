"""Results of global feature effects: partial dependence with ICE curves
(:func:`explain.partial_dependence`) and accumulated local effects (:func:`explain.ale`).

Example:
    >>> import numpy as np
    >>> pd_ = PartialDependence(features=("age",), grid={"age": np.array([20.0, 40.0])},
    ...                         average={"age": np.array([[0.2, 0.6]])}, individual={"age": None},
    ...                         outputs=("prediction",), task="regression", n=10)
    >>> pd_.frame("age").round(2).to_dict("list")
    {'age': [20.0, 40.0], 'prediction': [0.2, 0.6]}
    >>> pd_.average["age"].flags.writeable
    False
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from explain.errors import InputError
from explain.results._base import Exported, freeze, frozen, jsonable

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    import plotly.graph_objects as go

__all__ = ["PartialDependence", "AccumulatedEffects"]

Feature = str | tuple[str, str]


def _frozen_map(mapping: dict[Any, Any]) -> dict[Any, Any]:
    out: dict[Any, Any] = {}
    for key, value in mapping.items():
        key = tuple(str(k) for k in key) if isinstance(key, (tuple, list)) else str(key)
        out[key] = tuple(frozen(v) for v in value) if isinstance(value, tuple) else frozen(value)
    return out


def _key(features: tuple[Feature, ...], feature: Any) -> Feature:
    key = tuple(str(f) for f in feature) if isinstance(feature, (tuple, list)) else str(feature)
    if key not in features:
        raise InputError(f"No effect was computed for {feature!r}; this result holds {list(features)}. "
                         "Compute it with features=[...] including it.")
    return key


@dataclass(frozen=True)
class PartialDependence(Exported):
    """The outcome of :func:`explain.partial_dependence`.

    Attributes:
        features: each feature (a name) or pair of features (a tuple of two names).
        grid: feature -> the values it was set to; a pair -> a tuple of two grids.
        average: feature -> ``(outputs, grid)`` the mean response over the rows (class
            probabilities, or the prediction for regression); a pair -> ``(outputs, ga, gb)``.
        individual: feature -> the ICE curves of the sampled rows, ``(rows, grid, classes)``
            for classifiers or ``(rows, grid)`` for regression; None for pairs and when
            ``kind="average"``.
        outputs: the name of each output (class names, or ``"prediction"``).
        task: the model's task. n: rows averaged over.
        rows: the row ids of the ICE curves (a Dataset's ``rows``, else positions).
        params: the options it ran with.
    """

    features: tuple[Feature, ...]
    grid: dict[Any, Any]
    average: dict[Any, Any]
    individual: dict[Any, Any]
    outputs: tuple[str, ...]
    task: str
    n: int
    rows: np.ndarray | None = None
    params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "features", tuple(tuple(str(x) for x in f) if isinstance(f, (tuple, list))
                                                   else str(f) for f in self.features))
        for name in ("grid", "average", "individual"):
            object.__setattr__(self, name, _frozen_map(getattr(self, name)))
        freeze(self, ("rows",), ("outputs",))

    def frame(self, feature: Any, output: int | str | None = None) -> pd.DataFrame:
        """One feature's average curve: its grid and one column per output (or ``output``
        only); a pair: one row per grid cell."""
        import pandas as pd

        key = _key(self.features, feature)
        columns = range(len(self.outputs)) if output is None else [self.output_index(output)]
        average = self.average[key]
        if isinstance(key, tuple):
            a, b = np.meshgrid(*self.grid[key], indexing="ij")
            frame = pd.DataFrame({key[0]: a.ravel(), key[1]: b.ravel()})
            for c in columns:
                frame[self.outputs[c]] = average[c].ravel()
            return frame
        frame = pd.DataFrame({key: self.grid[key]})
        for c in columns:
            frame[self.outputs[c]] = average[c]
        return frame

    def output_index(self, output: int | str | None) -> int:
        """The index of ``output`` (a class name or index; None: the last class, the
        positive one of a binary model, or the only output)."""
        if output is None:
            return len(self.outputs) - 1
        if isinstance(output, str):
            if output not in self.outputs:
                raise InputError(f"Unknown output {output!r}; pass one of {list(self.outputs)}.")
            return self.outputs.index(output)
        if not 0 <= int(output) < len(self.outputs):
            raise InputError(f"output {output} is out of range; pass 0 to {len(self.outputs) - 1} or a name.")
        return int(output)

    def plot(self, feature: Any = None, **options: Any) -> go.Figure:
        """The average curve with ICE lines, or a pair's heat map (see
        :func:`explain.plots.pdp_curves` and :func:`explain.plots.pdp_heatmap`)."""
        from explain.plots.effects import pdp_curves, pdp_heatmap

        key = self.features[0] if feature is None else _key(self.features, feature)
        return pdp_heatmap(self, key, **options) if isinstance(key, tuple) else pdp_curves(self, key, **options)

    def to_dict(self) -> dict[str, Any]:
        effects = [{"feature": list(f) if isinstance(f, tuple) else f,
                    "grid": jsonable(list(self.grid[f]) if isinstance(f, tuple) else self.grid[f]),
                    "average": jsonable(self.average[f]), "individual": jsonable(self.individual.get(f))}
                   for f in self.features]
        return {"effects": effects, "outputs": list(self.outputs), "task": self.task, "n": self.n,
                "rows": jsonable(self.rows), "params": jsonable(self.params)}


@dataclass(frozen=True)
class AccumulatedEffects(Exported):
    """The outcome of :func:`explain.ale`.

    Attributes:
        features: the feature names.
        edges: feature -> the bin edges ``z_0 < ... < z_K`` (quantiles of the column).
        effect: feature -> ``(outputs, K + 1)`` the accumulated local effect at each edge,
            centred so that its data-weighted mean is 0 (each bin counts the mean of its two
            ends, weighted by its rows, as in Apley and Zhu's ALEPlot).
        counts: feature -> rows per bin ``(K,)``.
        outputs, task, n, params: as in :class:`PartialDependence`.
    """

    features: tuple[str, ...]
    edges: dict[str, Any]
    effect: dict[str, Any]
    counts: dict[str, Any]
    outputs: tuple[str, ...]
    task: str
    n: int
    params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("edges", "effect", "counts"):
            object.__setattr__(self, name, _frozen_map(getattr(self, name)))
        freeze(self, (), ("features", "outputs"))

    def frame(self, feature: Any) -> pd.DataFrame:
        """One feature's effect: its edges and one column per output."""
        import pandas as pd

        key = _key(self.features, feature)
        frame = pd.DataFrame({key: self.edges[key]})
        for c, name in enumerate(self.outputs):
            frame[name] = self.effect[key][c]
        return frame

    def plot(self, feature: Any = None, **options: Any) -> go.Figure:
        """The effect curves with a rug of the bins' rows (see :func:`explain.plots.ale_curves`)."""
        from explain.plots.effects import ale_curves

        return ale_curves(self, self.features[0] if feature is None else _key(self.features, feature), **options)

    def to_dict(self) -> dict[str, Any]:
        effects = [{"feature": f, "edges": jsonable(self.edges[f]), "effect": jsonable(self.effect[f]),
                    "counts": jsonable(self.counts[f])} for f in self.features]
        return {"effects": effects, "outputs": list(self.outputs), "task": self.task, "n": self.n,
                "params": jsonable(self.params)}
