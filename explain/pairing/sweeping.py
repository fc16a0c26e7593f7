"""``compress_sweep()``: compress a model at each of several amounts and compare each light
version with the original: accuracy, agreement, explanation similarity, latency and size,
and the largest amount that keeps the agreement at or above ``keep``.

Example:
    >>> import numpy as np, torch, explain
    >>> torch.manual_seed(0) and None
    >>> model = explain.Model(torch.nn.Linear(6, 2), task="classification")
    >>> x = np.random.default_rng(0).normal(size=(80, 6))
    >>> sweep = explain.compress_sweep(model, x, amounts=[0.1, 0.9], keep=0.5, rows=10, repeats=1)
    >>> sweep.amounts.tolist(), bool(sweep.agreement[0] >= sweep.agreement[1])
    ([0.1, 0.9], True)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from explain.core.model import check_model
from explain.core.validate import Int, Number, OneOf, check
from explain.errors import InputError
from explain.pairing.contrasting import compare
from explain.pairing.footprint import model_size
from explain.pairing.shrinking import METHODS, compress
from explain.results.comparison import CompressionSweep

__all__ = ["compress_sweep", "largest_kept"]


def largest_kept(amounts: np.ndarray, agreement: np.ndarray, keep: float) -> float | None:
    """The largest amount whose agreement is at least ``keep`` (None when none is).

    Example:
        >>> largest_kept(np.array([0.2, 0.4, 0.6]), np.array([1.0, 0.99, 0.9]), 0.99)
        0.4
    """
    kept = np.asarray(amounts, dtype=float)[np.asarray(agreement, dtype=float) >= keep]
    return float(kept.max()) if len(kept) else None


def compress_sweep(model: Any, data: Any, targets: Any = None, *, method: str = "prune",
                   amounts: Sequence[float] = (0.2, 0.4, 0.6, 0.8), keep: float = 0.99,
                   explain_method: str = "saliency", rows: int | None = 100, repeats: int = 5, seed: int = 0,
                   batch_size: int | None = None, progress: Callable[[float], None] | None = None) -> CompressionSweep:
    """Compress ``model`` at each amount and compare it with the original on ``data``.

    Args:
        model: an :class:`explain.Model` (see :func:`explain.compress` for the formats).
        data: the rows (a labelled Dataset brings its labels); targets: labels that win over it.
        method: ``"prune"`` (one light model per amount) or ``"quantize"`` (one int8 model;
            ``amounts`` is ignored and reported as ``[0.0]``).
        amounts: the sparsities to try, each in [0, 1).
        keep: the agreement (share of rows with the same prediction; for a regression the
            mean absolute difference must stay at most ``keep``) an amount must reach to count.
        explain_method: the attribution method of the explanation similarity.
        rows: rows explained per comparison (see :func:`explain.compare`).
        repeats: timed passes per latency.
        seed, batch_size: as :func:`explain.compare`.
        progress: called with the fraction of amounts done.

    Returns:
        A :class:`explain.CompressionSweep`; ``.best`` is the largest amount kept.

    Raises:
        InputError: an empty or bad list of amounts, or a bad option.
        ModelFormatError: a model :func:`explain.compress` cannot compress.
    """
    model = check_model(model)
    opts = check(method=(method, OneOf(METHODS)), keep=(keep, Number(low=0, suggest=0.99)),
                 repeats=(repeats, Int(low=1, suggest=5)))
    chosen = [0.0] if opts["method"] == "quantize" else _amounts(amounts)
    base = model_size(model)
    figures: dict[str, list[float]] = {name: [] for name in ("accuracy", "agreement", "similarity", "latency",
                                                              "base_latency", "bytes", "nonzero")}
    base_accuracy = None
    for step, amount in enumerate(chosen):
        light = compress(model, method=opts["method"], amount=amount)
        found = compare(model, light, data, targets, method=explain_method, rows=rows, repeats=opts["repeats"],
                        seed=seed, batch_size=batch_size)
        size = found.size[1]
        base_accuracy = None if found.accuracy is None else found.accuracy[0]
        figures["accuracy"].append(float("nan") if found.accuracy is None else found.accuracy[1])
        figures["agreement"].append(found.agreement)
        figures["similarity"].append(found.explanation_similarity)
        figures["latency"].append(found.latency[1])
        figures["base_latency"].append(found.latency[0])
        figures["bytes"].append(size["stored_bytes"])
        figures["nonzero"].append(size["nonzero"])
        if progress is not None:
            progress((step + 1) / len(chosen))
    agreement = np.array(figures["agreement"])
    if model.task == "regression":  # agreement is a distance: smaller is closer
        kept = np.asarray(chosen)[agreement <= opts["keep"]]
        best = float(kept.max()) if len(kept) else None
    else:
        best = largest_kept(np.asarray(chosen), agreement, opts["keep"])
    return CompressionSweep(
        method=opts["method"], amounts=np.asarray(chosen, dtype=float), accuracy=np.array(figures["accuracy"]),
        agreement=agreement, explanation_similarity=np.array(figures["similarity"]),
        latency=np.array(figures["latency"]), stored_bytes=np.array(figures["bytes"], dtype=np.int64),
        nonzero=np.array(figures["nonzero"], dtype=np.int64), keep=float(opts["keep"]), best=best,
        base_accuracy=base_accuracy, base_bytes=base.stored_bytes, base_latency=np.array(figures["base_latency"]),
        params={"explain_method": explain_method, "rows": rows, "repeats": opts["repeats"], "seed": seed,
                "batch_size": batch_size})


def _amounts(amounts: Any) -> list[float]:
    try:
        values = [float(a) for a in amounts]
    except (TypeError, ValueError) as err:
        raise InputError(f"amounts must be a list of sparsities in [0, 1), got {amounts!r}; "
                         "pass e.g. amounts=[0.2, 0.4, 0.6, 0.8].") from err
    if not values or not all(0 <= a < 1 for a in values):
        raise InputError(f"amounts must be a non-empty list of sparsities in [0, 1), got {amounts!r}; "
                         "pass e.g. amounts=[0.2, 0.4, 0.6, 0.8].")
    return sorted(values)
