"""``slices()``: the model's errors on slices of the data that the user defines, each
against the rest of the rows, flagged only where the difference is beyond chance after
Holm's correction for the number of slices compared (so that small slices do not cry wolf).

Rules (see :mod:`explain.diagnostics.rules`) filter on feature and metadata columns, and on
derived columns: ``true_class`` and ``predicted_class`` (classifiers: class names),
``length`` (text: words separated by white space) and ``contains '<word>'`` (text).
A feature or metadata column of the same name wins over a derived one.

Example:
    >>> import numpy as np, pandas as pd, torch, explain
    >>> model = explain.Model(torch.nn.Identity(), task="classification", modality="tabular",
    ...                       input_shape=(2,))
    >>> logits = np.array([[1.0, 0.0]] * 40 + [[0.0, 1.0]] * 40)
    >>> truth = np.array([0] * 40 + [1] * 20 + [0] * 20)  # wrong on half of the second 40
    >>> region = pd.DataFrame({"region": ["north"] * 40 + ["south"] * 40})
    >>> data = explain.Dataset(logits, truth, metadata=region)
    >>> result = explain.slices(model, data, {"south": "region == 'south'", "north": "region == 'north'"})
    >>> result.table[["size", "value", "rest", "flagged"]].to_dict("index")["south"]
    {'size': 40, 'value': 0.5, 'rest': 0.0, 'flagged': True}
    >>> result.tests, round(float(result.low[0]), 3)  # the Wilson interval of 20 in 40
    (('z', 'z'), 0.352)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from explain.core.dataset import Dataset
from explain.core.model import Model, check_model
from explain.core.validate import Instance, Number, check
from explain.diagnostics import significance as sig
from explain.diagnostics.cohort_stats import wilson
from explain.diagnostics.rules import CONTAINS, EXAMPLE, clause_mask, parse_rule
from explain.diagnostics.truth import Labelled, labelled_outputs
from explain.errors import InputError, InputTypeError
from explain.results.performance import SliceMetrics

__all__ = ["slices"]

DERIVED = ("true_class", "predicted_class", "length")


def slices(
    model: Any,
    data: Any,
    rules: Mapping[str, str] | list[str] | str,
    targets: Any = None,
    *,
    alpha: float = 0.05,
    level: float = 0.95,
    batch_size: int | None = None,
    progress: Callable[[float], None] | None = None,
) -> SliceMetrics:
    """The error rate (classifiers) or mean absolute error (regression) on each slice,
    against the rows outside it.

    Intervals: Wilson's for a rate, Student's t for a mean absolute error. Tests, two-sided,
    slice against the rest: Fisher's exact where a cell of the 2x2 table (slice or rest,
    wrong or right) expects fewer than 5 rows, else the pooled two-proportion z-test;
    Welch's t-test for mean absolute errors. ``flagged`` needs Holm's adjusted p-value
    below ``alpha``: the chance that any slice is flagged by chance alone stays at most
    ``alpha``, however many slices are compared.

    Args:
        model: an explain.Model.
        data: an explain.Dataset (its feature and metadata columns name the filters).
        rules: ``{"name": "rule", ...}``, or a list of rules (each its own name), or one
            rule; e.g. ``"age > 60 and region == 'north'"``.
        targets: true labels, where ``data`` has none (or to override them).
        alpha: the family-wise significance level of ``flagged``.
        level: the confidence level of the intervals.
        batch_size: examples per forward pass; None: as many as the memory budget holds.
        progress: called with the fraction of forward passes done.

    Returns:
        A :class:`~explain.results.SliceMetrics`; ``.table`` has one row per slice.

    Raises:
        InputError: a rule that cannot be read (the message names it, the columns and an
            example), or a bad option.
        DataError: no labels, or labels that cannot be matched with the outputs.
    """
    model = check_model(model)
    check(data=(data, Instance(Dataset, "Slices filter on named columns: load the data with "
                                        "explain.load_dataset(path, target=..., metadata=[...]).")),
          alpha=(alpha, Number(low=0, high=1, open=True, suggest=0.05)),
          level=(level, Number(low=0, high=1, open=True, suggest=0.95)))
    named = _named(rules)
    columns = _columns(data, model)
    parsed = {name: parse_rule(rule, list(columns), text=data.texts is not None) for name, rule in named.items()}
    found = labelled_outputs(model, data, targets, batch_size=batch_size, progress=progress)
    columns.update(_derived(data, found, columns))
    members = np.ones((len(named), len(found.truth)), dtype=bool)
    for i, (name, clauses) in enumerate(parsed.items()):
        for clause in clauses:
            values = np.array(data.texts, dtype=object) if clause.op == CONTAINS else columns[clause.column]
            members[i] &= clause_mask(clause, values, named[name], list(columns))
    classifier = model.task == "classification"
    errors = (found.predicted != found.truth).astype(np.float64) if classifier else \
        np.abs(np.asarray(found.truth, dtype=np.float64) - found.predicted)
    rows = [_compare(errors[mask], errors[~mask], classifier, level) for mask in members]
    p_value = np.array([r[5] for r in rows])
    adjusted = sig.holm(p_value)
    return SliceMetrics(
        metric="error_rate" if classifier else "mae", names=tuple(named), rules=tuple(named.values()),
        size=members.sum(axis=1), value=np.array([r[0] for r in rows]), low=np.array([r[1] for r in rows]),
        high=np.array([r[2] for r in rows]), rest=np.array([r[3] for r in rows]),
        rest_size=(~members).sum(axis=1), tests=tuple(r[4] for r in rows), p_value=p_value,
        p_adjusted=adjusted, flagged=np.nan_to_num(adjusted, nan=1.0) < alpha, members=members,
        rows=found.rows, overall=float(errors.mean()), alpha=float(alpha), level=float(level),
        params={"alpha": float(alpha), "level": float(level), "batch_size": batch_size, "correction": "holm",
                "mapping": found.mapping},
    )


def _named(rules: Any) -> dict[str, str]:
    if isinstance(rules, str):
        rules = [rules]
    if isinstance(rules, Mapping):
        named = {str(k): v for k, v in rules.items()}
    elif isinstance(rules, (list, tuple)):
        named = {r: r for r in rules if isinstance(r, str)}
        if len(named) != len(rules):
            raise InputError(f"rules must be distinct rule texts, got {list(rules)!r}; pass e.g. [{EXAMPLE}].")
    else:
        raise InputTypeError(f"rules must be a dict of name: rule, or a list of rules, got {type(rules).__name__}; "
                             f"pass e.g. {{'old in the north': {EXAMPLE}}}.")
    if not named:
        raise InputError(f"rules is empty; pass at least one slice, e.g. [{EXAMPLE}].")
    return named


def _columns(data: Dataset, model: Model) -> dict[str, np.ndarray | None]:
    """The columns rules can name: features, metadata, then the derived ones (None until
    the model has run)."""
    columns: dict[str, np.ndarray | None] = {}
    if data.x is not None and data.x.ndim == 2 and data.feature_names:
        columns.update({name: data.x[:, j] for j, name in enumerate(data.feature_names)})
    if data.metadata is not None:
        for name in data.metadata.columns:
            series = data.metadata[name]
            numeric = pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series)
            columns.setdefault(name, series.to_numpy(dtype=np.float64, na_value=np.nan) if numeric
                               else series.to_numpy(dtype=object))
    derived = [*DERIVED[:2]] if model.task == "classification" else []
    derived += ["length"] if data.texts is not None else []
    columns.update({name: None for name in derived if name not in columns})
    return columns


def _derived(data: Dataset, found: Labelled, columns: dict[str, np.ndarray | None]) -> dict[str, np.ndarray]:
    """The derived columns that no feature or metadata column shadows, now that the model has run."""
    names = np.array(found.class_names or (), dtype=object)
    wanted = [name for name, values in columns.items() if values is None]
    values = {
        "true_class": lambda: names[found.truth],
        "predicted_class": lambda: names[found.predicted],
        "length": lambda: np.array([len(t.split()) for t in data.texts or []], dtype=np.float64),
    }
    return {name: values[name]() for name in wanted}


def _compare(inside: np.ndarray, outside: np.ndarray, classifier: bool,
             level: float) -> tuple[float, float, float, float, str, float]:
    """value, low, high, rest, test, p-value of one slice."""
    nan = float("nan")
    value = float(inside.mean()) if len(inside) else nan
    rest = float(outside.mean()) if len(outside) else nan
    if classifier:
        low, high = (float(b[0]) for b in wilson(np.array([inside.sum()]), np.array([len(inside)]),
                                                sig.z_quantile(level))) if len(inside) else (nan, nan)
        if not len(inside) or not len(outside):
            return value, low, high, rest, "", nan
        test, p = sig.rates_p_value(int(inside.sum()), len(inside), int(outside.sum()), len(outside))
        return value, low, high, rest, test, p
    low, high = sig.mean_interval(inside, level)
    p = sig.welch(inside, outside)
    return value, low, high, rest, "" if np.isnan(p) else "welch", p
