"""Attributions (layer 3: imports core, runtime, results).

- :mod:`~explain.attribution.attributions`: ``attribute``, ``methods``, ``method_info``.
- :mod:`~explain.attribution.registry`: every Captum method behind one signature.
- :mod:`~explain.attribution.checks`: which methods can serve a model, and why not.
- :mod:`~explain.attribution.streaming`: ``global_importance`` over any number of rows.
- :mod:`~explain.attribution.shapley`, :mod:`~explain.attribution.maskers`,
  :mod:`~explain.attribution.shap_interop`: ``shap_values`` and its bridge to shap.
- :mod:`~explain.attribution.attention_maps`: ``attention`` of transformer models.
"""
