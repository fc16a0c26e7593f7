"""Adversarial robustness (layer 4: imports attribution, quality's similarity, core).

- :mod:`~explain.adversarial.front`: ``robustness``, the front door.
- :mod:`~explain.adversarial.attacks`: FGSM and PGD in the attack space of a table or image.
- :mod:`~explain.adversarial.text`: the token substitution and deletion search.
- :mod:`~explain.adversarial.chunks`: the same run in chunks on Ray.
"""
