"""The one loop of the feature-effect methods: rows with some columns set to each point of
a grid, sent through the model in budget-sized batches, here or on Ray.

Each row becomes one model row per grid point; a block of rows is expanded, run and
handed back before the next is made, so memory stays flat in rows x grid.

Example:
    >>> import numpy as np, torch, explain
    >>> net = torch.nn.Linear(2, 1, bias=False)
    >>> with torch.no_grad():
    ...     net.weight[:] = torch.tensor([[1.0, 10.0]])
    >>> model = explain.Model(net, task="regression")
    >>> x = np.array([[1.0, 1.0], [2.0, 2.0]])
    >>> [out[..., 0].tolist() for _, _, out in sweep(model, x, (0,), np.array([[0.0], [5.0]]))]
    [[[10.0, 15.0], [20.0, 25.0]]]
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from explain.core.batch import prepare
from explain.core.budget import check_batch_size, row_bytes, rows_per_batch
from explain.core.model import Model
from explain.core.running import outputs
from explain.runtime.backends import Local, get_backend

__all__ = ["sweep", "row_values", "response", "output_names"]

_RAY_BATCHES = 16  # batches per call on Ray, so that its actors share them


def response(model: Model, out: np.ndarray) -> np.ndarray:
    """What effects are measured in: class probabilities (classifiers), raw outputs (regression)."""
    if model.task != "classification":
        return out
    z = out - out.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def output_names(model: Model, data: Any, k: int) -> tuple[str, ...]:
    """The name of each output: the model's (or the data's) class names, else numbers."""
    names = model.class_names or getattr(data, "class_names", None)
    if model.task == "classification" and names and len(names) == k:
        return tuple(str(c) for c in names)
    if model.task != "classification" and k == 1:
        return ("prediction",)
    return tuple(str(i) for i in range(k))


def _per_pass(model: Model, x: np.ndarray, batch_size: int | None, total: int) -> int:
    """Model rows per forward pass: ``batch_size``, else as many as the memory budget holds."""
    given = check_batch_size(batch_size)
    if given is not None:
        return given
    cost = row_bytes(model, prepare(model, x[:2].astype(np.float32)))
    return rows_per_batch(cost, n=total, device=model.device)


def sweep(model: Model, x: np.ndarray, columns: tuple[int, ...], points: np.ndarray, *,
          batch_size: int | None = None, backend: Any = None,
          progress: Callable[[float], None] | None = None) -> Iterator[tuple[int, int, np.ndarray]]:
    """For blocks of rows ``start:stop`` of ``x``: the model's :func:`response` with
    ``x[:, columns]`` set to each row of ``points`` ``(g, len(columns))``, as a
    ``(stop - start, g, outputs)`` float64 array.

    ``batch_size`` is model rows per forward pass (None: from the memory budget).
    """
    chosen = get_backend(backend)
    n, g = x.shape[0], len(points)
    size = _per_pass(model, x, batch_size, n * g)
    span = size if isinstance(chosen, Local) else size * _RAY_BATCHES
    step = max(1, span // max(g, 1))
    cols = list(columns)
    for start in range(0, n, step):
        stop = min(n, start + step)
        block = np.repeat(x[start:stop], g, axis=0)
        block[:, cols] = np.tile(points, (stop - start, 1))
        out = outputs(model, prepare(model, block.astype(np.float32)), size, backend=chosen)
        yield start, stop, response(model, out).reshape(stop - start, g, -1)
        if progress is not None:
            progress(stop / n)


def row_values(model: Model, x: np.ndarray, column: int, values: np.ndarray, *, batch_size: int | None = None,
               backend: Any = None, progress: Callable[[float], None] | None = None
               ) -> Iterator[tuple[int, int, np.ndarray]]:
    """As :func:`sweep`, but each row ``i`` has ``x[i, column]`` set to its own values
    ``values[i]`` ``(n, m)``; yields ``(stop - start, m, outputs)`` blocks."""
    chosen = get_backend(backend)
    n, m = values.shape
    size = _per_pass(model, x, batch_size, n * m)
    span = size if isinstance(chosen, Local) else size * _RAY_BATCHES
    step = max(1, span // max(m, 1))
    for start in range(0, n, step):
        stop = min(n, start + step)
        block = np.repeat(x[start:stop], m, axis=0)
        block[:, column] = values[start:stop].reshape(-1)
        out = outputs(model, prepare(model, block.astype(np.float32)), size, backend=chosen)
        yield start, stop, response(model, out).reshape(stop - start, m, -1)
        if progress is not None:
            progress(stop / n)
