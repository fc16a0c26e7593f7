"""Gradient search for counterfactuals of a differentiable model: ``n`` candidate rows at
once, in units of each feature's scale (MAD), descending

- a validity hinge: the target logit's margin over the largest other one below ``MARGIN``
  (classifiers), or the distance of the prediction outside the target range (regression);
- minus a diversity term: the mean pairwise distance between the candidates;

by steps of ``RATE`` along the largest coordinate of the gradient (normalised per
candidate, so the features that matter most move most), with a proximity penalty, the
mean |change| in scale units (L1), applied as a proximal step (soft thresholding by
``SHRINK`` after each step, which sets small changes exactly to 0, so few features
change; a valid candidate only shrinks); the immutable features' gradients are zeroed and each step is
projected back onto the ranges. It stops once every candidate has been valid and none has
come closer for ``PATIENCE`` steps. Each candidate's closest valid state seen is kept. Integers and one-hot groups
are settled afterwards (:meth:`explain.recourse.constraints.Constraints.finalize`).

Example:
    >>> import numpy as np, torch, explain
    >>> from explain.recourse.constraints import build
    >>> from explain.recourse.goals import Goal
    >>> net = torch.nn.Linear(2, 2)
    >>> with torch.no_grad():
    ...     net.weight[:] = torch.tensor([[1.0, 0.0], [-1.0, 0.0]]); _ = net.bias.zero_()
    >>> model = explain.Model(net, feature_names=["a", "b"])
    >>> x = np.random.default_rng(0).normal(size=(50, 2))
    >>> c = build(x, ("a", "b"), immutable=["b"], ranges=None, onehot=None)
    >>> found = gradient_search(model, np.array([1.0, 0.3]), Goal(cls=1), c, n=2, seed=0, deadline=None)
    >>> bool((found[:, 0] < 0).all()), found[:, 1].tolist()
    (True, [0.3, 0.3])
"""

from __future__ import annotations

import time

import numpy as np
import torch

from explain.core.model import Model
from explain.core.running import class_logits
from explain.recourse.constraints import Constraints
from explain.recourse.goals import Goal

__all__ = ["gradient_search", "MARGIN"]

MARGIN = 0.2  # logits (classifiers) the target must lead by, or a share of the range (regression)
SHRINK, DIVERSITY = 0.05, 0.02  # soft threshold per step (scale units); diversity weight
STEPS, RATE, PATIENCE = 100, 0.1, 30


def gradient_search(model: Model, query: np.ndarray, goal: Goal, c: Constraints, *, n: int, seed: int,
                    deadline: float | None, steps: int = STEPS) -> np.ndarray:
    """``n`` candidate rows (not yet rounded or snapped): each the closest valid one seen,
    else where the search ended."""
    dtype = next((p.dtype for p in model.network.parameters()), torch.float32)
    device = model.device
    as_tensor = lambda a: torch.as_tensor(np.array(a, dtype=np.float64), device=device)  # noqa: E731 (a copy: read-only arrays)
    q, scale, mask = as_tensor(query), as_tensor(c.scale), as_tensor(c.mutable)
    low, high = (as_tensor(c.low) - q) / scale, (as_tensor(c.high) - q) / scale
    generator = torch.Generator().manual_seed(int(seed))
    start = torch.randn(n, len(query), generator=generator, dtype=torch.float64).to(device) * 0.3 * mask
    d = torch.clamp(start, low, high).requires_grad_(True)
    best = np.tile(query, (n, 1)).astype(np.float64)
    best_cost = np.full(n, np.inf)
    last = 0
    for step in range(steps):
        x = q + d * scale
        hinge = _hinge(model, goal, (x).to(dtype))
        proximity = d.abs().mean(dim=1)
        loss = hinge.sum()
        if n > 1:
            loss = loss - DIVERSITY * (d[:, None] - d[None]).abs().mean(dim=2).sum() / (n - 1)
        loss.backward()
        with torch.no_grad():
            grad = d.grad * mask * (hinge > 0).unsqueeze(1)  # a valid candidate only shrinks
            d -= RATE * grad / grad.abs().amax(dim=1, keepdim=True).clamp_min(1e-12)
            d.grad = None
            d.copy_(torch.clamp(torch.sign(d) * torch.relu(d.abs() - SHRINK), low, high) * mask)
            valid = (hinge.detach() <= 0).cpu().numpy()
            cost = proximity.detach().cpu().numpy()
            better = valid & (cost < best_cost - 1e-2)
            if better.any():
                best[better] = x.detach().cpu().numpy()[better]
                best_cost[better] = cost[better]
                last = step
        if np.isfinite(best_cost).all() and step - last >= PATIENCE:
            break
        if step % 10 == 9 and deadline is not None and time.monotonic() > deadline:
            break
    return best


def _hinge(model: Model, goal: Goal, x: torch.Tensor) -> torch.Tensor:
    """Per row, how far the outputs are from reaching the goal with a margin (0: reached)."""
    out = model.forward_module(x).double()
    if goal.cls is not None:
        logits = class_logits(out)
        target = logits[:, goal.cls]
        others = torch.cat([logits[:, :goal.cls], logits[:, goal.cls + 1:]], dim=1).amax(dim=1)
        return torch.relu(MARGIN - (target - others))
    y = out[:, 0]
    width = goal.high - goal.low
    pad = MARGIN * width / 2 if np.isfinite(width) and width > 0 else 0.0
    return torch.relu(goal.low + pad - y) + torch.relu(y - (goal.high - pad))
