"""``ale()``: first-order accumulated local effects (Apley and Zhu 2020).

For a feature ``j`` with bin edges ``z_0 < ... < z_K`` (quantiles of the column), each row
in bin ``k`` (``z_{k-1} < x_ij <= z_k``; the smallest value in the first bin) contributes
``f(z_k, x_i,-j) - f(z_{k-1}, x_i,-j)``; the mean over the bin's rows is its local effect,
and their running sum is the accumulated effect at each edge, centred so that its
data-weighted mean is 0. Unlike partial dependence, only values near each row's own are
asked of the model, so correlated features do not make it extrapolate. Classifiers get one
curve per class (probabilities), regressions one of predictions.

Example:
    >>> import numpy as np, torch, explain
    >>> net = torch.nn.Linear(2, 1)
    >>> with torch.no_grad():
    ...     net.weight[:] = torch.tensor([[3.0, -1.0]])
    >>> model = explain.Model(net, task="regression", feature_names=["a", "b"])
    >>> x = np.random.default_rng(0).normal(size=(200, 2))
    >>> result = explain.ale(model, x, features=["a"], bins=10)
    >>> slope = np.diff(result.effect["a"][0]) / np.diff(result.edges["a"])
    >>> bool(np.allclose(slope, 3.0, atol=1e-4))
    True
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from explain.core.validate import Int, check
from explain.effects.grids import resolve_features, tabular_rows
from explain.effects.passes import output_names, row_values
from explain.errors import DataError, InputError
from explain.results.effects import AccumulatedEffects

__all__ = ["ale", "bin_edges"]


def bin_edges(values: np.ndarray, bins: int) -> np.ndarray:
    """The distinct ``k / bins`` quantiles of ``values`` (values the column holds).

    Example:
        >>> bin_edges(np.array([0.0, 1, 1, 1, 2, 3]), 3).tolist()
        [0.0, 1.0, 3.0]
    """
    return np.unique(np.quantile(values, np.linspace(0.0, 1.0, bins + 1), method="inverted_cdf"))


def _given(values: Any, key: str) -> np.ndarray:
    """The user's edges of ``key``: sorted, distinct, at least two finite numbers."""
    try:
        z = np.unique(np.asarray(values, dtype=np.float64).reshape(-1))
    except (TypeError, ValueError):
        z = np.array([np.nan])
    if z.size < 2 or not np.isfinite(z).all():
        raise InputError(f"edges[{key!r}] must be at least two distinct finite numbers, e.g. [18, 30, 45, 70]; "
                         f"got {values!r}.")
    return z


def ale(model: Any, data: Any, *, features: Any, bins: int = 20, edges: dict[str, Any] | None = None,
        batch_size: int | None = None, backend: Any = None,
        progress: Callable[[float], None] | None = None) -> AccumulatedEffects:
    """Accumulated local effects of tabular features.

    Args:
        model: a tabular :class:`explain.Model` (classifier or regression).
        data: the rows: a Dataset, an array or a DataFrame.
        features: names (or column indices) of the features.
        bins: at most this many bins per feature (quantile edges; repeated quantiles merge,
            so an integer column with few values gets one bin between each).
        edges: your own bin edges for some features (``{"age": [18, 30, 45, 70]}``), e.g. to
            reproduce another tool's bins; rows outside them count in the end bins.
        batch_size: model rows per forward pass (two per row); None: from the memory budget.
        backend: None or ``"local"`` (this process), ``"ray"`` (the forward passes on Ray).
        progress: called with the fraction of the work done.

    Returns:
        An :class:`explain.AccumulatedEffects`: ``.edges[f]``, ``.effect[f]`` (outputs x
        edges), ``.counts[f]`` (rows per bin).

    Raises:
        InputError: an unknown feature, a non-tabular model or a bad option.
        DataError: a constant feature (no bin to measure an effect over).

    Example:
        >>> import numpy as np, torch, explain
        >>> model = explain.Model(torch.nn.Linear(3, 2), task="classification")
        >>> result = explain.ale(model, np.random.default_rng(0).normal(size=(60, 3)), features=[0, 2], bins=5)
        >>> result.features, result.effect["x0"].shape
        (('x0', 'x2'), (2, 6))
    """
    opts = check(bins=(bins, Int(low=1, suggest=20)))
    model, x, names = tabular_rows(model, data, "ale")
    wanted = resolve_features(names, features, pairs=False)
    unknown = sorted(set(edges or {}) - {key for key, _ in wanted})
    if unknown:
        raise InputError(f"edges names {unknown}, which are not among the features asked for "
                         f"({[key for key, _ in wanted]}); give edges only for those.")
    n = x.shape[0]
    given, edges, effects, counts = dict(edges or {}), {}, {}, {}
    k = 1
    for step, (key, (j,)) in enumerate(wanted):
        z = _given(given[key], key) if key in given else bin_edges(x[:, j], opts["bins"])
        if z.size < 2:
            raise DataError(f"Feature {key!r} has one value ({z[0]:g}) in the data: it has no effect to "
                            "measure. Leave it out of features.")
        which = np.clip(np.searchsorted(z, x[:, j], side="left"), 1, z.size - 1) - 1
        ends = np.stack([z[which], z[which + 1]], axis=1)
        sums, count = None, np.bincount(which, minlength=z.size - 1)
        done = None if progress is None else (lambda f, s=step: progress((s + f) / len(wanted)))
        for start, stop, out in row_values(model, x, j, ends, batch_size=batch_size, backend=backend,
                                           progress=done):
            diff = out[:, 1] - out[:, 0]  # (rows, outputs)
            k = diff.shape[1]
            part = np.zeros((z.size - 1, k))
            np.add.at(part, which[start:stop], diff)
            sums = part if sums is None else sums + part
        local = sums / np.maximum(count, 1)[:, None]
        curve = np.vstack([np.zeros((1, k)), np.cumsum(local, axis=0)]).T  # (outputs, K + 1)
        curve -= ((curve[:, :-1] + curve[:, 1:]) / 2 * count).sum(axis=1, keepdims=True) / count.sum()
        edges[key], effects[key], counts[key] = z, curve, count
    return AccumulatedEffects(features=tuple(key for key, _ in wanted), edges=edges, effect=effects, counts=counts,
                              outputs=output_names(model, data, k), task=model.task, n=n,
                              params={"bins": opts["bins"], "edges": sorted(given), "batch_size": batch_size,
                                      "backend": getattr(backend, "name", backend)})
