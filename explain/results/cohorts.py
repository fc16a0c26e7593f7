"""Error analysis results: the cohorts where a model errs most, heat maps of its error
rate over one or two features, and what drives the model inside a cohort.

Example:
    >>> import numpy as np
    >>> c = Cohort(rule="x0 > 0.7", conditions=(("x0", ">", 0.7),), rows=np.arange(4),
    ...            row_ids=np.arange(4), size=4, errors=3.0, error_rate=0.75, interval=(0.3, 0.95),
    ...            error_coverage=0.6, rest_error_rate=0.1, excess=2.6, p_value=0.001,
    ...            significant=True, node=2, metric="error rate")
    >>> c.summary()
    'x0 > 0.7: 75% wrong on 4 rows, 10% elsewhere'
    >>> number_text(54.81), number_text(1200.4), number_text(0.70312)
    ('54.81', '1,200', '0.7031')
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from explain.errors import InputError
from explain.results._base import Exported, frozen

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    import plotly.graph_objects as go

__all__ = ["Cohort", "ErrorAnalysis", "ErrorHeatmap", "CohortDrivers", "number_text", "rate_text"]


def number_text(value: float) -> str:
    """A threshold as people write it: ``54.8``, ``0.7031``, ``1,200``."""
    value = float(value)
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"


def rate_text(value: float, metric: str) -> str:
    """``"75% wrong"`` for an error rate, ``"mean absolute error 3.2"`` otherwise."""
    if metric != "error rate":
        return f"mean absolute error {value:.3g}"
    return f"{value:.1%} wrong" if 0 < value < 0.1 else f"{value:.0%} wrong"


@dataclass(frozen=True)
class Cohort(Exported):
    """One cohort: rows that a readable rule picks out, and how often the model errs there.

    Attributes:
        rule: the rule, e.g. ``"age > 60 and income ≤ 54.8"``.
        conditions: the rule as ``(column, op, value)`` triples, exact on the data (op
            ``"<="``, ``">"``, ``"> or missing"``, ``"is missing"``, ``"is not missing"``,
            ``"in"``, ``"not in"``).
        rows: positions of its rows in the analysed data (``data[rows]``).
        row_ids: the same rows' ids (``data.rows[rows]``).
        size: its rows.
        errors: wrong predictions (regression: the sum of absolute residuals).
        error_rate: ``errors / size``: the share wrong (regression: mean absolute error).
        interval: 95% interval of ``error_rate`` (Wilson; regression: normal).
        error_coverage: its share of all errors.
        rest_error_rate: the error rate of every row outside it.
        excess: errors beyond what the rest's rate would give, ``errors - size x rest``.
        p_value: one-sided test, on the held-out half of the rows, that it errs more than
            the rest.
        significant: whether it passes the false discovery rate control.
        node: its node in the tree (:meth:`ErrorAnalysis.nodes`).
        metric: ``"error rate"`` or ``"mean absolute error"``.
    """

    rule: str
    conditions: tuple[tuple[str, str, Any], ...]
    rows: np.ndarray
    row_ids: np.ndarray
    size: int
    errors: float
    error_rate: float
    interval: tuple[float, float]
    error_coverage: float
    rest_error_rate: float
    excess: float
    p_value: float
    significant: bool
    node: int
    metric: str = "error rate"

    def __post_init__(self) -> None:
        object.__setattr__(self, "rows", frozen(np.asarray(self.rows, dtype=np.int64)))
        object.__setattr__(self, "row_ids", frozen(np.asarray(self.row_ids, dtype=np.int64)))
        object.__setattr__(self, "conditions", tuple(
            (str(c), str(op), tuple(str(v) for v in value) if isinstance(value, (tuple, list)) else value)
            for c, op, value in self.conditions))
        object.__setattr__(self, "interval", (float(self.interval[0]), float(self.interval[1])))

    def summary(self) -> str:
        """One line: the rule, its rate, its size and the rest's rate."""
        return (f"{self.rule}: {rate_text(self.error_rate, self.metric)} on {self.size:,} rows, "
                f"{rate_text(self.rest_error_rate, self.metric).removesuffix(' wrong')} elsewhere")


@dataclass(frozen=True)
class ErrorHeatmap(Exported):
    """Error rate binned over one feature (``size``, ``errors`` of shape ``(a,)``) or two
    (``(a, b)``); bins are labelled by their ranges or categories."""

    feature_a: str
    labels_a: tuple[str, ...]
    size: np.ndarray
    errors: np.ndarray
    overall: float
    metric: str = "error rate"
    feature_b: str | None = None
    labels_b: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "size", frozen(np.asarray(self.size, dtype=np.float64)))
        object.__setattr__(self, "errors", frozen(np.asarray(self.errors, dtype=np.float64)))
        object.__setattr__(self, "labels_a", tuple(str(v) for v in self.labels_a))
        if self.labels_b is not None:
            object.__setattr__(self, "labels_b", tuple(str(v) for v in self.labels_b))

    @property
    def rate(self) -> np.ndarray:
        """Error rate per bin (NaN where a bin holds no rows)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.size > 0, self.errors / np.maximum(self.size, 1e-300), np.nan)


@dataclass(frozen=True)
class ErrorAnalysis(Exported):
    """Where a model errs: cohorts found by a shallow tree on its errors.

    Attributes:
        cohorts: the leaves of the pruned tree that err more than the rest, most harmful
            first (cohorts that pass the FDR control, then by ``excess``); they never
            overlap.
        metric: ``"error rate"`` (classification) or ``"mean absolute error"``.
        n: rows analysed. errors: their errors. error_rate: the overall rate.
        alpha: the false discovery rate controlled (Benjamini-Hochberg).
        tested: candidate cohorts tested (on the held-out half): both sides of every cut
            the tree looked at.
        cutoff: the largest p-value that passes, or None when none does.
        columns, kinds: the columns searched, ``"number"`` or ``"category"``.
        bin_labels, edges: per column: what each bin holds; numbers' bin edges.
        hist_size, hist_errors: per column: rows and errors per bin (all rows).
        pairs, pair_size, pair_errors: the same over two columns, for the pairs kept.
        node_parent, node_condition, node_size, node_errors, node_p_value, node_in_tree:
            every node the tree grew (root first): its parent, the condition leading to
            it, rows, errors, p-value against the rest, and whether pruning kept it.
        params: options and how labels were matched.
    """

    cohorts: tuple[Cohort, ...]
    metric: str
    n: int
    errors: float
    error_rate: float
    alpha: float
    tested: int
    cutoff: float | None
    columns: tuple[str, ...]
    kinds: tuple[str, ...]
    bin_labels: tuple[tuple[str, ...], ...]
    edges: tuple[np.ndarray, ...]
    hist_size: tuple[np.ndarray, ...]
    hist_errors: tuple[np.ndarray, ...]
    pairs: tuple[tuple[str, str], ...]
    pair_size: tuple[np.ndarray, ...]
    pair_errors: tuple[np.ndarray, ...]
    node_parent: np.ndarray
    node_condition: tuple[str, ...]
    node_size: np.ndarray
    node_errors: np.ndarray
    node_p_value: np.ndarray
    node_in_tree: np.ndarray
    params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("edges", "hist_size", "hist_errors", "pair_size", "pair_errors"):
            object.__setattr__(self, name, tuple(frozen(np.asarray(a)) for a in getattr(self, name)))
        for name in ("node_parent", "node_size", "node_errors", "node_p_value", "node_in_tree"):
            object.__setattr__(self, name, frozen(np.asarray(getattr(self, name))))
        object.__setattr__(self, "cohorts", tuple(self.cohorts))
        object.__setattr__(self, "bin_labels", tuple(tuple(str(v) for v in b) for b in self.bin_labels))
        object.__setattr__(self, "pairs", tuple((str(a), str(b)) for a, b in self.pairs))
        object.__setattr__(self, "params", dict(self.params))

    @property
    def significant(self) -> tuple[Cohort, ...]:
        """The cohorts that err more than the rest beyond chance."""
        return tuple(c for c in self.cohorts if c.significant)

    def verdict(self) -> str:
        """One sentence: where errors concentrate, or that no cohort stands out."""
        tail = f"{self.tested:,} nodes tested, FDR {self.alpha:.0%}"
        found = self.significant
        if not found:
            return f"no cohort errs more than the rest beyond chance ({tail})"
        more = f"; {len(found) - 1} more cohort(s) beyond chance" if len(found) > 1 else ""
        return f"errors concentrate in {found[0].summary()}{more} ({tail})"

    def table(self) -> pd.DataFrame:
        """The cohorts, one row each, most harmful first."""
        import pandas as pd

        return pd.DataFrame([{"rule": c.rule, "size": c.size, "error_rate": c.error_rate,
                              "low": c.interval[0], "high": c.interval[1], "error_coverage": c.error_coverage,
                              "rest_error_rate": c.rest_error_rate, "excess": c.excess, "p_value": c.p_value,
                              "significant": c.significant} for c in self.cohorts],
                            columns=["rule", "size", "error_rate", "low", "high", "error_coverage",
                                     "rest_error_rate", "excess", "p_value", "significant"])

    def nodes(self) -> pd.DataFrame:
        """Every node the tree grew, root first, with its rate and whether pruning kept it."""
        import pandas as pd

        size = np.asarray(self.node_size, dtype=float)
        return pd.DataFrame({"parent": self.node_parent, "condition": self.node_condition, "size": size,
                             "error_rate": np.asarray(self.node_errors) / np.maximum(size, 1e-300),
                             "p_value": self.node_p_value, "in_tree": self.node_in_tree})

    def heatmap(self, feature_a: str, feature_b: str | None = None, *, bins: int | None = None) -> ErrorHeatmap:
        """Error rate binned over one column or a kept pair of columns.

        Args:
            feature_a: a column in :attr:`columns`.
            feature_b: a second column (a pair in :attr:`pairs`), or None.
            bins: merge a number column's bins into at most this many of similar size
                (default: all bins for one column, 10 for two).

        Raises:
            InputError: an unknown column, or a pair that was not kept.
        """
        a = self._column(feature_a, "feature_a")
        if feature_b is None:
            groups, labels = self._groups(a, bins)
            return ErrorHeatmap(feature_a, labels, _merge(self.hist_size[a], groups),
                                _merge(self.hist_errors[a], groups), self.error_rate, self.metric)
        b = self._column(feature_b, "feature_b")
        key = (self.columns[a], self.columns[b])
        if key in self.pairs:
            k, flip = self.pairs.index(key), False
        elif key[::-1] in self.pairs:
            k, flip = self.pairs.index(key[::-1]), True
        else:
            raise InputError(f"The pair ({feature_a!r}, {feature_b!r}) was not kept; kept pairs: "
                             f"{list(self.pairs)[:10]}. Rerun explain.error_analysis with "
                             f"features=[{feature_a!r}, {feature_b!r}, ...] (at most 8) to keep every pair.")
        size, errors = self.pair_size[k], self.pair_errors[k]
        if flip:
            size, errors = size.T, errors.T
        (ga, la), (gb, lb) = self._groups(a, bins or 10), self._groups(b, bins or 10)
        return ErrorHeatmap(feature_a, la, _merge(_merge(size, ga).T, gb).T, _merge(_merge(errors, ga).T, gb).T,
                            self.error_rate, self.metric, feature_b, lb)

    def plot(self, **options: Any) -> go.Figure:
        """Bars of the cohorts' error rates with their intervals (see
        :func:`explain.plots.cohort_bars`)."""
        from explain.plots.cohorts import cohort_bars

        return cohort_bars(self, **options)

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out["cohorts"] = [c.to_dict() for c in self.cohorts]
        return out

    def _column(self, name: str, argument: str) -> int:
        if name not in self.columns:
            raise InputError(f"{argument}={name!r} is not a column of this analysis; pass one of "
                             f"{list(self.columns)[:20]}.")
        return self.columns.index(name)

    def _groups(self, j: int, bins: int | None) -> tuple[np.ndarray, tuple[str, ...]]:
        """Bin -> group, and each group's label: a number column's bins merged into at most
        ``bins`` groups of similar size (its missing bin stays apart)."""
        labels, edges = self.bin_labels[j], np.asarray(self.edges[j])
        count = len(edges) + 1
        if self.kinds[j] != "number" or bins is None or bins >= count:
            return np.arange(len(labels)), labels
        size = np.asarray(self.hist_size[j][:count], dtype=float)
        middle = (np.cumsum(size) - size / 2) / max(size.sum(), 1e-300)
        groups = np.unique(np.minimum((middle * bins).astype(int), bins - 1), return_inverse=True)[1]
        out = []
        for g in range(groups.max() + 1):
            members = np.flatnonzero(groups == g)
            low = None if members[0] == 0 else number_text(edges[members[0] - 1])
            high = None if members[-1] == count - 1 else number_text(edges[members[-1]])
            out.append(f"({low}, {high}]" if low and high else f"≤ {high}" if high else f"> {low}" if low else "all")
        extra = len(labels) - count  # the missing bin
        return np.concatenate([groups, groups.max() + 1 + np.arange(extra)]), tuple(out) + labels[count:]


def _merge(values: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Sum ``values`` (first axis) over bins of the same group."""
    values = np.asarray(values, dtype=np.float64)
    out = np.zeros((int(groups.max()) + 1,) + values.shape[1:])
    np.add.at(out, groups, values)
    return out


@dataclass(frozen=True)
class CohortDrivers(Exported):
    """What drives the model inside a cohort compared with elsewhere: mean |attribution|
    of every feature on the cohort's rows and on the other rows.

    Attributes:
        feature_names: one per feature (text: the tokens seen on both sides).
        cohort, elsewhere: mean |attribution| on the cohort's rows, on the other rows.
        overall: their average weighted by the rows each side stands for.
        ratio: ``cohort / elsewhere`` (inf where elsewhere is 0, NaN where both are).
        rule: the cohort's rule. method: the attribution method.
        size, n: the cohort's rows and all rows. n_cohort, n_elsewhere: rows attributed.
        sentence: what stands out, in one sentence.
    """

    feature_names: tuple[str, ...]
    cohort: np.ndarray
    elsewhere: np.ndarray
    overall: np.ndarray
    ratio: np.ndarray
    rule: str
    method: str
    size: int
    n: int
    n_cohort: int
    n_elsewhere: int
    sentence: str

    def __post_init__(self) -> None:
        for name in ("cohort", "elsewhere", "overall", "ratio"):
            object.__setattr__(self, name, frozen(np.asarray(getattr(self, name), dtype=np.float64)))
        object.__setattr__(self, "feature_names", tuple(str(f) for f in self.feature_names))

    def frame(self) -> pd.DataFrame:
        """feature, cohort, elsewhere, overall, ratio; the most important in the cohort first."""
        import pandas as pd

        table = pd.DataFrame({"feature": self.feature_names, "cohort": self.cohort, "elsewhere": self.elsewhere,
                              "overall": self.overall, "ratio": self.ratio})
        return table.sort_values("cohort", ascending=False, kind="stable").reset_index(drop=True)

    def top(self, k: int = 10) -> pd.DataFrame:
        """The ``k`` features most important in the cohort."""
        return self.frame().head(int(k))

    def plot(self, **options: Any) -> go.Figure:
        """Bars in the cohort against elsewhere (see :func:`explain.plots.cohort_drivers`)."""
        from explain.plots.cohorts import cohort_drivers

        return cohort_drivers(self, **options)

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out["ratio"] = [v if np.isfinite(v) else None for v in np.asarray(self.ratio, dtype=float).tolist()]
        return out
