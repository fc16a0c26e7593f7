"""The robustness section of an audit: PGD at a grid of sizes, the smallest flipping size
per example, and whether explanations follow the decision when it flips."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from explain.auditing.common import Findings, Section, SectionSpec, sample_rows, timed
from explain.core.dataset import Dataset
from explain.core.model import Model
from explain.errors import ExplainError

if TYPE_CHECKING:  # pragma: no cover
    import plotly.graph_objects as go

__all__ = ["SECTION", "robustness_section", "robustness_figures"]

# examples attacked: text attacks cost a search per example, images a PGD per size
_ROWS = {"tabular": 200, "image": 100, "text": 20}


def robustness_section(model: Model, data: Dataset, *, rows: int = 100, seed: int = 0,
                       epsilons: list[float] | None = None, attack: str = "pgd", norm: str = "linf",
                       backend: Any = None, **_: Any) -> Section:
    """Attack a sample of ``data`` and summarise how far accuracy falls.

    Metrics: ``robustness.clean_accuracy``, ``robustness.accuracy@<eps>`` for each size,
    ``robustness.median_min_epsilon`` (over examples the model got right; examples that
    never flipped count as the largest size), and
    ``robustness.explanation_rank_correlation`` (median over flipped examples).
    """
    from explain.adversarial.front import robustness

    def run() -> Findings:
        if model.task != "classification":
            raise ExplainError("Robustness is measured for classifiers (label flips); this model is a regression.")
        attacked = sample_rows(data, min(max(rows, 1) * 2, _ROWS[model.modality]), seed)
        result = robustness(model, attacked, attack="text" if model.modality == "text" else attack,
                            norm=norm, epsilons=epsilons, seed=seed, backend=backend)
        metrics = {"robustness.clean_accuracy": float(result.accuracy[0])}
        for eps, acc in zip(result.epsilons, result.accuracy):
            metrics[f"robustness.accuracy@{eps:g}"] = float(acc)
        findings = [result.verdict()]
        sizes = result.min_epsilon[result.min_epsilon != 0]
        if sizes.size:
            held = np.where(np.isnan(sizes), result.epsilons.max(), sizes)
            median = float(np.median(held))
            metrics["robustness.median_min_epsilon"] = median
            size = f"{median:g} token edits" if result.norm == "edits" else f"epsilon {median:.3g}"
            share = float(np.isnan(sizes).mean())
            findings.append(f"half of the correctly classified examples flip by {size}; "
                            f"{share:.0%} held up to the largest size")
        if result.rank_correlation is not None and np.isfinite(result.rank_correlation).any():
            rho = result.rank_correlation[np.isfinite(result.rank_correlation)]
            metrics["robustness.explanation_rank_correlation"] = float(np.median(rho))
            still = int((rho > 0.8).sum())
            method = result.params.get("explain_method")
            if still:
                findings.append(f"{still} of {rho.size} flipped examples kept nearly the same {method} "
                                "explanation (rank correlation above 0.8) although the label flipped: "
                                "the explanation cannot tell these decisions apart")
            else:
                findings.append(f"the {method} explanation moved with every flip (median rank "
                                f"correlation {np.median(rho):.2f} before vs after)")
        return findings, metrics, {"robustness": result}

    return timed(SECTION, run)


def robustness_figures(name: str, result: Any) -> list[go.Figure]:
    """The accuracy curve, the smallest flipping sizes, the first flipped example, and
    the explanations' shift where they were compared."""
    from explain import plots

    figures = [plots.robustness_curve(result), plots.min_epsilon_histogram(result)]
    flipped = np.flatnonzero(result.min_epsilon > 0)
    if flipped.size:
        figures.append(plots.adversarial_example(result, int(flipped[0])))
    if result.rank_correlation is not None and np.isfinite(result.rank_correlation).any():
        figures.append(plots.explanation_shift(result))
    return figures


SECTION = SectionSpec("robustness", "Adversarial robustness", robustness_section, robustness_figures)
