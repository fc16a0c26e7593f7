"""The Fairness page's work: the sensitive columns and the favourable class, the verdict,
the groups as a table (intervals, small groups marked, undefined rates as "—" with the
notes), one figure per group with its interval, the disparities against chance, the data
balance, what the model leans on in each group, the flip probe and the per-group threshold
preview. Computations go through :mod:`explain.app.compute` (cached, with progress and
Cancel); every figure comes with its downloads."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from explain import plots
from explain.app import cache, charts, choices, compute
from explain.app.charts import Chart
from explain.app.persist import kept
from explain.app.remote import SessionModel
from explain.core.dataset import Dataset
from explain.results import Fairness
from explain.results.fairness import SHARES

__all__ = ["assessment", "group_frame", "disparity_frame", "show_verdict", "show_groups", "show_disparities",
           "show_balance", "show_importance", "show_flips", "show_mitigation", "NO_COLUMNS"]

DASH = "—"
NO_COLUMNS = ("This dataset has no column to make groups of: load it again on Home with the sensitive column "
              "(e.g. sex or region) as metadata, or use a feature with few values.")
def assessment(model: SessionModel, data: Dataset) -> Fairness | None:
    """The sensitive columns, the favourable class (more than two classes) and the Run
    button; the result from the cache or run now (None before a column is chosen)."""
    options = choices.sensitive_columns(data)
    if not options:
        st.info(NO_COLUMNS)
        st.stop()  # nothing to choose, so no Run button and nothing more to say
    left, right = st.columns([2, 1])
    columns = kept(left.multiselect, "Sensitive columns", key="fair.columns", default=[], options=options,
                   placeholder="choose one or more (several make intersectional groups)",
                   help="Metadata columns first (the model does not see them), then features with few values.")
    classes = choices.favourable_classes(model)
    positive = kept(right.selectbox, "Favourable class", key="fair.positive", default=classes[-1], options=classes,
                    help="The decision that benefits a person, e.g. a loan granted.") if classes else None
    run = cache.run_button(name="fairness")
    if not columns:
        if run:
            st.warning("Choose at least one sensitive column first.")
        return None
    return compute.fairness(compute=run, sensitive=list(columns), positive=positive)


def _cell(value: float, low: float | None, high: float | None, share: bool) -> str:
    if not np.isfinite(value):
        return DASH
    shown = (lambda v: f"{100 * v:.1f}%") if share else (lambda v: f"{v:.3g}")
    if low is None or high is None or not (np.isfinite(low) and np.isfinite(high)):
        return shown(value)
    return f"{shown(value)} ({shown(low)}–{shown(high)})"


def group_frame(result: Fairness) -> pd.DataFrame:
    """One row per group as text: the rows, each figure with its interval (``—`` where
    undefined), and whether the group is too small to judge.

    Example:
        >>> import numpy as np, pandas as pd, torch, explain
        >>> model = explain.Model(torch.nn.Identity(), modality="tabular", input_shape=(2,))
        >>> logits = np.array([[0.0, 1.0]] * 30 + [[1.0, 0.0]] * 10)
        >>> data = explain.Dataset(logits, np.array([1] * 30 + [0] * 10),
        ...                        metadata=pd.DataFrame({"g": ["a"] * 30 + ["b"] * 10}))
        >>> frame = group_frame(explain.fairness(model, data, sensitive="g", bootstrap=0))
        >>> frame[["group", "rows", "selection_rate", "tpr", "small"]].values.tolist()
        [['a', 30, '100.0%', '100.0%', ''], ['b', 10, '0.0%', '—', 'too few to judge']]
    """
    frame = pd.DataFrame({"group": list(result.groups), "rows": result.counts["count"].astype(int)})
    for name, values in result.metrics.items():
        bounds = result.intervals.get(name)
        frame[name] = [_cell(float(v), *(bounds[g] if bounds is not None else (None, None)), name in SHARES)
                       for g, v in enumerate(values)]
    frame["small"] = ["too few to judge" if s else "" for s in result.small]
    return frame


def disparity_frame(result: Fairness) -> pd.DataFrame:
    """Each disparity: its value (``—`` where undefined), the groups at either end, the
    p-value against chance and the verdict."""
    rows = []
    for name, value in result.disparities.items():
        p = result.p_values.get(name, float("nan"))
        hi, lo = result.extremes.get(name, ("", ""))
        rows.append({"disparity": name, "value": f"{value:.3g}" if np.isfinite(value) else DASH,
                     "between": f"{hi} and {lo}" if hi and hi != lo else DASH,
                     "p_value": f"{p:.2g}" if np.isfinite(p) else DASH,
                     "chance": DASH if not np.isfinite(p) else "beyond" if p < result.alpha else "within",
                     "test": result.tests.get(name, "") or DASH})
    return pd.DataFrame(rows)


def show_verdict(result: Fairness) -> None:
    """The verdict first: whether the headline gap is beyond what chance allows."""
    key = "mae_gap" if result.task == "regression" else "demographic_parity_difference"
    beyond = result.beyond_chance.get(key)
    st.badge("Beyond chance" if beyond else "Within chance" if beyond is not None else "Not tested",
             color="red" if beyond else "green" if beyond is not None else "gray",
             icon=":material/balance:")
    st.text(result.verdict()[0].upper() + result.verdict()[1:] + ".")  # plain text: it quotes group names
    if result.mapping:
        st.info(f"The model names no classes, so its {result.mapping}.")


def show_groups(result: Fairness) -> None:
    """The group table, its notes, and one figure per group (with its interval) as bars."""
    frame = group_frame(result)
    st.dataframe(frame, width="stretch", hide_index=True)
    positive = f" The favourable class is {result.positive!r}." if result.positive is not None else ""
    st.caption(f"95% bootstrap intervals in brackets; {DASH} where a rate has nothing to divide by.{positive}")
    for note in result.notes:
        st.caption(f"Note: {note}.")
    names = list(result.metrics)
    metric = kept(st.selectbox, "Figure per group", key="fair.metric", default=names[0], options=names)
    charts.show(Chart(f"group_bars_{metric}", plots.group_bars(result, metric), frame, result), "fair-bars")


def show_disparities(result: Fairness) -> None:
    """The disparities with their p-values and whether chance explains them."""
    st.dataframe(disparity_frame(result), width="stretch", hide_index=True)
    st.caption(f"Beyond chance: p below {result.alpha:g} (two extreme groups, Bonferroni over the pairs).")


def show_balance(sensitive: list[str]) -> None:
    """Group sizes and labels, and the largest standardised mean differences."""
    balance = compute.data_balance(sensitive)
    if balance is None:
        return
    st.text(balance.sentence()[0].upper() + balance.sentence()[1:] + ".")
    st.dataframe(balance.by_group.reset_index().style.format(precision=3), width="stretch", hide_index=True)
    if balance.features:
        charts.show(Chart("data_balance", plots.balance_bars(balance), balance.smd_table.reset_index(), balance),
                    "fair-balance")


def show_importance(model: SessionModel, sensitive: list[str]) -> None:
    """What the model leans on in each group (starts by itself; Cancel, then a button)."""
    methods = choices.methods(model)
    if not methods:
        st.info("No attribution method serves this model, so what it leans on cannot be measured.")
        return
    method = kept(st.selectbox, "Attribution method", key="fair.method",
                  default="saliency" if "saliency" in methods else methods[0], options=methods,
                  help=f"Mean |attribution| over at most {compute.GROUP_ROWS:,} rows of each group.")
    found = compute.group_importance(sensitive, method) if cache.auto_run("group_importance", "Compare") else None
    if found is not None:
        st.text(found.sentence()[0].upper() + found.sentence()[1:] + ".")
        charts.show(Chart("group_importance", plots.group_importance(found), found.frame().reset_index(), found),
                    "fair-importance")


def show_flips(result: Fairness) -> None:
    """How many decisions change when only the sensitive input does, and a few of them."""
    probe: Any = result.flips
    st.text(probe.sentence()[0].upper() + probe.sentence()[1:] + ".")
    if len(probe.example_rows):
        st.dataframe(probe.examples, width="stretch", hide_index=True)


def show_mitigation(result: Fairness) -> None:
    """Each threshold preview: its sentence and the groups' rates before and after."""
    st.caption("A preview, not a fix: per-group thresholds on the favourable class's probability that bring "
               "one rate of every group to the rate of all rows.")
    for preview in result.mitigation:
        st.text(preview.sentence()[0].upper() + preview.sentence()[1:] + ".")
    charts.pairs([Chart(f"thresholds_{p.criterion}", plots.threshold_preview(p), p.table.reset_index(), p)
                  for p in result.mitigation], "fair-preview")
