"""The audit's compression section: the model beside its int8 (or pruned, or a second)
version, with explain.compare's own numbers, in words, as gates and as JSON."""

from __future__ import annotations

import json

import pytest

import explain
from explain.auditing.registry import audit_sections, default_sections, section_figures


@pytest.fixture(scope="module")
def cancer() -> tuple[explain.Model, explain.Dataset]:
    return explain.load_example("breast_cancer")


@pytest.fixture(scope="module")
def audited(cancer) -> explain.Audit:
    model, data = cancer
    return explain.audit(model, data, sections=["compression"], rows=60)


def test_compression_is_last_and_off_unless_asked() -> None:
    assert audit_sections()[-1] == "compression" and audit_sections().index("effects") < len(audit_sections()) - 1
    assert "compression" not in default_sections()
    assert default_sections({"compress": "prune:0.5"})[-1] == "compression"


def test_numbers_equal_explain_compare(audited, cancer) -> None:
    model, data = cancer
    section = audited.section("compression")
    assert section.status == "ok", section.reason
    direct = explain.compare(model, explain.compress(model, method="quantize"), data, rows=60,
                             names=("original", "int8"))
    m = audited.metrics
    assert m["compression.agreement"] == direct.agreement
    assert (m["compression.accuracy_a"], m["compression.accuracy_b"]) == direct.accuracy
    assert m["compression.accuracy_drop"] == pytest.approx(direct.accuracy[0] - direct.accuracy[1])
    assert (m["compression.ece_a"], m["compression.ece_b"]) == pytest.approx(direct.ece)
    assert m["compression.explanation_similarity"] == pytest.approx(direct.explanation_similarity)
    assert m["compression.mcnemar_p"] == direct.mcnemar_p
    assert m["compression.backward_trust"] == direct.backward_trust
    assert m["compression.size_ratio"] == direct.size[0]["stored_bytes"] / direct.size[1]["stored_bytes"] > 3
    assert "compression.latency_ratio" in m
    first = section.findings[0]
    assert first.startswith("int8: 3.") and f"{100 * direct.agreement:.1f}%" in first and "McNemar p" in first
    assert [fig.layout.title.text.split(",")[0] for _, _, fig in section_figures(section)] == [
        "Per-class change", "Explanation similarity (saliency"]


def test_a_model_compared_with_itself_agrees_in_everything(cancer) -> None:
    model, data = cancer
    section = explain.audit(model, data, sections=["compression"], compress=model, rows=30).section("compression")
    m = section.metrics
    assert m["compression.agreement"] == 1.0 and m["compression.explanation_similarity"] == pytest.approx(1.0)
    assert m["compression.mcnemar_p"] == 1.0 and m["compression.size_ratio"] == 1.0
    assert m["compression.accuracy_drop"] == 0.0 and m["compression.backward_trust"] == 1.0
    assert m["compression.new_error_share"] == 0.0 and m["compression.ece_a"] == m["compression.ece_b"]
    assert "the same size" in section.findings[0]


def test_pruning_spec_and_a_bad_one(cancer) -> None:
    model, data = cancer
    pruned = explain.audit(model, data, sections=["compression"], compress="prune:0.6", rows=20)
    assert pruned.section("compression").findings[0].startswith("pruned 60%: ")
    bad = explain.audit(model, data, sections=["compression"], compress="zip").section("compression")
    assert bad.status == "skipped" and "'int8' or 'prune:AMOUNT'" in bad.reason


def test_json_keeps_the_figures_not_the_rows(audited) -> None:
    report = json.loads(audited.to_json())
    section = next(s for s in report["sections"] if s["name"] == "compression")
    result = section["results"]["comparison"]
    for key in ("agreement", "accuracy", "ece", "flips", "mcnemar_p", "similarity", "size", "per_class"):
        assert key in result, key
    for key in ("predicted_a", "predicted_b", "attributions_a", "spearman", "true_prob_drop", "rows"):
        assert key not in result, key
    assert result["names"] == ["original", "int8"] and len(result["per_class"]) == 2
    assert report["metrics"]["compression.agreement"] == result["agreement"]
    assert len(json.dumps(result)) < 5000


def test_sensitive_groups_give_fairness_drift_gates() -> None:
    import numpy as np
    import pandas as pd

    model, data = explain.load_example("breast_cancer")
    band = np.where(data.x[:, 0] > np.median(data.x[:, 0]), "large", "small")
    data = explain.Dataset(data.x, data.y, feature_names=data.feature_names, class_names=data.class_names,
                           metadata=pd.DataFrame({"band": band}))
    section = explain.audit(model, data, sections=["compression"], compress="prune:0.6", sensitive=["band"],
                            rows=20).section("compression")
    direct = explain.compare(model, explain.compress(model, method="prune", amount=0.6), data, rows=20,
                             sensitive=["band"])
    m = section.metrics
    assert m["compression.fairness_drift"] == pytest.approx(direct.fairness_drift)
    assert [m["compression.parity_difference_a"], m["compression.parity_difference_b"]] == pytest.approx(
        direct.groups["parity_difference"])
    assert m["compression.worst_group_accuracy_drop"] == pytest.approx(
        max(direct.per_group()["accuracy_a"] - direct.per_group()["accuracy_b"]))
    assert any(f.startswith("by band: demographic parity difference") for f in section.findings)
