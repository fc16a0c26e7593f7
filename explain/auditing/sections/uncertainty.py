"""The audit's uncertainty section: calibration (with temperature scaling), predictive
uncertainty, selective prediction and conformal prediction, with verdicts in plain words.

Example:
    >>> import explain
    >>> from explain.auditing.sections.uncertainty import uncertainty_section
    >>> model, data = explain.load_example("breast_cancer")
    >>> section = uncertainty_section(model, data, rows=100)
    >>> section.status, sorted(section.results)
    ('ok', ['calibration', 'conformal', 'risk_coverage', 'uncertainty'])
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import numpy as np

from explain.auditing.common import Findings, Section, SectionSpec, pct, timed
from explain.confidence.calibrating import calibration
from explain.confidence.conformal_sets import DEFAULT_METHODS, conformal, coverage_band
from explain.confidence.estimates import dropout_layers, selective, uncertainty
from explain.core.dataset import Dataset
from explain.core.labels import true_labels
from explain.core.model import Model
from explain.errors import DataError, ExplainError
from explain.results.uncertainty import Calibration, Uncertainty

if TYPE_CHECKING:  # pragma: no cover
    import plotly.graph_objects as go

__all__ = ["SECTION", "uncertainty_section", "uncertainty_section_figures"]

_MIN_ROWS = 500  # calibration and conformal need more rows than an explanation does
_ALPHA = 0.1


def _pick(data: Dataset, rows: int, seed: int) -> np.ndarray:
    """Row indices of the sample (the same draw as the other sections' for the same size)."""
    if len(data) <= rows:
        return np.arange(len(data))
    return np.sort(np.random.default_rng(seed).choice(len(data), rows, replace=False))


def _method(model: Model) -> str | None:
    if dropout_layers(model.network):
        return "mc_dropout"
    if model.task == "classification":
        return "softmax"
    return "tta" if model.modality != "text" else None


def _labelled(model: Model, data: Dataset) -> tuple[bool, str]:
    if data.y is None:
        return False, "the dataset has no labels (load it with target=...)"
    try:
        true_labels(model, data[:1])
    except ExplainError as err:
        return False, str(err)
    return True, ""


def _calibration_finding(cal: Calibration) -> str:
    conf = float(np.mean(cal.overall.confidence))
    before, after, t = cal.before.ece, cal.after.ece, cal.temperature
    held = len(cal.after.confidence)
    if cal.verdict == "well calibrated":
        head = f"well calibrated: ECE {cal.ece:.3f} over {len(cal.labels)} rows"
    else:
        head = (f"{cal.verdict}: ECE {cal.ece:.3f} (mean confidence {pct(conf)} vs accuracy "
                f"{pct(cal.accuracy)})")
    if t <= 0.0101 or t >= 99:  # the search ran to its bound: NLL keeps falling (or rising) with T
        return (f"{head}; temperature scaling has nothing to fit here: the fit ran to its bound (T = {t:.2f}), "
                "as it does when every calibration row is predicted right")
    if after < before:
        return f"{head}; temperature {t:.2f} brings it from {before:.3f} to {after:.3f} on {held} held-out rows"
    return (f"{head}; temperature scaling (T = {t:.2f}) does not lower it on {held} held-out rows "
            f"({before:.3f} -> {after:.3f})")


def _uncertainty_findings(unc: Uncertainty) -> tuple[list[str], dict[str, float]]:
    name = {"mc_dropout": f"MC dropout ({unc.n_samples} samples)", "softmax": "softmax (one pass)",
            "tta": f"test-time augmentation ({unc.n_samples} samples)"}.get(unc.method, unc.method)
    if unc.task == "classification":
        entropy, epistemic = unc.score("entropy"), unc.score("mutual_information")
        metrics = {"uncertainty.mean_entropy": float(entropy.mean()),
                   "uncertainty.mean_mutual_information": float(epistemic.mean())}
        text = f"{name}: mean predictive entropy {entropy.mean():.3f} nats"
        if unc.method != "softmax":
            text += f" (epistemic part {epistemic.mean():.3f})"
        correct = unc.correct
        if correct is not None and correct.any() and (~correct).any():
            text += (f"; wrong predictions average {entropy[~correct].mean():.3f} vs "
                     f"{entropy[correct].mean():.3f} for right ones")
        return [text], metrics
    std = np.asarray(unc.std, dtype=float)
    metrics = {"uncertainty.mean_std": float(std.mean())}
    text = f"{name}: the predictive standard deviation averages {std.mean():.3g}"
    if unc.labels is not None and unc.lower is not None:
        truth = np.asarray(unc.labels, dtype=float).reshape(unc.lower.shape)
        inside = float(np.mean((unc.lower <= truth) & (truth <= unc.upper)))
        metrics["uncertainty.interval_coverage"] = inside
        text += (f"; its {pct(unc.level or 0)} intervals (mean ± z std) hold {pct(inside)} of the true "
                 "values" + (", far too narrow to trust" if inside < (unc.level or 0) - 0.15 else ""))
    return [text], metrics


def uncertainty_section(model: Model, data: Dataset, *, rows: int = 100, seed: int = 0,
                        uncertainty_samples: int = 30, conformal_alpha: float = _ALPHA,
                        uncertainty_method: str | None = None, conformal_method: str | None = None,
                        backend: Any = None, **_: Any) -> Section:
    """Calibration, uncertainty, selective prediction and conformal sets of ``model`` on
    ``data`` (a sample of ``max(rows, 500)`` rows, seeded). Uncertainty comes from MC
    dropout (``uncertainty_samples`` passes) where the model has dropout layers, else from
    one softmax pass (classifiers) or test-time augmentation (regression); conformal sets
    (LAC) or intervals (residual) are calibrated on half the sample at level
    ``1 - conformal_alpha`` and checked on the other half.

    Metrics: ``calibration.ece`` / ``.mce`` / ``.brier`` / ``.nll`` / ``.temperature`` /
    ``.ece_before_temperature`` / ``.ece_after_temperature`` (held-out rows),
    ``uncertainty.mean_entropy`` / ``.mean_mutual_information`` (classifiers) or
    ``uncertainty.mean_std`` / ``.interval_coverage`` (regression), ``selective.risk_at_90``
    (risk when abstaining on the 10% least certain rows), ``selective.aurc``,
    ``conformal.coverage``, ``conformal.mean_set_size`` (classifiers) or
    ``conformal.mean_width`` (regression). A dataset without labels gets the uncertainty
    part only. ``uncertainty_method`` and ``conformal_method`` override the choices above
    (see :func:`explain.uncertainty` and :func:`explain.conformal`).
    """

    def run() -> Findings:
        picks = _pick(data, max(int(rows), _MIN_ROWS), seed)
        sample = data[picks]
        labelled, why = _labelled(model, data)
        findings: list[str] = []
        metrics: dict[str, float] = {}
        results: dict[str, Any] = {}
        method = uncertainty_method or _method(model)
        if model.task == "classification" and labelled:
            try:
                cal = calibration(model, sample, seed=seed, backend=backend)
            except DataError as err:
                findings.append(f"no calibration: {err}")
            else:
                results["calibration"] = dataclasses.replace(cal, rows=picks)
                findings.append(_calibration_finding(cal))
                metrics.update(_calibration_metrics(cal))
        if method is None:
            findings.append("no uncertainty estimate: the model has no dropout layers and test-time "
                            "augmentation does not serve text; pass an ensemble to explain.uncertainty")
        else:
            unc = uncertainty(model, sample if labelled else sample.inputs, method=method,
                              n_samples=uncertainty_samples, seed=seed)
            unc = dataclasses.replace(unc, rows=picks)
            results["uncertainty"] = unc
            more, numbers = _uncertainty_findings(unc)
            findings += more
            metrics.update(numbers)
            if labelled:
                rc = selective(unc)
                results["risk_coverage"] = rc
                metrics.update({"selective.risk_at_90": rc.risk_at(0.9), "selective.aurc": rc.aurc})
                findings.append(f"abstaining on the 10% least certain rows changes the {rc.loss_name} from "
                                f"{_fmt(rc.risk_at(1.0), rc)} to {_fmt(rc.risk_at(0.9), rc)}")
            top = unc.most_uncertain(5)
            findings.append(f"the least certain rows: {', '.join(str(int(r)) for r in top)}")
        if labelled:
            findings += _conformal(model, sample, picks, seed, float(conformal_alpha), metrics, results,
                                   conformal_method, backend)
        else:
            findings.append(f"calibration, selective prediction and conformal coverage need labels: {why}")
        return findings, metrics, results

    return timed(SECTION, run)


def _fmt(value: float, rc: Any) -> str:
    return pct(value) if rc.loss_name == "error rate" else f"{value:.3g}"


def _calibration_metrics(cal: Calibration) -> dict[str, float]:
    return {"calibration.ece": cal.ece, "calibration.mce": cal.mce, "calibration.brier": cal.brier,
            "calibration.nll": cal.nll, "calibration.temperature": cal.temperature,
            "calibration.ece_before_temperature": cal.before.ece,
            "calibration.ece_after_temperature": cal.after.ece}


def _conformal(model: Model, sample: Dataset, picks: np.ndarray, seed: int, alpha: float,
               metrics: dict[str, float], results: dict[str, Any], method: str | None = None,
               backend: Any = None) -> list[str]:
    order = np.random.default_rng(seed).permutation(len(sample))
    half = len(sample) // 2
    fit, held = np.sort(order[:half]), np.sort(order[half:])
    classifier = model.task == "classification"
    try:
        method = method or DEFAULT_METHODS[model.task]
        cp = conformal(model, sample[fit], alpha=alpha, method=method, seed=seed, backend=backend)
    except DataError as err:
        return [f"no conformal prediction: {err}"]
    sets = dataclasses.replace(cp.evaluate(sample[held]), rows=picks[held])
    results["conformal"] = sets
    coverage = float(sets.coverage or 0.0)
    metrics["conformal.coverage"] = coverage
    head = (f"{pct(1 - alpha)} conformal {f'prediction sets ({method.upper()})' if classifier else 'intervals'}, "
            f"calibrated on {len(fit)} rows: coverage {pct(coverage)} on {len(held)} other rows")
    promised, error = coverage_band(len(fit), len(held), alpha)
    wide = []
    if coverage > promised + 2 * error:
        others = "method='lac'" if method != "lac" else "a larger calibration set"
        wide = [f"the {'sets' if classifier else 'intervals'} are larger than they need to be: coverage "
                f"{pct(coverage)} against the promised {pct(promised)} (± {pct(2 * error)} by chance); "
                f"try {others}, or randomized=True" + (" (APS, RAPS)" if classifier else "")]
    if classifier:
        sizes = sets.sizes
        metrics["conformal.mean_set_size"] = float(sizes.mean())
        return [f"{head}, mean set size {sizes.mean():.2f} classes, {pct(float(np.mean(sizes == 1)))} "
                "hold a single class", *wide]
    metrics["conformal.mean_width"] = float(sets.sizes.mean())
    return [f"{head}, width ±{cp.quantile:.3g} around each prediction", *wide]


def uncertainty_section_figures(name: str, result: Any) -> list[go.Figure]:
    """Each result's figures by :func:`explain.plots.uncertainty.uncertainty_figures`."""
    from explain.plots.uncertainty import uncertainty_figures

    return uncertainty_figures(result)


SECTION = SectionSpec("uncertainty", "Uncertainty and calibration", uncertainty_section, uncertainty_section_figures)
