"""How well the model does on labelled data, and where it fails (layer 5: imports core and results; cohort drivers
    also attribution). Named ``diagnostics`` so that it does not hide the public function
``explain.performance``.

- :mod:`~explain.diagnostics.scoring`: the one scoring path of the app, the audit and the CLI.
- :mod:`~explain.diagnostics.truth`: outputs beside the labels matched with them, which
  ``score``, ``performance`` and ``slices`` share.
- :mod:`~explain.diagnostics.metrics`: ``performance`` (figures in numpy
  :mod:`~explain.diagnostics.measures`, each equal to scikit-learn's).
- :mod:`~explain.diagnostics.slicing`: ``slices``, with the rule parser
  :mod:`~explain.diagnostics.rules` and the tests in :mod:`~explain.diagnostics.significance`.
- :mod:`~explain.diagnostics.cohorts`: ``error_analysis``: per-row errors streamed
  (:mod:`~explain.diagnostics.mistakes`), columns binned (:mod:`~explain.diagnostics.cohort_columns`),
  a histogram tree (:mod:`~explain.diagnostics.error_tree`), held-out tests and FDR
  (:mod:`~explain.diagnostics.cohort_stats`); :mod:`~explain.diagnostics.drivers`:
  ``cohort_drivers`` (global importance in a cohort against elsewhere).
"""
