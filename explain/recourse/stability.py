"""Robust recourse: whether a counterfactual still holds under small changes.

A counterfactual just across the decision boundary is fragile: the applicant who changes
exactly what it says may, after rounding or a slightly different measurement, land back on
the other side. For each counterfactual we draw ``DRAWS`` seeded perturbations: Gaussian
noise of ``NOISE`` times each mutable feature's scale (its MAD) on every mutable feature,
changed or not, each draw projected with :meth:`Constraints.finalize` (ranges, integers
rounded, one-hot groups snapped, immutable features kept), and score them in one batch.
The counterfactual's robustness is the share of draws that still reach the target (1.0:
every small change keeps it valid).

Example:
    >>> import numpy as np, torch, explain
    >>> from explain.recourse.constraints import build
    >>> from explain.recourse.goals import Goal
    >>> from explain.recourse.sampling import score_rows
    >>> net = torch.nn.Linear(1, 2)
    >>> with torch.no_grad():
    ...     net.weight[:] = torch.tensor([[-1.0], [1.0]])
    ...     _ = net.bias.zero_()
    >>> model = explain.Model(net, feature_names=["a"])
    >>> x = np.random.default_rng(0).normal(size=(200, 1))
    >>> c = build(x, ("a",), immutable=[], ranges=None, onehot=None)
    >>> rows = np.array([[0.001], [1.5]])   # on the boundary (a > 0 is class 1), far past it
    >>> share = held_under_noise(rows, [Goal(cls=1)] * 2, c, score_rows(model, None), seed=0)
    >>> bool(share[0] < 0.8), float(share[1])
    (True, 1.0)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from explain.recourse.constraints import Constraints
from explain.recourse.goals import Goal

__all__ = ["held_under_noise", "NOISE", "DRAWS"]

NOISE = 0.1  # the noise's standard deviation, in each feature's scale (MAD)
DRAWS = 32  # perturbations per counterfactual


def held_under_noise(rows: np.ndarray, goals: Sequence[Goal], c: Constraints,
                     score: Callable[[np.ndarray], np.ndarray], *, seed: int = 0, noise: float = NOISE,
                     draws: int = DRAWS) -> np.ndarray:
    """Per row of ``rows`` (counterfactuals, each with its goal), the share of ``draws``
    seeded, projected perturbations that still reach the goal (NaN for no rows)."""
    rows = np.atleast_2d(np.asarray(rows, dtype=np.float64))
    if not len(rows):
        return np.empty(0)
    rng = np.random.default_rng(seed)
    step = rng.normal(size=(len(rows), draws, rows.shape[1])) * (noise * c.scale * c.mutable)
    moved = np.concatenate([c.finalize(row + delta, row) for row, delta in zip(rows, step)])
    out = score(moved).reshape(len(rows), draws, -1)
    return np.array([goal.reached(o).mean() for goal, o in zip(goals, out)])
