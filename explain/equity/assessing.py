"""``fairness()``: how a model's decisions, errors and calibration differ between groups
of people, with fairlearn's disparities, intervals, and tests against chance.

Example:
    >>> import numpy as np, pandas as pd, torch, explain
    >>> model = explain.Model(torch.nn.Identity(), task="classification", modality="tabular",
    ...                       input_shape=(2,))  # the rows are the logits
    >>> logits = np.array([[0.0, 1.0]] * 30 + [[1.0, 0.0]] * 10 + [[0.0, 1.0]] * 10 + [[1.0, 0.0]] * 30)
    >>> truth = np.array([1] * 40 + [0] * 40)
    >>> meta = pd.DataFrame({"region": ["north"] * 40 + ["south"] * 40})
    >>> data = explain.Dataset(logits, truth, metadata=meta)
    >>> result = explain.fairness(model, data, sensitive="region", bootstrap=0)
    >>> result.by_group[["count", "selection_rate", "tpr"]].to_dict("index")["south"]
    {'count': 40.0, 'selection_rate': 0.25, 'tpr': nan}
    >>> result.demographic_parity_difference, result.notes[0]
    (0.5, "tpr is undefined for 'south' (no positive labels): left out of equal opportunity and equalized odds")
    >>> result.verdict()
    "selection rate differs by 0.5 between 'north' (0.75) and 'south' (0.25): beyond what chance allows (p = 7.7e-06)"
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from explain.confidence.calibrating import reliability
from explain.core.budget import check_batch_size
from explain.core.dataset import Dataset
from explain.core.model import check_model
from explain.core.validate import Instance, Int, Number, check
from explain.diagnostics.truth import Labelled, labelled_outputs
from explain.equity import group_rates as gr
from explain.equity.coverage import group_coverage
from explain.equity.flipping import flip_probe
from explain.equity.grouping import Groups, sensitive_groups
from explain.equity.thresholds import threshold_previews
from explain.errors import DataError, InputError
from explain.results.fairness import Fairness

__all__ = ["fairness", "SMALL_GROUP"]

SMALL_GROUP = 30  # a group with fewer rows is flagged ``small``: too few to judge


def fairness(
    model: Any,
    data: Any,
    *,
    sensitive: Any,
    targets: Any = None,
    positive: int | str | None = None,
    alpha: float = 0.05,
    bootstrap: int = 200,
    level: float = 0.95,
    seed: int = 0,
    flip: bool = True,
    batch_size: int | None = None,
    progress: Callable[[float], None] | None = None,
) -> Fairness:
    """Group metrics and disparities of ``model`` on labelled ``data``.

    Predictions and labels come through the one scoring path of
    :func:`explain.performance` (labels matched by name, a sigmoid output as two classes).
    Classifiers: the favourable decision is "predicted class == ``positive``"; per group,
    ``accuracy``, ``selection_rate``, ``tpr``, ``fpr``, ``precision`` (NaN where nothing
    to divide by), ``mean_confidence`` (mean largest probability), ``ece``
    (:func:`explain.calibration`'s, 15 bins), and ``coverage`` and ``set_size`` of
    split-conformal sets at alpha 0.1 (calibrated on a seeded half, measured per group on the
    other half: :mod:`explain.equity.coverage`; regression: ``coverage``,
    ``interval_width``). The disparities are fairlearn's
    (``demographic_parity_*``, ``equalized_odds_*``, ``equal_opportunity_*``; see
    :mod:`explain.equity.group_rates`), except that a group whose rate is undefined is left
    out (fairlearn counts it as 0) and a note says so. Each has a p-value against chance
    (Fisher or z on the two extreme groups, Bonferroni over the pairs of groups).
    Regression: ``mean_prediction``, ``mean_label``, ``mae`` and their gaps (Welch).

    The flip probe (``flips``) runs when every sensitive column is a model input: each row
    is run again with the sensitive columns set to each other value (combination)
    observed, all else kept (a binary column: swapped; one-hot columns: the 1 moved), and
    the decisions that change are counted. Binary classifiers also get ``mitigation``: per
    group thresholds that equalise the selection rate or the true positive rate (a preview).

    Args:
        model: an explain.Model.
        data: a labelled explain.Dataset.
        sensitive: a column name (metadata or feature), a list of names (intersectional
            groups), or one group label per row (see :mod:`explain.equity.grouping`).
        targets: true labels, where ``data`` has none (or to override them).
        positive: the favourable class, by name or output index; default class 1 of a
            binary classifier; required for more classes; None for regression.
        alpha: a p-value below it counts as beyond chance.
        bootstrap: resamples for the percentile intervals of the rates; 0 for none.
        level: the intervals' confidence level.
        seed: seeds the resampling.
        flip: run the flip probe where the sensitive columns are inputs.
        batch_size: examples per forward pass; None: as many as the memory budget holds.
        progress: called with the fraction of forward passes done (the first pass).

    Returns:
        A :class:`explain.Fairness`; ``.by_group`` is the table, ``.verdict()`` a sentence.

    Raises:
        InputError: an unknown column, a multiclass model without ``positive``, a
            ``positive`` that is not a class, or a bad option.
        DataError: no labels, or labels that cannot be matched with the outputs.
    """
    model = check_model(model)
    opts = check(data=(data, Instance(Dataset, "Load the data with explain.load_dataset(path, target=..., "
                                               "metadata=[...]) or build an explain.Dataset.")),
                 alpha=(alpha, Number(low=0, high=1, open=True, suggest=0.05)),
                 bootstrap=(bootstrap, Int(low=0, suggest=200, hint="0 skips the intervals.")),
                 level=(level, Number(low=0, high=1, open=True, suggest=0.95)), seed=(seed, Int()))
    check_batch_size(batch_size)
    groups = sensitive_groups(data, sensitive)
    found = labelled_outputs(model, data, targets, batch_size=batch_size, progress=progress)
    if len(found.truth) == 0:
        raise DataError("There are no labelled rows to measure the model on; pass at least one.")
    params = {**{k: v for k, v in opts.items() if k != "data"}, "small": SMALL_GROUP, "batch_size": batch_size,
              "flip": bool(flip)}
    if model.task == "regression":
        if positive is not None:
            raise InputError("positive is for classifiers; this model is a regression: leave it out.")
        fields = _regression(found, groups, params)
    else:
        fields = _classification(found, groups, _positive(positive, found.class_names or ()), params)
    count = groups.count
    small = count < SMALL_GROUP
    notes = list(fields.pop("notes"))
    if small.any():
        notes.append(f"fewer than {SMALL_GROUP} rows, too few to judge: " + ", ".join(
            f"{groups.names[g]!r} ({count[g]} row{'s' if count[g] != 1 else ''})" for g in np.flatnonzero(small)))
    flips = None
    if flip and groups.inputs and groups.inputs == groups.columns:
        flips = flip_probe(model, data, groups, found, fields.get("positive_index"), batch_size=batch_size)
    elif flip and groups.inputs:
        notes.append("no flip probe: it needs every sensitive column to be a model input; "
                     f"{', '.join(c for c in groups.columns if c not in groups.inputs)} is not")
    fields.pop("positive_index", None)
    return Fairness(sensitive=groups.columns, groups=groups.names, codes=groups.codes, rows=found.rows,
                    small=small, alpha=opts["alpha"], flips=flips, notes=tuple(notes), mapping=found.mapping,
                    params=params, **fields)


def _positive(positive: Any, names: tuple[str, ...]) -> int:
    k = len(names)
    if positive is None:
        if k == 2:
            return 1
        raise InputError(f"This model has {k} classes ({', '.join(map(repr, names))}); name the favourable one, "
                         f"e.g. positive={names[-1]!r}.")
    if isinstance(positive, (int, np.integer)) and not isinstance(positive, bool) and 0 <= int(positive) < k:
        return int(positive)
    if isinstance(positive, str) and positive in names:
        return names.index(positive)
    raise InputError(f"positive must be one of the model's classes ({', '.join(map(repr, names))}) or an output "
                     f"index from 0 to {k - 1}, got {positive!r}; pass e.g. positive={names[-1]!r}.")


def _named(extremes: dict[str, tuple[int, int]], names: tuple[str, ...]) -> dict[str, tuple[str, str]]:
    return {key: (names[hi], names[lo]) if hi >= 0 else ("", "") for key, (hi, lo) in extremes.items()}


def _classification(found: Labelled, groups: Groups, pos: int, params: dict[str, Any]) -> dict[str, Any]:
    codes, names, k = groups.codes, groups.names, len(groups.names)
    p = found.probabilities
    positive, decided = found.truth == pos, found.predicted == pos
    counts = gr.binary_counts(codes, k, positive, decided)
    group_rates = gr.rates(counts)
    confidence = np.bincount(codes, p.max(axis=1), k) / counts["count"]
    ece = np.array([reliability(p[codes == g], found.truth[codes == g]).ece for g in range(k)])
    covered = group_coverage(p, found.truth, codes, k, seed=params["seed"])
    disparities, extremes, notes = gr.disparities(group_rates, names)
    notes += (covered.note,) if covered.note else ()
    no_precision = [names[g] for g in np.flatnonzero(np.isnan(group_rates["precision"]))]
    if no_precision:
        notes += (f"precision is undefined for {', '.join(map(repr, no_precision))} (no predicted positives)",)
    p_values, tests = gr.chance(counts, group_rates, extremes)
    tpr_gap = disparities["equal_opportunity_difference"]  # equalized odds: the larger of TPR's and FPR's
    odds = "tpr" if np.isfinite(tpr_gap) and tpr_gap >= disparities["equalized_odds_difference"] else "fpr"
    by_rate = _named(extremes, names)
    named = {d: by_rate["selection_rate" if d.startswith("demographic") else "tpr" if d.startswith("equal_opp")
                        else odds] for d in gr.DISPARITIES}
    intervals = gr.group_intervals(lambda w: gr.rates(gr.binary_counts(codes, k, positive, decided, w)),
                                   len(codes), k, times=params["bootstrap"], level=params["level"],
                                   seed=params["seed"])
    mitigation = threshold_previews(p[:, pos], positive, decided, codes, names) if p.shape[1] == 2 else ()
    class_names = found.class_names or ()
    return {"task": "classification", "counts": counts, "metrics": {**group_rates, "mean_confidence": confidence,
                                                                    "ece": ece, "coverage": covered.coverage,
                                                                    "set_size": covered.set_size},
            "intervals": intervals, "disparities": disparities, "p_values": p_values, "tests": tests,
            "extremes": named, "positive": class_names[pos], "class_names": class_names,
            "mitigation": mitigation, "notes": notes, "positive_index": pos}


def _regression(found: Labelled, groups: Groups, params: dict[str, Any]) -> dict[str, Any]:
    codes, k = groups.codes, len(groups.names)
    truth, predicted = np.asarray(found.truth, dtype=np.float64), found.predicted
    means = gr.regression_means(codes, k, truth, predicted)
    gaps, p_values, tests, extremes = gr.regression_chance(codes, means, truth, predicted)
    covered = group_coverage(None, truth, codes, k, seed=params["seed"], predicted=predicted)
    intervals = gr.group_intervals(lambda w: {name: v for name, v in gr.regression_means(
        codes, k, truth, predicted, w).items() if name != "mean_label"}, len(codes), k,
        times=params["bootstrap"], level=params["level"], seed=params["seed"])
    return {"task": "regression", "counts": {"count": groups.count.astype(np.float64)},
            "metrics": {**means, "coverage": covered.coverage, "interval_width": covered.set_size},
            "intervals": intervals, "disparities": gaps, "p_values": p_values, "tests": tests,
            "extremes": _named(extremes, groups.names), "notes": (covered.note,) if covered.note else ()}
