"""How well the model does on labelled data (layer 3: imports core).

- :mod:`~explain.performance.scoring`: the one scoring path of the app, the audit and the CLI.
"""
