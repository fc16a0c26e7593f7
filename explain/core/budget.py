"""How many rows go through the model at once: one rule, from a memory budget, for every
entry point (attributions, global importance, SHAP, robustness, uncertainty, calibration,
conformal prediction, quality, sanity checks and ``Model.logits``).

A row costs the bytes of its inputs plus every tensor the model makes for it, measured by
running the first rows once; a gradient pass keeps those tensors for the backward pass
and needs about as much again, so it counts twice. A method that expands each example into
several model rows (integrated gradients' ``n_steps``, SmoothGrad's noisy copies,
occlusion's perturbations per evaluation ...) multiplies that. The rows per batch are the
budget divided by the cost of one row, at least 1 and at most the number of rows.

The budget is :data:`DEFAULT_BUDGET` (64 MiB; on a CUDA device an eighth of its memory),
or the environment variable ``EXPLAIN_MEMORY_BUDGET`` (``"512MB"``, ``"2GiB"``, a number of
bytes). An explicit ``batch_size=`` on a public function sets the rows per batch instead;
a method's passes through the model stay within the budget either way.

Example:
    >>> rows_per_batch(4 * 2**10, 50, budget=2**20)  # 1 MiB / (4 KiB x 50) = 5.12
    5
    >>> rows_per_batch(4 * 2**10, 50, n=3, budget=2**20), rows_per_batch(2**30, 1, budget=2**20)
    (3, 1)
    >>> parse_size("512MB"), parse_size("1.5 GiB"), parse_size("4096")
    (512000000, 1610612736, 4096)
"""

from __future__ import annotations

import contextlib
import os
import re
from typing import Any

import torch
from torch.utils._python_dispatch import TorchDispatchMode

from explain.core.batch import Batch, Runnable
from explain.core.rng import untouched
from explain.core.validate import Int, check
from explain.errors import InputError

__all__ = ["DEFAULT_BUDGET", "ENV_VAR", "memory_budget", "parse_size", "rows_per_batch", "row_bytes",
           "batch_rows", "check_batch_size"]

DEFAULT_BUDGET = 64 * 2**20
"""Bytes of model rows per batch when neither ``batch_size=`` nor the environment says.
Chosen with ``python -m bench attribution`` on CPU: budgets from 16 to 256 MiB ran the
tabular cases equally fast, CNNs were fastest up to 64 MiB (larger batches leave the
caches) and 1 GiB was slower on all; explain's peak RSS stayed near 1 to 2 budgets."""

ENV_VAR = "EXPLAIN_MEMORY_BUDGET"

_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
          "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}
_SIZE = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:e[0-9]+)?)\s*([a-z]*)\s*$", re.IGNORECASE)


def parse_size(text: str) -> int:
    """Bytes in a size such as ``"512MB"`` (10^6), ``"2GiB"`` (2^30) or ``"4096"``.

    Raises:
        InputError: not a positive size, naming the forms that work.
    """
    match = _SIZE.match(str(text))
    unit = match.group(2).lower() if match else ""
    if match is None or unit not in _UNITS or float(match.group(1)) * _UNITS[unit] < 1:
        raise InputError(
            f"{ENV_VAR}={text!r} is not a memory size. Set it to a positive size such as "
            "'512MB', '2GiB' or a number of bytes, or unset it for the default "
            f"({DEFAULT_BUDGET // 2**20} MiB)."
        )
    return int(float(match.group(1)) * _UNITS[unit])


def memory_budget(device: torch.device | None = None) -> int:
    """The budget in bytes: ``EXPLAIN_MEMORY_BUDGET`` when set; else :data:`DEFAULT_BUDGET`,
    or on a CUDA ``device`` an eighth of its memory when that is more (a GPU is fast only
    with large batches)."""
    text = os.environ.get(ENV_VAR, "").strip()
    if text:
        return parse_size(text)
    if device is not None and device.type == "cuda":
        return max(DEFAULT_BUDGET, torch.cuda.get_device_properties(device).total_memory // 8)
    return DEFAULT_BUDGET


def rows_per_batch(example_bytes: int, expansion: int = 1, *, n: int | None = None,
                   budget: int | None = None, device: torch.device | None = None) -> int:
    """Rows per batch: ``budget // (example_bytes * expansion)``, at least 1, at most ``n``.

    Args:
        example_bytes: what one row costs in one model pass.
        expansion: model rows one row becomes in a call (1 for a plain forward pass).
        n: the number of rows there are (None: no upper limit).
        budget: bytes per batch (None: :func:`memory_budget` for ``device``).
        device: where the model runs.
    """
    budget = memory_budget(device) if budget is None else budget
    rows = max(1, budget // max(1, int(example_bytes) * max(1, int(expansion))))
    return rows if n is None else max(1, min(rows, int(n)))


def check_batch_size(batch_size: Any, name: str = "batch_size") -> int | None:
    """None (from the budget) or a positive integer.

    Raises:
        InputTypeError: not an integer (a bool, a float, a string), saying what to pass.
        InputError: an integer below 1, saying what to pass.
    """
    rule = Int(low=1, optional=True, hint=f"None takes the rows from the memory budget ({ENV_VAR}).")
    return check(**{name: (batch_size, rule)})[name]


class _Bytes(TorchDispatchMode):
    """Adds up the storage of every new tensor the operations under it make; views of
    their arguments (a weight's transpose, a reshape, an in-place ReLU) cost nothing."""

    def __init__(self) -> None:
        super().__init__()
        self.total = 0

    def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        out = func(*args, **(kwargs or {}))
        made = {}
        for t in _tensors(out):
            storage = t.untyped_storage()
            made[storage.data_ptr()] = storage.nbytes()
        if made:  # storages the arguments hold are not new
            for t in _tensors((args, kwargs)):
                made.pop(t.untyped_storage().data_ptr(), None)
            self.total += sum(made.values())
        return out


def _tensors(value: Any, found: list[torch.Tensor] | None = None) -> list[torch.Tensor]:
    """The tensors in an operation's arguments or results (nested lists, tuples, dicts)."""
    found = [] if found is None else found
    if isinstance(value, torch.Tensor):
        found.append(value)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _tensors(item, found)
    elif isinstance(value, dict):
        for item in value.values():
            _tensors(item, found)
    return found


def row_bytes(model: Runnable, batch: Batch, *, gradients: bool = False) -> int:
    """What one row of ``batch`` costs in one pass of ``model``: its inputs plus every
    tensor the forward pass makes for it (twice that with gradients), measured by running
    the first two rows once (two: a batch-norm layer left in training mode needs them).
    With a layer in training mode (MC dropout) the pass may draw random numbers: the
    generators are put back as they were."""
    rows = min(2, batch.n)
    if rows == 0:
        return 1
    args = batch.slice(0, rows).forward_args()
    size = sum(a.nbytes for a in args if isinstance(a, torch.Tensor))
    counter = _Bytes()
    training = any(m.training for m in model.network.modules())
    with untouched(batch.x.device) if training else contextlib.nullcontext(), torch.no_grad(), counter:
        model.forward_module(*args)
    return -(-(size + counter.total) // rows) * (2 if gradients else 1)


def batch_rows(model: Runnable, batch: Batch, batch_size: Any = None, *, expansion: int = 1,
               gradients: bool = False, name: str = "batch_size") -> int:
    """Rows per batch for a pass over ``batch``: ``batch_size`` when given, else as many as
    the memory budget holds (see :func:`rows_per_batch` and :func:`row_bytes`).

    Raises:
        InputError: a wrong ``batch_size`` or budget setting.
    """
    given = check_batch_size(batch_size, name)
    if given is not None:
        return given
    cost = row_bytes(model, batch, gradients=gradients)
    return rows_per_batch(cost, expansion, n=batch.n, device=batch.x.device)
