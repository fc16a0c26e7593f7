"""Where work runs (layer 1: imports core and errors only).

- :mod:`~explain.runtime.backends`: local or Ray chunks, results back in row order.
- :mod:`~explain.runtime.worker`: an uploaded model in a process of its own.
- :mod:`~explain.runtime.deps`: optional dependencies, with the pip command when missing.
"""
