"""The audit's compression section: the model beside a lighter version of itself (int8
weights by default, or pruned) or beside a second model, through :func:`explain.compare`.

Off unless asked: ``explain.audit(model, data, sections=[..., "compression"])`` compares
with the int8 version, and the option ``compress=`` (``"int8"``, ``"prune:0.5"`` or an
:class:`explain.Model`) both turns the section on in the default audit and says what to
compare with. The findings say it in words (:mod:`explain.auditing.compression_text`); the
metrics ``compression.agreement``, ``.accuracy_a``, ``.accuracy_b``, ``.accuracy_drop``,
``.ece_a``, ``.ece_b``, ``.explanation_similarity``, ``.mcnemar_p``, ``.backward_trust``,
``.new_error_share``, ``.size_ratio`` (A's stored bytes over B's) and ``.latency_ratio``
(B's seconds per row over A's), with ``sensitive=`` ``.fairness_drift`` (B's demographic
parity difference minus A's), ``.parity_difference_a``/``_b`` and
``.worst_group_accuracy_drop``, serve as gates; the JSON keeps the figures and per-class
table, not the per-row arrays.

Example:
    >>> import explain
    >>> from explain.auditing.sections.compression import SECTION
    >>> model, data = explain.load_example("breast_cancer")
    >>> section = SECTION.run(model, data, compress=model, rows=20)
    >>> section.status, section.metrics["compression.agreement"], section.metrics["compression.mcnemar_p"]
    ('ok', 1.0, 1.0)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from explain.auditing import compression_text as text
from explain.auditing.common import Findings, Section, SectionSpec, finite, timed
from explain.core.dataset import Dataset
from explain.core.model import Model
from explain.errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    import plotly.graph_objects as go

__all__ = ["SECTION", "compression_section", "compression_figures", "compression_export", "lighter",
           "comparison_metrics", "comparison_findings"]


def lighter(model: Model, spec: Any = None) -> tuple[Model, str]:
    """The model to compare with and its label: ``spec`` ``None``, ``"int8"`` or
    ``"quantize"``: int8 weights; ``"prune"`` or ``"prune:AMOUNT"``: pruned to that share
    (default 0.5); an :class:`explain.Model`: that model itself.

    Raises:
        InputError: a spec of another form.

    Example:
        >>> import torch, explain
        >>> model = explain.Model(torch.nn.Linear(10, 2), task="classification")
        >>> [lighter(model, s)[1] for s in (None, "prune:0.6", "prune")]
        ['int8', 'pruned 60%', 'pruned 50%']
    """
    from explain.pairing.shrinking import compress

    if isinstance(spec, Model):
        return spec, "B"
    word = "int8" if spec is None else str(spec).strip().lower()
    if word in ("int8", "quantize", "quantise"):
        return compress(model, method="quantize"), "int8"
    method, _, amount = word.partition(":")
    if method != "prune":
        raise InputError(f"Cannot read the compression {spec!r}; write 'int8' or 'prune:AMOUNT' "
                         "(e.g. 'prune:0.5'), or pass a second explain.Model.")
    try:
        share = float(amount) if amount else 0.5
    except ValueError:
        raise InputError(f"Cannot read the pruning amount in {spec!r}; write e.g. 'prune:0.5' "
                         "(the share of weights set to 0).") from None
    return compress(model, method="prune", amount=share), f"pruned {share:.0%}"


def comparison_metrics(comparison: Any, prefix: str = "compression.") -> dict[str, float]:
    """The gates' numbers of a :class:`explain.Comparison` (classifiers: accuracy, ECE,
    flips; regression: ``mae_a``, ``mae_b``; both: agreement, similarity, size, latency)."""
    c = comparison
    out = {"agreement": c.agreement, "explanation_similarity": c.explanation_similarity}
    if c.accuracy is not None:
        first, second = ("accuracy_a", "accuracy_b") if c.task == "classification" else ("mae_a", "mae_b")
        out.update({first: c.accuracy[0], second: c.accuracy[1]})
        if c.task == "classification":
            out.update(accuracy_drop=c.accuracy[0] - c.accuracy[1], mcnemar_p=c.mcnemar_p)
    if c.ece is not None:
        out.update(ece_a=c.ece[0], ece_b=c.ece[1])
    if c.backward_trust is not None:
        out.update(backward_trust=c.backward_trust, new_error_share=c.new_error_share)
    if c.size is not None and c.size[1]["stored_bytes"]:
        out["size_ratio"] = c.size[0]["stored_bytes"] / c.size[1]["stored_bytes"]
    if c.latency[0] > 0:
        out["latency_ratio"] = c.latency[1] / c.latency[0]
    if c.groups:
        out["fairness_drift"] = c.fairness_drift
        if "parity_difference" in c.groups:
            out["parity_difference_a"], out["parity_difference_b"] = c.groups["parity_difference"]
        if "accuracy_a" in c.groups:
            drops = np.asarray(c.groups["accuracy_a"]) - np.asarray(c.groups["accuracy_b"])
            out["worst_group_accuracy_drop"] = float(np.nanmax(drops))
    return {f"{prefix}{k}": float(v) for k, v in out.items() if v is not None}


def comparison_findings(comparison: Any, label: str) -> list[str]:
    """The comparison in words: the headline, McNemar's test, trust and calibration."""
    c = comparison
    ratio = c.size[0]["stored_bytes"] / c.size[1]["stored_bytes"] if c.size and c.size[1]["stored_bytes"] else 1.0
    changed = len(c.disagreeing) if c.disagreeing is not None else 0
    first = text.headline(label, size_ratio=ratio, agreement=c.agreement, changed=changed, n=c.n,
                          accuracy=c.accuracy, method=c.method, similarity=c.explanation_similarity, task=c.task)
    findings = [f"{first}; {text.chance(c.mcnemar_p, c.flips)}" if c.flips else first]
    trusted = text.trust_text(c.backward_trust, c.new_error_share, c.ece)
    if trusted:
        findings.append(trusted)
    if c.groups:
        findings.append(text.drift(c.groups, c.per_group()))
    if c.params.get("method_note"):
        findings.append(str(c.params["method_note"]))
    return findings


def compression_section(model: Model, data: Dataset, *, compress: Any = None, compare_method: str = "saliency",
                        compare_attack: str | None = None, compare_alpha: float | None = None,
                        compare_names: tuple[str, str] | None = None, sensitive: Any = None,
                        positive: Any = None, rows: int = 100, seed: int = 0, **_: Any) -> Section:
    """Compare ``model`` with its int8 version (or ``compress``: ``"prune:0.5"``, or a
    second Model) on ``data`` with :func:`explain.compare`.

    Args:
        model: the original (model A).
        data: the rows both are run on (labelled: accuracy, calibration and flips too).
        compress: what to compare with (see :func:`lighter`).
        compare_method: the attribution method of the explanation similarity.
        compare_attack: an attack for both robustness curves (default: none).
        compare_alpha: conformal miscoverage for both coverages (default: none).
        compare_names: the two models' labels (default: ``("original", label)``).
        sensitive, positive: the fairness section's groups: each group's accuracy under both
            and the change in demographic parity difference (``compression.fairness_drift``).
        rows: rows explained for the similarity. seed: seeds the sample.
    """
    def run() -> Findings:
        from explain.pairing.contrasting import compare

        other, label = lighter(model, compress)
        names = tuple(compare_names) if compare_names else ("original", label)
        if isinstance(compress, Model):
            label = names[1]
        comparison = compare(model, other, data, method=compare_method, rows=rows, attack=compare_attack,
                             alpha=compare_alpha, names=names, seed=seed, sensitive=sensitive, positive=positive)
        return comparison_findings(comparison, label), comparison_metrics(comparison), {"comparison": comparison}

    return timed(SECTION, run)


def compression_figures(name: str, result: Any) -> list[go.Figure]:
    """The per-class changes (labelled classifiers) and the similarity histogram."""
    figures = []
    if result.recall_a is not None:
        figures.append(result.plot("classes"))
    if result.spearman is not None:
        figures.append(result.plot("similarity"))
    return figures


def compression_export(name: str, result: Any) -> Any:
    """What the JSON keeps: the summary, similarity, size, per-class table, robustness
    curves and counts, not the per-row arrays (predictions, attributions, drops)."""
    from explain.results._base import jsonable

    c = result
    out = {"names": list(c.names), "task": c.task, "n": c.n, "method": c.method, "k": c.k, **c.summary(),
           "similarity": c.similarity(), "size": list(c.size) if c.size else None,
           "per_class": c.per_class().to_dict("records"), "groups": c.groups, "disagreeing": 0 if c.disagreeing is None
           else len(c.disagreeing), "params": {k: str(v) for k, v in c.params.items()}}
    if c.epsilons is not None:
        out["robustness"] = {"epsilons": c.epsilons, "accuracy_a": c.robust_accuracy_a,
                             "accuracy_b": c.robust_accuracy_b}
    return finite(jsonable(out))


SECTION = SectionSpec("compression", "Compression", compression_section, compression_figures, compression_export,
                      asked_by="compress")
