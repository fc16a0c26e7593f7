"""The streaming accumulator behind :func:`explain.global_importance`, for your own loop:
feed it batches one at a time (a DataLoader's, a generator's) with ``update``, read the
dataset-wide importance with ``compute``; memory stays flat however many rows pass, as
with torchmetrics' ``update``/``compute`` metrics.

Example:
    >>> import torch, explain
    >>> net = torch.nn.Linear(2, 1, bias=False)
    >>> with torch.no_grad():
    ...     net.weight[:] = torch.tensor([[2.0, -3.0]])
    >>> model = explain.Model(net, task="regression")
    >>> stream = explain.ImportanceStream(model, method="input_x_gradient")
    >>> for x in torch.ones(1000, 2).split(128):   # e.g. for x, _ in loader:
    ...     _ = stream.update(x)
    >>> g = stream.compute()
    >>> g.mean_abs.tolist(), g.mean.tolist(), g.n
    ([2.0, 3.0], [2.0, -3.0], 1000)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from explain.attribution.attributions import (
    attribute_batch,
    background_rows,
    checked_call,
    describe_baseline,
    plan,
)
from explain.attribution.checks import check_method
from explain.core.batch import prepare
from explain.core.model import Model
from explain.core.rng import seeded
from explain.errors import InputError
from explain.results import Attribution
from explain.results.importance import GlobalImportance

__all__ = ["ImportanceStream"]


class ImportanceStream:
    """Global importance (mean |attribution|, mean and spread per feature, pixel or token)
    of every batch passed to :meth:`update`, kept as running moments.

    Each batch is attributed exactly as :func:`explain.attribute` attributes it, seeded
    with ``seed + k`` for the k-th batch. Defaults that depend on the data (SmoothGrad's
    noise, the background of DeepLiftShap and GradientShap) are taken from each batch;
    pass ``stdevs=`` or ``background=`` for one value over the whole stream, or use
    :func:`explain.global_importance`, which takes them over all rows. The ``"mean"``
    baseline needs every row first: pass the mean example as an array instead.

    Args:
        model: an :class:`explain.Model`.
        method: a name from :func:`explain.methods`.
        baseline: as for :func:`explain.attribute`.
        background: as for :func:`explain.attribute`.
        batch_size: rows attributed at a time within a batch; None: the memory budget's.
        seed: the first batch's seed.
        **method_options: the method's options (``explain.method_info(method)["defaults"]``).

    Raises:
        InputError, MethodError: as :func:`explain.attribute`, when the stream is made.
    """

    def __init__(self, model: Model, *, method: str = "integrated_gradients", baseline: Any = None,
                 background: Any = None, batch_size: int | None = None, seed: int = 0,
                 **method_options: Any) -> None:
        self.spec = checked_call(model, method, batch_size, method_options)
        self.model, self.baseline, self.background = model, baseline, background
        self.batch_size, self.seed, self.options = batch_size, seed, method_options
        self.opts: dict[str, Any] | None = None  # planned on the first batch
        self.n = 0
        self._updates = 0
        self._moments: _Moments = _TokenMoments() if model.modality == "text" else _Moments()
        self._targets = np.zeros(0, dtype=np.int64)
        self._first: Attribution | None = None
        self._params: dict[str, Any] = {}

    def update(self, inputs: Any, target: Any = None) -> ImportanceStream:
        """Attribute one batch (any form :func:`explain.attribute` takes) and add it;
        ``target`` as there. Returns the stream."""
        if self.spec.baseline and isinstance(self.baseline, str) and self.baseline == "mean":
            raise InputError(
                "baseline='mean' needs every row before the first batch; pass the mean example as an "
                "array (e.g. baseline=X.mean(0)), or use explain.global_importance on all rows."
            )
        batch = prepare(self.model, inputs)
        if batch.n == 0:
            raise InputError("The batch has 0 rows; pass at least one row to update.")
        if self.opts is None:
            check_method(self.model, self.spec, probe=True)  # the probe runs in plan's measuring pass
            opts = {**self.spec.defaults, **self.options}
            plan(self.model, self.spec, opts, batch.slice(0, 2), batch.n, self.batch_size,
                 background_rows(self.background, batch.n), probe=True)
            self.opts = opts
        seed = self.seed + self._updates
        with seeded(seed):
            result = attribute_batch(self.model, batch, self.spec, dict(self.opts), target, self.baseline,
                                     self.background, seed, None)
        self._updates += 1
        return self.add(result)

    def add(self, result: Attribution) -> ImportanceStream:
        """Add attributions computed elsewhere (by :func:`explain.attribute` with this
        method, or on another machine). Returns the stream.

        Raises:
            InputError: the result is of another method.
        """
        if result.method != self.spec.name:
            raise InputError(f"This stream accumulates {self.spec.name}; got a {result.method} result.")
        self._moments.add(result)
        self._targets = _add_counts(self._targets, result.target)
        self._params = dict(result.params)
        self._first = self._first or result
        self.n += int(np.asarray(result.values).shape[0])
        return self

    def compute(self) -> GlobalImportance:
        """The importance of every row added so far.

        Raises:
            InputError: nothing was added yet.
        """
        if self._first is None:
            raise InputError("No rows yet: call update(batch) at least once before compute().")
        names = self._first.feature_names
        if self.model.modality == "text":
            names = tuple(self._moments.tokens)  # type: ignore[attr-defined]
        elif self.model.modality == "image":
            names = None
        mean_abs, mean, std, counts = self._moments.result()
        params = {**self._params, "baseline": describe_baseline(self.baseline),
                  "batch_size": self.opts["batch_size"] if self.opts else self.batch_size}
        return GlobalImportance(
            mean_abs=mean_abs, mean=mean, std=std, n=self.n, method=self.spec.name,
            modality=self.model.modality, feature_names=names, class_names=self._first.class_names,
            counts=counts if self.model.modality == "text" else None, target_counts=self._targets,
            params=params,
        )


def _add_counts(counts: np.ndarray, targets: np.ndarray) -> np.ndarray:
    new = np.bincount(np.asarray(targets, dtype=np.int64).reshape(-1))
    size = max(counts.size, new.size)
    return np.pad(counts, (0, size - counts.size)) + np.pad(new, (0, size - new.size))


class _Moments:
    """Running count, mean |a|, mean a and sum of squared deviations (Chan et al.'s
    pairwise update, which keeps the spread exact where sum-of-squares would cancel)."""

    def __init__(self) -> None:
        self.count: Any = 0
        self.sum_abs: Any = 0.0
        self.mean: Any = 0.0
        self.m2: Any = 0.0

    def merge(self, count: Any, sum_abs: Any, mean: Any, m2: Any) -> None:
        total = self.count + count
        share = np.divide(count, total, out=np.zeros_like(mean, dtype=float), where=np.asarray(total > 0))
        delta = mean - self.mean
        self.m2 = self.m2 + m2 + delta**2 * self.count * share
        self.mean = self.mean + delta * share
        self.sum_abs = self.sum_abs + sum_abs
        self.count = total

    def add(self, result: Any) -> None:
        v = np.asarray(result.values, dtype=np.float64)
        mean = v.mean(axis=0)
        self.merge(v.shape[0], np.abs(v).sum(axis=0), mean, ((v - mean) ** 2).sum(axis=0))

    def result(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        count = np.asarray(self.count, dtype=float)
        safe = np.maximum(count, 1.0)
        mean_abs = np.asarray(self.sum_abs / safe, dtype=float)
        std = np.sqrt(np.maximum(np.asarray(self.m2 / safe, dtype=float), 0.0))
        return mean_abs, np.asarray(self.mean, dtype=float), std, np.asarray(self.count, dtype=np.int64)


class _TokenMoments(_Moments):
    """The moments per distinct token string, the vocabulary growing as tokens appear."""

    def __init__(self) -> None:
        super().__init__()
        self.index: dict[str, int] = {}
        self.tokens: list[str] = []
        for name in ("count", "sum_abs", "mean", "m2"):
            setattr(self, name, np.zeros(0))

    def add(self, result: Any) -> None:
        ids, values = [], []
        for row, tokens in zip(np.asarray(result.values, dtype=np.float64), result.tokens):
            for token in tokens:
                if token not in self.index:
                    self.index[token] = len(self.tokens)
                    self.tokens.append(token)
                ids.append(self.index[token])
            values.append(row[: len(tokens)])
        size = len(self.tokens)
        for name in ("count", "sum_abs", "mean", "m2"):
            old = getattr(self, name)
            setattr(self, name, np.pad(old, (0, size - old.size)))
        idx = np.asarray(ids, dtype=np.int64)
        v = np.concatenate(values) if values else np.zeros(0)
        count = np.bincount(idx, minlength=size).astype(float)
        mean = np.divide(np.bincount(idx, v, minlength=size), count,
                         out=np.zeros(size), where=count > 0)
        m2 = np.bincount(idx, (v - mean[idx]) ** 2, minlength=size)
        self.merge(count, np.bincount(idx, np.abs(v), minlength=size), mean, m2)
