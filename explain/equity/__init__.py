"""Fairness: how a model treats groups of people (layer 6: imports core, results,
attribution, confidence and diagnostics, whose one scoring path it shares). Named ``equity``
so that it does not hide the public function ``explain.fairness``.

- :mod:`~explain.equity.grouping`: the ``sensitive=`` argument made into one group per row
  (a column, several columns for intersectional groups, or labels).
- :mod:`~explain.equity.group_rates`: counts and rates per group, disparities with
  fairlearn's definitions, bootstrap intervals and the tests of a disparity against chance.
- :mod:`~explain.equity.assessing`: ``fairness`` (group metrics, disparities, calibration
  per group); with :mod:`~explain.equity.flipping` (the flip probe) and
  :mod:`~explain.equity.thresholds` (the per-group threshold preview).
- :mod:`~explain.equity.balance`: ``data_balance`` (group sizes, labels, standardised mean
  differences); :mod:`~explain.equity.group_drivers`: ``group_importance``.
"""
