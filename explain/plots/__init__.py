"""The plot layer: pure functions from a result to a ``plotly.graph_objects.Figure``.

Plots never run a model: they only read the arrays a result holds.

Example:
    >>> import numpy as np
    >>> from explain.results import Attribution
    >>> from explain import plots
    >>> a = Attribution(values=np.array([[0.2, -0.7]]), method="saliency",
    ...                 target=np.array([0]), modality="tabular")
    >>> fig = plots.plot(a)
    >>> fig.data[0].type
    'bar'
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from explain.errors import InputError
from explain.plots.attention import attention_grid, attention_head, attention_scores
from explain.plots.cohorts import cohort_bars, cohort_drivers, cohort_table, error_heatmap, error_tree
from explain.plots.comparison import class_deltas, row_side_by_side, similarity_histogram, sweep_curves
from explain.plots.contributions import dependence, strongest_interaction, waterfall
from explain.plots.effects import ale_curves, pdp_curves, pdp_heatmap
from explain.plots.fairness import balance_bars, group_bars, group_importance, threshold_preview
from explain.plots.image import image_heatmap
from explain.plots.importance import importance_bars, importance_map
from explain.plots.performance import (
    confusion_matrix,
    pr_curve,
    residuals,
    roc_curve,
    slice_metrics,
    threshold_curve,
)
from explain.plots.quality import (
    agreement_heatmap,
    cascade_maps,
    cascade_similarity,
    deletion_insertion,
)
from explain.plots.recourse import counterfactual_changes, counterfactual_table
from explain.plots.recourse_media import counterfactual_difference, counterfactual_edits
from explain.plots.robustness import (
    adversarial_example,
    explanation_shift,
    min_epsilon_histogram,
    robustness_curve,
)
from explain.plots.tabular import beeswarm, feature_bars, global_importance
from explain.plots.text import token_strip
from explain.plots.uncertainty import (
    confidence_histogram,
    entropy_by_correctness,
    prediction_intervals,
    reliability_diagram,
    risk_coverage_curve,
    set_size_distribution,
    temperature_comparison,
)

if TYPE_CHECKING:  # pragma: no cover
    import plotly.graph_objects as go

    from explain.results import Attribution

__all__ = [
    "plot",
    "confusion_matrix",
    "roc_curve",
    "pr_curve",
    "threshold_curve",
    "residuals",
    "slice_metrics",
    "cohort_bars",
    "cohort_table",
    "error_tree",
    "error_heatmap",
    "cohort_drivers",
    "group_bars",
    "group_importance",
    "threshold_preview",
    "balance_bars",
    "deletion_insertion",
    "cascade_maps",
    "cascade_similarity",
    "agreement_heatmap",
    "feature_bars",
    "global_importance",
    "importance_bars",
    "importance_map",
    "beeswarm",
    "image_heatmap",
    "token_strip",
    "waterfall",
    "dependence",
    "strongest_interaction",
    "attention_grid",
    "attention_head",
    "attention_scores",
    "robustness_curve",
    "min_epsilon_histogram",
    "adversarial_example",
    "explanation_shift",
    "reliability_diagram",
    "temperature_comparison",
    "confidence_histogram",
    "entropy_by_correctness",
    "set_size_distribution",
    "risk_coverage_curve",
    "prediction_intervals",
    "pdp_curves",
    "pdp_heatmap",
    "ale_curves",
    "counterfactual_table",
    "counterfactual_changes",
    "counterfactual_difference",
    "counterfactual_edits",
    "sweep_curves",
    "class_deltas",
    "similarity_histogram",
    "row_side_by_side",
]


def plot(attr: Attribution, index: int | None = None, **options: Any) -> go.Figure:
    """The natural plot of a result, chosen by its modality.

    Tabular: :func:`feature_bars` of example ``index`` (or of the only row), else a
    :func:`beeswarm` of all rows. Image: :func:`image_heatmap` of example ``index``
    (default 0). Text: :func:`token_strip` of example ``index``, or of the first
    examples when ``index`` is None.

    Args:
        attr: an Attribution.
        index: the example to show, or None.
        **options: passed to the chosen plot function.

    Returns:
        The figure.

    Raises:
        InputError: the result's modality is not tabular, image or text.

    Example:
        >>> import numpy as np
        >>> from explain.results import Attribution
        >>> a = Attribution(values=np.zeros((5, 2)), method="saliency",
        ...                 target=np.zeros(5, dtype=int), modality="tabular")
        >>> len(plot(a).data), plot(a, index=1).data[0].type
        (2, 'bar')
    """
    if attr.modality == "tabular":
        if index is not None or len(attr) == 1:
            return feature_bars(attr, 0 if index is None else index, **options)
        return beeswarm(attr, **options)
    if attr.modality == "image":
        return image_heatmap(attr, index or 0, **options)
    if attr.modality == "text":
        return token_strip(attr, indices=None if index is None else [index], **options)
    raise InputError(
        f"cannot plot modality {attr.modality!r}: expected 'tabular', 'image' or 'text'; "
        f"build the Attribution with one of these modalities, or call a plot function "
        f"from explain.plots directly."
    )
