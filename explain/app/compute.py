"""The cached computations of the pages: attributions, SHAP values, attention, the report.

Each goes through the one funnel, :func:`explain.app.cache.cached`: kept in the session's
cache under a content hash of the model, the rows and the options, so switching pages never
recomputes; long work shows a progress bar saying what runs and can be cancelled.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import explain
from explain.app import page, tables, tasks
from explain.app.cache import cached, rows_digest
from explain.attribution.attributions import default_background
from explain.results import Attribution

__all__ = ["attribution", "shap_values", "attention_maps", "audit_report"]

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
