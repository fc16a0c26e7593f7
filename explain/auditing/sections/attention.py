"""The audit's attention section (transformers): how much of the first token's attention
rests on special tokens after rollout, with the attention grid and rollout of the first
text.

Example:
    >>> import explain
    >>> from explain.auditing.sections.attention import SECTION
    >>> model, data = explain.load_example("breast_cancer")
    >>> SECTION.run(model, data).status
    'skipped'
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from explain.auditing.common import Findings, Section, SectionSpec, pct, sample_rows, timed
from explain.core.dataset import Dataset
from explain.core.model import Model

if TYPE_CHECKING:  # pragma: no cover
    import plotly.graph_objects as go

__all__ = ["SECTION", "attention_section", "attention_figures"]


def attention_section(model: Model, data: Dataset, *, rows: int = 100, seed: int = 0, **_: Any) -> Section:
    """Attention maps of up to 20 sampled texts. Metric: ``attention.special_share``."""
    from explain.attribution.attention_maps import attention as attention_maps

    def run() -> Findings:
        maps = attention_maps(model, sample_rows(data, min(rows, 20), seed))
        layers, heads = maps.weights.shape[1:3]
        special = []
        for i, tokens in enumerate(maps.tokens):
            flags = np.array([t.startswith("[") and t.endswith("]") for t in tokens])
            rollout = maps.rollout(i)[0]
            special.append(float(rollout[flags].sum()))
        share = float(np.mean(special))
        findings = [f"{layers} layers x {heads} heads; after rollout, {pct(share)} of the first token's "
                    "attention rests on special tokens ([CLS], [SEP], ...)"]
        return findings, {"attention.special_share": share}, {"attention": maps}

    return timed(SECTION, run)


def attention_figures(name: str, maps: Any) -> list[go.Figure]:
    """The first text's attention grid, its rollout, and its class relevance where the
    maps hold gradients."""
    from explain import plots

    figures = [plots.attention_grid(maps, 0), plots.attention_scores(maps, 0, kind="rollout")]
    if maps.gradients is not None:
        figures.append(plots.attention_scores(maps, 0, kind="relevance"))
    return figures


SECTION = SectionSpec("attention", "Attention", attention_section, attention_figures)
