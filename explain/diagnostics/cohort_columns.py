"""The columns that cohorts are described by, each binned once into one small code per row.

A column is a table feature, a metadata column (``Dataset.metadata``) or a derived feature
(see :mod:`explain.diagnostics.mistakes`). Numbers are cut into at most :data:`MAX_BINS`
bins at the quantiles of a seeded sample of at most :data:`SAMPLE` rows (bin ``b`` holds
``edges[b-1] < value <= edges[b]``, so a split after bin ``b`` reads ``value <= edges[b]``);
missing numbers get a bin of their own, after the others. Anything else is a category:
its :data:`MAX_CATEGORIES` - 1 most frequent values keep a code each, the rest share
``(other)``, and missing values read ``(missing)``. Codes are ``uint8``: n bytes per column.

Example:
    >>> import numpy as np
    >>> col = number_column("age", np.arange(100.0), seed=0)
    >>> col.n_bins, col.codes[:3].tolist(), round(float(col.edges[0]), 2)
    (64, [0, 0, 1], 1.55)
    >>> cat = category_column("region", np.array(["north", "south", "north"], dtype=object))
    >>> cat.labels, cat.codes.tolist()
    (('north', 'south'), [0, 1, 0])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from explain.core.dataset import Dataset
from explain.diagnostics.mistakes import Mistakes
from explain.errors import InputError
from explain.results.cohorts import number_text

__all__ = ["MAX_BINS", "MAX_CATEGORIES", "SAMPLE", "Column", "number_column", "category_column",
           "gather_columns"]

MAX_BINS = 64
MAX_CATEGORIES = 64
SAMPLE = 200_000
_CHUNK = 1 << 18


@dataclass
class Column:
    """One column binned into codes.

    Attributes:
        name: the feature, metadata column or derived feature.
        kind: ``"number"`` or ``"category"``.
        codes: ``uint8`` per row: the bin or category.
        labels: what each code holds, for display: a category, or a range of numbers.
        edges: numbers: the upper edge of every bin but the last (and the missing bin).
        missing: numbers: whether the last code holds missing values.
    """

    name: str
    kind: str
    codes: np.ndarray
    labels: tuple[str, ...]
    edges: np.ndarray = field(default_factory=lambda: np.zeros(0))
    missing: bool = False

    @property
    def n_bins(self) -> int:
        return len(self.labels)


def number_column(name: str, values: Any, *, seed: int = 0) -> Column:
    """Bin a numeric column at the quantiles of a seeded sample (see the module doc)."""
    n = len(values)
    rng = np.random.default_rng(seed)
    take = np.sort(rng.choice(n, size=SAMPLE, replace=False)) if n > SAMPLE else slice(None)
    sample = np.asarray(values[take], dtype=np.float64)
    sample = sample[np.isfinite(sample)]
    edges = np.zeros(0)
    if sample.size:
        edges = np.unique(np.quantile(sample, np.linspace(0, 1, MAX_BINS + 1)[1:-1]))
        edges = edges[edges < sample.max()]
    codes = np.empty(n, dtype=np.uint8)
    missing = False
    for start in range(0, n, _CHUNK):
        part = np.asarray(values[start:start + _CHUNK], dtype=np.float64)
        codes[start:start + len(part)] = np.searchsorted(edges, part, side="left")
        gone = np.isnan(part)
        if gone.any():
            codes[start:start + len(part)][gone] = len(edges) + 1
            missing = True
    text = [number_text(v) for v in edges]
    labels = [f"≤ {text[0]}"] if text else ["all"]
    labels += [f"({a}, {b}]" for a, b in zip(text[:-1], text[1:])] + ([f"> {text[-1]}"] if text else [])
    return Column(name, "number", codes, tuple(labels) + (("missing",) if missing else ()), edges, missing)


def category_column(name: str, values: Any, labels: Sequence[str] | None = None) -> Column:
    """Code a column of categories. ``labels``: the name of each integer value, where the
    values are already codes (class indices)."""
    import pandas as pd

    if labels is not None:
        counts = np.bincount(np.asarray(values, dtype=np.int64), minlength=len(labels))
        present = np.flatnonzero(counts)
        return _lumped(name, np.asarray(values, dtype=np.int64), [str(labels[i]) for i in present], present)
    series = pd.Series(np.asarray(values, dtype=object)).astype("string").fillna("(missing)")
    codes, uniques = pd.factorize(series, sort=True)
    return _lumped(name, codes, [str(u) for u in uniques], np.arange(len(uniques)))


def gather_columns(data: Dataset, found: Mistakes, features: Sequence[str] | None, *, seed: int) -> list[Column]:
    """The columns to search: ``features`` by name, or by default the table's features
    and the metadata columns (tables), the derived features (text and images) and the
    metadata columns.

    Raises:
        InputError: a name in ``features`` that is none of these, listing what there is.
    """
    table = list(data.feature_names or ()) if data.modality == "tabular" and data.x is not None else []
    metadata = getattr(data, "metadata", None)
    meta = [str(c) for c in metadata.columns] if metadata is not None else []
    derived = list(found.derived)
    if features is None:
        chosen = table + meta if data.modality == "tabular" else derived + meta
    else:
        chosen = [str(f) for f in features]
        known = table + meta + derived
        unknown = [f for f in chosen if f not in known]
        if unknown or not chosen:
            raise InputError(f"features must name columns there are; {unknown or 'an empty list'} "
                             f"{'are' if len(unknown) != 1 else 'is'} not among them. Pass some of "
                             f"{known[:20]}{' ...' if len(known) > 20 else ''}, or features=None for all.")
    columns = []
    for name in dict.fromkeys(chosen):
        if name in table:
            columns.append(number_column(name, data.x[:, table.index(name)], seed=seed))
        elif name in meta:
            columns.append(_metadata_column(name, metadata.iloc[:, meta.index(name)], seed))
        elif name in ("true class", "predicted class"):
            columns.append(category_column(name, found.derived[name], found.class_names))
        else:
            columns.append(number_column(name, found.derived[name], seed=seed))
    return columns


def _metadata_column(name: str, series: Any, seed: int) -> Column:
    import pandas as pd

    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        return number_column(name, series.to_numpy(dtype=np.float64, na_value=np.nan), seed=seed)
    return category_column(name, series.to_numpy())


def _lumped(name: str, codes: np.ndarray, names: list[str], values: np.ndarray) -> Column:
    """Codes ``values`` (and only those) to 0..k-1 with ``names``; beyond
    :data:`MAX_CATEGORIES` the least frequent share one ``(other)`` code."""
    lookup = np.full(int(codes.max(initial=0)) + 1, -1, dtype=np.int64)
    lookup[values] = np.arange(len(values))
    codes = lookup[codes]
    if len(names) > MAX_CATEGORIES:
        counts = np.bincount(codes, minlength=len(names))
        top = np.sort(np.argsort(-counts, kind="stable")[: MAX_CATEGORIES - 1])
        remap = np.full(len(names), MAX_CATEGORIES - 1, dtype=np.int64)
        remap[top] = np.arange(len(top))
        codes, names = remap[codes], [names[i] for i in top] + ["(other)"]
    return Column(name, "category", codes.astype(np.uint8), tuple(names))
