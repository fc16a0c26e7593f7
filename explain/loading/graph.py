"""Make an exported graph explainable by module hooks.

``torch.export`` programs (``ExportedProgram.module()``) call ``aten.relu`` and friends
as functions, so Captum's DeepLift and guided backprop, which attach their rules to
``nn.ReLU`` / ``nn.MaxPool2d`` modules, would silently fall back to plain gradients,
and Grad-CAM finds no layer to hook. We rewrite the graph so that each supported
nonlinearity runs as a fresh module with the same arguments (the arithmetic is
unchanged) and each convolution's output passes through a named :class:`Tap`
(an identity) that Grad-CAM can hook. Nonlinearities we do not rebuild stay
functions, and :mod:`explain.attribution.checks` refuses hook methods when it sees them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import fx, nn

aten = torch.ops.aten


class Tap(nn.Identity):
    """An identity placed after a layer of an exported graph so hooks can see its output.

    Attributes:
        origin: the layer's name in the original module (e.g. ``"features.2"``).
        kind: ``"conv"`` for convolutions.
    """

    def __init__(self, origin: str, kind: str) -> None:
        super().__init__()
        self.origin = origin
        self.kind = kind


def _arg(args: tuple[Any, ...], i: int, default: Any) -> Any:
    return args[i] if len(args) > i and args[i] not in (None, []) else default


def _max_pool(cls: type[nn.Module]) -> Callable[[tuple[Any, ...]], nn.Module]:
    def make(args: tuple[Any, ...]) -> nn.Module:
        kernel = args[1]
        return cls(kernel, _arg(args, 2, kernel), _arg(args, 3, 0), _arg(args, 4, 1), ceil_mode=_arg(args, 5, False))

    return make


def _elu(args: tuple[Any, ...]) -> nn.Module | None:
    if _arg(args, 2, 1) != 1 or _arg(args, 3, 1) != 1:
        return None  # a SELU-like scaled ELU has no module equivalent here
    return nn.ELU(alpha=_arg(args, 1, 1.0))


_RULES: dict[Any, Callable[[tuple[Any, ...]], nn.Module | None]] = {
    aten.relu.default: lambda a: nn.ReLU(),
    aten.relu_.default: lambda a: nn.ReLU(),
    aten.sigmoid.default: lambda a: nn.Sigmoid(),
    aten.tanh.default: lambda a: nn.Tanh(),
    aten.leaky_relu.default: lambda a: nn.LeakyReLU(_arg(a, 1, 0.01)),
    aten.elu.default: _elu,
    aten.softmax.int: lambda a: nn.Softmax(dim=a[1]),
    aten._softmax.default: lambda a: nn.Softmax(dim=a[1]),
    aten.max_pool1d.default: _max_pool(nn.MaxPool1d),
    aten.max_pool2d.default: _max_pool(nn.MaxPool2d),
    aten.max_pool3d.default: _max_pool(nn.MaxPool3d),
}
_CONVS = {aten.conv1d.default, aten.conv2d.default, aten.conv3d.default}


def rebuild_modules(graph_module: fx.GraphModule) -> fx.GraphModule:
    """Rewrite ``graph_module`` in place: supported nonlinearities become modules, and
    convolutions get a :class:`Tap`; returns it. Outputs are unchanged."""
    graph = graph_module.graph
    for node in list(graph.nodes):
        if node.op != "call_function":
            continue
        if node.target in _RULES and not any(isinstance(a, fx.Node) for a in node.args[1:]):
            module = _RULES[node.target](node.args)
            if module is None or node.kwargs:
                continue
            name = f"_explain_{node.name}"
            graph_module.add_submodule(name, module)
            with graph.inserting_after(node):
                replacement = graph.call_module(name, (node.args[0],))
            node.replace_all_uses_with(replacement)
            graph.erase_node(node)
        elif node.target in _CONVS:
            weight = node.args[1]
            origin = weight.target.rsplit(".", 1)[0] if weight.op == "get_attr" else node.name
            name = "_explain_tap_" + origin.replace(".", "_")
            graph_module.add_submodule(name, Tap(origin, "conv"))
            with graph.inserting_after(node):
                tap = graph.call_module(name, (node,))
            node.replace_all_uses_with(tap, delete_user_cb=lambda user, tap=tap: user is not tap)
    graph.lint()
    graph_module.recompile()
    return graph_module
