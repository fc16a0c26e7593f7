"""The audit's effects section: how the output moves with the top features over the whole
data (:func:`explain.partial_dependence` and :func:`explain.ale`), and what would have to
change for a few rows with an unfavourable prediction (:func:`explain.counterfactuals`).

The top features are ``effect_features`` when named, else the three with the largest
global importance (integrated gradients, as the saliency section measures it, on at
most :data:`IMPORTANCE_ROWS` rows). The unfavourable rows
of a classifier are those not predicted the favourable class: ``positive`` when named,
else the second class of a binary model. Tables only: other modalities are skipped with
the reason. The findings say it in words (:mod:`explain.auditing.effects_text`); the JSON
keeps the grids, average curves and ALE, and the counterfactuals as records (no ICE
curves).

Example:
    >>> import explain
    >>> from explain.auditing.sections.effects import SECTION
    >>> model, data = explain.load_example("diabetes")
    >>> section = SECTION.run(model, data, effect_features=["bmi"])
    >>> section.status, list(section.results)
    ('ok', ['partial_dependence', 'ale'])
    >>> section.findings[0]
    'the prediction rises from 117 to 185 as bmi rises from -0.0666 to 0.0768'
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from explain.auditing import effects_text as text
from explain.auditing.common import Findings, Section, SectionSpec, finite, plain_export, sample_rows, timed
from explain.core.dataset import Dataset
from explain.core.model import Model
from explain.errors import ExplainError, InputError
from explain.results._base import jsonable

if TYPE_CHECKING:  # pragma: no cover
    import plotly.graph_objects as go

__all__ = ["SECTION", "effects_section", "effects_figures", "effects_export", "top_features", "unfavourable",
           "MEASURED_ROWS", "IMPORTANCE_ROWS", "ICE_ROWS", "TIME_LIMIT"]

MEASURED_ROWS = 5_000
"""Partial dependence, ALE and the counterfactuals' reference rows: at most this many rows."""

IMPORTANCE_ROWS = 500
"""The top features: global importance on at most this many rows."""

ICE_ROWS = 50
"""ICE curves drawn in the report's figures (never written to the JSON)."""

TIME_LIMIT = 3.0
"""Seconds of counterfactual search per row."""


def top_features(model: Model, data: Dataset, k: int = 3, *, seed: int = 0, backend: Any = None) -> list[str]:
    """The ``k`` features with the largest global importance (integrated gradients, or
    feature ablation for a model without gradients, as the saliency section chooses) on at
    most :data:`IMPORTANCE_ROWS` rows. Plain gradients would favour the features on the
    smallest scale, whatever their effect.

    Example:
        >>> import explain
        >>> model, data = explain.load_example("breast_cancer")
        >>> top_features(model, data)
        ['worst symmetry', 'worst texture', 'mean fractal dimension']
    """
    from explain.attribution.attributions import methods
    from explain.attribution.streaming import global_importance

    served = methods(model)
    method = next(m for m in ("integrated_gradients", "feature_ablation") if m in served)
    importance = global_importance(model, sample_rows(data, IMPORTANCE_ROWS, seed), method=method, seed=seed,
                                   backend=backend)
    names = importance.names()
    return [names[j] for j in importance.mean_abs.argsort()[::-1][:k]]


def unfavourable(model: Model, data: Dataset, positive: Any = None) -> tuple[np.ndarray, str]:
    """The positions of the rows a classifier does not put in the favourable class, and
    that class's name: ``positive`` when given, else the second class of a binary model.

    Raises:
        InputError: a classifier with more than two classes and no ``positive``, or an
            unknown ``positive``.

    Example:
        >>> import explain
        >>> model, data = explain.load_example("breast_cancer")
        >>> rows, favourable = unfavourable(model, data)
        >>> favourable, len(rows) == int((model.predict(data.x) == 0).sum())
        ('benign', True)
    """
    out = model.logits(data.x)
    classes = list(model.class_names or data.class_names or [str(c) for c in range(out.shape[1])])
    if positive is None:
        if len(classes) != 2:
            raise InputError(f"The model has {len(classes)} classes; name the favourable one with "
                             "audit(..., positive=...) (command line: --positive CLASS) to get counterfactuals.")
        index = 1
    elif str(positive) in classes:
        index = classes.index(str(positive))
    elif isinstance(positive, (int, np.integer)) and 0 <= int(positive) < len(classes):
        index = int(positive)
    else:
        raise InputError(f"positive={positive!r} is not a class of the model; pass one of {classes}.")
    return np.flatnonzero(out.argmax(axis=1) != index), classes[index]


def effects_section(model: Model, data: Dataset, *, effect_features: Any = None, counterfactual_rows: int = 3,
                    positive: Any = None, seed: int = 0, backend: Any = None, **_: Any) -> Section:
    """Partial dependence and ALE of the top features, and counterfactuals of a few rows
    with an unfavourable prediction.

    Args:
        model: a tabular model (other modalities: the section is skipped).
        data: the rows; at most :data:`MEASURED_ROWS` are used.
        effect_features: the features to show (default: the top three by global importance).
        counterfactual_rows: unfavourable rows to explain with counterfactuals (at most 5;
            0: none). Regression models get none.
        positive: the favourable class (required for more than two classes).
        seed: seeds the row samples and the searches.
        backend: where the importance and the curves run.

    Metrics (for gates): ``effects.counterfactual_rows`` (rows explained),
    ``effects.counterfactuals_found``, ``effects.counterfactual_answered`` (the share of
    rows with at least one), ``effects.counterfactual_validity``,
    ``effects.counterfactual_sparsity`` (mean features changed).
    """
    from explain.effects.accumulated import ale
    from explain.effects.pdp import partial_dependence

    if model.modality != "tabular":
        return Section(SECTION.name, SECTION.title, "skipped",
                       reason=f"feature effects and counterfactuals are measured for tables; this model takes "
                              f"{model.modality} inputs (see the saliency section for what drives it)")
    count = int(counterfactual_rows)
    if not 0 <= count <= 5:
        raise InputError(f"counterfactual_rows={counterfactual_rows} is out of range; pass 0 to 5.")

    def run() -> Findings:
        rows = sample_rows(data, MEASURED_ROWS, seed)
        features = ([effect_features] if isinstance(effect_features, str) else list(effect_features)) \
            if effect_features else top_features(model, rows, seed=seed, backend=backend)
        pdp = partial_dependence(model, rows, features=features, grid_resolution=20, kind="both", sample=ICE_ROWS,
                                 seed=seed, backend=backend)
        accumulated = ale(model, rows, features=features, bins=20, backend=backend)
        output = _output(pdp, positive)
        findings = [text.curve(pdp, f, output) for f in features]
        metrics: dict[str, float] = {}
        results: dict[str, Any] = {"partial_dependence": pdp, "ale": accumulated}
        if count and model.task == "classification":
            findings += _recourse(model, rows, count, positive, seed, metrics, results)
        elif count:
            findings.append("counterfactuals are not searched for a regression in the audit: they need a target "
                            "range; call explain.counterfactuals(model, data, rows, target=(low, high))")
        return findings, metrics, results

    return timed(SECTION, run)


def _output(pdp: Any, positive: Any) -> str | None:
    """The output the findings speak of: the favourable class when named, else the last."""
    if pdp.task == "regression":
        return None
    if positive is not None and str(positive) in pdp.outputs:
        return str(positive)
    return pdp.outputs[pdp.output_index(None)]


def _recourse(model: Model, rows: Dataset, count: int, positive: Any, seed: int, metrics: dict[str, float],
              results: dict[str, Any]) -> list[str]:
    """Counterfactuals of the first ``count`` unfavourable rows (kept in ``results``), in words."""
    from explain.recourse.finding import counterfactuals

    try:
        picked, favourable = unfavourable(model, rows, positive)
    except ExplainError as err:
        return [f"counterfactuals were not searched: {err}"]
    if not len(picked):
        return [f"every row is predicted {favourable!r}: no unfavourable row to explain"]
    queries = rows[picked[:count]]
    found = counterfactuals(model, rows, queries, target=favourable, n=3, time_limit=TIME_LIMIT, seed=seed)
    results["counterfactuals"] = found
    answered = len(np.unique(found.query_index)) / len(found)
    metrics.update({"effects.counterfactual_rows": float(len(found)),
                    "effects.counterfactuals_found": float(len(found.values)),
                    "effects.counterfactual_answered": float(answered)})
    if len(found.values):
        metrics["effects.counterfactual_validity"] = float(np.mean(found.validity))
        metrics["effects.counterfactual_sparsity"] = float(np.mean(found.sparsity))
    return text.recourse(found, favourable)


def effects_figures(name: str, result: Any) -> list[go.Figure]:
    """``partial_dependence``: each feature's curve with ICE lines; ``ale``: each feature's
    accumulated effect; ``counterfactuals``: each row that has some, beside them."""
    if name == "partial_dependence":
        return [result.plot(f) for f in result.features]
    if name == "ale":
        return [result.plot(f) for f in result.features]
    if name == "counterfactuals":
        return [result.plot(i) for i in sorted(set(result.query_index.tolist()))]
    return []


def effects_export(name: str, result: Any) -> Any:
    """What the JSON keeps: ``partial_dependence`` as each feature's grid and average curve
    (no ICE curves); ``ale`` whole; ``counterfactuals`` as records (one per counterfactual,
    with its query, measures and prediction), the queries, a summary per query and the
    reasons; NaN and infinity as null."""
    if name == "partial_dependence":
        return finite(jsonable({"effects": [{"feature": f, "grid": result.grid[f], "average": result.average[f]}
                                             for f in result.features],
                                 "outputs": list(result.outputs), "task": result.task, "n": result.n}))
    if name == "counterfactuals":
        queries = [dict(zip(result.feature_names, q)) for q in result.queries.tolist()]
        return finite(jsonable({"records": result.frame().to_dict("records"), "queries": queries,
                                 "summary": result.summary().to_dict("records"), "targets": list(result.targets),
                                 "reasons": list(result.reasons), "outputs": list(result.outputs)}))
    return finite(jsonable(plain_export(name, result)))


SECTION = SectionSpec("effects", "Feature effects and counterfactuals", effects_section, effects_figures,
                      effects_export)
