"""The audit and its report (layer 5: imports every capability, results, plots).

- :mod:`~explain.auditing.common`: the :class:`Section` result, the :class:`SectionSpec`
  declaration (name, title, how it runs, how its results are drawn) and shared helpers.
- One module per section, each declaring ``SECTION``:
  :mod:`~explain.auditing.sections.performance`, :mod:`~explain.auditing.sections.fairness`,
  :mod:`~explain.auditing.sections.saliency`,
  :mod:`~explain.auditing.sections.shap`, :mod:`~explain.auditing.sections.attention`,
  :mod:`~explain.auditing.sections.quality`, :mod:`~explain.auditing.sections.robustness`,
  :mod:`~explain.auditing.sections.uncertainty`.
- :mod:`~explain.auditing.performance_text` and :mod:`~explain.auditing.fairness_text`: those
  two sections' findings in words.
- :mod:`~explain.auditing.registry`: the sections in report order, ``register`` and
  ``section_figures`` (what the report and the app draw).
- :mod:`~explain.auditing.outcome`: :class:`Audit`, its JSON and HTML.
- :mod:`~explain.auditing.runner`: ``audit``.
- :mod:`~explain.auditing.report`: renders the self-contained HTML report.
"""
