"""The Streamlit app: page set-up, widget state, the model's life cycle, one cache, widgets, pages.

This subpackage is the only part of ``explain`` that imports streamlit (``import explain``
never imports it). The rule: a page (:mod:`explain.app.pages`) imports streamlit and modules
of ``explain.app`` only, never the rest of the package; whatever it needs of the package
(a computation, a list of choices, a verdict) comes through one of the modules below, so
pages stay thin glue and a move inside the package never touches a page. Those modules form
layers, each importing only from the layers before it in this list (``tests/test_app_layers.py``
checks both rules):

- no streamlit, unit-tested: :mod:`~explain.app.infer` (which column of an upload is the
  label), :mod:`~explain.app.tables` (the tables behind charts and pickers),
  :mod:`~explain.app.tasks` (the computations, run where the model lives),
  :mod:`~explain.app.remote` (the session's model, in a worker process for an upload).
- :mod:`~explain.app.choices` (what the package offers the pickers; no streamlit),
  :mod:`~explain.app.navigation` (the one ``st.navigation``, run by ``streamlit run app.py``
  and by ``explain app``, whose entry script is ``explain/app/entry/dashboard.py``) and
  :mod:`~explain.app.persist` (widget values that survive a visit to another page).
- :mod:`~explain.app.page`: page set-up, the session's model and dataset, the error guard,
  and what a page says when nothing is loaded.
- :mod:`~explain.app.cache` (the one funnel of cached computations, keyed by the model's
  fingerprint, the rows and the options; progress and Cancel) and :mod:`~explain.app.charts`
  (a chart with its data, shown with its downloads).
- :mod:`~explain.app.lifecycle` (loading examples and uploads, the upload's worker and model
  settings; a new model releases the old one and its cached results) and
  :mod:`~explain.app.compute` (the pages' cached computations: explanations, the report,
  performance, slices, error analysis, cohort drivers, fairness, feature effects,
  counterfactuals and an edited row's outputs).
- :mod:`~explain.app.widgets`: pickers, model settings, the summary of what is loaded.
- the pages' own work, in this order: :mod:`~explain.app.saliency`, :mod:`~explain.app.robust`,
  :mod:`~explain.app.diagnose` (Performance), :mod:`~explain.app.cohorts` (Error analysis) and
  :mod:`~explain.app.groups` (Fairness), :mod:`~explain.app.whatif` (What-if) and
  :mod:`~explain.app.effects_view` (Feature effects), :mod:`~explain.app.pairs_view` (Compare),
  :mod:`~explain.app.sections`, :mod:`~explain.app.trust`, :mod:`~explain.app.panels`.
- :mod:`~explain.app.pages`: one module per page, whose ``render()`` draws it.
"""

from __future__ import annotations

__all__ = [
    "cache", "charts", "choices", "cohorts", "compute", "diagnose", "effects_view", "groups", "infer", "lifecycle", "navigation", "page",
    "pages", "pairs_view", "panels", "persist", "remote", "robust", "saliency", "scoreboard", "sections", "tables", "tasks",
    "trust", "whatif", "widgets",
]
