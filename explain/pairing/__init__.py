"""Comparing two models, and lighter versions of one (layer 6.5: above adversarial and
equity, whose robustness curves and scoring it shares; below auditing).

- :mod:`~explain.pairing.shrinking`: ``compress`` (int8 weights, or global magnitude pruning).
- :mod:`~explain.pairing.footprint`: ``model_size`` (dense, stored and non-zero) and latency.
- :mod:`~explain.pairing.contrasting`: ``compare`` (agreement, accuracy, calibration,
  robustness, explanation similarity, flips and McNemar's test, backward trust).
- :mod:`~explain.pairing.measures`: the numpy measures ``compare`` reports.
- :mod:`~explain.pairing.sweeping`: ``compress_sweep`` (the same against the amount).
"""
