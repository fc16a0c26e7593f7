"""What happens to candidates after a search: the greedy sparsification, the measures of a
counterfactual, and the pick of ``n`` diverse ones.

Distances are in scale units (MAD): ``mean_j |a_j - b_j| / scale_j``, the proximity of
DiCE (Mothilal et al. 2020) over every feature.

Example:
    >>> import numpy as np
    >>> distance(np.array([[1.0, 4.0]]), np.array([0.0, 0.0]), np.array([1.0, 2.0])).tolist()
    [1.5]
    >>> diversity(np.array([[0.0, 0.0], [2.0, 0.0]]), np.array([1.0, 1.0]))
    1.0
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from explain.recourse.constraints import Constraints
from explain.recourse.goals import Goal

__all__ = ["distance", "diversity", "sparsify", "nearest", "pick"]


def distance(rows: np.ndarray, other: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Per row, the mean |difference| to ``other`` (one row, or one per row) in scale units."""
    return (np.abs(np.atleast_2d(rows) - other) / scale).mean(axis=-1)


def diversity(rows: np.ndarray, scale: np.ndarray) -> float:
    """The mean pairwise :func:`distance` between rows (NaN for fewer than two)."""
    if len(rows) < 2:
        return float("nan")
    pairs = [distance(rows[i], rows[j], scale)[0] for i in range(len(rows)) for j in range(i + 1, len(rows))]
    return float(np.mean(pairs))


def sparsify(row: np.ndarray, query: np.ndarray, c: Constraints, goal: Goal,
             score: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """Fewer changes, the same target: first keep only the ``k`` largest changed units
    (features or one-hot groups; in scale units) for the smallest ``k`` that still reaches
    ``goal`` (all ``k`` in one forward pass), then put each remaining unit back to the
    query's value, smallest change first, wherever the row still reaches ``goal``; a row
    that would break a constraint is never taken."""
    row = row.copy()
    changed = [u for u, hit in zip(c.units, c.changed_units(row, query)[0]) if hit]
    changed.sort(key=lambda u: float((np.abs(row[u] - query[u]) / c.scale[u]).sum()))
    if len(changed) > 1:
        prefixes = np.tile(query, (len(changed), 1)).astype(np.float64)
        for k in range(len(changed)):
            for unit in changed[len(changed) - 1 - k:]:
                prefixes[k, unit] = row[unit]
        ok = goal.reached(score(prefixes)) & np.array([c.violations(p, query) == 0 for p in prefixes])
        if ok.any():
            k = int(np.argmax(ok))
            row, changed = prefixes[k], changed[len(changed) - 1 - k:]
    for unit in changed:
        trial = row.copy()
        trial[unit] = query[unit]
        if c.violations(trial, query) == 0 and goal.reached(score(trial))[0]:
            row = trial
    return row


def nearest(rows: np.ndarray, reference: np.ndarray, scale: np.ndarray, chunk: int = 4096) -> np.ndarray:
    """Per row, the :func:`distance` to the closest reference row (inf without any)."""
    best = np.full(len(rows), np.inf)
    for start in range(0, len(reference), chunk):
        part = reference[start:start + chunk]
        d = (np.abs(rows[:, None, :] - part[None]) / scale).mean(axis=2)
        best = np.minimum(best, d.min(axis=1))
    return best


SPARSITY_COST = 0.1
"""What each changed feature (or one-hot group) adds to a counterfactual's cost in
:func:`pick`, in the units of :func:`distance`: as much as moving one of ten features by
one MAD. Without it the pick prefers three small changes to one larger one."""


def pick(rows: np.ndarray, query: np.ndarray, scale: np.ndarray, n: int,
         changed: np.ndarray | None = None) -> np.ndarray:
    """Indices of up to ``n`` distinct rows: the cheapest first (its distance to the query,
    plus :data:`SPARSITY_COST` per changed unit where ``changed`` counts them per row), then
    each time the one farthest from those picked, less its own cost."""
    if len(rows) == 0:
        return np.zeros(0, dtype=int)
    rows, keep = np.unique(rows, axis=0, return_index=True)
    cost = distance(rows, query, scale)
    if changed is not None:
        cost = cost + SPARSITY_COST * np.asarray(changed, dtype=np.float64)[keep]
    chosen = [int(np.argmin(cost))]
    while len(chosen) < min(n, len(rows)):
        spread = np.min([distance(rows, rows[i], scale) for i in chosen], axis=0)
        gain = np.where(np.isin(np.arange(len(rows)), chosen), -np.inf, spread - cost)
        chosen.append(int(np.argmax(gain)))
    return keep[chosen]
