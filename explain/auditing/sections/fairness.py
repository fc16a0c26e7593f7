"""The audit's fairness section: how the model treats the groups the user names
(``audit(..., sensitive=["sex"])``): group metrics and disparities with their tests against
chance (:func:`explain.fairness`), how balanced the data are (:func:`explain.data_balance`),
what the model leans on in each group (:func:`explain.group_importance`), the flip probe
when the attribute is an input, and the per-group threshold preview.

Without ``sensitive`` the section is skipped and says how to name the columns. The
findings say it in words (:mod:`explain.auditing.fairness_text`); the figures are the
Fairness page's; the JSON keeps the group table, the disparities, their p-values and the
notes, not one entry per row.

Example:
    >>> import explain
    >>> from explain.auditing.sections.fairness import SECTION
    >>> model, data = explain.load_example("breast_cancer")
    >>> skipped = SECTION.run(model, data)
    >>> skipped.status, skipped.reason.split(";")[0]
    ('skipped', 'no sensitive columns were named')
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from explain.auditing import fairness_text as text
from explain.auditing.common import Findings, Section, SectionSpec, plain_export, sample_rows, timed
from explain.core.dataset import Dataset
from explain.core.model import Model
from explain.errors import ExplainError

if TYPE_CHECKING:  # pragma: no cover
    import plotly.graph_objects as go

__all__ = ["SECTION", "fairness_section", "fairness_figures", "fairness_export", "MEASURED_ROWS",
           "IMPORTANCE_ROWS", "GATES"]

MEASURED_ROWS = 200_000
"""The section measures the model on at most this many rows (drawn with the audit's seed)."""

IMPORTANCE_ROWS = 500
"""Per-group importance: global importance on at most this many rows of each group."""

GATES = {"classification": ("demographic_parity_difference", "demographic_parity_ratio", "equalized_odds_difference",
                            "equalized_odds_ratio", "equal_opportunity_difference"),
         "regression": ("mean_prediction_gap", "mean_label_gap", "mae_gap")}
"""The disparities the section reports as ``fairness.<name>`` metrics, by task."""

SKIPPED = ("no sensitive columns were named; pass audit(..., sensitive=['sex']) (command line: --sensitive sex) "
           "with columns of the data, e.g. metadata kept beside the features")


def fairness_section(model: Model, data: Dataset, *, sensitive: Any = None, positive: Any = None, seed: int = 0,
                     backend: Any = None, **_: Any) -> Section:
    """Compare the model's decisions and errors between the groups of ``sensitive``.

    Args:
        model: the model.
        data: a labelled Dataset; at most :data:`MEASURED_ROWS` rows are used.
        sensitive: a column name (metadata or feature) or a list of them (intersectional
            groups); None: the section is skipped.
        positive: the favourable class (required for more than two classes).
        seed: seeds the row sample, the bootstrap and the per-group importance.
        backend: where the per-group importance runs.

    Metrics (for gates): ``fairness.<name>`` for each finite disparity of :data:`GATES`
    (classifiers: ``demographic_parity_difference``, ``demographic_parity_ratio``,
    ``equalized_odds_difference``, ``equalized_odds_ratio``,
    ``equal_opportunity_difference``; regression: ``mean_prediction_gap``,
    ``mean_label_gap``, ``mae_gap``), and ``fairness.flip_rate`` (the share of decisions
    that change with the sensitive input alone) when the probe ran on a classifier.
    """
    from explain.equity.assessing import fairness
    from explain.equity.balance import data_balance

    if sensitive is None or (isinstance(sensitive, (list, tuple)) and not sensitive):
        return Section(SECTION.name, SECTION.title, "skipped", reason=SKIPPED)
    columns = [sensitive] if isinstance(sensitive, str) else list(sensitive)

    def run() -> Findings:
        if data.y is None:
            raise ExplainError("The dataset has no labels, so the groups' errors cannot be measured; "
                               "load it with target=...")
        measured = sample_rows(data, MEASURED_ROWS, seed)
        result = fairness(model, measured, sensitive=columns, positive=positive, seed=seed)
        findings = [text.headline(result)]
        if result.task == "classification":
            findings.append(text.odds(result))
        findings += list(result.notes)
        covered = text.coverage(result)
        findings += [covered] if covered else []
        metrics = {f"fairness.{name}": float(result.disparities[name]) for name in GATES[result.task]
                   if np.isfinite(result.disparities.get(name, float("nan")))}
        results: dict[str, Any] = {"fairness": result}
        try:
            balance = data_balance(measured, sensitive=columns)
        except ExplainError as err:
            findings.append(f"the data balance was not measured: {err}")
        else:
            findings.append(balance.sentence())
            results["balance"] = balance
        findings.append(_importance(model, measured, columns, seed, backend, results))
        if result.flips is not None:
            findings.append(text.flips(result))
            if result.task == "classification":
                metrics["fairness.flip_rate"] = float(result.flips.rate)
        findings += text.mitigation(result)
        return findings, metrics, results

    return timed(SECTION, run)


def _importance(model: Model, data: Dataset, columns: list[str], seed: int, backend: Any,
                results: dict[str, Any]) -> str:
    """What the model leans on in each group (kept in ``results``), in words."""
    from explain.attribution.attributions import methods
    from explain.equity.group_drivers import group_importance

    method = "saliency" if "saliency" in methods(model) else "feature_ablation"
    try:
        found = group_importance(model, data, sensitive=columns, method=method, sample=IMPORTANCE_ROWS, seed=seed,
                                 backend=backend)
    except ExplainError as err:
        return f"what the model leans on in each group was not measured: {err}"
    results["importance"] = found
    return found.sentence()


def fairness_figures(name: str, result: Any) -> list[go.Figure]:
    """``fairness``: the headline figure per group with its interval (classifiers also the
    true positive rate), and each threshold preview. ``balance``: the largest
    standardised mean differences. ``importance``: the groups' importances."""
    from explain import plots

    if name == "fairness":
        figures = [plots.group_bars(result)]
        if result.task == "classification":
            figures.append(plots.group_bars(result, "tpr"))
        return figures + [plots.threshold_preview(preview) for preview in result.mitigation]
    if name == "balance":
        return [plots.balance_bars(result)]
    if name == "importance":
        return [plots.group_importance(result)]
    return []


def _finite(value: Any) -> Any:
    """NaN and infinities as None (JSON has no NaN), inside lists and dicts too."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def fairness_export(name: str, result: Any) -> Any:
    """What the JSON keeps: ``fairness`` as its verdict, the group table (one record per
    group, with intervals and ``small``), the disparities, their p-values, tests and
    extreme groups, the notes, the flip probe and the threshold previews (no per-row codes
    or row ids); NaN as null. ``balance`` and ``importance`` whole."""
    from explain.results._base import jsonable

    if name == "fairness":
        table = result.by_group.reset_index()
        return _finite({
            "verdict": result.verdict(), "task": result.task, "sensitive": list(result.sensitive),
            "positive": result.positive, "alpha": result.alpha, "n": int(len(result.codes)),
            "by_group": jsonable(table.to_dict("records")), "disparities": dict(result.disparities),
            "p_values": dict(result.p_values), "beyond_chance": result.beyond_chance, "tests": dict(result.tests),
            "extremes": {k: list(v) for k, v in result.extremes.items()}, "notes": list(result.notes),
            "flips": None if result.flips is None else jsonable(result.flips.to_dict()),
            "mitigation": [jsonable(m.to_dict()) for m in result.mitigation], "mapping": result.mapping})
    return _finite(jsonable(plain_export(name, result)))


SECTION = SectionSpec("fairness", "Fairness", fairness_section, fairness_figures, fairness_export)
