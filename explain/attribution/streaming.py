"""Dataset-wide global importance in bounded memory: ``explain.global_importance``.

The inputs are walked in chunks of ``batch_size`` rows (by default as many as the memory
budget holds, see :mod:`explain.core.budget`); each chunk is attributed exactly
as :func:`explain.attribute` would, and only running moments (mean |a|, mean a, spread)
are kept, so memory stays flat however many rows there are. Arrays are sliced lazily:
a 100k-row Dataset, tensor, DataFrame or ``np.load(..., mmap_mode="r")`` array is never
attributed, or converted to float32, all at once.

Example:
    >>> import torch, explain
    >>> net = torch.nn.Linear(2, 1, bias=False)
    >>> with torch.no_grad():
    ...     net.weight[:] = torch.tensor([[2.0, -3.0]])
    >>> model = explain.Model(net, task="regression")
    >>> g = explain.global_importance(model, torch.ones(1000, 2), method="input_x_gradient")
    >>> g.mean_abs.tolist(), g.mean.tolist(), g.n
    ([2.0, 3.0], [2.0, -3.0], 1000)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import torch

from explain.attribution.accumulator import ImportanceStream
from explain.attribution.attributions import (
    attribute_batch,
    background_rows,
    checked_call,
    default_background,
    default_stdevs,
    lookup,
    plan,
)
from explain.attribution.checks import check_method
from explain.core.batch import prepare
from explain.core.dataset import Dataset
from explain.core.model import Model
from explain.core.rng import seeded
from explain.errors import InputError
from explain.results.importance import GlobalImportance
from explain.runtime.backends import Local, get_backend

__all__ = ["global_importance"]

def global_importance(
    model: Model,
    inputs: Any,
    *,
    method: str = "integrated_gradients",
    target: int | np.ndarray | list[int] | None = None,
    baseline: Any = None,
    background: Any = None,
    batch_size: int | None = None,
    seed: int = 0,
    progress: Callable[[float], None] | None = None,
    backend: Any = None,
    **method_options: Any,
) -> GlobalImportance:
    """Mean |attribution| of every feature, pixel or token over a whole dataset, streamed.

    Tabular and image results equal ``np.abs(explain.attribute(model, inputs, ...).values)
    .mean(axis=0)`` (up to float rounding) for every ``batch_size`` when the method is
    deterministic; stochastic methods draw the same noise as ``explain.attribute`` with
    the same ``batch_size`` and ``seed``. Text results are aggregated per token string
    (see :class:`explain.results.GlobalImportance`). Data-dependent defaults are taken
    over all rows, as ``explain.attribute`` takes them: the SmoothGrad noise level, the
    ``"mean"`` baseline and the default background (32 rows drawn with ``seed``). To stream
    batches from your own loop (a DataLoader), use :class:`explain.ImportanceStream`.

    Args:
        model: an :class:`explain.Model`.
        inputs: a Dataset (or slice), tensor, ndarray (a memory-mapped one too),
            DataFrame, or list of strings (text); sliced ``batch_size`` rows at a time.
        method: a name from :func:`explain.methods`.
        target: None (predicted class; output 0 for regression), an int, or one int
            per example.
        baseline: as for :func:`explain.attribute`.
        background: as for :func:`explain.attribute`.
        batch_size: rows attributed at a time; peak memory grows with it, not with the
            number of rows. None: as many as the memory budget holds, as
            :func:`explain.attribute` chooses them for the same rows.
        seed: seeds torch's and numpy's generators once for the whole run.
        progress: called with the fraction of rows done after each chunk.
        backend: ``None`` or ``"local"`` (this process), ``"ray"`` (a local Ray instance,
            or the cluster ``ray.init`` connected to), or an ``explain.runtime.backends`` object.
            On Ray the chunks run on actors that hold the model and are combined in row
            order, so deterministic methods give the same numbers as here; stochastic
            ones are seeded per chunk there (``seed + chunk``), so they repeat but draw
            other noise than the local run.
        **method_options: the method's options (``explain.method_info(method)["defaults"]``).

    Returns:
        A :class:`explain.results.GlobalImportance`.

    Raises:
        InputError: a wrong argument (model, batch size, options, target), or no rows.
        MethodError: the method is unknown or cannot serve this model.
        DataError: the inputs do not fit the model.

    Example:
        >>> import torch, explain
        >>> model = explain.Model(torch.nn.Linear(3, 2), task="classification")
        >>> g = explain.global_importance(model, torch.randn(50, 3), method="saliency",
        ...                               batch_size=16)
        >>> g.mean_abs.shape, g.n
        ((3,), 50)
    """
    spec = checked_call(model, method, batch_size, method_options)
    rows = _Rows(model, inputs)
    n = rows.n
    targets = _target_slicer(target, n)
    first = prepare(model, rows.chunk(0, 1))
    check_method(model, spec, probe=True, example=first)

    opts = {**spec.defaults, **method_options}
    plan(model, spec, opts, prepare(model, rows.chunk(0, 2)), n, batch_size, background_rows(background, n))
    batch_size = opts["batch_size"]
    used_baseline = baseline
    if spec.name == "smoothgrad" and opts.get("stdevs") is None:
        opts["stdevs"] = default_stdevs(*rows.range(batch_size))
    if spec.baseline and isinstance(baseline, str) and baseline == "mean" and model.modality != "text":
        used_baseline = rows.mean(batch_size)
    if spec.background and background is None:
        background = prepare(model, rows.take(default_background(n, seed))).x

    stream = ImportanceStream(model, method=spec.name, baseline=baseline, background=background,
                              batch_size=batch_size, seed=seed, **method_options)
    chosen = get_backend(backend)
    if isinstance(chosen, Local):
        results: Any = _here(model, rows, spec, opts, targets, used_baseline, background, seed, batch_size, progress)
    else:
        starts = range(0, n, batch_size)
        chunks = [(rows.chunk(a, min(n, a + batch_size)), targets(a, min(n, a + batch_size)), spec.name, opts,
                   used_baseline, background, seed + k) for k, a in enumerate(starts)]
        results = chosen.map(model, _chunk, chunks, progress)
    for result in results:  # in row order on every backend
        stream.add(result)
    return stream.compute()


def _here(model: Model, rows: Any, spec: Any, opts: dict[str, Any], targets: Callable[[int, int], Any],
          baseline: Any, background: Any, seed: int, batch_size: int,
          progress: Callable[[float], None] | None) -> Iterator[Any]:
    """The chunks' attributions in this process, one seeded run for all of them (so
    stochastic methods draw what ``attribute`` with the same batch size draws)."""
    n = rows.n
    with seeded(seed):
        for start in range(0, n, batch_size):
            stop = min(n, start + batch_size)
            part = prepare(model, rows.chunk(start, stop))
            yield attribute_batch(model, part, spec, dict(opts), targets(start, stop), baseline, background, seed,
                                  None)
            if progress is not None:
                progress(stop / n)


def _chunk(model: Model, raw: Any, target: Any, method: str, opts: dict[str, Any], baseline: Any,
           background: Any, seed: int) -> Any:
    """One chunk's attributions (run where the backend runs it)."""
    with seeded(seed):
        return attribute_batch(model, prepare(model, raw), lookup(method), dict(opts), target, baseline,
                               background, seed, None)


def _target_slicer(target: Any, n: int) -> Callable[[int, int], Any]:
    """Per-chunk targets: None and single ints as they are, one int per row sliced."""
    if target is None or isinstance(target, (int, np.integer)):
        return lambda start, stop: target
    try:
        array = np.asarray(target, dtype=np.int64).reshape(-1)
    except (TypeError, ValueError) as err:
        raise InputError(f"target must be None, an int, or one int per example; got {target!r}.") from err
    if array.size == 1:
        return lambda start, stop: int(array[0])
    if array.size != n:
        raise InputError(f"target has {array.size} entries but there are {n} examples; give one per example.")
    return lambda start, stop: array[start:stop]


class _Rows:
    """Lazy row access to what the user passed: slices and picked rows, never a full copy."""

    def __init__(self, model: Model, inputs: Any) -> None:
        self.model = model
        self.dataset = inputs if isinstance(inputs, Dataset) else None
        source = inputs
        if isinstance(inputs, Dataset):
            prepare(model, inputs[:1])  # the modality check, with its message
            source = inputs.texts if inputs.texts is not None else inputs.x
        if isinstance(source, str):
            source = [source]
        if hasattr(source, "iloc") and hasattr(source, "columns"):  # a DataFrame
            self.n = len(source)
        elif isinstance(source, (np.ndarray, torch.Tensor)):
            if model.input_shape is not None and source.ndim == len(model.input_shape):
                source = source[None]  # one example
            if source.ndim == 0:
                raise InputError("Inputs are a single number; pass a batch of examples.")
            self.n = int(source.shape[0])
        elif isinstance(source, (list, tuple)):
            if model.modality != "text" and not (source and isinstance(source[0], str)):
                source = np.asarray(prepare(model, source).x.cpu())  # nested lists: small, in memory
            self.n = len(source)
        else:
            self.n = prepare(model, source).n  # raises the usual InputError for other types
            source = prepare(model, source).x
        if self.n == 0:
            raise InputError("No examples to explain: the inputs have 0 rows. Pass at least one row.")
        self.source = source

    def chunk(self, start: int, stop: int) -> Any:
        """Rows ``start:stop`` as given: a Dataset's keep its names and row ids."""
        if self.dataset is not None:
            return self.dataset[start:stop]
        if hasattr(self.source, "iloc"):
            return self.source.iloc[start:stop]
        return self.source[start:stop]

    def take(self, rows: np.ndarray) -> Any:
        if hasattr(self.source, "iloc"):
            return self.source.iloc[rows]
        if isinstance(self.source, (list, tuple)):
            return [self.source[int(i)] for i in rows]
        if isinstance(self.source, torch.Tensor):
            return self.source[torch.as_tensor(rows)]
        return self.source[rows]

    def _model_inputs(self, batch_size: int) -> Any:
        for start in range(0, self.n, batch_size):
            part = prepare(self.model, self.chunk(start, start + batch_size))
            yield part.embed(part.x) if self.model.modality == "text" else part.x

    def range(self, batch_size: int) -> tuple[float, float]:
        """Smallest and largest input value over all rows (text: of the token embeddings)."""
        low, high = float("inf"), float("-inf")
        for x in self._model_inputs(batch_size):
            low, high = min(low, float(x.min())), max(high, float(x.max()))
        return low, high

    def mean(self, batch_size: int) -> np.ndarray:
        """The mean example over all rows, in float64."""
        total: np.ndarray | float = 0.0
        for x in self._model_inputs(batch_size):
            total = total + x.double().sum(dim=0).cpu().numpy()
        return np.asarray(total / self.n, dtype=np.float32)
