"""Counterfactuals of every modality (layer 6.5: above :mod:`explain.recourse`, whose tabular
search it dispatches to, and :mod:`explain.adversarial`, whose word-level attack serves text).

- :mod:`~explain.recourse_media.images`: the smallest L2 change toward the target class.
- :mod:`~explain.recourse_media.texts`: word substitutions and deletions that flip the decision.
- :mod:`~explain.recourse_media.dispatch`: ``counterfactuals`` itself, by the model's modality.
"""
