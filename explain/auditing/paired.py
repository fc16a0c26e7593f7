"""The comparison report of ``explain compare``: two models side by side as an
:class:`~explain.auditing.outcome.Audit` with the one compression section, so that it is
rendered, exported and gated exactly as the audit is (one offline HTML file, the JSON
schema ``explain.audit/1``, flat metrics ``compression.*``).

Example:
    >>> import explain
    >>> model, data = explain.load_example("breast_cancer")
    >>> report = comparison_report(model, "int8", data, rows=20)
    >>> report.title, [s.name for s in report.sections], report.metrics["compression.size_ratio"] > 3
    ('Model comparison', ['compression'], True)
"""

from __future__ import annotations

import platform
import time
from collections.abc import Callable
from typing import Any

from explain.auditing.outcome import Audit
from explain.auditing.runner import _data_digest, _describe, _model_digest, _versions
from explain.auditing.sections.compression import SECTION, lighter
from explain.core.dataset import Dataset
from explain.core.model import Model, check_model
from explain.errors import InputError

__all__ = ["comparison_report"]


def comparison_report(model_a: Model, model_b: Any, data: Dataset, *, names: tuple[str, str] | None = None,
                      method: str = "saliency", rows: int = 200, attack: str | None = None,
                      alpha: float | None = None, seed: int = 0, sensitive: Any = None, positive: Any = None,
                      progress: Callable[[str, float], None] | None = None) -> Audit:
    """Compare ``model_b`` with ``model_a`` on ``data`` and keep it as a report.

    Args:
        model_a: the reference model.
        model_b: a second :class:`explain.Model`, or ``"int8"`` / ``"prune:AMOUNT"`` for a
            compressed copy of ``model_a``.
        data: the rows (labelled: accuracy, calibration, flips).
        names: the two labels (default ``("A", "B")``, or ``("original", "int8")`` for a
            compressed copy).
        method, rows, attack, alpha, seed, sensitive, positive: as :func:`explain.compare`
            takes them (``sensitive``: per-group deltas and the fairness drift).
        progress: called with (step, fraction done).

    Raises:
        InputError: ``data`` is not a Dataset.
    """
    check_model(model_a)
    if not isinstance(data, Dataset):
        raise InputError("comparison_report takes an explain.Dataset (load_dataset, or example:NAME's own).")
    started = time.time()
    if progress is not None:
        progress("compress" if not isinstance(model_b, Model) else "compare", 0.0)
    other, label = lighter(model_a, model_b)
    labels = names or (("A", "B") if isinstance(model_b, Model) else ("original", label))
    section = SECTION.run(model_a, data, compress=other, compare_method=method, compare_attack=attack,
                          compare_alpha=alpha, compare_names=labels, rows=rows, seed=seed, sensitive=sensitive,
                          positive=positive)
    if progress is not None:
        progress("done", 1.0)
    provenance = {
        "model_a_sha256": _model_digest(model_a), "model_b_sha256": _model_digest(other),
        "data_sha256": _data_digest(data), "versions": _versions(), "python": platform.python_version(),
        "seed": seed, "rows": rows, "options": {"method": method, "attack": str(attack), "alpha": str(alpha), "sensitive": str(sensitive),
                                                "model_b": str(model_b) if not isinstance(model_b, Model) else "model"},
        "sections": [SECTION.name], "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "seconds": round(time.time() - started, 3),
    }
    described = _describe(model_a.describe())
    described.update({f"B {k}": v for k, v in _describe(other.describe()).items() if k in ("format", "source")})
    return Audit(model=described, data=_describe(data.describe()), sections=(section,), provenance=provenance,
                 title="Model comparison")
