"""Counterfactual explanations of tabular models: the smallest changes to a row that make the
model decide otherwise (layer 5: imports core, results, runtime and the feature handling of
:mod:`explain.effects`).

- :mod:`~explain.recourse.constraints`: what a counterfactual may change: observed ranges
  (or the user's), immutable features, integer columns, one-hot groups, MAD scales.
- :mod:`~explain.recourse.goals`: the target (a class, or a range for regression) and the
  check that an output reaches it.
- :mod:`~explain.recourse.descent`: Adam on the input (differentiable models).
- :mod:`~explain.recourse.sampling`: a seeded model-agnostic search over a few
  features set to values the data holds (black-box models).
- :mod:`~explain.recourse.selection`: sparsification, the measures, the diverse pick.
- :mod:`~explain.recourse.stability`: robust recourse, the share of small perturbations
  under which a counterfactual holds.
- :mod:`~explain.recourse.finding`: ``counterfactuals`` itself.
"""
