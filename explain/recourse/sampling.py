"""A model-agnostic search for counterfactuals (black-box models, or to top up the gradient
search): seeded rounds of candidates that each change ``k`` randomly chosen mutable
features (a one-hot group counts as one) to the values of randomly chosen rows of the
reference data, ``k`` growing from 1 until enough candidates reach the target or time runs
out. Values drawn from the data respect integers and one-hot groups by construction; each
candidate is then projected onto the ranges.

Example:
    >>> import numpy as np, torch, explain
    >>> from explain.recourse.constraints import build
    >>> from explain.recourse.goals import Goal
    >>> net = torch.nn.Linear(2, 2)
    >>> with torch.no_grad():
    ...     net.weight[:] = torch.tensor([[1.0, 0.0], [-1.0, 0.0]])
    ...     _ = net.bias.zero_()
    >>> model = explain.Model(net, feature_names=["a", "b"])
    >>> x = np.random.default_rng(0).normal(size=(50, 2))
    >>> c = build(x, ("a", "b"), immutable=[], ranges=None, onehot=None)
    >>> found = random_search(model, np.array([1.0, 0.3]), Goal(cls=1), c, x, n=2, seed=0, deadline=None)
    >>> len(found) >= 2, bool((found[:, 0] < 0).all())
    (True, True)
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from explain.core.model import Model
from explain.recourse.constraints import Constraints
from explain.recourse.goals import Goal

__all__ = ["random_search", "score_rows", "PER_ROUND", "ROUNDS"]

PER_ROUND, ROUNDS = 256, 3  # candidates per round, rounds per number of changed features


def score_rows(model: Model, batch_size: int | None) -> Callable[[np.ndarray], np.ndarray]:
    """A function: rows -> the model's raw outputs (``explain.core.running.outputs``), with
    the rows per pass taken from the memory budget once (``batch_size`` None)."""
    from explain.core.batch import prepare
    from explain.core.budget import row_bytes, rows_per_batch
    from explain.core.running import outputs

    size: list[int] = [] if batch_size is None else [batch_size]

    def score(rows: np.ndarray) -> np.ndarray:
        batch = prepare(model, np.atleast_2d(rows).astype(np.float32))
        if not size:
            size.append(rows_per_batch(row_bytes(model, batch), device=model.device))
        return outputs(model, batch, size[0])

    return score


def random_search(model: Model, query: np.ndarray, goal: Goal, c: Constraints, reference: np.ndarray, *, n: int,
                  seed: int, deadline: float | None, batch_size: int | None = None) -> np.ndarray:
    """Distinct candidate rows that reach ``goal`` (as many as were found),
    ``(found, features)``."""
    rng = np.random.default_rng(seed)
    score = score_rows(model, batch_size)
    units = [u for u in c.units if c.mutable[u].all()]
    # each column's unit (columns in no mutable unit never change: their mask stays False)
    unit_of = np.zeros(len(query), dtype=np.int64)
    member = np.zeros((len(units), len(query)), dtype=bool)
    for j, unit in enumerate(units):
        unit_of[unit], member[j, unit] = j, True
    columns = np.arange(len(query))[None, :]
    found: list[np.ndarray] = []
    for k in range(1, len(units) + 1):
        for _ in range(ROUNDS):
            # per candidate: k distinct units, each given the value(s) of its own random reference row
            chosen = np.zeros((PER_ROUND, len(units)), dtype=bool)
            np.put_along_axis(chosen, np.argsort(rng.random((PER_ROUND, len(units))), axis=1)[:, :k], True, axis=1)
            donors = rng.integers(len(reference), size=(PER_ROUND, len(units)))
            values = reference[donors[:, unit_of], columns]
            rows = np.where(chosen @ member, values, query[None, :]).astype(np.float64)
            rows = c.finalize(rows, query)
            rows = rows[(rows != query).any(axis=1)]
            if len(rows):
                found.extend(rows[goal.reached(score(rows))])
            if deadline is not None and time.monotonic() > deadline:
                return _distinct(found, query)
        if len(found) >= 2 * n:
            break
    return _distinct(found, query)


def _distinct(found: list[np.ndarray], query: np.ndarray) -> np.ndarray:
    if not found:
        return np.empty((0, len(query)))
    return np.unique(np.array(found), axis=0)
