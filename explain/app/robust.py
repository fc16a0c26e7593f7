"""The Robustness page's work: the attack, cached per session, and its charts with their data."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from explain import plots
from explain.adversarial.front import default_epsilons
from explain.app import page, tasks
from explain.app.cache import cached
from explain.app.charts import Chart
from explain.results import RobustnessResult

__all__ = ["attack", "charts", "epsilons_text", "flipped_choices", "parse_epsilons"]


def epsilons_text(modality: str, norm: str) -> str:
    """The default attack sizes for ``modality`` and ``norm``, as the epsilons field shows them.

    Example:
        >>> epsilons_text("text", "linf")
        '0, 1, 2, 3'
    """
    return ", ".join(f"{e:g}" for e in default_epsilons(modality, norm))


def parse_epsilons(text: str) -> list[float] | None:
    """``"0, 0.01, 0.05"`` as numbers; None (and an error shown) when it does not read.

    Example:
        >>> parse_epsilons("0, 0.1,0.2")
        [0.0, 0.1, 0.2]
    """
    try:
        values = [float(v) for v in text.replace(";", ",").split(",") if v.strip()]
    except ValueError:
        values = []
    if not values or any(v < 0 or not np.isfinite(v) for v in values):
        st.error("Epsilons must be non-negative numbers separated by commas, e.g. 0, 0.01, 0.05.")
        return None
    return values


def attack(rows: Sequence[int], *, compute_now: bool, **options: Any) -> RobustnessResult | None:
    """``explain.robustness`` on ``rows`` of the dataset, from the session cache or now."""
    label = f"{options.get('attack', 'pgd').upper()} attack on {len(rows)} rows…"
    return cached("robustness", rows, label, tasks.robustness, compute=compute_now, **options)


def flipped_choices(result: RobustnessResult, rows: Sequence[int]) -> dict[str, int]:
    """Picker labels for the examples the attack flipped, smallest epsilon first."""
    order = np.argsort(np.nan_to_num(result.min_epsilon, nan=np.inf), kind="stable")
    unit = "edits" if result.norm == "edits" else "epsilon"
    return {f"row {rows[i]} ({unit} {result.min_epsilon[i]:.3g})": int(i)
            for i in order if result.min_epsilon[i] > 0}


def charts(result: RobustnessResult, rows: Sequence[int], index: int | None) -> list[Chart]:
    """The accuracy curve, the minimal-epsilon histogram, the chosen example and how far
    explanations moved."""
    rows = [int(r) for r in rows]
    out = [Chart("robustness_curve", plots.robustness_curve(result), result.curve, result)]
    table = pd.DataFrame({"row": rows, "true": result.targets, "predicted": result.predictions,
                          "min_epsilon": result.min_epsilon})
    if result.rank_correlation is not None:
        table["rank_correlation"] = result.rank_correlation
        table["topk_overlap"] = result.topk_overlap
    out.append(Chart("robustness_min_epsilon", plots.min_epsilon_histogram(result), table, result))
    if index is not None:
        ok, fig = page.guarded(plots.adversarial_example, result, index)
        if ok:
            fig.update_layout(title=(fig.layout.title.text or "").replace(f"Example {index}", f"Row {rows[index]}", 1))
            out.append(Chart(f"robustness_row{rows[index]}", fig, _example_table(result, index, rows[index]), result))
    if result.rank_correlation is not None and np.isfinite(result.rank_correlation).any():
        out.append(Chart("robustness_explanation_shift", plots.explanation_shift(result),
                         table[np.isfinite(table["rank_correlation"])], result))
    return out


def _example_table(result: RobustnessResult, index: int, row: int) -> pd.DataFrame:
    if result.modality == "text":
        return pd.DataFrame({"row": [row], "text": [result.texts[index]],
                             "attacked": [result.adversarial_texts[index]],
                             "edits": [result.min_epsilon[index]]})
    x, adv = result.inputs[index].ravel(), result.adversarial[index].ravel()
    names = list(result.feature_names or []) if result.modality == "tabular" else []
    if len(names) != x.size:
        names = [f"x{j}" for j in range(x.size)]
    return pd.DataFrame({"row": row, "feature": names, "original": x, "adversarial": adv, "change": adv - x})
