"""The package's structure (README, "Architecture"): a named core, capability subpackages
that import only from the layers below them, few flat modules, small modules, and at most
one import circle."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "explain"
# Each part of the package and its layer; a part may import only from lower layers.
LAYERS = {
    "errors": 0,
    "runtime": 1,
    "core": 2,
    "results": 2,
    "plots": 3,
    "loading": 3,
    "attribution": 4,
    "confidence": 4,
    "diagnostics": 5,  # above attribution: a cohort's drivers are its global importance
    "quality": 5,
    "adversarial": 6,
    "effects": 4,  # global feature effects: core, results and runtime only
    "recourse": 5,  # counterfactuals: above effects, whose feature handling it shares
    "equity": 6,  # fairness: above diagnostics, whose scoring path it shares
    "recourse_media": 6.5,  # counterfactuals of images and text: above recourse and adversarial
    "pairing": 6.5,  # compare and compress: above adversarial (robustness curves), below auditing
    "auditing": 7,
    "cli": 8,
    "__init__": 8,
    "app": 9,
    "__main__": 9,
}
# The documented conveniences that run back up: a result draws itself (Attribution.plot,
# GlobalImportance.plot call the plot layer inside the method).
UPWARD = {("results", "plots")}
MODULE_LINES = 450
FLAT_MODULES = 10


def _part(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "explain":
        return None
    return parts[1] if len(parts) > 1 else "__init__"


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        name = ".".join(rel.parts)
        out[name.removesuffix(".__init__")] = path
    return out


MODULES = _modules()


def _imports(path: Path) -> set[str]:
    """Every explain module ``path`` imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("explain"):
            subs = {f"{node.module}.{alias.name}" for alias in node.names}
            found.update(subs)
            if not subs <= set(MODULES):  # names from the module itself, not its submodules
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("explain"))
    return found


def test_every_part_has_a_layer() -> None:
    parts = {_part(name) for name in MODULES} - {None}
    assert parts == set(LAYERS), f"give each part of explain a layer: {parts ^ set(LAYERS)}"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_a_module_imports_only_from_lower_layers(name: str) -> None:
    part = _part(name)
    for target in _imports(MODULES[name]):
        other = _part(target)
        if other is None or other == part or target == "explain" or target not in MODULES:
            continue
        if (part, other) in UPWARD:
            continue
        assert LAYERS[other] < LAYERS[part] or part in {"__init__", "cli", "app", "__main__"} and \
            LAYERS[other] <= LAYERS[part], f"{name} (layer {LAYERS[part]}) imports {target} (layer {LAYERS[other]})"


def test_few_flat_modules_and_a_core() -> None:
    flat = [p.name for p in PACKAGE.glob("*.py")]
    assert len(flat) <= FLAT_MODULES, flat
    assert (PACKAGE / "core" / "__init__.py").is_file()


@pytest.mark.parametrize("name", sorted(MODULES))
def test_modules_stay_small(name: str) -> None:
    lines = len(MODULES[name].read_text().splitlines())
    assert lines <= MODULE_LINES, f"{name} has {lines} lines; split it by concept"


def _cycles() -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    graph = defaultdict(set)
    for name, path in MODULES.items():
        for target in _imports(path):
            if target in MODULES and target != name:
                graph[name].add(target)
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(MODULES):
        if v not in index:
            visit(v)
    return out


def test_at_most_one_import_circle() -> None:
    cycles = _cycles()
    assert len(cycles) <= 1, cycles
    for cycle in cycles:  # the one allowed: a result that draws itself
        assert {_part(m) for m in cycle} <= {"results", "plots"}, cycle


def test_no_function_is_named_like_its_module() -> None:
    """``import explain.audit as m`` bound the function once: no module under ``explain/``
    shares a name with a public function, and no module defines a function of its own name."""
    import explain

    public = {n for n in explain.__all__ if callable(getattr(explain, n)) and n[0].islower()}
    shadowed = [name for name in MODULES if name.count(".") == 1 and name.split(".")[1] in public]
    assert not shadowed, shadowed
    for name, path in MODULES.items():
        leaf = name.rsplit(".", 1)[-1]
        defined = {n.name for n in ast.parse(path.read_text()).body if isinstance(n, ast.FunctionDef)}
        assert leaf not in defined, f"{name} defines a function {leaf}()"
