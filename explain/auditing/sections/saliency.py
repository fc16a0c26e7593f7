"""The audit's saliency section: one attribution method on a sample of the examples
(integrated gradients where the model has gradients, else feature ablation), where it
concentrates, its completeness error, and for tables the global importance over the
whole dataset (streamed).

Example:
    >>> import explain
    >>> from explain.auditing.sections.saliency import SECTION
    >>> model, data = explain.load_example("breast_cancer")
    >>> section = SECTION.run(model, data, rows=10)
    >>> sorted(section.results), len(SECTION.figures("importance", section.results["importance"]))
    (['attribution', 'importance'], 1)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from explain.auditing.common import (
    Findings,
    Section,
    SectionSpec,
    attribution_figures,
    concentration,
    pct,
    sample_rows,
    timed,
    top_tokens,
)
from explain.core.dataset import Dataset
from explain.core.model import Model

if TYPE_CHECKING:  # pragma: no cover
    import plotly.graph_objects as go

__all__ = ["SECTION", "saliency_section", "saliency_figures", "GLOBAL_ROWS"]

# tables: the global importance runs over every row up to this many (it streams)
GLOBAL_ROWS = 200_000


def saliency_section(model: Model, data: Dataset, *, rows: int = 100, seed: int = 0,
                     saliency_method: str | None = None, backend: Any = None, **_: Any) -> Section:
    """Explain ``rows`` sampled examples with ``saliency_method`` (default: integrated
    gradients, else feature ablation). Metrics: ``saliency.top_share`` (not for text),
    ``saliency.completeness_error`` where the method has one, ``saliency.global_top_share``
    (tables, over up to :data:`GLOBAL_ROWS` rows, on Ray with ``backend="ray"``)."""
    from explain.attribution.attributions import attribute, methods
    from explain.attribution.streaming import global_importance

    def run() -> Findings:
        served = methods(model)
        method = saliency_method or next(m for m in ("integrated_gradients", "feature_ablation") if m in served)
        attr = attribute(model, sample_rows(data, rows, seed), method=method, seed=seed)
        findings, metrics = [], {}
        if attr.modality == "text":
            findings.append(f"{method}: the tokens with the largest attributions are {top_tokens(attr)}")
        else:
            text, share = concentration(attr, list(attr.feature_names or []))
            findings.append(f"{method}: {text}")
            metrics["saliency.top_share"] = share
        if attr.delta is not None:
            scale = float(np.abs(attr.outputs - attr.base_values).mean()) or 1.0
            error = float(np.abs(attr.delta).max() / scale)
            metrics["saliency.completeness_error"] = error
            findings.append(f"{method}: completeness holds to {pct(error)} of the output change (worst example)")
        results: dict[str, Any] = {"attribution": attr}
        if attr.modality == "tabular":  # the whole dataset, streamed (on Ray with backend="ray")
            whole = sample_rows(data, GLOBAL_ROWS, seed)
            importance = global_importance(model, whole, method=method, seed=seed, backend=backend)
            top = importance.mean_abs.argsort()[::-1][:3]
            share = float(importance.mean_abs[top].sum() / (importance.mean_abs.sum() or 1.0))
            names = importance.names()
            findings.append(f"over all {importance.n:,} rows, the top three features carry {pct(share)} of the "
                            f"{method} attribution ({', '.join(names[j] for j in top)})")
            metrics["saliency.global_top_share"] = share
            results["importance"] = importance
        return findings, metrics, results

    return timed(SECTION, run)


def saliency_figures(name: str, result: Any) -> list[go.Figure]:
    """``attribution``: :func:`~explain.auditing.common.attribution_figures`;
    ``importance`` (the global importance): its bars."""
    from explain import plots

    if name == "importance":
        return [plots.importance_bars(result)]
    return attribution_figures(result)


SECTION = SectionSpec("saliency", "Saliency", saliency_section, saliency_figures)
