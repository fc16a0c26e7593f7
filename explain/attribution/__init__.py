"""Attributions (layer 3: imports core, runtime, results).

- :mod:`~explain.attribution.attributions`: ``attribute``, ``methods``, ``method_info``.
- :mod:`~explain.attribution.registry`: every Captum method behind one signature.
- :mod:`~explain.attribution.checks`: which methods can serve a model, and why not.
- :mod:`~explain.attribution.streaming`: ``global_importance`` over any number of rows, through
  the public accumulator :class:`~explain.attribution.accumulator.ImportanceStream`.
- :mod:`~explain.attribution.shapley`, :mod:`~explain.attribution.maskers`: ``shap_values``
  (its bridge to the shap package is :mod:`explain.results.shap_bridge`).
- :mod:`~explain.attribution.attention_maps`: ``attention`` of transformer models.
"""
