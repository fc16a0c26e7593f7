"""The audit's sections in report order, and the figures of a section's results.

A section is declared once, in its own module, as a
:class:`~explain.auditing.common.SectionSpec` (name, title, how it runs, how its
results are drawn and exported); :data:`SECTIONS` lists them. :func:`explain.audit` runs
them, the HTML report and the app's pages draw :func:`section_figures`, and the JSON
report writes :func:`section_dict`.

Example:
    >>> from explain.auditing.registry import SECTIONS, audit_sections, declared
    >>> audit_sections()[:3], declared("shap").title
    (['performance', 'fairness', 'effects'], 'SHAP values')
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from explain.auditing.common import Section, SectionSpec
from explain.auditing.sections import (
    attention,
    compression,
    effects,
    fairness,
    performance,
    quality,
    robustness,
    saliency,
    shap,
    uncertainty,
)
from explain.errors import InputError, InputTypeError

if TYPE_CHECKING:  # pragma: no cover
    import plotly.graph_objects as go

__all__ = ["SECTIONS", "audit_sections", "default_sections", "declared", "register", "section_figures", "section_dict"]

# the sections by name, in report order
SECTIONS: dict[str, SectionSpec] = {spec.name: spec for spec in (
    performance.SECTION,
    fairness.SECTION,
    effects.SECTION,
    saliency.SECTION,
    shap.SECTION,
    attention.SECTION,
    quality.SECTION,
    robustness.SECTION,
    uncertainty.SECTION,
    compression.SECTION,
)}


def audit_sections() -> list[str]:
    """Names of the audit's sections, in report order.

    Example:
        >>> audit_sections()
        ['performance', 'fairness', 'effects', 'saliency', 'shap', 'attention', 'quality', 'robustness', 'uncertainty', 'compression']
    """
    return list(SECTIONS)


def default_sections(options: dict[str, Any] | None = None) -> list[str]:
    """The sections an audit runs when ``sections=`` is not given: every one, except those
    asked for by an option (``SectionSpec.asked_by``) that ``options`` does not hold.

    Example:
        >>> default_sections()[-1], default_sections({"compress": "int8"})[-1]
        ('uncertainty', 'compression')
    """
    given = options or {}
    return [name for name, spec in SECTIONS.items() if spec.asked_by is None or given.get(spec.asked_by) is not None]


def declared(name: str) -> SectionSpec:
    """The declaration of the section ``name``.

    Raises:
        InputError: no section of that name is declared.
    """
    if name not in SECTIONS:
        raise InputError(f"No audit section is named {name!r}; the sections are {list(SECTIONS)} "
                         "(declare a new one with explain.auditing.registry.register).")
    return SECTIONS[name]


def register(spec: SectionSpec) -> SectionSpec:
    """Add a section after the others: ``audit`` runs it by default and the report and
    :func:`section_figures` draw its results with ``spec.figures``.

    Raises:
        InputTypeError: ``spec`` is not a SectionSpec.
        InputError: a section of that name is already declared.

    Example:
        >>> from explain.auditing.common import Section, SectionSpec
        >>> spec = SectionSpec("notes", "Notes", lambda model, data, **_: Section("notes", "Notes", "ok"))
        >>> register(spec) is spec, audit_sections()[-1]
        (True, 'notes')
        >>> del SECTIONS["notes"]
    """
    if not isinstance(spec, SectionSpec):
        raise InputTypeError(f"register takes a SectionSpec, got {type(spec).__name__}; declare the section as "
                             "SectionSpec(name, title, run, figures).")
    if spec.name in SECTIONS:
        raise InputError(f"An audit section named {spec.name!r} is already declared; choose another name.")
    SECTIONS[spec.name] = spec
    return spec


def section_figures(section: Section) -> list[tuple[str, Any, go.Figure]]:
    """``(result name, result, figure)`` for every figure of a section's results, in the
    order of its results, as its declaration draws them: the report and the app's
    section pages show the same figures."""
    figures = declared(section.name).figures
    return [(name, result, fig) for name, result in section.results.items() for fig in figures(name, result)]


def section_dict(section: Section) -> dict[str, Any]:
    """The JSON of a section, its results as its declaration exports them (a section no
    longer declared: each result's ``to_dict()``)."""
    spec = SECTIONS.get(section.name)
    return section.to_dict(spec.export if spec is not None else None)
