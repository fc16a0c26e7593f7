"""The computations the pages run on the session's model, as module-level functions.

Each takes the model first and a ``progress`` callback, and returns a result of
:mod:`explain.results` (picklable), so the same function runs in the server's process or
in a model's worker process (:meth:`explain.app.remote.SessionModel.call`). No streamlit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import explain
from explain.core.dataset import Dataset
from explain.core.model import Model
from explain.diagnostics import scoring as _scoring
from explain.errors import DataError, InputError

__all__ = ["attribute", "shap_values", "attention", "audit", "section", "robustness", "quick_quality",
           "full_quality", "sanity", "score", "performance", "slices", "error_analysis", "cohort_drivers", "fairness",
           "data_balance", "group_importance", "partial_dependence", "accumulated_effects", "counterfactuals", "row_outputs",
           "row_attribution", "row_uncertainty", "comparison", "comparison_with_upload", "compression_sweep"]

Progress = Callable[[float], None]
SCORE_ROWS = 10_000  # accuracy / R² on at most this many rows, at load time


def attribute(model: Model, part: Dataset, *, progress: Progress, **options: Any) -> Any:
    return explain.attribute(model, part, progress=progress, **options)


def shap_values(model: Model, part: Dataset, *, progress: Progress, **options: Any) -> Any:
    return explain.shap_values(model, part, progress=progress, **options)


def attention(model: Model, part: Dataset, *, progress: Progress) -> Any:
    maps = explain.attention(model, part)
    progress(1.0)
    return maps


def audit(model: Model, data: Dataset, *, progress: Progress, **options: Any) -> Any:
    return explain.audit(model, data, progress=lambda _section, f: progress(f), **options)


def section(model: Model, data: Dataset, *, progress: Progress, section_name: str, **options: Any) -> Any:
    """One audit section (what the Uncertainty page shows)."""
    return audit(model, data, progress=progress, sections=[section_name], **options).section(section_name)


def robustness(model: Model, part: Dataset, *, progress: Progress, **options: Any) -> Any:
    return explain.robustness(model, part, progress=progress, **options)


def quick_quality(model: Model, part: Dataset, *, progress: Progress, attribution: Any) -> Any:
    """Deletion and insertion only (the badge): infidelity and sensitivity re-run the method."""
    quality = explain.evaluate(model, part, attribution, infidelity_samples=0, sensitivity_samples=0)
    progress(1.0)
    return quality


def full_quality(model: Model, part: Dataset, *, progress: Progress, attribution: Any) -> Any:
    quality = explain.evaluate(model, part, attribution)
    progress(1.0)
    return quality


def sanity(model: Model, part: Dataset, *, progress: Progress, method: str) -> Any:
    check = explain.sanity_check(model, part, method, layers=8)
    progress(1.0)
    return check


def score(model: Model, data: Dataset, *, progress: Progress) -> dict[str, Any] | None:
    """The model's score on at most :data:`SCORE_ROWS` labelled rows, through the same path
    as the audit (:func:`explain.diagnostics.scoring.score`), or None without labels; also checks
    that the model runs on the data. Labels that cannot be matched with the outputs give
    a score of None with the reason as its note, and the pair still loads."""
    model.logits(data[:2])  # a model that does not fit the data fails the load here
    if data.y is None:
        return None
    part = data[:SCORE_ROWS]
    try:
        result = _scoring.score(model, part)
    except DataError as err:  # labels that do not match the outputs: load, and say why
        return {"name": "Accuracy", "value": None, "text": "—", "rows": len(part), "note": str(err),
                "mapping": None}
    finally:
        progress(1.0)
    return {"name": result.name, "value": result.value, "text": result.text, "rows": result.rows,
            "note": None, "mapping": result.mapping}


def performance(model: Model, data: Dataset, *, progress: Progress, **options: Any) -> Any:
    return explain.performance(model, data, progress=progress, **options)


def slices(model: Model, data: Dataset, *, progress: Progress, rules: list[str]) -> tuple[Any, dict[str, str]]:
    """``explain.slices`` over the rules that can be read, and the message of each that
    cannot: ``(SliceMetrics or None, {rule: error})``. A rule that does not parse fails
    before the model runs, so leaving it out costs nothing."""
    good, bad = list(rules), {}
    while good:
        try:
            return explain.slices(model, data, good, progress=progress), bad
        except InputError as err:
            culprit = next((rule for rule in good if repr(rule) in str(err)), None)
            if culprit is None:  # not about one rule: say it as it is
                raise
            bad[culprit] = str(err)
            good.remove(culprit)
    return None, bad


def error_analysis(model: Model, data: Dataset, *, progress: Progress, **options: Any) -> Any:
    return explain.error_analysis(model, data, progress=progress, **options)


def cohort_drivers(model: Model, data: Dataset, *, progress: Progress, cohort: Any, method: str) -> Any:
    """What drives the model in ``cohort`` (of an error analysis of ``data``) against the other rows."""
    drivers = explain.cohort_drivers(model, data, cohort, method=method)
    progress(1.0)
    return drivers


def fairness(model: Model, data: Dataset, *, progress: Progress, **options: Any) -> Any:
    """Group metrics and disparities (:func:`explain.fairness`) of the ``sensitive`` columns."""
    return explain.fairness(model, data, progress=progress, **options)


def data_balance(model: Model, data: Dataset, *, progress: Progress, sensitive: list[str]) -> Any:
    """How balanced the data are between the groups (the model does not run)."""
    balance = explain.data_balance(data, sensitive=sensitive)
    progress(1.0)
    return balance


def group_importance(model: Model, data: Dataset, *, progress: Progress, **options: Any) -> Any:
    """What the model leans on in each group (:func:`explain.group_importance`)."""
    found = explain.group_importance(model, data, **options)
    progress(1.0)
    return found


def partial_dependence(model: Model, data: Dataset, *, progress: Progress, **options: Any) -> Any:
    """Partial dependence with ICE curves (:func:`explain.partial_dependence`)."""
    return explain.partial_dependence(model, data, progress=progress, **options)


def accumulated_effects(model: Model, data: Dataset, *, progress: Progress, **options: Any) -> Any:
    """Accumulated local effects (:func:`explain.ale`)."""
    return explain.ale(model, data, progress=progress, **options)


def counterfactuals(model: Model, data: Dataset, *, progress: Progress, query: Any, **options: Any) -> Any:
    """Counterfactuals of the one row ``query`` against ``data`` (:func:`explain.counterfactuals`)."""
    found = explain.counterfactuals(model, data, query, **options)
    progress(1.0)
    return found


def comparison(model: Model, data: Dataset, *, progress: Progress, compression: str, amount: float,
               **options: Any) -> Any:
    """The model beside its compressed copy (``compression`` ``"quantize"`` or ``"prune"``
    at ``amount``), made where the model lives (:func:`explain.compress`, :func:`explain.compare`)."""
    light = explain.compress(model, method=compression, amount=amount)
    label = "int8" if compression == "quantize" else f"pruned {amount:.0%}"
    return explain.compare(model, light, data, names=("original", label), progress=progress, **options)


def comparison_with_upload(model: Model, data: Dataset, *, progress: Progress, upload: bytes, filename: str,
                           **options: Any) -> Any:
    """The model beside an uploaded second model (``upload``, the bytes of ``filename``).

    An upload is loaded only in a worker process (the trust policy of the Home page's
    uploads): here, where the model already lives in one (an upload); else in a new worker
    of its own, which is sent the model (a bundled example, ours and trusted) and the data,
    and stops when the comparison is done."""
    from explain.app.remote import load_upload
    from explain.runtime.worker import Worker, in_worker

    if in_worker():
        return _against(load_upload(upload, filename), model, data, progress=progress, filename=filename, **options)
    worker = Worker(load_upload, upload, filename, describe=_format)
    try:
        worker.start()
        return worker.call(_against, model, data, progress=progress, filename=filename, **options)
    finally:
        worker.close()


def _against(second: Model, first: Model, data: Dataset, *, progress: Progress, filename: str,
             **options: Any) -> Any:
    return explain.compare(first, second, data, names=("loaded model", filename), progress=progress, **options)


def _format(model: Model) -> str:
    return model.format


def compression_sweep(model: Model, data: Dataset, *, progress: Progress, **options: Any) -> Any:
    """Pruning amounts against agreement, accuracy and similarity (:func:`explain.compress_sweep`)."""
    return explain.compress_sweep(model, data, progress=progress, **options)


def row_outputs(model: Model, data: Dataset, *, progress: Progress, rows: Any) -> Any:
    """The model's raw outputs (logits, or predictions) on the rows ``rows`` (an array)."""
    out = model.logits(rows)
    progress(1.0)
    return out


def row_attribution(model: Model, data: Dataset, *, progress: Progress, rows: Any, background: Any,
                    **options: Any) -> Any:
    """Attributions of the rows ``rows`` (an array that need not be in ``data``)."""
    return explain.attribute(model, rows, background=background, progress=progress, **options)


def row_uncertainty(model: Model, data: Dataset, *, progress: Progress, rows: Any, **options: Any) -> Any:
    """MC-dropout uncertainty of the rows ``rows`` (:func:`explain.uncertainty`)."""
    return explain.uncertainty(model, rows, method="mc_dropout", progress=progress, **options)
