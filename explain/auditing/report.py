"""Render an :class:`~explain.auditing.outcome.Audit` as one self-contained HTML file.

The page works offline and makes no network request: plotly.js is inlined once, there
are no fonts, images or scripts from elsewhere, and a Content-Security-Policy forbids
any fetch. Every piece of text from the user's files is escaped by jinja2's autoescape
(and by plotly inside figures), so a column named ``<script>`` shows as text.

This module only renders: each section's figures come from its declaration
(:func:`explain.auditing.registry.section_figures`).
"""

from __future__ import annotations

from typing import Any, Protocol

import jinja2
from plotly.offline import get_plotlyjs

from explain.auditing.common import Section
from explain.auditing.registry import section_figures

__all__ = ["render", "Audited"]


class Audited(Protocol):
    """What the report reads of an :class:`~explain.auditing.outcome.Audit` (which calls
    :func:`render`; this module does not import it)."""

    @property
    def model(self) -> dict[str, Any]: ...

    @property
    def data(self) -> dict[str, Any]: ...

    @property
    def sections(self) -> tuple[Section, ...]: ...

    @property
    def provenance(self) -> dict[str, Any]: ...

    @property
    def findings(self) -> list[str]: ...

    @property
    def title(self) -> str: ...


_CSP = ("default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline'; "
        "img-src data: blob:; font-src data:; connect-src 'none'")

_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{{ csp }}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ audit.title }} of {{ audit.model.get("format", "model") }} model</title>
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
<h1>{{ audit.title }}</h1>
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


def render(audit: Audited) -> str:
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
