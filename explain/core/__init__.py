"""The shared engine every capability runs on (layer 1: imports only errors and itself).

- :mod:`~explain.core.model`: :class:`Model`, a network with what explanations need to know.
- :mod:`~explain.core.dataset`: :class:`Dataset`, examples with labels and names.
- :mod:`~explain.core.batch`: :func:`prepare` turns any inputs into a model-ready :class:`Batch`.
- :mod:`~explain.core.running`: the model's outputs in batches, labels, seeding, dropout, TTA.
- :mod:`~explain.core.budget`: rows per batch from the memory budget.
- :mod:`~explain.core.labels`: a dataset's labels as the model's output indices.
- :mod:`~explain.core.rng`: seeded runs, one at a time.
- :mod:`~explain.core.input_kind`: what a network takes (table, image, text), read from itself.
"""
