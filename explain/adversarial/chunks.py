"""``explain.robustness`` over a backend (Ray): the rows in chunks, one call per chunk on
an actor holding the model, and the chunk results put back together in row order.

Whatever the local run reads from the whole data (each feature's standard deviation and
range, which columns are whole numbers, an image's range) is resolved here first and
passed to every chunk explicitly, so a chunk attacks exactly as the whole run would. Each
example's attack does not depend on the others, so the result equals the local run's.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import torch

from explain.adversarial.attacks import build_space
from explain.core.batch import Batch
from explain.core.dataset import Dataset
from explain.core.model import Model
from explain.results.robustness import RobustnessResult
from explain.runtime.backends import Backend

__all__ = ["run_chunked"]

_PER_EXAMPLE = ("targets", "predictions", "min_epsilon", "inputs", "adversarial", "attribution_before",
                "attribution_after", "rank_correlation", "topk_overlap")
_PER_EPSILON = ("flipped", "adversarial_predictions")


def run_chunked(backend: Backend, model: Model, inputs: Any, batch: Batch, labels: np.ndarray,
                goal: np.ndarray | None, options: dict[str, Any], chunk: int,
                progress: Any) -> RobustnessResult:
    """Split, run each chunk with ``explain.robustness`` where the backend runs it, merge."""
    options = dict(options)
    n = batch.n
    if model.modality == "text":
        raw: Any = list(inputs.texts) if isinstance(inputs, Dataset) else list(inputs)
    else:
        raw = batch.x.cpu().numpy()
        options.update(_resolved_space(model, batch, options))
    parts = []
    for start in range(0, n, chunk):
        stop = min(n, start + chunk)
        parts.append((raw[start:stop], labels[start:stop], None if goal is None else goal[start:stop], options))
    results = backend.map(model, _one_chunk, parts, progress)
    return _merge(results, labels, goal, backend.name)


def _resolved_space(model: Model, batch: Batch, options: dict[str, Any]) -> dict[str, Any]:
    names = model.feature_names
    space = build_space(model, batch.x.cpu(), bounds=options.get("bounds"), scale=options.get("scale", "std"),
                        immutable=options.get("immutable"), integer=options.get("integer", "auto"),
                        one_hot=options.get("one_hot"), names=names)
    resolved: dict[str, Any] = {"bounds": (space.lower[0].numpy(), space.upper[0].numpy())}
    if model.modality == "tabular":
        resolved["scale"] = space.scale[0].numpy()
        resolved["immutable"] = [int(j) for j in torch.nonzero(space.mask[0] == 0).flatten()]
        resolved["integer"] = [int(j) for j in torch.nonzero(space.integer).flatten()] if space.integer is not None else None
        resolved["one_hot"] = [list(g) for g in space.one_hot] or None
        resolved["scale_name"] = options.get("scale", "std")
    return resolved


def _one_chunk(model: Model, raw: Any, labels: np.ndarray, goal: np.ndarray | None,
               options: dict[str, Any]) -> RobustnessResult:
    from explain.adversarial.front import robustness

    options = dict(options)
    scale_name = options.pop("scale_name", None)
    result = robustness(model, raw, labels, target_class=goal, **options)
    if scale_name is None:
        return result
    # the chunk saw an array; say what the user asked for
    return dataclasses.replace(result, params={**result.params, "scale": scale_name})


def _merge(results: list[RobustnessResult], labels: np.ndarray, goal: np.ndarray | None,
           backend: str) -> RobustnessResult:
    first = results[0]
    fields: dict[str, Any] = {}
    for name in _PER_EXAMPLE:
        parts = [getattr(r, name) for r in results]
        fields[name] = None if any(p is None for p in parts) else np.concatenate(parts, axis=0)
    for name in _PER_EPSILON:
        fields[name] = np.concatenate([getattr(r, name) for r in results], axis=1)
    for name in ("texts", "adversarial_texts", "changed"):
        parts = [getattr(r, name) for r in results]
        fields[name] = None if any(p is None for p in parts) else tuple(x for p in parts for x in p)
    clean = fields["predictions"]
    accuracy = (fields["adversarial_predictions"] == labels[None, :]).mean(axis=1)
    base = (clean == labels).sum() if goal is None else (clean != goal).sum()
    success = fields["flipped"].sum(axis=1) / max(int(base), 1)
    params = {**first.params, "backend": backend, "chunks": len(results)}
    return RobustnessResult(
        attack=first.attack, norm=first.norm, epsilons=first.epsilons, accuracy=accuracy, success_rate=success,
        modality=first.modality, feature_names=first.feature_names, class_names=first.class_names,
        params=params, **fields,
    )
