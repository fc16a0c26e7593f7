"""The sections of an audit. Each takes the model and data and returns a :class:`Section`
holding its results (result objects, plotted by the report), findings in plain language,
and flat metrics for CI gates. A section that cannot run says why instead."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from explain.core.dataset import Dataset
from explain.core.model import Model
from explain.errors import ExplainError


@dataclass(frozen=True)
class Section:
    """One part of an audit."""

    name: str
    title: str
    status: str  # "ok", "skipped" or "failed"
    reason: str = ""
    findings: tuple[str, ...] = ()
    metrics: dict[str, float] = field(default_factory=dict)
    results: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "title": self.title, "status": self.status, "reason": self.reason,
            "findings": list(self.findings), "metrics": self.metrics, "seconds": self.seconds,
            "results": {k: v.to_dict() if hasattr(v, "to_dict") else v for k, v in self.results.items()},
        }


def _timed(name: str, title: str, run: Callable[[], tuple[list[str], dict[str, float], dict[str, Any]]]) -> Section:
    start = time.perf_counter()
    try:
        findings, metrics, results = run()
    except ExplainError as err:
        return Section(name, title, "skipped", reason=str(err), seconds=time.perf_counter() - start)
    return Section(name, title, "ok", findings=tuple(findings), metrics=metrics, results=results,
                   seconds=round(time.perf_counter() - start, 3))


def _sample(data: Dataset, rows: int, seed: int) -> Dataset:
    if len(data) <= rows:
        return data
    picked = np.sort(np.random.default_rng(seed).choice(len(data), rows, replace=False))
    return data[picked]


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%" if abs(x) >= 0.01 else f"{100 * x:.1g}%"


# --- performance ------------------------------------------------------------------------
def performance(model: Model, data: Dataset, **_: Any) -> Section:
    from explain.performance.scoring import score

    def run() -> tuple[list[str], dict[str, float], dict[str, Any]]:
        if data.y is None:
            raise ExplainError("The dataset has no labels, so accuracy cannot be measured; load it with target=...")
        result = score(model, data)
        if result.name == "Accuracy":
            findings = [f"accuracy {_pct(result.value)} on {len(data)} labelled examples"]
        else:
            findings = [f"R² {result.value:.2f}, mean absolute error {result.metrics['mae']:.3g} "
                        f"on {len(data)} labelled examples"]
        if result.mapping:
            findings.append(f"{result.mapping}, since the model names no classes; give it class names "
                            "(load_model(..., class_names=[...])) if it was trained otherwise")
        return findings, dict(result.metrics), {}

    return _timed("performance", "Performance", run)


# --- saliency ---------------------------------------------------------------------------
def _concentration(attr: Any, names: list[str] | None) -> tuple[str, float]:
    """Where the attribution concentrates, in the words of the modality: the top three
    features of a table, the top 10% of an image's pixels or of a text's token positions."""
    importance = np.abs(attr.values).mean(axis=0).ravel()
    total = importance.sum() or 1.0
    if attr.modality == "tabular":
        names = names or [f"feature {j}" for j in range(importance.size)]
        top = np.argsort(-importance)[:3]
        share = float(importance[top].sum() / total)
        return f"the top three features carry {_pct(share)} of the attribution ({', '.join(names[j] for j in top)})", share
    k = max(1, int(0.1 * importance.size))
    share = float(np.sort(importance)[::-1][:k].sum() / total)
    unit = "pixels" if attr.modality == "image" else "token positions"
    return f"the top 10% of {unit} carry {_pct(share)} of the attribution", share


def _top_tokens(attr: Any, k: int = 5) -> str:
    totals: dict[str, list[float]] = defaultdict(list)
    for i, tokens in enumerate(attr.tokens or ()):
        for j, token in enumerate(tokens):
            totals[token].append(abs(float(attr.values[i, j])))
    ranked = sorted(totals, key=lambda t: -np.mean(totals[t]))
    return ", ".join(repr(t) for t in ranked[:k])


# tables: the global importance runs over every row up to this many (it streams)
GLOBAL_ROWS = 200_000


def saliency(model: Model, data: Dataset, *, rows: int = 100, seed: int = 0,
             saliency_method: str | None = None, backend: Any = None, **_: Any) -> Section:
    from explain.attribution.attributions import attribute, methods
    from explain.attribution.streaming import global_importance

    def run() -> tuple[list[str], dict[str, float], dict[str, Any]]:
        served = methods(model)
        method = saliency_method or next(m for m in ("integrated_gradients", "feature_ablation") if m in served)
        attr = attribute(model, _sample(data, rows, seed), method=method, seed=seed)
        findings, metrics = [], {}
        if attr.modality == "text":
            findings.append(f"{method}: the tokens with the largest attributions are {_top_tokens(attr)}")
        else:
            text, share = _concentration(attr, list(attr.feature_names or []))
            findings.append(f"{method}: {text}")
            metrics["saliency.top_share"] = share
        if attr.delta is not None:
            scale = float(np.abs(attr.outputs - attr.base_values).mean()) or 1.0
            error = float(np.abs(attr.delta).max() / scale)
            metrics["saliency.completeness_error"] = error
            findings.append(f"{method}: completeness holds to {_pct(error)} of the output change (worst example)")
        results: dict[str, Any] = {"attribution": attr}
        if attr.modality == "tabular":  # the whole dataset, streamed (on Ray with backend="ray")
            whole = _sample(data, GLOBAL_ROWS, seed)
            importance = global_importance(model, whole, method=method, seed=seed, backend=backend)
            top = importance.mean_abs.argsort()[::-1][:3]
            share = float(importance.mean_abs[top].sum() / (importance.mean_abs.sum() or 1.0))
            names = importance.names()
            findings.append(f"over all {importance.n:,} rows, the top three features carry {_pct(share)} of the "
                            f"{method} attribution ({', '.join(names[j] for j in top)})")
            metrics["saliency.global_top_share"] = share
            results["importance"] = importance
        return findings, metrics, results

    return _timed("saliency", "Saliency", run)


# --- SHAP -------------------------------------------------------------------------------
def shap(model: Model, data: Dataset, *, rows: int = 100, seed: int = 0, **_: Any) -> Section:
    from explain.attribution.shapley import shap_values

    def run() -> tuple[list[str], dict[str, float], dict[str, Any]]:
        # images and text cost a model call per coalition: fewer examples, and image
        # patches sized for at most 16 features (exact Shapley values)
        tabular = model.modality == "tabular"
        explained = _sample(data, min(rows, 50 if tabular else 10), seed)
        background = _sample(data, 100, seed + 1) if tabular else None
        patch = None
        if model.modality == "image" and data.x is not None:
            patch = int(np.ceil(min(data.x.shape[2:]) / 4))
        sv = shap_values(model, explained, background=background, seed=seed, patch=patch)
        additivity = float(np.abs(sv.delta).max())
        findings = []
        if sv.modality == "text":
            findings.append(f"SHAP: the tokens with the largest values are {_top_tokens(sv)}")
        else:
            text, _share = _concentration(sv, list(sv.feature_names or []))
            findings.append(f"SHAP ({sv.params['algorithm']}): {text}")
        return findings, {"shap.additivity_error": additivity}, {"shap": sv}

    return _timed("shap", "SHAP values", run)


# --- attention --------------------------------------------------------------------------
def attention(model: Model, data: Dataset, *, rows: int = 100, seed: int = 0, **_: Any) -> Section:
    from explain.attribution.attention_maps import attention as attention_maps

    def run() -> tuple[list[str], dict[str, float], dict[str, Any]]:
        maps = attention_maps(model, _sample(data, min(rows, 20), seed))
        layers, heads = maps.weights.shape[1:3]
        special = []
        for i, tokens in enumerate(maps.tokens):
            flags = np.array([t.startswith("[") and t.endswith("]") for t in tokens])
            rollout = maps.rollout(i)[0]
            special.append(float(rollout[flags].sum()))
        share = float(np.mean(special))
        findings = [f"{layers} layers x {heads} heads; after rollout, {_pct(share)} of the first token's "
                    "attention rests on special tokens ([CLS], [SEP], ...)"]
        return findings, {"attention.special_share": share}, {"attention": maps}

    return _timed("attention", "Attention", run)
