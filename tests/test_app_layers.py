"""The app's structure: pages reach the package only through ``explain.app``, every module of
``explain.app`` imports only from the layers below it, and pages stay short."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parent.parent / "explain" / "app"
# explain/app's modules by layer, lowest first (the order of explain/app/__init__.py's docstring)
LAYERS = [
    {"infer", "tables", "scoreboard", "remote"},
    {"tasks"},
    {"choices", "navigation", "persist"},
    {"page"},
    {"cache", "charts"},
    {"lifecycle", "compute"},
    {"widgets"},
    {"saliency", "robust", "diagnose", "cohorts", "groups", "whatif", "effects_view", "pairs_view"},
    {"sections"},
    {"trust"},
    {"panels"},
]
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}
PAGE_LINES = 80
MODULE_LINES = 450


def _imports(path: Path) -> list[str]:
    """Every module ``path`` imports (``from a import b`` gives ``a.b`` as well as ``a``)."""
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            out += [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
    return out


def _app_modules(path: Path) -> set[str]:
    """The modules of explain.app (not its pages) that ``path`` imports."""
    names = set()
    for name in _imports(path):
        parts = name.split(".")
        if parts[:2] == ["explain", "app"] and len(parts) > 2 and parts[2] in RANK:
            names.add(parts[2])
    return names


def test_every_app_module_has_a_layer() -> None:
    modules = {p.stem for p in APP.glob("*.py")} - {"__init__"}
    assert modules == set(RANK), f"put each module of explain/app in a layer of LAYERS: {modules ^ set(RANK)}"


@pytest.mark.parametrize("name", sorted(RANK))
def test_a_module_imports_only_from_lower_layers(name: str) -> None:
    higher = {m for m in _app_modules(APP / f"{name}.py") if RANK[m] >= RANK[name]}
    assert not higher, f"explain.app.{name} imports {sorted(higher)}, which are not below it"
    assert not any(n.startswith("explain.app.pages") for n in _imports(APP / f"{name}.py")), "no module imports a page"


@pytest.mark.parametrize("path", sorted((APP / "pages").glob("[!_]*.py")), ids=lambda p: p.stem)
def test_a_page_reaches_the_package_only_through_explain_app(path: Path) -> None:
    outside = [n for n in _imports(path) if n.split(".")[0] == "explain" and n.split(".")[:2] != ["explain", "app"]]
    assert not outside, f"{path.name} imports {outside}: go through a module of explain.app"
    assert not any(n.startswith("explain.app.pages") for n in _imports(path)), "a page imports no other page"
    assert len(path.read_text().splitlines()) <= PAGE_LINES, f"{path.name} is longer than {PAGE_LINES} lines"


def test_modules_stay_short() -> None:
    long = {p.name: n for p in APP.rglob("*.py") if (n := len(p.read_text().splitlines())) > MODULE_LINES}
    assert not long, f"split these modules: {long}"
