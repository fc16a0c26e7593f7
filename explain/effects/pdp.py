"""``partial_dependence()``: how the model's average prediction moves as one feature (or a
pair) is set to each value of a grid, with every other feature as the data has it, and
the individual conditional expectation (ICE) curve of each row.

The average over the rows is the partial dependence, ``PD(v) = mean_i f(x_i with x_ij = v)``
(Friedman 2001); the same numbers as scikit-learn's ``partial_dependence(method="brute")``
on the same grid. Rows stream through the model in batches (see
:mod:`explain.effects.passes`), so memory stays flat in rows x grid; ``sample`` caps the
rows whose ICE curves are kept.

Example:
    >>> import numpy as np, torch, explain
    >>> net = torch.nn.Linear(2, 1)
    >>> model = explain.Model(net, task="regression", feature_names=["a", "b"])
    >>> x = np.random.default_rng(0).normal(size=(50, 2))
    >>> pd_ = explain.partial_dependence(model, x, features=["a", ("a", "b")], grid_resolution=5)
    >>> pd_.average["a"].shape, pd_.individual["a"].shape, pd_.average[("a", "b")].shape
    ((1, 5), (50, 5), (1, 5, 5))
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from explain.core.validate import Int, Number, OneOf, check
from explain.effects.grids import feature_grid, is_integral, resolve_features, tabular_rows
from explain.effects.passes import output_names, sweep
from explain.errors import InputError
from explain.results.effects import PartialDependence

__all__ = ["partial_dependence", "KINDS"]

KINDS = ("both", "average", "individual")


def partial_dependence(model: Any, data: Any, *, features: Any, grid_resolution: int = 20, kind: str = "both",
                       percentiles: tuple[float, float] = (0.05, 0.95), sample: int | None = None, seed: int = 0,
                       batch_size: int | None = None, backend: Any = None,
                       progress: Callable[[float], None] | None = None) -> PartialDependence:
    """Partial dependence and ICE curves of a tabular model.

    Args:
        model: a tabular :class:`explain.Model` (classifier or regression).
        data: the rows to average over: a Dataset, an array or a DataFrame.
        features: names (or column indices) of the features; a pair ``(a, b)`` gives a
            2-D surface (average only).
        grid_resolution: points per grid. A feature with fewer distinct values uses those
            values exactly (one-hot and other categorical columns); an integer column gets
            an integer grid.
        kind: ``"both"``, ``"average"`` or ``"individual"`` (which curves to keep; the
            average is always computed).
        percentiles: the grid spans these percentiles of the column.
        sample: keep the ICE curves of at most this many rows (drawn with ``seed``); the
            average still uses every row. None: every row.
        seed: draws the ICE sample.
        batch_size: model rows per forward pass (each row becomes one per grid point);
            None: from the memory budget.
        backend: None or ``"local"`` (this process), ``"ray"`` (the forward passes on Ray
            actors), or an ``explain.runtime.backends`` object.
        progress: called with the fraction of the work done.

    Returns:
        A :class:`explain.PartialDependence`: ``.grid[f]``, ``.average[f]`` (classes x grid
        of mean probabilities; 1 x grid for regression), ``.individual[f]``.

    Raises:
        InputError: an unknown feature, a non-tabular model or a bad option.
        DataError: rows that do not fit the model, or a grid that cannot be built.

    Example:
        >>> import numpy as np, torch, explain
        >>> model = explain.Model(torch.nn.Linear(3, 2), task="classification")
        >>> x = np.random.default_rng(0).normal(size=(40, 3))
        >>> result = explain.partial_dependence(model, x, features=["x0"], grid_resolution=10)
        >>> result.average["x0"].shape, bool(np.allclose(result.average["x0"].sum(axis=0), 1))
        ((2, 10), True)
    """
    opts = check(grid_resolution=(grid_resolution, Int(low=2, suggest=20)), kind=(kind, OneOf(KINDS)),
                 sample=(sample, Int(low=1, optional=True, suggest=1000)), seed=(seed, Int()))
    percentiles = _percentiles(percentiles)
    model, x, names = tabular_rows(model, data, "partial_dependence")
    wanted = resolve_features(names, features, pairs=True)
    n = x.shape[0]
    rows = np.arange(n)
    if opts["sample"] is not None and opts["sample"] < n:
        rows = np.sort(np.random.default_rng(opts["seed"]).choice(n, size=opts["sample"], replace=False))
    keep_ice = opts["kind"] != "average"
    grids: dict[Any, Any] = {}
    averages: dict[Any, Any] = {}
    individual: dict[Any, Any] = {}
    k = None
    for step, (key, columns) in enumerate(wanted):
        axes = [feature_grid(x[:, j], opts["grid_resolution"], percentiles) for j in columns]
        points = np.stack([a.ravel() for a in np.meshgrid(*axes, indexing="ij")], axis=1)
        total, ice = None, None
        done = _scaled(progress, step, len(wanted))
        for start, stop, out in sweep(model, x, columns, points, batch_size=batch_size, backend=backend,
                                      progress=done):
            total = out.sum(axis=0) if total is None else total + out.sum(axis=0)
            if keep_ice and len(columns) == 1:
                if ice is None:
                    ice = np.empty((rows.size, *out.shape[1:]))
                inside = (rows >= start) & (rows < stop)
                ice[inside] = out[rows[inside] - start]
        k = total.shape[-1]
        average = (total / n).T  # (outputs, points)
        grids[key] = axes[0] if len(axes) == 1 else tuple(axes)
        averages[key] = average.reshape(k, *[a.size for a in axes])
        if ice is not None and model.task != "classification" and k == 1:
            ice = ice[..., 0]
        individual[key] = ice
    ids = np.asarray(getattr(data, "rows", np.arange(n)))[rows] if keep_ice else None
    return PartialDependence(
        features=tuple(key for key, _ in wanted), grid=grids, average=averages, individual=individual,
        outputs=output_names(model, data, int(k)), task=model.task, n=n, rows=ids,
        params={"grid_resolution": opts["grid_resolution"], "kind": opts["kind"], "percentiles": list(percentiles),
                "sample": opts["sample"], "seed": opts["seed"], "batch_size": batch_size,
                "integer": [names[c] for _, cols in wanted for c in cols if is_integral(x[:, c])],
                "backend": getattr(backend, "name", backend)})


def _percentiles(percentiles: Any) -> tuple[float, float]:
    try:
        low, high = (float(p) for p in percentiles)
    except (TypeError, ValueError) as err:
        raise InputError(f"percentiles must be two numbers between 0 and 1, got {percentiles!r}; "
                         "pass e.g. percentiles=(0.05, 0.95).") from err
    check(percentiles_low=(low, Number(low=0, high=1)), percentiles_high=(high, Number(low=0, high=1)))
    if low >= high:
        raise InputError(f"percentiles must rise, got {percentiles!r}; pass e.g. percentiles=(0.05, 0.95).")
    return low, high


def _scaled(progress: Callable[[float], None] | None, step: int, steps: int) -> Callable[[float], None] | None:
    """Progress of one feature's pass as a share of all features'."""
    if progress is None:
        return None
    return lambda fraction: progress((step + fraction) / steps)
