"""The audit's SHAP section: SHAP values of a sample (tables against 100 background
rows; images in patches small enough for exact Shapley values), where they concentrate,
and their additivity error.

Example:
    >>> import explain
    >>> from explain.auditing.sections.shap import SECTION
    >>> model, data = explain.load_example("breast_cancer")
    >>> section = SECTION.run(model, data, rows=10)
    >>> section.metrics["shap.additivity_error"] < 1e-4, len(SECTION.figures("shap", section.results["shap"]))
    (True, 5)
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
    sample_rows,
    timed,
    top_tokens,
)
from explain.core.dataset import Dataset
from explain.core.model import Model

if TYPE_CHECKING:  # pragma: no cover
    import plotly.graph_objects as go

__all__ = ["SECTION", "shap_section", "shap_figures"]


def shap_section(model: Model, data: Dataset, *, rows: int = 100, seed: int = 0, **_: Any) -> Section:
    """SHAP values of up to ``rows`` examples (at most 50 rows of a table, 10 images or
    texts). Metric: ``shap.additivity_error``."""
    from explain.attribution.shapley import shap_values

    def run() -> Findings:
        # images and text cost a model call per coalition: fewer examples, and image
        # patches sized for at most 16 features (exact Shapley values)
        tabular = model.modality == "tabular"
        explained = sample_rows(data, min(rows, 50 if tabular else 10), seed)
        background = sample_rows(data, 100, seed + 1) if tabular else None
        patch = None
        if model.modality == "image" and data.x is not None:
            patch = int(np.ceil(min(data.x.shape[2:]) / 4))
        sv = shap_values(model, explained, background=background, seed=seed, patch=patch)
        additivity = float(np.abs(sv.delta).max())
        findings = []
        if sv.modality == "text":
            findings.append(f"SHAP: the tokens with the largest values are {top_tokens(sv)}")
        else:
            text, _share = concentration(sv, list(sv.feature_names or []))
            findings.append(f"SHAP ({sv.params['algorithm']}): {text}")
        return findings, {"shap.additivity_error": additivity}, {"shap": sv}

    return timed(SECTION, run)


def shap_figures(name: str, result: Any) -> list[go.Figure]:
    """The SHAP values' attribution figures, with a waterfall and a dependence plot."""
    return attribution_figures(result, shap=True)


SECTION = SectionSpec("shap", "SHAP values", shap_section, shap_figures)
