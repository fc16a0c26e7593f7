"""``counterfactuals()``: for each query row, up to ``n`` diverse rows close to it that the
model puts in the target class (or target range), changing only what may change.

Differentiable models are searched with gradients (:mod:`~explain.recourse.descent`:
close, sparse candidates) and, with ``method="auto"``, also by the model-agnostic search
(:mod:`~explain.recourse.sampling`: varied ones), both pooled before the diverse pick;
``method="gradient"`` runs the gradient search alone (topped up by the other only when it
finds fewer than ``n``). Black-box models (``model.differentiable`` False, e.g. ONNX in
onnxruntime) and ``method="random"`` use the model-agnostic search alone. Candidates are settled onto the
constraints (integers rounded, one-hot groups snapped), sparsified greedily, picked for
diversity, and verified by one last forward pass: every returned counterfactual reaches
the target and breaks no constraint. Each is then scored under ``DRAWS`` small seeded
perturbations (:mod:`~explain.recourse.stability`): its ``robustness``.

Example:
    >>> import numpy as np, torch, explain
    >>> net = torch.nn.Linear(2, 2)
    >>> with torch.no_grad():
    ...     net.weight[:] = torch.tensor([[1.0, 0.0], [-1.0, 0.0]])
    ...     _ = net.bias.zero_()
    >>> model = explain.Model(net, feature_names=["a", "b"], class_names=["no", "yes"])
    >>> x = np.random.default_rng(0).normal(size=(100, 2)).astype(np.float32)
    >>> cf = explain.counterfactuals(model, x, x[:2], target="yes", immutable=["b"], n=2)
    >>> bool(cf.validity.all()), bool((cf.values[:, 1] == x[cf.query_index, 1]).all())
    (True, True)
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import numpy as np

from explain.core.model import check_model
from explain.core.validate import Int, Number, OneOf, check
from explain.effects.grids import tabular_rows
from explain.effects.passes import output_names
from explain.errors import InputError, MethodError
from explain.recourse.constraints import Constraints, build
from explain.recourse.descent import gradient_search
from explain.recourse.goals import Goal, resolve_goal
from explain.recourse.sampling import random_search, score_rows
from explain.recourse.selection import distance, diversity, nearest, pick, sparsify
from explain.recourse.stability import DRAWS, NOISE, held_under_noise
from explain.results.recourse import Counterfactuals

__all__ = ["counterfactuals", "METHODS"]

METHODS = ("auto", "gradient", "random")


def counterfactuals(model: Any, data: Any, queries: Any, *, target: Any = None, immutable: Any = (), n: int = 3,
                    ranges: dict[str, tuple[float, float]] | None = None, onehot: Any = None,
                    method: str = "auto", time_limit: float = 10.0, seed: int = 0,
                    batch_size: int | None = None, also: Any = None) -> Counterfactuals:
    """Counterfactual explanations of a tabular model.

    Args:
        model: a tabular :class:`explain.Model`.
        data: the reference rows (a Dataset, array or DataFrame): observed ranges, MAD
            scales, integer columns, one-hot groups and plausibility come from them.
        queries: the rows to explain (a Dataset, array, DataFrame, or one row).
        target: the class to reach (a name or index; None for a binary model: the class
            it does not predict), or for regression a ``(low, high)`` range (None for an
            open end).
        immutable: features never changed.
        n: counterfactuals per query (at most; distinct and diverse).
        ranges: ``{feature: (low, high)}`` overriding the observed range.
        onehot: one-hot groups as lists of column names, besides those found by name
            prefix (``color_red``, ``color_blue``) in 0/1 columns that sum to 1.
        method: ``"auto"`` (the gradient search where the model has gradients, pooled with
            the model-agnostic one), ``"gradient"`` or ``"random"`` (model-agnostic only).
        time_limit: seconds per query; a query not done in time keeps what was found.
        seed: seeds the searches: the same seed gives the same counterfactuals.
        batch_size: rows per forward pass when scoring (None: from the memory budget).
        also: other models the counterfactuals are checked on, e.g. a compressed copy
            (``{"int8": explain.compress(model)}``, or a list: named by position): per
            model, whether each counterfactual reaches the target there too (``.holds``).

    Returns:
        A :class:`explain.Counterfactuals`: ``.examples[i]``, ``.validity``, ``.sparsity``,
        ``.proximity``, ``.plausibility``, ``.diversity``, ``.robustness`` (the share of
        small perturbations under which each stays valid, :mod:`~explain.recourse.stability`),
        ``.reasons``.

    Raises:
        InputError: a bad option, an unknown feature or class, a missing target.
        MethodError: ``method="gradient"`` on a model without gradients.
        DataError: rows that do not fit the model, or a onehot group that is not one-hot.

    Example:
        >>> import explain
        >>> model, data = explain.load_example("breast_cancer")
        >>> cf = explain.counterfactuals(model, data, data[:1], n=2, time_limit=5)
        >>> len(cf.examples[0]) >= 1, bool(cf.validity.all())
        (True, True)
    """
    opts = check(n=(n, Int(low=1, suggest=3)), time_limit=(time_limit, Number(low=0, open=True, suggest=10.0)),
                 seed=(seed, Int()), method=(method, OneOf(METHODS)))
    model, x, names = tabular_rows(model, data, "counterfactuals")
    _, q, _ = tabular_rows(model, queries, "counterfactuals")
    others = _others(also, model)
    if opts["method"] == "gradient" and not model.differentiable:
        raise MethodError("method='gradient' needs a model with gradients; this one is a black box "
                          f"({model.format}). Pass method='random' (or 'auto').")
    search = "random" if opts["method"] == "random" or not model.differentiable else (
        "gradient+random" if opts["method"] == "auto" else "gradient")
    c = build(x, names, immutable=immutable, ranges=ranges, onehot=onehot)
    score = score_rows(model, batch_size)
    reference_out, query_out = score(x), score(q)
    classes = output_names(model, data, reference_out.shape[1])
    goals = [resolve_goal(model.task, classes, target, int(np.argmax(out))) for out in query_out]
    found, reasons, methods = [], [], []
    for i, query in enumerate(q):
        rows, reason = _one(model, query, goals[i], c, x, score, search, opts, batch_size, i)
        found.append(rows)
        reasons.append(reason)
        methods.append(search)
    result = _result(model, names, q, found, goals, reasons, methods, c, x, reference_out, query_out, score,
                     classes, opts, immutable, ranges, batch_size)
    if not others:
        return result
    index = result.query_index.astype(int)
    holds = {}
    for name, other in others.items():
        out = score_rows(other, batch_size)(result.values) if len(result.values) else np.empty((0, 1))
        holds[name] = np.array([goals[i].reached(o)[0] for i, o in zip(index, out)], dtype=bool)
    return dataclasses.replace(result, holds=holds)


def _others(also: Any, model: Any) -> dict[str, Any]:
    """``also`` as ``{name: checked model}``, each a tabular model of ``model``'s task."""
    if also is None:
        return {}
    named = dict(also) if isinstance(also, dict) else {f"model {k + 1}": m for k, m in enumerate(
        also if isinstance(also, (list, tuple)) else [also])}
    out = {}
    for name, other in named.items():
        other = check_model(other)
        if other.modality != "tabular" or other.task != model.task:
            raise InputError(f"also[{name!r}] is a {other.modality} {other.task} model; the counterfactuals are "
                             f"checked only on tabular {model.task} models that take the same rows.")
        out[str(name)] = other
    return out


def _one(model: Any, query: np.ndarray, goal: Goal, c: Constraints, x: np.ndarray, score: Any, search: str,
         opts: dict[str, Any], batch_size: int | None, i: int) -> tuple[np.ndarray, str]:
    """One query's counterfactuals and the reason it has fewer than ``n`` ("" if none)."""
    n, limit = opts["n"], opts["time_limit"]
    if goal.reached(score(query))[0]:
        return np.empty((0, len(query))), f"the query already reaches the target ({goal.label}): nothing to change"
    if not c.mutable.any():
        return np.empty((0, len(query))), "every feature is immutable: nothing may change"
    deadline = time.monotonic() + limit
    seed = opts["seed"] + i
    candidates = np.empty((0, len(query)))
    if search.startswith("gradient"):
        raw = c.finalize(gradient_search(model, query, goal, c, n=n, seed=seed, deadline=deadline), query)
        candidates = raw[goal.reached(score(raw)) & (raw != query).any(axis=1)]
    timed_out = time.monotonic() > deadline
    if (search.endswith("random") or len(np.unique(candidates, axis=0)) < n) and not timed_out:
        more = random_search(model, query, goal, c, x, n=n, seed=seed, deadline=deadline, batch_size=batch_size)
        candidates = np.vstack([candidates, more])
        timed_out = time.monotonic() > deadline
    if len(candidates):  # the sparsest and closest first: only the first 8n are sparsified and picked from
        changed = c.changed_units(candidates, query).sum(axis=1)
        candidates = candidates[np.lexsort((distance(candidates, query, c.scale), changed))]
    sparse = [sparsify(row, query, c, goal, score) for row in candidates[: 8 * n]]
    rows = np.array(sparse).reshape(-1, len(query))
    if len(rows):
        rows = rows[goal.reached(score(rows)) & np.array([c.violations(r, query) == 0 for r in rows])]
        rows = rows[pick(rows, query, c.scale, n, c.changed_units(rows, query).sum(axis=1))]
    if len(rows) >= n:
        return rows, ""
    if timed_out:
        why = f"the time limit ({limit:g} s) ran out; raise time_limit"
    else:
        why = ("no change of the mutable features within their ranges reached the target; allow more "
               "features to change (immutable=, ranges=)")
    return rows, (f"found none: {why}" if not len(rows) else f"found {len(rows)} of {n}: {why}")


def _result(model: Any, names: tuple[str, ...], q: np.ndarray, found: list[np.ndarray], goals: list[Goal],
            reasons: list[str], methods: list[str], c: Constraints, x: np.ndarray, reference_out: np.ndarray,
            query_out: np.ndarray, score: Any, classes: tuple[str, ...], opts: dict[str, Any], immutable: Any,
            ranges: Any, batch_size: int | None) -> Counterfactuals:
    values = np.vstack(found) if found else np.empty((0, len(names)))
    index = np.concatenate([np.full(len(f), i) for i, f in enumerate(found)]).astype(int)
    out = score(values) if len(values) else np.empty((0, reference_out.shape[1]))
    valid = np.array([goals[i].reached(o)[0] for i, o in zip(index, out)], dtype=bool)
    values, index, out = values[valid], index[valid], out[valid]  # the final check: only valid ones stay
    sparsity = np.array([c.changed_units(v, q[i])[0].sum() for v, i in zip(values, index)], dtype=int)
    proximity = np.array([distance(v, q[i], c.scale)[0] for v, i in zip(values, index)])
    plausible = np.full(len(values), np.inf)
    for i in np.unique(index):
        mine = index == i
        plausible[mine] = nearest(values[mine], x[goals[i].reached(reference_out)], c.scale)
    spread = np.array([diversity(values[index == i], c.scale) for i in range(len(q))])
    robust = held_under_noise(values, [goals[i] for i in index], c, score, seed=opts["seed"])

    def predicted(o: np.ndarray) -> np.ndarray:
        return o.argmax(axis=1).astype(float) if model.task == "classification" else o[:, 0]

    return Counterfactuals(
        feature_names=names, queries=q, values=values, query_index=index, validity=np.ones(len(values), dtype=bool),
        sparsity=sparsity, proximity=proximity, plausibility=plausible, prediction=predicted(out),
        query_prediction=predicted(query_out), diversity=spread, robustness=robust, targets=tuple(g.label for g in goals),
        reasons=tuple(reasons), outputs=classes, task=model.task, methods=tuple(methods),
        params={"n": opts["n"], "method": opts["method"], "time_limit": opts["time_limit"], "seed": opts["seed"],
                "immutable": [immutable] if isinstance(immutable, str) else list(immutable or ()),
                "ranges": {str(k): list(v) for k, v in (ranges or {}).items()},
                "onehot": [[names[j] for j in g] for g in c.groups],
                "integer": [names[j] for j in np.flatnonzero(c.integer)], "scale": c.scale.tolist(),
                "batch_size": batch_size, "noise": NOISE, "draws": DRAWS})
