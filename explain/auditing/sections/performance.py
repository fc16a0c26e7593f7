"""The audit's performance section: accuracy (classifiers) or R² and mean absolute error
(regression) on the labelled dataset, scored by :func:`explain.diagnostics.scoring.score`
(the one scoring path the app and the CLI use too). It draws no figures.

Example:
    >>> import explain
    >>> from explain.auditing.sections.performance import performance_section
    >>> model, data = explain.load_example("diabetes")
    >>> section = performance_section(model, data)
    >>> section.status, section.metrics["r2"] > 0.4
    ('ok', True)
"""

from __future__ import annotations

from typing import Any

from explain.auditing.common import Findings, Section, SectionSpec, pct, timed
from explain.core.dataset import Dataset
from explain.core.model import Model
from explain.errors import ExplainError

__all__ = ["SECTION", "performance_section"]


def performance_section(model: Model, data: Dataset, **_: Any) -> Section:
    """Score ``model`` on every labelled row of ``data``; metrics are the score's
    (``accuracy``, ``balanced_accuracy``, ... or ``r2``, ``mae``, ...)."""
    from explain.diagnostics.scoring import score

    def run() -> Findings:
        if data.y is None:
            raise ExplainError("The dataset has no labels, so accuracy cannot be measured; load it with target=...")
        result = score(model, data)
        if result.name == "Accuracy":
            findings = [f"accuracy {pct(result.value)} on {len(data)} labelled examples"]
        else:
            findings = [f"R² {result.value:.2f}, mean absolute error {result.metrics['mae']:.3g} "
                        f"on {len(data)} labelled examples"]
        if result.mapping:
            findings.append(f"{result.mapping}, since the model names no classes; give it class names "
                            "(load_model(..., class_names=[...])) if it was trained otherwise")
        return findings, dict(result.metrics), {}

    return timed(SECTION, run)


SECTION = SectionSpec("performance", "Performance", performance_section)
