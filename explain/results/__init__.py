"""Result types: frozen dataclasses of numpy arrays, picklable and JSON-exportable.

Compute once, plot many times: every plot in :mod:`explain.plots` takes one of
these and never computes.

Example:
    >>> import numpy as np
    >>> from explain.results import Attribution
    >>> a = Attribution(values=np.ones((2, 3)), method="saliency", target=np.array([0, 1]),
    ...                 modality="tabular", feature_names=("a", "b", "c"))
    >>> a.values.flags.writeable
    False
    >>> a.to_dict()["method"]
    'saliency'
"""

from __future__ import annotations

from explain.results.attention import AttentionMaps
from explain.results.attribution import Attribution
from explain.results.cohorts import Cohort, CohortDrivers, ErrorAnalysis, ErrorHeatmap
from explain.results.comparison import Comparison, CompressionSweep, ModelSize
from explain.results.effects import AccumulatedEffects, PartialDependence
from explain.results.fairness import Fairness, FlipProbe, ThresholdPreview
from explain.results.groups import DataBalance, GroupImportance
from explain.results.importance import GlobalImportance
from explain.results.performance import Performance, SliceMetrics
from explain.results.quality import Agreement, Quality, SanityCheck
from explain.results.recourse import Counterfactuals
from explain.results.recourse_media import ImageCounterfactuals, TextCounterfactuals
from explain.results.robustness import RobustnessResult
from explain.results.uncertainty import (
    Calibration,
    PredictionSets,
    Reliability,
    RiskCoverage,
    Uncertainty,
)

__all__ = ["Attribution", "AttentionMaps", "RobustnessResult", "Uncertainty", "Reliability", "Calibration",
           "PredictionSets", "RiskCoverage", "Quality", "SanityCheck", "Agreement", "GlobalImportance",
           "Performance", "SliceMetrics", "Cohort", "CohortDrivers", "ErrorAnalysis", "ErrorHeatmap",
           "Fairness", "FlipProbe", "ThresholdPreview", "DataBalance", "GroupImportance",
           "PartialDependence", "AccumulatedEffects", "Counterfactuals", "ImageCounterfactuals", "TextCounterfactuals", "Comparison", "CompressionSweep",
           "ModelSize"]
