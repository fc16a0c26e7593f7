"""Counterfactuals of image classifiers: the smallest change that makes the model see the
target class.

A targeted, L2-penalised gradient search (Wachter et al., 2017; Carlini and Wagner, 2017):
``WEIGHTS`` copies of the query are optimised together with Adam, each minimising
``||x' - x||^2 + w * max(max_{j != t} z_j - z_t + MARGIN, 0)`` for its own weight ``w`` on
the target's logit margin, every pixel kept inside the data's value range after each step.
Of every step's images that reach the target, the one closest in L2 is kept; a final
forward pass on the returned images verifies each (a query whose image fails is reported
as not found, with the reason).

Example:
    >>> import explain, numpy as np
    >>> model, data = explain.load_example("digits")
    >>> cf = explain.counterfactuals(model, data, data[:2], target="3", time_limit=5)
    >>> bool((model.predict(cf.counterfactuals[cf.validity]) == 3).all())
    True
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch

from explain.core.batch import prepare
from explain.core.model import Model
from explain.core.rng import seeded
from explain.core.validate import Int, Number, check
from explain.errors import InputError, MethodError
from explain.recourse.goals import resolve_goal
from explain.results.recourse_media import ImageCounterfactuals

__all__ = ["image_counterfactuals", "WEIGHTS", "STEPS", "MARGIN", "CHANGED", "CHUNK"]

WEIGHTS = (0.3, 1.0, 3.0, 10.0, 30.0, 300.0)  # weights on the target's margin, searched at once
STEPS = 200  # Adam steps at most (fewer when the time limit runs out or the search has settled)
PATIENCE = 25  # steps without a 1% smaller change for every query: settled
MARGIN = 0.05  # the target logit's lead over the runner-up that the search aims for
CHUNK = 32  # queries searched together (times len(WEIGHTS) images a forward pass)
CHANGED = 0.01  # a pixel counts as changed when it moves by more than this share of the value range


def image_counterfactuals(model: Model, data: Any, queries: Any, *, target: Any = None, ranges: Any = None,
                          time_limit: float = 10.0, seed: int = 0) -> ImageCounterfactuals:
    """The smallest (L2) change of each query image that the model puts in ``target``.

    Args:
        model: an image classifier with gradients.
        data: reference images (a Dataset, array or tensor): the value range comes from them.
        queries: the images to explain.
        target: the class to reach (a name or index); None: the query's runner-up class
            (its second most probable).
        ranges: ``(low, high)`` overriding the data's value range.
        time_limit: seconds per query: the queries are searched together, in chunks of
            ``CHUNK``, within ``time_limit`` times their number.
        seed: seeds torch (the search itself starts from the query and is deterministic).

    Raises:
        InputError: a regression model, an unknown class, a bad range.
        MethodError: a model without gradients.
    """
    opts = check(time_limit=(time_limit, Number(low=0, open=True, suggest=10.0)), seed=(seed, Int()))
    if model.task != "classification":
        raise InputError("Image counterfactuals need a classifier (a class to reach); this model is a regression.")
    if not model.differentiable:
        raise MethodError(f"Image counterfactuals need a model with gradients; this one is a black box "
                          f"({model.format}). Load the PyTorch model instead.")
    reference = prepare(model, data).x.detach().float()
    x = prepare(model, queries).x.detach().float()
    low, high = _range(reference, ranges)
    classes = tuple(model.class_names or ()) or tuple(str(k) for k in range(_outputs(model, x[:1]).shape[1]))
    with torch.no_grad():
        start = _outputs(model, x)
    goals = []
    for out in start:
        if target is None and len(classes) > 2:
            goals.append(int(torch.argsort(out, descending=True)[1]))
        else:
            goals.append(int(resolve_goal("classification", classes, target, int(out.argmax())).cls or 0))
    done = np.array([int(out.argmax()) == g for out, g in zip(start, goals)])
    cf, found, timed_out = x.clone(), np.zeros(len(x), dtype=bool), False
    deadline = time.monotonic() + opts["time_limit"] * len(x)
    todo = np.flatnonzero(~done)
    with seeded(opts["seed"]):
        for chunk in np.array_split(todo, max(1, -(-len(todo) // CHUNK))) if len(todo) else ():
            if timed_out:
                break
            cf[chunk], found[chunk], timed_out = _search(model, x[chunk], [goals[i] for i in chunk], low, high,
                                                         deadline)
    with torch.no_grad():
        reached = _outputs(model, cf).argmax(dim=1).numpy()  # the final check, on what is returned
    valid = found & (reached == np.array(goals))
    reasons = []
    for i in range(len(x)):
        if done[i]:
            reasons.append(f"the query is already {classes[goals[i]]!r}: nothing to change")
        elif valid[i]:
            reasons.append("")
        elif found[i]:
            reasons.append("found none: the image found did not keep the target on a fresh forward pass")
        elif timed_out:
            reasons.append("found none: the time limit ran out; raise time_limit")
        else:
            reasons.append(f"found none: no image within the value range [{low:g}, {high:g}] reached "
                           f"{classes[goals[i]]!r} in {STEPS} steps")
        if not valid[i]:
            cf[i] = x[i]
    orig, out = x.numpy(), cf.numpy()
    diff = (out - orig).reshape(len(x), -1)
    moved = np.abs(out - orig).max(axis=1) > CHANGED * (high - low)  # any channel, per pixel
    nan = np.where(valid, 1.0, np.nan)
    return ImageCounterfactuals(
        originals=orig, counterfactuals=out, validity=valid, prediction=np.where(valid, reached, -1),
        query_prediction=start.argmax(dim=1).numpy(), target_index=np.array(goals),
        l2=np.linalg.norm(diff, axis=1) * nan, linf=np.abs(diff).max(axis=1, initial=0.0) * nan,
        changed_pixels=moved.reshape(len(x), -1).mean(axis=1) * nan, targets=tuple(classes[g] for g in goals),
        reasons=tuple(reasons), outputs=classes,
        params={"target": target if target is None or isinstance(target, (int, str)) else str(target),
                "range": [low, high], "time_limit": opts["time_limit"], "seed": opts["seed"],
                "weights": list(WEIGHTS), "steps": STEPS, "margin": MARGIN, "changed": CHANGED})


def _range(reference: torch.Tensor, ranges: Any) -> tuple[float, float]:
    if ranges is None:
        return float(reference.min()), float(reference.max())
    try:
        low, high = (float(r) for r in ranges)
    except (TypeError, ValueError) as err:
        raise InputError(f"For images, ranges is the pixel range (low, high), got {ranges!r}; pass e.g. "
                         "ranges=(0.0, 1.0).") from err
    if not low < high:
        raise InputError(f"ranges {ranges!r} has low not below high; pass (low, high).")
    return low, high


def _outputs(model: Model, x: torch.Tensor) -> torch.Tensor:
    return model.forward_module(x.to(model.device)).float().cpu()


def _search(model: Model, queries: torch.Tensor, goals: list[int], low: float, high: float,
            deadline: float) -> tuple[torch.Tensor, np.ndarray, bool]:
    """The closest images found that reach each query's goal (the query itself where none
    did), whether each was found, and whether time ran out. Every query is searched with
    every weight in one batch."""
    q, k = len(queries), len(WEIGHTS)
    weights = torch.tensor(WEIGHTS).repeat(q)
    goal = torch.tensor(goals).repeat_interleave(k)
    start = queries.repeat_interleave(k, dim=0)
    delta = torch.zeros_like(start, requires_grad=True)
    opt = torch.optim.Adam([delta], lr=0.02 * (high - low))
    best, best_l2 = queries.clone(), torch.full((q,), torch.inf)
    rows = torch.arange(len(start))
    last = torch.full((q,), torch.inf)  # each query's best when it last improved by 1%
    quiet = 0
    for _ in range(STEPS):
        x = (start + delta).clamp(low, high)
        z = _outputs(model, x)
        others = z.detach().clone()
        others[rows, goal] = -torch.inf
        lead = z[rows, goal] - others.max(dim=1).values
        l2 = ((x - start) ** 2).flatten(1).sum(dim=1)
        with torch.no_grad():  # a clear lead: the final forward pass must agree
            score = torch.where(lead > 1e-3, l2, torch.inf).view(q, k)
            near, pick = score.min(dim=1)
            better = near < best_l2
            if better.any():
                chosen = x.detach().view(q, k, *queries.shape[1:])[torch.arange(q), pick]
                best[better], best_l2[better] = chosen[better], near[better]
        loss = (l2 + weights * torch.relu(MARGIN - lead)).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        moved = best_l2 < 0.99 * last
        last = torch.where(moved, best_l2, last)
        quiet = 0 if moved.any() or not torch.isfinite(best_l2).all() else quiet + 1
        if quiet >= PATIENCE:
            break
        if time.monotonic() > deadline:
            return best, torch.isfinite(best_l2).numpy(), True
    return best, torch.isfinite(best_l2).numpy(), False
