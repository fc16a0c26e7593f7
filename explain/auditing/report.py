"""Render an :class:`~explain.auditing.runner.Audit` as one self-contained HTML file.

The page works offline and makes no network request: plotly.js is inlined once, there
are no fonts, images or scripts from elsewhere, and a Content-Security-Policy forbids
any fetch. Every piece of text from the user's files is escaped by jinja2's autoescape
(and by plotly inside figures), so a column named ``<script>`` shows as text.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import jinja2
import numpy as np
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from explain import plots
from explain.plots.uncertainty import uncertainty_figures
from explain.results import Agreement, Quality, SanityCheck

if TYPE_CHECKING:  # pragma: no cover
    from explain.auditing.runner import Audit

_CSP = ("default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline'; "
        "img-src data: blob:; font-src data:; connect-src 'none'")

_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{{ csp }}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Audit of {{ audit.model.get("format", "model") }} model</title>
<style>
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto; max-width: 1180px;
       padding: 24px; color: #222; line-height: 1.45; }
h1 { margin-bottom: 4px; } h2 { border-bottom: 1px solid #ddd; padding-bottom: 4px; margin-top: 40px; }
.findings li { margin: 4px 0; } .muted { color: #666; } .skipped { color: #8a5a00; }
table { border-collapse: collapse; font-size: 14px; } td, th { border: 1px solid #ddd; padding: 4px 8px;
text-align: left; vertical-align: top; } nav ol { columns: 2; } .figure { margin: 12px 0 24px; }
code { font-size: 13px; word-break: break-all; }
</style>
<script>{{ plotlyjs }}</script>
</head><body>
<h1>Model audit</h1>
<p class="muted">{{ audit.model.get("format") }} {{ audit.model.get("task") }} model on
{{ audit.data.get("rows") }} {{ audit.data.get("modality") }} examples, built {{ audit.provenance.started }}
in {{ audit.provenance.seconds }} s.</p>
<h2 id="summary">Findings</h2>
<ul class="findings">{% for f in audit.findings %}<li>{{ f }}</li>{% else %}<li>No findings.</li>{% endfor %}</ul>
{% for s in audit.sections if s.status != "ok" %}<p class="skipped">{{ s.title }} did not run: {{ s.reason }}</p>{% endfor %}
<nav><h2>Contents</h2><ol><li><a href="#summary">Findings</a></li>
{% for s in audit.sections %}<li><a href="#{{ s.name }}">{{ s.title }}</a></li>{% endfor %}
<li><a href="#model">Model and data</a></li><li><a href="#provenance">Provenance</a></li></ol></nav>
{% for s in audit.sections %}
<section id="{{ s.name }}"><h2>{{ s.title }}</h2>
{% if s.status == "ok" %}
<ul class="findings">{% for f in s.findings %}<li>{{ f }}</li>{% endfor %}</ul>
{% for fig in figures[s.name] %}<div class="figure">{{ fig | safe }}</div>{% endfor %}
<p class="muted">{{ s.seconds }} s</p>
{% else %}<p class="skipped">Not run: {{ s.reason }}</p>{% endif %}
</section>
{% endfor %}
<h2 id="model">Model and data</h2>
<table>{% for k, v in audit.model.items() %}<tr><th>model {{ k }}</th><td>{{ v }}</td></tr>{% endfor %}
{% for k, v in audit.data.items() %}<tr><th>data {{ k }}</th><td>{{ v }}</td></tr>{% endfor %}</table>
<h2 id="provenance">Provenance</h2>
<table>{% for k, v in audit.provenance.items() %}<tr><th>{{ k }}</th><td><code>{{ v }}</code></td></tr>{% endfor %}</table>
</body></html>
"""


def _attribution_figures(attr: Any, shap: bool = False) -> list[go.Figure]:
    if attr.modality == "tabular":
        figures = [plots.global_importance(attr), plots.beeswarm(attr), plots.feature_bars(attr, 0)]
        if shap and attr.base_values is not None:
            top = int(abs(attr.values).mean(axis=0).argmax())
            figures += [plots.waterfall(attr, 0), plots.dependence(attr, top)]
        return figures
    if attr.modality == "image":
        return [plots.image_heatmap(attr, i) for i in range(min(3, len(attr)))]
    return [plots.token_strip(attr, indices=list(range(min(6, len(attr)))))]


def _attention_figures(maps: Any) -> list[go.Figure]:
    figures = [plots.attention_grid(maps, 0), plots.attention_scores(maps, 0, kind="rollout")]
    if maps.gradients is not None:
        figures.append(plots.attention_scores(maps, 0, kind="relevance"))
    return figures


def _robustness_figures(result: Any) -> list[go.Figure]:
    figures = [plots.robustness_curve(result), plots.min_epsilon_histogram(result)]
    flipped = np.flatnonzero(result.min_epsilon > 0)
    if flipped.size:
        figures.append(plots.adversarial_example(result, int(flipped[0])))
    if result.rank_correlation is not None and np.isfinite(result.rank_correlation).any():
        figures.append(plots.explanation_shift(result))
    return figures


def _quality_figures(result: Any) -> list[go.Figure]:
    if isinstance(result, Quality):
        return [plots.deletion_insertion(result)]
    if isinstance(result, SanityCheck):
        return [plots.cascade_maps(result, 0), plots.cascade_similarity(result)]
    if isinstance(result, Agreement):
        return [plots.agreement_heatmap(result)]
    return []


# which figures each kind of section result gets, keyed by its name in Section.results
_FIGURES: dict[str, Callable[[Any], list[go.Figure]]] = {
    "attribution": _attribution_figures,
    "shap": lambda attr: _attribution_figures(attr, shap=True),
    "attention": _attention_figures,
    "robustness": _robustness_figures,
    "importance": lambda result: [plots.importance_bars(result)],
    "calibration": uncertainty_figures,
    "uncertainty": uncertainty_figures,
    "conformal": uncertainty_figures,
    "risk_coverage": uncertainty_figures,
    "quality": _quality_figures,
    "sanity": _quality_figures,
    "agreement": _quality_figures,
}


def section_figures(section: Any) -> list[tuple[str, Any, go.Figure]]:
    """``(result name, result, figure)`` for every figure of a section's results: the
    report and the app's section pages draw the same figures."""
    figures = []
    for key, result in section.results.items():
        draw = _FIGURES.get(key.split(".")[0], lambda _r: [])  # "quality.saliency" -> "quality"
        for fig in draw(result):
            figures.append((key, result, fig))
    return figures


def render(audit: Audit) -> str:
    """The report as one HTML string."""
    figures: dict[str, list[str]] = {}
    count = 0
    for section in audit.sections:
        figures[section.name] = []
        if section.status != "ok":
            continue
        for _key, _result, fig in section_figures(section):
            count += 1
            fig.update_layout(template="plotly_white")
            figures[section.name].append(fig.to_html(
                full_html=False, include_plotlyjs=False, div_id=f"figure-{count}",
                config={"displaylogo": False, "responsive": True},
            ))
    environment = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    return environment.from_string(_TEMPLATE).render(
        audit=audit, figures=figures, plotlyjs=jinja2_safe(get_plotlyjs()), csp=_CSP,
    )


def jinja2_safe(script: str) -> Any:
    """plotly.js is our own bundled code, inlined as is (it holds no user text)."""
    return jinja2.utils.markupsafe.Markup(script.replace("</script", "<\\/script"))
