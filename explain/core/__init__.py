"""The shared engine every capability runs on (layer 1: imports only errors and itself).

Inside it, each module imports only those listed before it (no circle):

- :mod:`~explain.core.validate`: one declarative check of arguments at the public boundary.
- :mod:`~explain.core.rng`: seeded runs, one at a time.
- :mod:`~explain.core.input_kind`: what a network takes (table, image, text), read from itself.
- :mod:`~explain.core.dataset`: :class:`Dataset`, examples with labels, names and row ids.
- :mod:`~explain.core.batch`: :func:`prepare` turns any inputs into a model-ready :class:`Batch`
  that keeps names, labels and row ids; ``Runnable`` is what it needs of a model.
- :mod:`~explain.core.budget`: rows per batch from the memory budget.
- :mod:`~explain.core.running`: the one loop running the model in batches, and targets.
- :mod:`~explain.core.model`: :class:`Model`, a network with what explanations need to
  know, and ``check_model``.
- :mod:`~explain.core.labels`: a dataset's labels as the model's output indices.
"""
