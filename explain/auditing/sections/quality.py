"""The audit's explanation-quality section: is the saliency method faithful, does it pass
the randomisation check, and does a contrasting method agree with it?

Example:
    >>> import torch, explain
    >>> from explain.auditing.sections.quality import quality_section
    >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
    <torch._C.Generator object at ...>
    >>> net = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    >>> model = explain.Model(net, task="classification")
    >>> data = explain.Dataset(torch.randn(30, 3).numpy(), [0, 1] * 15)
    >>> section = quality_section(model, data, rows=20)
    >>> section.status, sorted(section.metrics)[:3]
    ('ok', ['quality.agreement', 'quality.deletion_auc', 'quality.infidelity'])
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from explain.auditing.common import Findings, Section, SectionSpec, pct, sample_rows, timed
from explain.core.dataset import Dataset
from explain.core.model import Model

if TYPE_CHECKING:  # pragma: no cover
    import plotly.graph_objects as go

__all__ = ["SECTION", "quality_section", "quality_figures"]


def _contrast(model: Model, served: list[str], main: str) -> str | None:
    """A cheap second method to compare with: guided backprop on images (the classic
    method that fails the randomisation check), plain gradients elsewhere."""
    wanted = ("guided_backprop", "saliency") if model.modality == "image" else ("saliency",)
    return next((m for m in wanted if m in served and m != main), None)


def _agreement_text(names: tuple[str, ...], rho: float, overlap: float, k: int, unit: str) -> str:
    strength = "strongly" if rho >= 0.7 else "moderately" if rho >= 0.4 else "weakly"
    a, b = (n.replace("_", " ") for n in names[:2])
    return (f"{a} and {b} agree {strength}: rank correlation {rho:.2f}, "
            f"{pct(overlap)} of their top-{k} {unit} in common")


def quality_section(model: Model, data: Dataset, *, rows: int = 100, seed: int = 0,
                    saliency_method: str | None = None, **_: Any) -> Section:
    """Explanation quality: deletion / insertion against random orderings, the
    randomisation check, and agreement with a contrasting method.

    The main method is the saliency section's (integrated gradients where the model has
    gradients, else feature ablation, or ``saliency_method``); the contrast is guided
    backprop for images (plain gradients when it cannot serve) and plain gradients for
    tables and text, where the model has gradients. Faithfulness uses up to 50
    examples (20 for text), the randomisation check up to 16 (8 for text) with at most
    8 cascade steps.

    Metrics (of the main method): ``quality.deletion_auc``, ``quality.random_deletion_auc``,
    ``quality.insertion_auc``, ``quality.random_insertion_auc``, ``quality.sanity_passed``
    (1.0 or 0.0), ``quality.sanity_similarity`` (Spearman after the last step),
    ``quality.infidelity`` and ``quality.sensitivity`` where measured, and
    ``quality.agreement`` (rank correlation with the contrast).
    """
    from explain.attribution.attributions import attribute, methods
    from explain.quality.measures import agreement, evaluate, sanity_check, verdict

    def run() -> Findings:
        served = methods(model)
        main = saliency_method or next(m for m in ("integrated_gradients", "feature_ablation") if m in served)
        text = model.modality == "text"
        explained = sample_rows(data, min(rows, 20 if text else 50), seed)
        checked = explained[: min(len(explained), 8 if text else 16)]
        findings: list[str] = []
        metrics: dict[str, float] = {}
        results: dict[str, Any] = {}
        attrs = []
        for method in (main, _contrast(model, served, main)):
            if method is None:
                continue
            attr = attribute(model, explained, method=method, seed=seed)
            q = evaluate(model, explained, attr, seed=seed, sensitivity_samples=3 if method == main else 0)
            sc = sanity_check(model, checked, method=method, layers=8, seed=seed)
            findings.append(verdict(q, sc)[0])
            results[f"quality.{method}"], results[f"sanity.{method}"] = q, sc
            attrs.append(attr)
            if method == main:
                metrics.update({
                    "quality.deletion_auc": q.deletion_auc,
                    "quality.random_deletion_auc": q.random_deletion_auc,
                    "quality.insertion_auc": q.insertion_auc,
                    "quality.random_insertion_auc": q.random_insertion_auc,
                    "quality.sanity_passed": 1.0 if sc.passed else 0.0,
                    "quality.sanity_similarity": sc.final_similarity,
                })
                for name in ("infidelity", "sensitivity"):
                    value = getattr(q, name)
                    if value is not None and np.isfinite(value):
                        metrics[f"quality.{name}"] = float(value)
        if len(attrs) > 1:
            ag = agreement(attrs)
            results["agreement"] = ag
            metrics["quality.agreement"] = ag.mean_rank_correlation
            unit = results[f"quality.{main}"].units
            findings.append(_agreement_text(ag.methods, ag.mean_rank_correlation, ag.mean_top_k_overlap,
                                            ag.k, unit))
        return findings, metrics, results

    return timed(SECTION, run)


def quality_figures(name: str, result: Any) -> list[go.Figure]:
    """A Quality's deletion and insertion curves, a SanityCheck's cascade (maps and
    similarity), an Agreement's heatmap."""
    from explain import plots
    from explain.results import Agreement, Quality, SanityCheck

    if isinstance(result, Quality):
        return [plots.deletion_insertion(result)]
    if isinstance(result, SanityCheck):
        return [plots.cascade_maps(result, 0), plots.cascade_similarity(result)]
    if isinstance(result, Agreement):
        return [plots.agreement_heatmap(result)]
    return []


SECTION = SectionSpec("quality", "Explanation quality", quality_section, quality_figures)
