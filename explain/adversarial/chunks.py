"""``explain.robustness`` over a backend (Ray): the rows in chunks, the attack path of
:mod:`explain.adversarial.local` run on each chunk where the backend runs it (an actor
holding the model), and the chunk results put back together in row order.

The front door resolves everything the local run reads from the whole data (each
feature's standard deviation and range, which columns are whole numbers, an image's
range) into one plan before the split, and every chunk runs that plan, so a chunk
attacks exactly as the whole run would. Each example's attack does not depend on the
others, so the result equals the local run's (a random start is seeded per chunk).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from explain.adversarial.local import Progress, attack_rows, scores
from explain.adversarial.plan import Plan, Rows
from explain.core.model import Model
from explain.results.robustness import RobustnessResult
from explain.runtime.backends import Backend

__all__ = ["run_chunked"]

_PER_EXAMPLE = ("targets", "predictions", "min_epsilon", "inputs", "adversarial", "attribution_before",
                "attribution_after", "rank_correlation", "topk_overlap")
_PER_EPSILON = ("flipped", "adversarial_predictions")


def run_chunked(backend: Backend, model: Model, plan: Plan, rows: Rows,
                progress: Progress | None = None) -> RobustnessResult:
    """Split ``rows`` in chunks of ``plan.batch_size``, run :func:`attack_rows` on each
    where ``backend`` runs it, and merge the results."""
    step = plan.batch_size
    chunks = [(plan, rows.slice(start, min(rows.n, start + step))) for start in range(0, rows.n, step)]
    results = backend.map(model, attack_rows, chunks, progress)
    return _merge(results, plan, rows, backend.name)


def _merge(results: list[RobustnessResult], plan: Plan, rows: Rows, backend: str) -> RobustnessResult:
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
    accuracy, success = scores(fields["adversarial_predictions"], fields["predictions"], rows.labels, rows.goal,
                               fields["flipped"])
    return RobustnessResult(
        attack=plan.attack, norm=plan.norm, epsilons=plan.epsilons, accuracy=accuracy, success_rate=success,
        modality=first.modality, feature_names=plan.feature_names, class_names=first.class_names,
        params={**plan.params(), "backend": backend, "chunks": len(results)}, **fields,
    )
