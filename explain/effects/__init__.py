"""Global feature effects of tabular models (layer 4: imports core, results and runtime).

- :mod:`~explain.effects.grids`: the rows (a Dataset, array or DataFrame) as numbers, the
  features asked for (names, indices, pairs), and the grid of values each is set to.
- :mod:`~explain.effects.pdp`: ``partial_dependence`` (average curves, ICE curves, 2-D
  surfaces), streamed through the model in batches.
- :mod:`~explain.effects.accumulated`: ``ale`` (first-order accumulated local effects).
- :mod:`~explain.effects.passes`: the one loop that sends rows with one or two columns
  overwritten through the model in budget-sized batches, here or on Ray.
"""
