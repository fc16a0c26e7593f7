"""Benchmarks for explain (not tests): run them with ``python -m bench NAME``.

Each benchmark is a module of this package with a ``main(argv)`` function, found by
name; see ``bench/README.md`` for what they measure and the latest results.
"""

from __future__ import annotations

import ast
import pkgutil
from pathlib import Path

_HERE = Path(__file__).resolve().parent


def benchmarks() -> dict[str, str]:
    """Name -> first line of the docstring of every benchmark module, without importing them."""
    found = {}
    for info in pkgutil.iter_modules([str(_HERE)]):
        if info.name.startswith("_"):
            continue
        source = (_HERE / f"{info.name}.py").read_text(encoding="utf-8")
        doc = ast.get_docstring(ast.parse(source)) or ""
        found[info.name] = doc.strip().splitlines()[0] if doc.strip() else ""
    return dict(sorted(found.items()))
