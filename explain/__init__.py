"""explain: explanations and audits of PyTorch models.

Example:
    >>> import explain
    >>> "saliency" in explain.methods()
    True
"""

from __future__ import annotations

from explain.adversarial.front import robustness
from explain.attribution.accumulator import ImportanceStream
from explain.attribution.attention_maps import attention
from explain.attribution.attributions import attribute, method_info, methods
from explain.attribution.shapley import shap_values
from explain.attribution.streaming import global_importance
from explain.auditing.outcome import Audit
from explain.auditing.registry import audit_sections
from explain.auditing.runner import audit
from explain.confidence.calibrating import calibration
from explain.confidence.conformal_sets import ConformalPredictor, conformal
from explain.confidence.estimates import risk_coverage, uncertainty
from explain.core.dataset import Dataset
from explain.core.model import Model
from explain.diagnostics.cohorts import error_analysis
from explain.diagnostics.drivers import cohort_drivers
from explain.diagnostics.metrics import performance
from explain.diagnostics.slicing import slices
from explain.effects.accumulated import ale
from explain.effects.pdp import partial_dependence
from explain.equity.assessing import fairness
from explain.equity.balance import data_balance
from explain.equity.group_drivers import group_importance
from explain.errors import (
    DataError,
    ExplainError,
    InputError,
    InputTypeError,
    MethodError,
    MissingDependencyError,
    ModelFormatError,
    UnsafeModelError,
)
from explain.loading.catalog import examples, load_example
from explain.loading.files import load_dataset, load_model, save_model, shared_mode
from explain.pairing.contrasting import compare
from explain.pairing.footprint import model_size
from explain.pairing.shrinking import compress
from explain.pairing.sweeping import compress_sweep
from explain.quality.measures import agreement, evaluate, sanity_check, verdict
from explain.recourse_media.dispatch import counterfactuals
from explain.results import (
    AccumulatedEffects,
    Agreement,
    AttentionMaps,
    Attribution,
    Calibration,
    Cohort,
    CohortDrivers,
    Comparison,
    CompressionSweep,
    Counterfactuals,
    DataBalance,
    ErrorAnalysis,
    ErrorHeatmap,
    Fairness,
    FlipProbe,
    GlobalImportance,
    GroupImportance,
    ImageCounterfactuals,
    ModelSize,
    PartialDependence,
    Performance,
    PredictionSets,
    Quality,
    RiskCoverage,
    RobustnessResult,
    SanityCheck,
    SliceMetrics,
    TextCounterfactuals,
    ThresholdPreview,
    Uncertainty,
)

__version__ = "0.1.0"

__all__ = [
    "AttentionMaps",
    "Audit",
    "Attribution",
    "RobustnessResult",
    "DataError",
    "Dataset",
    "ExplainError",
    "InputError",
    "InputTypeError",
    "MethodError",
    "MissingDependencyError",
    "Model",
    "ModelFormatError",
    "UnsafeModelError",
    "attention",
    "attribute",
    "audit",
    "audit_sections",
    "examples",
    "load_dataset",
    "load_example",
    "load_model",
    "method_info",
    "methods",
    "robustness",
    "save_model",
    "shap_values",
    "shared_mode",
    "Calibration",
    "ConformalPredictor",
    "PredictionSets",
    "RiskCoverage",
    "Uncertainty",
    "calibration",
    "conformal",
    "risk_coverage",
    "uncertainty",
    "Agreement",
    "Quality",
    "SanityCheck",
    "agreement",
    "evaluate",
    "sanity_check",
    "verdict",
    "GlobalImportance",
    "ImportanceStream",
    "global_importance",
    "Cohort",
    "CohortDrivers",
    "ErrorAnalysis",
    "ErrorHeatmap",
    "cohort_drivers",
    "error_analysis",
    "Performance",
    "SliceMetrics",
    "performance",
    "slices",
    "DataBalance",
    "Fairness",
    "FlipProbe",
    "GroupImportance",
    "ThresholdPreview",
    "data_balance",
    "fairness",
    "group_importance",
    "AccumulatedEffects",
    "PartialDependence",
    "ale",
    "partial_dependence",
    "Counterfactuals",
    "ImageCounterfactuals",
    "TextCounterfactuals",
    "counterfactuals",
    "Comparison",
    "CompressionSweep",
    "ModelSize",
    "compare",
    "compress",
    "compress_sweep",
    "model_size",
    "__version__",
]
