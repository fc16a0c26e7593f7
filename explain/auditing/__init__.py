"""The audit and its report (layer 5: imports every capability, results, plots).

- :mod:`~explain.auditing.runner`: ``audit`` and :class:`Audit`.
- :mod:`~explain.auditing.sections`, :mod:`~explain.auditing.quality_section`,
  :mod:`~explain.auditing.robustness_section`, :mod:`~explain.auditing.uncertainty_section`:
  one function per section.
- :mod:`~explain.auditing.report`: the self-contained HTML report.
"""
