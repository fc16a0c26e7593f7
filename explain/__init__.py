"""explain: explanations and audits of PyTorch models.

Example:
    >>> import explain
    >>> "saliency" in explain.methods()
    True
"""

from __future__ import annotations

from .adversarial import robustness
from .attention import attention
from .audit import Audit, audit, audit_sections
from .calibrate import calibration
from .conformal_prediction import ConformalPredictor, conformal
from .data import Dataset
from .errors import (
    DataError,
    ExplainError,
    InputError,
    MethodError,
    MissingDependencyError,
    ModelFormatError,
    UnsafeModelError,
)
from .examples import examples, load_example
from .gradients import attribute, method_info, methods
from .importance import global_importance
from .loading import load_dataset, load_model, save_model, shared_mode
from .model import Model
from .predictive import risk_coverage, uncertainty
from .quality import agreement, evaluate, sanity_check, verdict
from .results import (
    Agreement,
    AttentionMaps,
    Attribution,
    Calibration,
    GlobalImportance,
    PredictionSets,
    Quality,
    RiskCoverage,
    RobustnessResult,
    SanityCheck,
    Uncertainty,
)
from .shapley import shap_values

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
    "global_importance",
    "__version__",
]
