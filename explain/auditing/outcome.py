"""The result of an audit: :class:`Audit` (its sections, findings, metrics and
provenance), with its JSON schema and its HTML report.

Example:
    >>> from explain.auditing.common import Section
    >>> done = Audit(model={"task": "classification"}, data={"rows": 3},
    ...              sections=(Section("performance", "Performance", "ok", findings=("accuracy 100%",),
    ...                                metrics={"accuracy": 1.0}),), provenance={})
    >>> done.findings, done.metrics, done.to_dict()["schema"]
    (['accuracy 100%'], {'accuracy': 1.0}, 'explain.audit/1')
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from explain.auditing.common import Section
from explain.auditing.registry import section_dict

__all__ = ["Audit", "SCHEMA"]

SCHEMA = "explain.audit/1"


@dataclass(frozen=True)
class Audit:
    """The results of an audit: sections (with their results and findings), the findings
    that lead the report, flat metrics for CI gates, and provenance; ``title`` heads the
    report (``"Model comparison"`` for :func:`explain.auditing.paired.comparison_report`)."""

    model: dict[str, Any]
    data: dict[str, Any]
    sections: tuple[Section, ...]
    provenance: dict[str, Any]
    title: str = "Model audit"

    @property
    def findings(self) -> list[str]:
        """Every section's findings, in section order."""
        return [f for s in self.sections for f in s.findings]

    @property
    def metrics(self) -> dict[str, float]:
        """Flat numbers for gates: ``accuracy``, ``r2``, ``saliency.completeness_error``, ..."""
        out: dict[str, float] = {}
        for s in self.sections:
            out.update(s.metrics)
        return out

    def section(self, name: str) -> Section:
        for s in self.sections:
            if s.name == name:
                return s
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """The versioned JSON schema ``explain.audit/1``."""
        return {
            "schema": SCHEMA,
            "model": self.model,
            "data": self.data,
            "findings": self.findings,
            "metrics": self.metrics,
            "sections": [section_dict(s) for s in self.sections],
            "provenance": self.provenance,
        }

    def to_json(self, path: str | Path | None = None) -> str:
        """Write (when a path is given) and return the JSON report."""
        import json

        text = json.dumps(self.to_dict(), indent=1, default=_plain)
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    def to_html(self, path: str | Path | None = None) -> str:
        """Write (when a path is given) and return one self-contained HTML report that
        works offline: plotly.js inlined once, no request to any server."""
        from explain.auditing.report import render  # jinja2 and plotly load when a report is made

        html = render(self)
        if path is not None:
            Path(path).write_text(html, encoding="utf-8")
        return html


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (np.generic,)):
        return value.item()
    if isinstance(value, tuple):
        return list(value)
    return str(value)
