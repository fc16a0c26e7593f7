"""What every audit section shares: the :class:`Section` result, the
:class:`SectionSpec` declaration (how a section runs and how its results are drawn), and
the small helpers the sections use (timing, sampling, percentages, where an attribution
concentrates, its figures).

A section is one module of :mod:`explain.auditing` that defines ``SECTION``, a
:class:`SectionSpec`; :mod:`explain.auditing.registry` lists them in report order.

Example:
    >>> import plotly.graph_objects as go
    >>> def run(model, data, **options):
    ...     return Section("demo", "Demo", "ok", findings=("all fine",), results={"curve": [1, 2]})
    >>> spec = SectionSpec("demo", "Demo", run, lambda name, result: [go.Figure(go.Scatter(y=result))])
    >>> section = spec.run(None, None)
    >>> [type(f).__name__ for f in spec.figures("curve", section.results["curve"])]
    ['Figure']
    >>> pct(0.256), pct(0.004)
    ('26%', '0.4%')
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from explain.core.dataset import Dataset
from explain.errors import ExplainError

if TYPE_CHECKING:  # pragma: no cover
    import plotly.graph_objects as go

__all__ = ["Section", "SectionSpec", "Findings", "no_figures", "plain_export", "finite", "timed", "sample_rows", "pct",
           "concentration", "top_tokens", "attribution_figures"]


@dataclass(frozen=True)
class Section:
    """One part of an audit: its results (result objects, drawn by its declaration's
    ``figures``), findings in plain language, and flat metrics for CI gates."""

    name: str
    title: str
    status: str  # "ok", "skipped" or "failed"
    reason: str = ""
    findings: tuple[str, ...] = ()
    metrics: dict[str, float] = field(default_factory=dict)
    results: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def to_dict(self, export: Callable[[str, Any], Any] | None = None) -> dict[str, Any]:
        """The section as JSON; each result as ``export(name, result)`` (default
        :func:`plain_export`: its ``to_dict()``)."""
        export = export or plain_export
        return {
            "name": self.name, "title": self.title, "status": self.status, "reason": self.reason,
            "findings": list(self.findings), "metrics": self.metrics, "seconds": self.seconds,
            "results": {k: export(k, v) for k, v in self.results.items()},
        }


def no_figures(name: str, result: Any) -> list[go.Figure]:
    """The ``figures`` of a section that draws none."""
    return []


def plain_export(name: str, result: Any) -> Any:
    """The ``export`` of a section that writes its results whole: each one's ``to_dict()``."""
    return result.to_dict() if hasattr(result, "to_dict") else result


def finite(value: Any) -> Any:
    """A JSON-ready value with every NaN and infinity (in nested dicts and lists) as None.

    Example:
        >>> finite({"a": [1.0, float("nan")], "b": float("inf")})
        {'a': [1.0, None], 'b': None}
    """
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [finite(v) for v in value]
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


@dataclass(frozen=True)
class SectionSpec:
    """The declaration of an audit section.

    Attributes:
        name: the section's name (``audit(sections=[name])``, the report's anchor).
        title: its heading in the report.
        run: ``run(model, data, *, rows, seed, backend, **options) -> Section``; it
            ignores the options it does not take.
        figures: ``figures(result name, result) -> [Figure, ...]``: how the section draws
            each of its results (the report and the app's pages show these).
        export: ``export(result name, result) -> JSON-ready value``: what the JSON report
            keeps of each result (default: all of it, :func:`plain_export`).
        asked_by: None (default): the audit runs the section unless ``sections=`` leaves
            it out; an option's name: the default audit runs it only when that option is
            given (``compress=`` for the compression section), ``sections=`` can name it.
    """

    name: str
    title: str
    run: Callable[..., Section]
    figures: Callable[[str, Any], list[go.Figure]] = no_figures
    export: Callable[[str, Any], Any] = plain_export
    asked_by: str | None = None


Findings = tuple[list[str], dict[str, float], dict[str, Any]]


def timed(spec: SectionSpec, run: Callable[[], Findings]) -> Section:
    """The :class:`Section` of ``spec`` from ``run() -> (findings, metrics, results)``;
    an :class:`~explain.ExplainError` makes it a skipped section that says why."""
    start = time.perf_counter()
    try:
        findings, metrics, results = run()
    except ExplainError as err:
        return Section(spec.name, spec.title, "skipped", reason=str(err), seconds=time.perf_counter() - start)
    return Section(spec.name, spec.title, "ok", findings=tuple(findings), metrics=metrics, results=results,
                   seconds=round(time.perf_counter() - start, 3))


def sample_rows(data: Dataset, rows: int, seed: int) -> Dataset:
    """At most ``rows`` rows of ``data``, drawn with ``seed`` and kept in order."""
    if len(data) <= rows:
        return data
    picked = np.sort(np.random.default_rng(seed).choice(len(data), rows, replace=False))
    return data[picked]


def pct(x: float) -> str:
    """A share as a percentage: whole percents, one significant digit below 1%."""
    return f"{100 * x:.0f}%" if abs(x) >= 0.01 else f"{100 * x:.1g}%"


def concentration(attr: Any, names: list[str] | None) -> tuple[str, float]:
    """Where the attribution concentrates, in the words of the modality: the top three
    features of a table, the top 10% of an image's pixels or of a text's token positions."""
    importance = np.abs(attr.values).mean(axis=0).ravel()
    total = importance.sum() or 1.0
    if attr.modality == "tabular":
        names = names or [f"feature {j}" for j in range(importance.size)]
        top = np.argsort(-importance)[:3]
        share = float(importance[top].sum() / total)
        return f"the top three features carry {pct(share)} of the attribution ({', '.join(names[j] for j in top)})", share
    k = max(1, int(0.1 * importance.size))
    share = float(np.sort(importance)[::-1][:k].sum() / total)
    unit = "pixels" if attr.modality == "image" else "token positions"
    return f"the top 10% of {unit} carry {pct(share)} of the attribution", share


def top_tokens(attr: Any, k: int = 5) -> str:
    """The ``k`` tokens with the largest mean absolute attribution, quoted."""
    totals: dict[str, list[float]] = defaultdict(list)
    for i, tokens in enumerate(attr.tokens or ()):
        for j, token in enumerate(tokens):
            totals[token].append(abs(float(attr.values[i, j])))
    ranked = sorted(totals, key=lambda t: -np.mean(totals[t]))
    return ", ".join(repr(t) for t in ranked[:k])


def attribution_figures(attr: Any, shap: bool = False) -> list[go.Figure]:
    """The figures of an Attribution: a table's global importance, beeswarm and first
    row (and, for SHAP values, a waterfall and the top feature's dependence), the first
    three images' heatmaps, or the first six texts' token strips."""
    from explain import plots

    if attr.modality == "tabular":
        figures = [plots.global_importance(attr), plots.beeswarm(attr), plots.feature_bars(attr, 0)]
        if shap and attr.base_values is not None:
            top = int(abs(attr.values).mean(axis=0).argmax())
            figures += [plots.waterfall(attr, 0), plots.dependence(attr, top)]
        return figures
    if attr.modality == "image":
        return [plots.image_heatmap(attr, i) for i in range(min(3, len(attr)))]
    return [plots.token_strip(attr, indices=list(range(min(6, len(attr)))))]
