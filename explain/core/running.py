"""Running the model: the one loop that sends a Batch through the model in batches, the
targets an explanation is taken for, and numerically safe log-probabilities.

Every entry point runs the model through :func:`raw_outputs` (torch, the model's own
dtype) or :func:`outputs` (numpy float64, which also runs on Ray); ``Model.logits`` too.
Seeding lives in :mod:`explain.core.rng`, labels in :mod:`explain.core.labels`.

Example:
    >>> import torch, explain
    >>> from explain.core.batch import prepare
    >>> net = torch.nn.Linear(2, 3)
    >>> model = explain.Model(net, task="classification", modality="tabular")
    >>> batch = prepare(model, torch.randn(5, 2))
    >>> raw = raw_outputs(model, batch, 2)
    >>> raw.shape, resolve_targets(model, None, raw, 5).tolist() == raw.argmax(1).tolist()
    (torch.Size([5, 3]), True)
    >>> resolve_targets(model, 1, raw, 5).tolist()
    [1, 1, 1, 1, 1]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from explain.core.batch import Batch, Runnable
from explain.core.budget import batch_rows
from explain.errors import InputError

__all__ = ["raw_outputs", "outputs", "resolve_targets", "class_logits", "log_softmax"]


def raw_outputs(model: Runnable, batch: Batch, batch_size: int,
                progress: Callable[[float], None] | None = None) -> torch.Tensor:
    """The model's raw outputs on the CPU, (n, outputs) in the model's dtype, with
    ``batch_size`` rows per forward pass and no gradients.

    ``progress`` is called with the fraction of rows done after each pass.
    """
    parts = []
    with torch.no_grad():
        for start in range(0, batch.n, batch_size):
            part = batch.slice(start, start + batch_size)
            parts.append(model.forward_module(*part.forward_args()).detach().cpu())
            if progress is not None:
                progress(min(1.0, (start + part.n) / batch.n))
    return torch.cat(parts)


def class_logits(out: torch.Tensor) -> torch.Tensor:
    """Logits of a classifier as (batch, classes); one sigmoid logit z becomes [0, z], whose
    softmax is [1 - sigmoid(z), sigmoid(z)]."""
    if out.shape[1] == 1:
        return torch.cat([torch.zeros_like(out), out], dim=1)
    return out


def log_softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """``log softmax(logits / temperature)`` over the last axis, in float64 numpy."""
    z = np.asarray(logits, dtype=np.float64) / temperature
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def outputs(model: Runnable, batch: Batch, batch_size: int | None,
            progress: Callable[[float], None] | None = None, backend: Any = None) -> np.ndarray:
    """The model's raw outputs in float64, (n, outputs); classifiers as in :func:`class_logits`.

    ``batch_size`` rows go through at once (None: as many as the memory budget holds);
    ``backend="ray"`` runs the same chunks on Ray actors (see :mod:`explain.runtime.backends`)."""
    from explain.runtime.backends import Local, get_backend

    batch_size = batch_rows(model, batch, batch_size)
    chosen = get_backend(backend)
    if not isinstance(chosen, Local):
        chunks = []
        for start in range(0, batch.n, batch_size):
            part = batch.slice(start, start + batch_size)
            chunks.append((part.x.cpu(), None if part.attention_mask is None else part.attention_mask.cpu()))
        return np.concatenate(chosen.map(model, _chunk_outputs, chunks, progress), axis=0)
    out = raw_outputs(model, batch, batch_size, progress).double()
    return (class_logits(out) if model.task == "classification" else out).numpy()


def _chunk_outputs(model: Runnable, x: torch.Tensor, mask: torch.Tensor | None) -> np.ndarray:
    """One chunk's outputs, where the backend runs it."""
    part = Batch(model, x.to(model.device), None if mask is None else mask.to(model.device))
    return outputs(model, part, max(1, part.n))


def resolve_targets(model: Runnable, target: Any, outputs: torch.Tensor, n: int) -> torch.Tensor:
    """The output index each of ``n`` examples is explained for, on the model's device:
    ``target`` None takes the predicted class (classifiers) or output 0 (regression); an
    int applies to every example; an array gives one per example.

    Raises:
        InputError: not one target per example, or one outside the model's outputs.
    """
    k = outputs.shape[1]
    if target is None and model.task == "classification":
        return outputs.argmax(dim=1).to(model.device)  # an output index: in range
    if target is None:
        t = torch.zeros(n, dtype=torch.long)
    else:
        try:
            t = torch.as_tensor(np.asarray(target), dtype=torch.long).reshape(-1)
        except (TypeError, ValueError) as err:
            raise InputError(f"target must be None, an int, or one int per example; got {target!r}.") from err
        if t.numel() == 1:
            t = t.expand(n).clone()
        if t.numel() != n:
            raise InputError(f"target has {t.numel()} entries but there are {n} examples; give one per example.")
    if ((t < 0) | (t >= k)).any():
        names = f" ({list(model.class_names)})" if model.class_names else ""
        raise InputError(f"target must be between 0 and {k - 1}: the model has {k} outputs{names}.")
    return t.to(model.device)
