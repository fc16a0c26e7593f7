"""A shallow tree on the per-row error, grown level by level from histograms, then pruned.

Honest: a seeded half of the rows (the *search* half) chooses the splits; the other half
(the *held-out* half) tests them, so that a cohort chosen because it errs more by chance
does not also pass the test by that same chance.

Growing: every level takes one pass over the rows (in chunks) that adds up, for each node
still growing, each column, each bin and each half, the rows, the errors and
(regression) the squared errors. Each node's best split is the cut that most reduces the
search half's sum of squared errors (for 0/1 errors that is the Gini impurity), with at
least ``min_size`` rows (both halves) on each side: numbers are cut between bins in order,
categories after sorting them by the search half's error rate. A second pass sends the
rows to the children. Memory: the codes (a byte per row and column), the errors, the half
(a byte) and one ``int32`` node per row; histograms are nodes x bins.

Every cut looked at is a *candidate*: both its sides are cohorts tested on the held-out
half against the held-out rows outside them
(:func:`~explain.diagnostics.cohort_stats.rest_p_values`); all of them together are the
family whose false discovery rate is controlled.

Pruning, from the bottom: a split stays when its two sides differ beyond chance on the
held-out half (two-sided; the false discovery rate at ``alpha`` over every split grown), or
when a split below it stays. The leaves of
what is left do not overlap and cover every row.

Example:
    >>> import numpy as np
    >>> from explain.diagnostics.cohort_columns import number_column
    >>> x = np.linspace(0, 1, 1000)
    >>> errors = (x > 0.75).astype(float)
    >>> tree = grow([number_column("x", x)], errors, np.arange(1000) % 2 == 1, binary=True,
    ...             min_size=30, max_depth=2, alpha=0.05)
    >>> tree.children[0], tree.condition[2][1], round(tree.condition[2][2], 2)
    ((1, 2), '>', 0.75)
    >>> tree.leaves(), tree.stats[2][:, 0].tolist()  # rows of node 2 in each half
    ([1, 2], [125.0, 125.0])
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from explain.diagnostics.cohort_columns import Column
from explain.diagnostics.cohort_stats import bh_cutoff, rest_p_values, split_p_values

__all__ = ["Tree", "grow", "SEARCH", "HELD_OUT"]

SEARCH, HELD_OUT = 0, 1
_CHUNK = 1 << 18


@dataclass
class Tree:
    """The grown tree; nodes are numbered in the order they were made (the root is 0).

    Attributes:
        parent: each node's parent (-1 for the root).
        condition: the condition that leads from the parent, ``(column, op, value)`` with
            op ``"<="``, ``">"``, ``"> or missing"``, ``"is missing"``, ``"is not missing"``,
            ``"in"`` or ``"not in"`` (value: a threshold, None, or a tuple of categories).
        stats: per node a (2, 3) array: for the search and the held-out half, its rows,
            sum of errors and sum of squared errors.
        children: (left, right) of a split node, else None.
        split_p: a split node's two-sided held-out p-value of its two sides.
        kept: whether a split node's split survived pruning.
        node_of: the deepest node of each row.
        candidates: held-out one-sided p-values of every candidate cohort (the FDR family).
        root_gain: the best gain each column offered the root (0 where none).
    """

    parent: list[int] = field(default_factory=lambda: [-1])
    condition: list[Any] = field(default_factory=lambda: [None])
    stats: list[np.ndarray] = field(default_factory=list)
    children: list[tuple[int, int] | None] = field(default_factory=lambda: [None])
    split_p: list[float] = field(default_factory=lambda: [1.0])
    kept: list[bool] = field(default_factory=lambda: [False])
    node_of: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    candidates: list[np.ndarray] = field(default_factory=list)
    root_gain: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def in_tree(self) -> list[bool]:
        """Whether each node is in the pruned tree (every split above it was kept)."""
        inside = [True] * len(self.parent)
        for v in range(1, len(self.parent)):
            inside[v] = inside[self.parent[v]] and self.kept[self.parent[v]]
        return inside

    def leaves(self) -> list[int]:
        """The leaves of the pruned tree."""
        return [v for v, inside in enumerate(self.in_tree()) if inside and not self.kept[v]]

    def leaf_of_rows(self) -> np.ndarray:
        """The pruned tree's leaf of every row (``int32``)."""
        inside = self.in_tree()
        rep = np.arange(len(self.parent), dtype=np.int32)
        for v in range(1, len(self.parent)):
            if not inside[v]:
                rep[v] = rep[self.parent[v]]
        return rep[self.node_of]


def grow(columns: list[Column], errors: np.ndarray, held_out: np.ndarray, *, binary: bool, min_size: int,
         max_depth: int, alpha: float, progress: Callable[[float], None] | None = None) -> Tree:
    """Grow the tree on ``errors`` over ``columns`` and prune it (see the module doc);
    ``held_out`` marks the rows of the held-out half."""
    half = np.asarray(held_out, dtype=np.uint8)
    root = np.zeros((2, 3))
    for h in (SEARCH, HELD_OUT):
        err = errors[half == h]
        root[h] = (err.size, err.sum(), err.sum() if binary else np.dot(err, err))
    tree = Tree(stats=[root], node_of=np.zeros(len(errors), dtype=np.int32), root_gain=np.zeros(len(columns)))
    frontier = [0]
    for level in range(max_depth):
        growing = [v for v in frontier if _can_split(tree.stats[v], min_size)]
        if not growing or not columns:
            break
        slot = np.full(len(tree.parent), -1, dtype=np.int32)
        slot[growing] = np.arange(len(growing))
        hist = _histograms(columns, errors, half, tree.node_of, slot, len(growing), binary)
        splits = {}
        for a, v in enumerate(growing):
            best = _best_split(tree, v, [h[a] for h in hist], columns, min_size, root[HELD_OUT], binary, level == 0)
            if best is not None:
                splits[v] = best
        frontier = [child for v in growing if v in splits for child in _add_children(tree, v, splits[v], columns)]
        _route(columns, tree, splits)
        if progress is not None:
            progress((level + 1) / max_depth)
    _prune(tree, alpha)
    return tree


def _can_split(stats: np.ndarray, min_size: int) -> bool:
    n, e, q = stats[SEARCH]
    return stats[:, 0].sum() >= 2 * min_size and n > 0 and q - e * e / n > 1e-12 * max(q, 1.0)


def _histograms(columns: list[Column], errors: np.ndarray, half: np.ndarray, node_of: np.ndarray,
                slot: np.ndarray, growing: int, binary: bool) -> list[np.ndarray]:
    """Per column a (growing nodes, bins, 2 halves, 3) array of rows, errors and squared
    errors, in one pass over the rows."""
    sums = [np.zeros((3, growing * c.n_bins * 2)) for c in columns]
    for start in range(0, len(errors), _CHUNK):
        stop = min(len(errors), start + _CHUNK)
        node = slot[node_of[start:stop]]
        pick = None if node.min(initial=0) >= 0 else np.flatnonzero(node >= 0)
        err, side = errors[start:stop], half[start:stop]
        if pick is not None:
            node, err, side = node[pick], err[pick], side[pick]
        if node.size == 0:
            continue
        for c, acc in zip(columns, sums):
            codes = c.codes[start:stop] if pick is None else c.codes[start:stop][pick]
            key = (node.astype(np.int64) * c.n_bins + codes) * 2 + side
            acc[0] += np.bincount(key, minlength=acc.shape[1])
            acc[1] += np.bincount(key, weights=err, minlength=acc.shape[1])
            if not binary:
                acc[2] += np.bincount(key, weights=err * err, minlength=acc.shape[1])
    if binary:
        for acc in sums:
            acc[2] = acc[1]
    return [acc.reshape(3, growing, c.n_bins, 2).transpose(1, 2, 3, 0) for c, acc in zip(columns, sums)]


def _best_split(tree: Tree, v: int, hist: list[np.ndarray], columns: list[Column], min_size: int,
                held_total: np.ndarray, binary: bool, root: bool) -> tuple[Any, ...] | None:
    """The best cut of node ``v`` on the search half: (column, left bins, right bins, left
    stats, right stats, bin rows, held-out p-value of the two sides); records every
    candidate's held-out p-values on the tree."""
    node = tree.stats[v]
    n, e, _ = node[SEARCH]
    best, best_gain = None, 0.0
    for f, h in enumerate(hist):  # h: (bins, 2, 3)
        rows = h[:, :, 0].sum(axis=1)
        if columns[f].kind == "category":
            rate = np.where(h[:, SEARCH, 0] > 0, h[:, SEARCH, 1] / np.maximum(h[:, SEARCH, 0], 1), np.inf)
            order = np.argsort(rate, kind="stable")
        else:
            order = np.arange(len(rows))
        left = np.cumsum(h[order], axis=0)[:-1]  # (cuts, 2, 3)
        c_all = left[:, :, 0].sum(axis=1)
        c, s = left[:, SEARCH, 0], left[:, SEARCH, 1]
        valid = np.flatnonzero((c_all >= min_size) & (node[:, 0].sum() - c_all >= min_size) & (c > 0) & (n - c > 0)
                               & (rows[order][:-1] > 0))
        if valid.size == 0:
            continue
        held = left[valid, HELD_OUT]
        sides = np.concatenate([held, node[HELD_OUT] - held])
        tree.candidates.append(rest_p_values(sides[:, 1], sides[:, 0], sides[:, 2], held_total[1],
                                             held_total[0], held_total[2], binary=binary))
        c, s = c[valid], s[valid]
        gain = s * s / c + (e - s) ** 2 / (n - c) - e * e / n
        k = int(np.argmax(gain))
        if root:
            tree.root_gain[f] = float(gain[k])
        if gain[k] > best_gain + 1e-12 * max(e * e / n, 1e-300):
            cut = valid[k]
            best_gain = float(gain[k])
            best = (f, order[: cut + 1], order[cut + 1:], left[cut], node - left[cut], rows)
    if best is None:
        return None
    (hn, he, hq), whole = best[3][HELD_OUT], node[HELD_OUT]
    p = float(split_p_values(np.array([he]), np.array([hn]), np.array([hq]), whole[1], whole[0], whole[2],
                             binary=binary)[0])
    return (*best, p)


def _add_children(tree: Tree, v: int, split: tuple[Any, ...], columns: list[Column]) -> tuple[int, int]:
    f, left, right, stats_l, stats_r, rows, p = split
    ids = (len(tree.parent), len(tree.parent) + 1)
    for stats, side in ((stats_l, 0), (stats_r, 1)):
        tree.parent.append(v)
        tree.condition.append(_condition(f, left, right, rows, side, columns[f]))
        tree.stats.append(np.array(stats, dtype=np.float64))
        tree.children.append(None)
        tree.split_p.append(1.0)
        tree.kept.append(False)
    tree.children[v] = ids
    tree.split_p[v] = p
    return ids


def _condition(f: int, left: np.ndarray, right: np.ndarray, count: np.ndarray, side: int,
               column: Column) -> tuple[int, str, Any]:
    """The condition of one side of a split, exact on the rows of the node."""
    if column.kind == "category":
        mine = [column.labels[b] for b in (left if side == 0 else right) if count[b] > 0]
        other = [column.labels[b] for b in (right if side == 0 else left) if count[b] > 0]
        if len(mine) > 1 and len(other) < len(mine):
            return (f, "not in", tuple(other))
        return (f, "in", tuple(mine))
    last = int(left[-1])
    if column.missing and last == len(column.edges):  # real values | missing
        return (f, "is not missing" if side == 0 else "is missing", None)
    threshold = float(column.edges[last])
    if side == 0:
        return (f, "<=", threshold)
    has_missing = column.missing and count[-1] > 0
    return (f, "> or missing" if has_missing else ">", threshold)


def _route(columns: list[Column], tree: Tree, splits: dict[int, tuple[Any, ...]]) -> None:
    """Send each row of a split node to its child, in one pass."""
    if not splits:
        return
    split_of = np.full(len(tree.parent), -1, dtype=np.int32)
    plans = []
    for j, (v, split) in enumerate(splits.items()):
        split_of[v] = j
        right = np.zeros(columns[split[0]].n_bins, dtype=bool)
        right[split[2]] = True
        plans.append((columns[split[0]].codes, right, *tree.children[v]))
    for start in range(0, len(tree.node_of), _CHUNK):
        nodes = tree.node_of[start:start + _CHUNK]
        which = split_of[nodes]
        for j, (codes, right, left_id, right_id) in enumerate(plans):
            rows = np.flatnonzero(which == j) if len(plans) > 1 else np.flatnonzero(which >= 0)
            if rows.size:
                goes = right[codes[start:start + _CHUNK][rows]]
                nodes[rows] = np.where(goes, right_id, left_id)


def _prune(tree: Tree, alpha: float) -> None:
    """Keep a split when its sides differ beyond chance on the held-out half (the false
    discovery rate controlled over every split grown) or a split below it is kept."""
    split = [v for v, kids in enumerate(tree.children) if kids is not None]
    cutoff = bh_cutoff(np.array([tree.split_p[v] for v in split]), alpha)
    for v in reversed(split):
        left, right = tree.children[v]  # type: ignore[misc]
        tree.kept[v] = (cutoff is not None and tree.split_p[v] <= cutoff) or tree.kept[left] or tree.kept[right]
