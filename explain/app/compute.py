"""The cached computations of the pages: attributions, SHAP values, attention, the report,
performance, slices, error analysis, what drives the model in a cohort, and fairness (group
metrics, data balance, per-group importance).

Each goes through the one funnel, :func:`explain.app.cache.cached`: kept in the session's
cache under a content hash of the model, the rows and the options, so switching pages never
recomputes; long work shows a progress bar saying what runs and can be cancelled.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import numpy as np

import explain
from explain.app import page, tables, tasks
from explain.app.cache import cached, rows_digest
from explain.attribution.attributions import default_background
from explain.results import (
    AccumulatedEffects,
    Attribution,
    Cohort,
    CohortDrivers,
    DataBalance,
    ErrorAnalysis,
    Fairness,
    GroupImportance,
    PartialDependence,
    Performance,
    SliceMetrics,
    Uncertainty,
)
from explain.results.recourse import Counterfactuals

__all__ = ["attribution", "shap_values", "attention_maps", "audit_report", "performance", "slices", "error_analysis",
           "cohort_drivers", "fairness", "data_balance", "group_importance", "partial_dependence", "accumulated_effects",
           "counterfactuals", "row_outputs", "row_attribution", "row_uncertainty", "comparison", "comparison_with_upload",
           "compression_sweep", "GROUP_ROWS"]

GROUP_ROWS = 1000  # per-group importance: at most this many rows of each group

def attribution(
    method: str, rows: Sequence[int], *, compute: bool = True, label: str | None = None, **options: Any
) -> Attribution | None:
    """Attributions of the session's model on ``rows`` of its dataset, cached in the session.

    Returns the cached result, else computes it (with a progress bar saying what runs and a
    Cancel button, which interrupts it at the next batch) when ``compute`` is true, else
    None. Methods with a background get the default background of the whole dataset
    (seed 0), so one row is explained the same alone or in a batch.
    """
    _, data = page.current()
    background = data[default_background(len(data), seed=0)] if explain.method_info(method)["background"] else None
    n = len(rows)
    what = f"{n} row" + ("s" if n != 1 else "")
    label = label or f"{method} on {what}" + (f" ({_brief_options(options)})" if options else "") + "…"
    return cached("attribution", rows, label, tasks.attribute, compute=compute,
                  args={"background": background, "batch_size": max(1, min(64, n // 20))},  # ~20 progress steps
                  key={"background": rows_digest(background) if background is not None else None},
                  method=method, **options)


def _brief_options(options: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in options.items() if v is not None and k != "perturbations_per_eval")


def shap_values(rows: Sequence[int], *, compute: bool, algorithm: str, n_samples: int | None) -> Any:
    """SHAP values of ``rows``; tables take 100 seeded rows of the dataset as background."""
    _, data = page.current()
    background = None
    if data is not None and data.modality == "tabular":
        background = data[tables.sample_rows(len(data), min(100, len(data)), seed=1)]
    label = f"SHAP ({algorithm}) on {len(rows)} rows…"
    return cached("shap", rows, label, tasks.shap_values, compute=compute, args={"background": background},
                  algorithm=algorithm, n_samples=n_samples)


def attention_maps(row: int, *, compute: bool) -> Any:
    """Attention maps (with class-relevance gradients) of one row."""
    return cached("attention", [row], f"attention of row {row}…", tasks.attention, compute=compute)


def audit_report(sections: list[str], rows: int, *, compute: bool) -> Any:
    """The audit of the whole dataset (explanation sections on ``rows`` examples)."""
    return cached("audit", None, f"audit: {', '.join(sections)}…", tasks.audit, compute=compute,
                  sections=sections, rows=rows)


def performance(*, compute: bool) -> Performance | None:
    """The model's performance on every labelled row of the dataset (bootstrap intervals)."""
    _, data = page.current()
    return cached("performance", None, f"measuring the model on {len(data):,} rows…", tasks.performance,
                  compute=compute)


def slices(rules: Sequence[str]) -> tuple[SliceMetrics | None, dict[str, str]] | None:
    """The slices of ``rules`` and the error of each rule that cannot be read."""
    what = f"{len(rules)} slice" + ("s" if len(rules) != 1 else "")
    return cached("slices", None, f"measuring {what}…", tasks.slices, compute=True, rules=list(rules))


def error_analysis(*, compute: bool, max_depth: int, min_size: int | None,
                   features: Sequence[str] | None) -> ErrorAnalysis | None:
    """The cohorts where the model errs most (the tree over ``features``; None: all)."""
    return cached("error_analysis", None, f"searching for the cohorts where the model errs (depth {max_depth})…",
                  tasks.error_analysis, compute=compute, max_depth=int(max_depth),
                  min_size=None if min_size is None else int(min_size), features=list(features) if features else None)


def cohort_drivers(cohort: Cohort, method: str) -> CohortDrivers | None:
    """Mean |attribution| of each feature in ``cohort`` against the other rows (computed now
    unless cached)."""
    rows = hashlib.sha256(np.ascontiguousarray(cohort.rows, dtype=np.int64).tobytes()).hexdigest()
    return cached("cohort_drivers", None, f"{method} in the cohort {cohort.rule} and elsewhere…",
                  tasks.cohort_drivers, compute=True, args={"cohort": cohort}, key={"rule": cohort.rule, "rows": rows},
                  method=method)


def fairness(*, compute: bool, sensitive: Sequence[str], positive: str | None) -> Fairness | None:
    """Group metrics and disparities between the groups of the ``sensitive`` columns, with
    ``positive`` the favourable class (None: the second of two)."""
    return cached("fairness", None, f"comparing the groups of {' & '.join(sensitive)}…", tasks.fairness,
                  compute=compute, sensitive=list(sensitive), positive=positive)


def data_balance(sensitive: Sequence[str]) -> DataBalance | None:
    """Group sizes, labels and standardised mean differences (computed now unless cached)."""
    return cached("data_balance", None, "comparing the groups' data…", tasks.data_balance, compute=True,
                  sensitive=list(sensitive))


def group_importance(sensitive: Sequence[str], method: str) -> GroupImportance | None:
    """Mean |attribution| of each feature in each group (at most :data:`GROUP_ROWS` rows of
    each; computed now unless cached)."""
    return cached("group_importance", None, f"{method} in each group of {' & '.join(sensitive)}…",
                  tasks.group_importance, compute=True, sensitive=list(sensitive), method=method, sample=GROUP_ROWS)


def partial_dependence(*, compute: bool, features: Sequence[Any], grid_resolution: int, sample: int,
                       kind: str = "both") -> PartialDependence | None:
    """Partial dependence of ``features`` (names, or pairs of names) over every row, with
    the ICE curves of ``sample`` rows (seed 0)."""
    shown = ", ".join(" × ".join(f) if isinstance(f, (list, tuple)) else str(f) for f in features)
    return cached("partial_dependence", None, f"partial dependence of {shown}…", tasks.partial_dependence,
                  compute=compute, features=[list(f) if isinstance(f, (list, tuple)) else f for f in features],
                  grid_resolution=int(grid_resolution), sample=int(sample), kind=kind)


def accumulated_effects(*, compute: bool, features: Sequence[str], bins: int) -> AccumulatedEffects | None:
    """Accumulated local effects of ``features`` over every row, with at most ``bins`` bins."""
    return cached("accumulated_effects", None, f"accumulated local effects of {', '.join(features)}…",
                  tasks.accumulated_effects, compute=compute, features=list(features), bins=int(bins))


def comparison(*, compute: bool, method: str, amount: float, explain_method: str, rows: int) -> Any:
    """The model beside its int8 (``method="quantize"``) or pruned copy on every row
    (:func:`explain.compare`, seed 0)."""
    what = "int8 weights" if method == "quantize" else f"pruned to {amount:.0%}"
    return cached("comparison", None, f"comparing with the {what} copy…", tasks.comparison, compute=compute,
                  compression=method, amount=float(amount), method=explain_method, rows=int(rows))


def comparison_with_upload(upload: bytes, name: str, *, compute: bool, explain_method: str, rows: int) -> Any:
    """The model beside an uploaded second model (loaded in a worker, never here)."""
    return cached("comparison", None, f"comparing with {name}…", tasks.comparison_with_upload, compute=compute,
                  args={"upload": upload}, key={"upload": hashlib.sha256(upload).hexdigest()}, filename=name,
                  method=explain_method, rows=int(rows))


def compression_sweep(*, compute: bool, amounts: Sequence[float], keep: float) -> Any:
    """Pruning at each of ``amounts``: agreement, accuracy, similarity, size (:func:`explain.compress_sweep`)."""
    return cached("compression_sweep", None, "pruning at each amount…", tasks.compression_sweep, compute=compute,
                  method="prune", amounts=[float(a) for a in amounts], keep=float(keep))


def _digest(rows: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(rows, dtype=np.float32).tobytes()).hexdigest()


def counterfactuals(query: np.ndarray, *, compute: bool, target: str | None, immutable: Sequence[str],
                    n: int, time_limit: float = 10.0) -> Counterfactuals | None:
    """Up to ``n`` counterfactuals of the one row ``query`` (every row of the dataset is
    the reference), reaching ``target``, never changing ``immutable``."""
    query = np.asarray(query, dtype=np.float32).reshape(1, -1)
    return cached("counterfactuals", None, f"searching counterfactuals (at most {time_limit:g} s)…",
                  tasks.counterfactuals, compute=compute, args={"query": query}, key={"query": _digest(query)},
                  target=target, immutable=list(immutable), n=int(n), time_limit=float(time_limit))


def row_outputs(rows: np.ndarray) -> np.ndarray | None:
    """The model's raw outputs on ``rows`` (an array of edited rows), computed now unless cached."""
    rows = np.asarray(rows, dtype=np.float32)
    return cached("row_outputs", [0], "predicting…", tasks.row_outputs, compute=True, args={"rows": rows},
                  key={"rows": _digest(rows)})


def row_attribution(rows: np.ndarray, method: str) -> Attribution | None:
    """Attributions of ``rows`` (edited rows, not in the dataset) by ``method``, with the
    dataset's default background where the method takes one (as :func:`attribution`)."""
    _, data = page.current()
    rows = np.asarray(rows, dtype=np.float32)
    background = data[default_background(len(data), seed=0)] if explain.method_info(method)["background"] else None
    return cached("row_attribution", [0], f"{method} on the edited row…", tasks.row_attribution, compute=True,
                  args={"rows": rows, "background": background},
                  key={"rows": _digest(rows), "background": rows_digest(background) if background is not None else None},
                  method=method)


def row_uncertainty(rows: np.ndarray) -> Uncertainty | None:
    """MC-dropout uncertainty of ``rows`` (30 passes, seed 0), computed now unless cached."""
    rows = np.asarray(rows, dtype=np.float32)
    return cached("row_uncertainty", [0], "MC dropout on the rows…", tasks.row_uncertainty, compute=True,
                  args={"rows": rows}, key={"rows": _digest(rows)})
