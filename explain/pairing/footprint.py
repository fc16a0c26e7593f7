"""``model_size()``: how many weights a model holds, how many are not zero, and how many
bytes they take densely and as stored; and the latency per row of a forward pass.

Example:
    >>> import torch, explain
    >>> model = explain.Model(torch.nn.Linear(100, 10), task="classification")
    >>> size = explain.model_size(model)
    >>> size.parameters, size.dense_bytes, size.storage
    (1010, 4040, 'dense')
    >>> explain.model_size(explain.compress(model, method="quantize")).stored_bytes  # 1000 + 10 * 4 + 10 * 4
    1080
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import torch

from explain.core.batch import prepare
from explain.core.model import Model, check_model
from explain.core.running import raw_outputs
from explain.pairing.shrinking import is_int8
from explain.results.comparison import ModelSize

__all__ = ["model_size", "latency", "latencies", "sparse_bytes"]

_INDEX_BYTES = 4  # int32 column indices and row pointers


def sparse_bytes(tensor: torch.Tensor) -> int:
    """Bytes of ``tensor`` as CSR: each non-zero with a column index, and a row pointer per
    row (its first dimension; one row for vectors).

    Example:
        >>> sparse_bytes(torch.tensor([[0.0, 1.0], [0.0, 0.0]]))  # 1 * (4 + 4) + 3 * 4
        20
    """
    rows = tensor.shape[0] if tensor.ndim >= 2 else 1
    nnz = int(torch.count_nonzero(tensor))
    return nnz * (tensor.element_size() + _INDEX_BYTES) + (rows + 1) * _INDEX_BYTES


def model_size(model: Any) -> ModelSize:
    """The size of a model's weights: counted, non-zero, dense float32 and as stored.

    A float tensor counts as stored sparse (CSR, see :func:`sparse_bytes`) where that is
    smaller than dense; an int8 layer from ``explain.compress(method="quantize")`` at one
    byte a weight plus its float scales. Buffers other than int8 weights (batch-norm
    statistics) are not counted.

    Args:
        model: an :class:`explain.Model`.

    Returns:
        A :class:`explain.ModelSize`.

    Example:
        >>> import torch, explain
        >>> model = explain.Model(torch.nn.Linear(100, 10, bias=False), task="classification")
        >>> size = explain.model_size(explain.compress(model, method="prune", amount=0.9))
        >>> size.nonzero, size.stored_bytes, size.storage  # 100 * 8 + 11 * 4
        (100, 844, 'sparse')
    """
    model = check_model(model)
    parameters = nonzero = stored = 0
    kinds = set()
    for module in model.network.modules():
        tensors = list(module.named_parameters(recurse=False))
        if is_int8(module):
            q, scale = module.weight_int8, module.weight_scale
            parameters += q.numel()
            nonzero += int(torch.count_nonzero(q))
            stored += q.numel() + scale.numel() * scale.element_size()
            kinds.add("int8")
        for _, p in tensors:
            dense = p.numel() * p.element_size()
            sparse = sparse_bytes(p.detach())
            parameters += p.numel()
            nonzero += int(torch.count_nonzero(p.detach()))
            stored += min(dense, sparse)
            if sparse < dense:
                kinds.add("sparse")
    storage = "int8" if "int8" in kinds else "sparse" if "sparse" in kinds else "dense"
    return ModelSize(parameters=parameters, nonzero=nonzero, dense_bytes=parameters * 4, stored_bytes=stored,
                     storage=storage)


def latency(model: Model, inputs: Any, *, repeats: int = 5) -> float:
    """Seconds per row: the median of ``repeats`` timed forward passes over the same batch
    (after one untimed pass), all rows in one pass.

    Example:
        >>> import torch, explain
        >>> model = explain.Model(torch.nn.Linear(3, 2), task="classification")
        >>> latency(model, torch.zeros(8, 3), repeats=3) > 0
        True
    """
    return latencies([model], inputs, repeats=repeats)[0]


def latencies(models: list[Model], inputs: Any, *, repeats: int = 5) -> list[float]:
    """:func:`latency` of several models on the same batch, their passes taken in turn
    (A, B, A, B, ...) so that a busy machine slows them alike.

    Example:
        >>> import torch, explain
        >>> a, b = (explain.Model(torch.nn.Linear(3, 2), task="classification") for _ in range(2))
        >>> len(latencies([a, b], torch.zeros(8, 3), repeats=2))
        2
    """
    batches = [prepare(model, inputs) for model in models]
    times: list[list[float]] = [[] for _ in models]
    for model, batch in zip(models, batches):
        raw_outputs(model, batch, max(1, batch.n))
    for _ in range(max(1, int(repeats))):
        for model, batch, timed in zip(models, batches, times):
            start = time.perf_counter()
            raw_outputs(model, batch, max(1, batch.n))
            timed.append(time.perf_counter() - start)
    return [float(statistics.median(t) / max(1, b.n)) for t, b in zip(times, batches)]


def _bytes_text(n: float) -> str:
    """A byte count for people.

    Example:
        >>> _bytes_text(2_500_000), _bytes_text(900)
        ('2.50 MB', '0.9 kB')
    """
    return f"{n / 1e6:.2f} MB" if n >= 1e6 else f"{n / 1e3:.1f} kB"

