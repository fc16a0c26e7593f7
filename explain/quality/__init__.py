"""How far an explanation can be trusted (layer 4: imports attribution, core, results).

- :mod:`~explain.quality.measures`: ``evaluate``, ``sanity_check``, ``agreement``, ``verdict``.
- :mod:`~explain.quality.deletion`: deletion and insertion curves.
- :mod:`~explain.quality.sanity`: cascading randomisation.
- :mod:`~explain.quality.similarity`: rank correlation, top-k overlap, SSIM.
- :mod:`~explain.quality.verdicts`: the sentence and badge level.
"""
