"""How sure the model is and whether it should be (layer 3: imports core, results).

- :mod:`~explain.confidence.estimates`: ``uncertainty`` and ``risk_coverage``.
- :mod:`~explain.confidence.calibrating`: ``calibration`` (ECE, temperature scaling).
- :mod:`~explain.confidence.conformal_sets`: ``conformal`` prediction sets and intervals.
"""
