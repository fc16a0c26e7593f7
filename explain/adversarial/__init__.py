"""Adversarial robustness (layer 4: imports attribution, quality's similarity, core).

- :mod:`~explain.adversarial.front`: ``robustness``, the front door: checks, prepares the
  inputs once and resolves every setting into one plan.
- :mod:`~explain.adversarial.plan`: the plan, and the rows it runs on.
- :mod:`~explain.adversarial.local`: the attack path on one block of rows.
- :mod:`~explain.adversarial.chunks`: the same path on chunks of rows, on Ray, merged.
- :mod:`~explain.adversarial.attacks`: FGSM and PGD in the attack space of a table or image.
- :mod:`~explain.adversarial.text`: the token substitution and deletion search.
"""
