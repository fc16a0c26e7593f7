"""``explain.error_analysis``: the cohorts where a model errs most, found without being told
where to look.

How: the model runs over the labelled rows in batches, keeping only each row's error
(classification: a wrong prediction; regression: the absolute residual; see
:mod:`~explain.diagnostics.mistakes`); the columns are binned once
(:mod:`~explain.diagnostics.cohort_columns`); a shallow tree on the error is grown level by
level from histograms and pruned (:mod:`~explain.diagnostics.error_tree`). Its leaves that
err more than the rest are the cohorts: they never overlap, so no cohort comes back with
its own sub-cohort. A seeded half of the rows chooses the splits and the other half tests
each candidate against the rows outside it, and the false discovery rate is controlled
(Benjamini-Hochberg) over *every* candidate cohort the tree looked at, so that when nothing
stands out the result says so (:meth:`ErrorAnalysis.verdict`). Sizes, rates and rows are
over all rows.

Memory grows with the rows only by small per-row arrays: the error (8 bytes), a node
(4 bytes), a byte per searched column, and the derived features.

Example:
    >>> import numpy as np, torch, explain
    >>> rng = np.random.default_rng(0)
    >>> x = rng.random((3000, 3)).astype(np.float32)
    >>> wrong = (x[:, 0] > 0.7) & (rng.random(3000) < 0.8)   # planted: errs where x0 > 0.7
    >>> net = torch.nn.Linear(3, 2)
    >>> with torch.no_grad():
    ...     _ = net.weight.zero_(), net.bias.copy_(torch.tensor([1.0, 0.0]))  # always predicts 0
    >>> data = explain.Dataset(x, wrong.astype(int), feature_names=["x0", "x1", "x2"])
    >>> result = explain.error_analysis(explain.Model(net, modality="tabular"), data)
    >>> result.cohorts[0].rule, result.cohorts[0].significant
    ('x0 > 0.7036', True)
    >>> result.verdict()
    'errors concentrate in x0 > 0.7036: 80% wrong on 938 rows, 0.5% elsewhere (1,474 nodes tested, FDR 5%)'
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import combinations
from typing import Any

import numpy as np

from explain.core.budget import check_batch_size
from explain.core.dataset import Dataset
from explain.core.model import check_model
from explain.core.validate import Instance, Int, Number, check
from explain.diagnostics.cohort_columns import Column, gather_columns
from explain.diagnostics.cohort_stats import bh_cutoff, mean_interval, rest_p_values, wilson
from explain.diagnostics.error_tree import HELD_OUT, Tree, grow
from explain.diagnostics.mistakes import predict_errors
from explain.errors import InputError
from explain.results.cohorts import Cohort, ErrorAnalysis, number_text

__all__ = ["error_analysis", "HEAT_COLUMNS"]

HEAT_COLUMNS = 8
"""Columns whose every pair keeps a two-feature heat map: those the tree splits on, then
those that offered the root the best splits."""

_CHUNK = 1 << 18


def error_analysis(
    model: Any,
    data: Any,
    *,
    features: Sequence[str] | None = None,
    max_depth: int = 3,
    min_size: int | None = None,
    alpha: float = 0.05,
    batch_size: int | None = None,
    seed: int = 0,
    progress: Callable[[float], None] | None = None,
    backend: Any = None,
) -> ErrorAnalysis:
    """Find the cohorts where ``model`` errs most on the labelled ``data``.

    Columns searched: a table's features and ``data.metadata``'s columns (numbers cut at
    quantile bins; anything else as categories); for text and images the derived
    features of :data:`explain.diagnostics.mistakes.DERIVED` (true and predicted class,
    confidence, text length) and the metadata. Any of these can be named in ``features``.

    Args:
        model: an :class:`explain.Model`.
        data: a labelled :class:`explain.Dataset` (``load_dataset(..., target=...)``).
        features: the columns to search (default: see above).
        max_depth: the most conditions a rule has.
        min_size: the fewest rows a cohort has (default ``max(30, 1% of the rows)``).
        alpha: the false discovery rate to control, and the level at which a split is kept.
        batch_size: rows per forward pass (None: from the memory budget).
        seed: seeds the sample that places the bins.
        progress: called with the fraction done.
        backend: ``None`` or ``"local"`` (this process), ``"ray"`` (the forward passes on Ray).

    Returns:
        An :class:`explain.ErrorAnalysis`.

    Raises:
        InputTypeError: ``model`` is not an explain.Model or ``data`` not a Dataset.
        InputError: an option out of range, or an unknown feature name.
        DataError: the data has no labels, or they do not fit the model.
    """
    model = check_model(model)
    opts = check(data=(data, Instance(Dataset, "Wrap arrays as explain.Dataset(x, y), or load a file with "
                                                "explain.load_dataset(path, target=...).")),
                 features=(features, Instance((list, tuple), "Pass a list of column names, or None.", optional=True)),
                 max_depth=(max_depth, Int(low=1, high=8, suggest=3)),
                 min_size=(min_size, Int(low=1, optional=True, suggest=30,
                                         hint="None takes max(30, 1% of the rows).")),
                 alpha=(alpha, Number(low=0, high=1, open=True, suggest=0.05)),
                 seed=(seed, Int()))
    batch_size = check_batch_size(batch_size)
    if not (backend in (None, "local", "ray") or hasattr(backend, "map")):
        raise InputError(f"backend must be None, 'local' or 'ray'; got {backend!r}. Pass backend='ray' to "
                         "run the forward passes on Ray.")
    n = len(data)
    size = opts["min_size"] or max(30, int(np.ceil(0.01 * n)))
    step = (lambda f: progress(0.8 * f)) if progress is not None else None
    found = predict_errors(model, data, batch_size=batch_size, progress=step, backend=backend)
    columns = gather_columns(data, found, opts["features"], seed=opts["seed"])
    step = (lambda f: progress(0.8 + 0.15 * f)) if progress is not None else None
    tree = grow(columns, found.errors, _halves(n, opts["seed"]), binary=found.binary, min_size=size,
                max_depth=opts["max_depth"], alpha=opts["alpha"], progress=step)
    family = np.concatenate(tree.candidates) if tree.candidates else np.zeros(0)
    cutoff = bh_cutoff(family, opts["alpha"])
    result = _result(data, found, columns, tree, cutoff, family.size, opts["alpha"],
                     {"max_depth": opts["max_depth"], "min_size": size, "seed": opts["seed"],
                      "batch_size": found.batch_size, "backend": getattr(backend, "name", backend),
                      "mapping": found.mapping})
    if progress is not None:
        progress(1.0)
    return result


def _result(data: Dataset, found: Any, columns: list[Column], tree: Tree, cutoff: float | None, tested: int,
            alpha: float, params: dict[str, Any]) -> ErrorAnalysis:
    n, stats = len(found.errors), np.stack(tree.stats)  # (nodes, halves, [rows, errors, squares])
    metric = "error rate" if found.binary else "mean absolute error"
    held = stats[:, HELD_OUT]
    p_nodes = rest_p_values(held[:, 1], held[:, 0], held[:, 2], *held[0, [1, 0, 2]], binary=found.binary)
    p_nodes[0] = 1.0
    sizes, errors, squares = stats.sum(axis=1).T
    total = float(errors[0])
    if found.binary:
        low, high = wilson(errors, sizes)
    else:
        low, high = mean_interval(errors, squares, sizes)
    rest_n = np.maximum(n - sizes, 1e-300)
    rest = np.where(n - sizes > 0, (total - errors) / rest_n, 0.0)
    rates = errors / np.maximum(sizes, 1e-300)
    passes = np.array([cutoff is not None and p <= cutoff for p in p_nodes]) & (rates > rest)
    owner = _owners(tree, passes)
    of_row = owner[tree.leaf_of_rows()]
    cohorts = []
    for v in sorted(set(owner[tree.leaves()].tolist()) - {0}):
        if rates[v] <= rest[v]:
            continue
        rows = np.flatnonzero(of_row == v)
        text, triples = _rule(tree, v, columns)
        cohorts.append(Cohort(text, triples, rows, data.rows[rows], int(sizes[v]), float(errors[v]),
                              float(rates[v]), (float(low[v]), float(high[v])),
                              float(errors[v] / total) if total > 0 else 0.0, float(rest[v]),
                              float(errors[v] - sizes[v] * rest[v]), float(p_nodes[v]), bool(passes[v]), v, metric))
    cohorts.sort(key=lambda c: (not c.significant, -c.excess))
    heat = _heat_columns(tree, columns)
    hist, pair_hist = _heat(columns, found.errors, heat)
    return ErrorAnalysis(
        cohorts=tuple(cohorts), metric=metric, n=n, errors=total, error_rate=total / max(n, 1), alpha=alpha,
        tested=int(tested), cutoff=cutoff, columns=tuple(c.name for c in columns),
        kinds=tuple(c.kind for c in columns), bin_labels=tuple(c.labels for c in columns),
        edges=tuple(c.edges for c in columns), hist_size=tuple(h[0] for h in hist),
        hist_errors=tuple(h[1] for h in hist), pairs=tuple((columns[a].name, columns[b].name) for a, b in pair_hist),
        pair_size=tuple(h[0] for h in pair_hist.values()), pair_errors=tuple(h[1] for h in pair_hist.values()),
        node_parent=np.asarray(tree.parent), node_size=sizes, node_errors=errors, node_p_value=p_nodes,
        node_condition=tuple("all rows" if c is None else _text([_named(c, columns)]) for c in tree.condition),
        node_in_tree=np.asarray(tree.in_tree()), params=params)


def _halves(n: int, seed: int) -> np.ndarray:
    """A seeded half of the rows, held out to test what the other half found."""
    rng = np.random.default_rng(seed)
    held = np.empty(n, dtype=bool)
    for start in range(0, n, _CHUNK):
        held[start:start + _CHUNK] = rng.random(min(_CHUNK, n - start)) < 0.5
    return held


def _owners(tree: Tree, passes: np.ndarray) -> np.ndarray:
    """The node each pruned-tree leaf is listed under: itself, or the highest node whose
    leaves all err more than the rest beyond chance (a kept split whose sides both stand
    out refines a cohort; it does not make two)."""
    inside, count = tree.in_tree(), len(tree.parent)
    every = np.zeros(count, dtype=bool)
    for v in range(count - 1, -1, -1):
        kids = tree.children[v]
        every[v] = bool(passes[v]) if not (inside[v] and tree.kept[v]) else every[kids[0]] and every[kids[1]]
    owner, covered = np.arange(count), np.zeros(count, dtype=bool)
    for v in range(1, count):
        if inside[v] and covered[tree.parent[v]]:  # under a listed node
            owner[v], covered[v] = owner[tree.parent[v]], True
        elif inside[v] and every[v]:
            covered[v] = True
    return owner


def _named(condition: tuple[int, str, Any], columns: list[Column]) -> tuple[str, str, Any]:
    f, op, value = condition
    return (columns[f].name, op, value)


def _rule(tree: Tree, v: int, columns: list[Column]) -> tuple[str, list[tuple[str, str, Any]]]:
    """The rule of node ``v`` (its conditions from the root down), with the bounds on one
    number merged into a range and a category's earlier conditions dropped where the last
    one (an ``in``) implies them."""
    path = []
    while v > 0:
        path.append(tree.condition[v])
        v = tree.parent[v]
    path.reverse()
    out: list[tuple[str, str, Any]] = []
    for k, (f, op, value) in enumerate(path):
        later = [c for c in path[k + 1:] if c[0] == f]
        if op in ("<=", ">") and any(c[1] == op for c in later):
            continue  # a tighter bound of the same kind follows
        if op in ("in", "not in") and any(c[1] == "in" for c in later):
            continue
        out.append(_named((f, op, value), columns))
    return _text(out), out


def _text(conditions: list[tuple[str, str, Any]]) -> str:
    """``"0.3 < x0 ≤ 0.7 and region in {north, east}"``."""
    parts: list[str] = []
    bounds = {name: value for name, op, value in conditions if op == ">"}
    for name, op, value in conditions:
        if op == "<=":
            low = f"{number_text(bounds[name])} < " if name in bounds else ""
            parts.append(f"{low}{name} ≤ {number_text(value)}")
        elif op == ">":
            if not any(c[0] == name and c[1] == "<=" for c in conditions):
                parts.append(f"{name} > {number_text(value)}")
        elif op == "> or missing":
            parts.append(f"{name} > {number_text(value)} or missing")
        elif op in ("in", "not in"):
            parts.append(f"{name} {op} {{{', '.join(value)}}}")
        else:
            parts.append(f"{name} {op}")
    return " and ".join(parts)


def _heat_columns(tree: Tree, columns: list[Column]) -> list[int]:
    """Up to :data:`HEAT_COLUMNS` columns: those the pruned tree splits on, then by the
    gain they offered the root."""
    inside = tree.in_tree()
    used = [tree.condition[v][0] for v in range(1, len(tree.parent)) if inside[v]]
    ranked = list(np.argsort(-tree.root_gain, kind="stable")) if len(columns) else []
    return list(dict.fromkeys(int(f) for f in used + ranked))[:HEAT_COLUMNS]


def _heat(columns: list[Column], errors: np.ndarray, heat: list[int]) -> tuple[list[Any], dict[Any, Any]]:
    """Rows and errors per bin of every column, and per pair of bins of every pair of
    ``heat`` columns, in one pass."""
    hist = [(np.zeros(c.n_bins), np.zeros(c.n_bins)) for c in columns]
    pairs = {(a, b): (np.zeros(columns[a].n_bins * columns[b].n_bins),
                      np.zeros(columns[a].n_bins * columns[b].n_bins)) for a, b in combinations(heat, 2)}
    for start in range(0, len(errors), _CHUNK):
        err = errors[start:start + _CHUNK]
        for c, (count, sums) in zip(columns, hist):
            codes = c.codes[start:start + _CHUNK]
            count += np.bincount(codes, minlength=c.n_bins)
            sums += np.bincount(codes, weights=err, minlength=c.n_bins)
        for (a, b), (count, sums) in pairs.items():
            key = columns[a].codes[start:start + _CHUNK].astype(np.int32) * columns[b].n_bins \
                + columns[b].codes[start:start + _CHUNK]
            count += np.bincount(key, minlength=count.size)
            sums += np.bincount(key, weights=err, minlength=count.size)
    shaped = {k: (c.reshape(columns[k[0]].n_bins, -1), s.reshape(columns[k[0]].n_bins, -1))
              for k, (c, s) in pairs.items()}
    return hist, shaped
