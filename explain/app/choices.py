"""What the package offers the pages' pickers: the bundled examples, attribution methods and
their options, audit sections, SHAP algorithms, uncertainty and conformal methods.

Pure functions (no streamlit): a page reaches the package only through :mod:`explain.app`,
and the choices it offers come from here.
"""

from __future__ import annotations

from typing import Any

import explain
from explain.app.remote import SessionModel
from explain.attribution.shapley import ALGORITHMS
from explain.confidence.conformal_sets import CLASSIFICATION_METHODS, DEFAULT_METHODS, REGRESSION_METHODS

__all__ = [
    "audit_sections", "conformal_methods", "conv_layers", "examples", "method_info", "methods", "shap_algorithms",
    "uncertainty_methods",
]


def examples() -> list[str]:
    """Names of the bundled examples."""
    return explain.examples()


def methods(model: SessionModel) -> list[str]:
    """Attribution methods that can serve ``model`` (probed when it loaded)."""
    return list(model.methods)


def method_info(name: str) -> dict[str, Any]:
    """A method's summary and default options."""
    return explain.method_info(name)


def conv_layers(model: SessionModel) -> list[str]:
    """Names of the model's convolutional layers (Grad-CAM's choices), first to last."""
    return list(model.conv_layers)


def audit_sections() -> list[str]:
    """Names of the audit's sections, in the report's order."""
    return list(explain.audit_sections())


def shap_algorithms() -> list[str]:
    """SHAP's algorithms, ``"auto"`` first."""
    return list(ALGORITHMS)


def uncertainty_methods(model: SessionModel) -> list[str]:
    """Where ``model``'s uncertainty can come from: MC dropout (models with dropout), the
    softmax (classifiers), test-time augmentation (not for text)."""
    out = (["mc_dropout"] if model.has_dropout else []) + (["softmax"] if model.task == "classification" else [])
    return out + ([] if model.modality == "text" else ["tta"])


def conformal_methods(task: str) -> tuple[list[str], str]:
    """The conformal methods for ``task`` and the default one.

    Example:
        >>> conformal_methods("regression")
        (['residual', 'normalized'], 'residual')
    """
    if task == "classification":
        return list(CLASSIFICATION_METHODS), DEFAULT_METHODS["classification"]
    return list(REGRESSION_METHODS), DEFAULT_METHODS["regression"]
