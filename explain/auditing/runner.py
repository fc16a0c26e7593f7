"""The audit: run every section that applies to a model and a dataset, and keep the
results, the findings in plain language, and the provenance.

Example:
    >>> import explain
    >>> model, data = explain.load_example("diabetes")
    >>> audit = explain.audit(model, data, sections=["performance"])
    >>> audit.metrics["r2"] > 0.4
    True
"""

from __future__ import annotations

import hashlib
import platform
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from explain.auditing.outcome import Audit
from explain.auditing.registry import SECTIONS, default_sections
from explain.core.dataset import Dataset
from explain.core.model import Model, check_model
from explain.errors import InputError
from explain.runtime.backends import get_backend

__all__ = ["audit"]


def audit(
    model: Model,
    data: Dataset,
    *,
    sections: list[str] | None = None,
    rows: int = 100,
    seed: int = 0,
    progress: Callable[[str, float], None] | None = None,
    backend: Any = None,
    **options: Any,
) -> Audit:
    """Run the audit sections that apply to ``model`` on ``data``.

    Args:
        model: the model.
        data: a labelled Dataset (sections that need labels say so when there are none).
        sections: names from :data:`~explain.auditing.registry.SECTIONS` (default: all but
            the compression section, which runs when named or when ``compress=`` is given).
        rows: how many examples the explanation sections explain.
        seed: seed of every sampling step.
        progress: called with (section name, fraction of sections done).
        backend: where the dataset-wide work runs: ``None``/``"local"``, or ``"ray"`` (the
            global importance, the robustness curves, and the model outputs behind
            calibration and conformal prediction on Ray actors; the same numbers).
        **options: per-section options, e.g. ``saliency_method="deeplift"``, or
            ``slices=["age > 60", ...]`` (rules of :func:`explain.slices`, measured in the
            performance section), ``sensitive=["sex"]`` (columns whose groups the fairness
            section compares; without it that section is skipped), ``positive=`` (the
            favourable class of a classifier with more than two classes; the effects
            section explains rows not predicted it), ``effect_features=[...]`` (the
            features whose partial dependence and ALE the effects section shows; default
            the top three), ``counterfactual_rows=N`` (0 to 5, default 3) and ``compress=``
            (``"int8"``, ``"prune:0.5"`` or a second Model: the compression section compares
            the model with it; ``compare_method=``, ``compare_attack=``, ``compare_alpha=``).

    Example:
        >>> import explain
        >>> model, data = explain.load_example("breast_cancer")
        >>> result = explain.audit(model, data, sections=["performance"])
        >>> result.section("performance").findings[0]
        'accuracy 96% (93–99%), balanced accuracy 96% (92–99%), F1 macro 0.955 (0.921–0.984) on 143 labelled examples'
        >>> explain.audit(model, data, sections=["performance"], slices=["`mean radius` > 17"]).findings[-1]
        'slice `mean radius` > 17: 0% wrong on 37 rows, 5.7% elsewhere (Holm-adjusted p 0.34: within chance)'
        >>> round(result.metrics["accuracy"], 3)
        0.958
        >>> explain.audit(model, data, sections=["fairness"]).section("fairness").reason.split(";")[0]
        'no sensitive columns were named'
    """
    check_model(model)
    if not isinstance(data, Dataset):
        raise InputError("audit takes an explain.Model and an explain.Dataset (load_model / load_dataset).")
    names = default_sections(options) if sections is None else list(sections)
    unknown = [n for n in names if n not in SECTIONS]
    if unknown:
        raise InputError(f"Unknown sections {unknown}; choose from {list(SECTIONS)}.")
    started = time.time()
    chosen = get_backend(backend)
    done = []
    for k, name in enumerate(names):
        if progress is not None:
            progress(name, k / len(names))
        done.append(SECTIONS[name].run(model, data, rows=rows, seed=seed, backend=chosen, **options))
    if progress is not None:
        progress("done", 1.0)
    provenance = {
        "model_sha256": _model_digest(model),
        "data_sha256": _data_digest(data),
        "versions": _versions(),
        "python": platform.python_version(),
        "seed": seed,
        "rows": rows,
        "options": {k: str(v) for k, v in options.items()},
        "backend": chosen.name,
        "sections": names,
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "seconds": round(time.time() - started, 3),
    }
    return Audit(model=_describe(model.describe()), data=_describe(data.describe()),
                 sections=tuple(done), provenance=provenance)


def _describe(info: dict[str, Any]) -> dict[str, Any]:
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in info.items()}


def _model_digest(model: Model) -> str:
    digest = hashlib.sha256()
    for name, tensor in sorted(model.network.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def _data_digest(data: Dataset) -> str:
    digest = hashlib.sha256()
    if data.x is not None:
        digest.update(np.ascontiguousarray(data.x).tobytes())
    for text in data.texts or []:
        digest.update(text.encode("utf-8") + b"\0")
    if data.y is not None:
        digest.update(np.ascontiguousarray(data.y).tobytes())
    return digest.hexdigest()


def _versions() -> dict[str, str]:
    from importlib import metadata

    out = {}
    for package in ("explain-torch", "torch", "captum", "numpy", "plotly", "transformers", "shap"):
        try:
            out[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return out

