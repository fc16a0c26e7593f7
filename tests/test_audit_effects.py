"""The audit's effects section: partial dependence and ALE of the top features, equal to
the library's, and counterfactuals of unfavourable rows, valid; skipped for images; JSON."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import explain
from explain.auditing.registry import audit_sections, section_dict, section_figures
from explain.auditing.sections.effects import SECTION, top_features, unfavourable
from explain.errors import InputError


@pytest.fixture(scope="module")
def cancer() -> tuple[explain.Model, explain.Dataset]:
    return explain.load_example("breast_cancer")


@pytest.fixture(scope="module")
def section(cancer: tuple[explain.Model, explain.Dataset]) -> explain.auditing.common.Section:
    model, data = cancer
    return SECTION.run(model, data, effect_features=["worst area", "mean radius"], counterfactual_rows=2)


def test_effects_follows_fairness_in_the_registry() -> None:
    names = audit_sections()
    assert names.index("effects") == names.index("fairness") + 1


def test_curves_equal_the_library_and_the_findings_read_them(section, cancer) -> None:
    model, data = cancer
    assert section.status == "ok", section.reason
    pdp, accumulated = section.results["partial_dependence"], section.results["ale"]
    mine = explain.partial_dependence(model, data, features=["worst area", "mean radius"], grid_resolution=20)
    theirs = explain.ale(model, data, features=["worst area", "mean radius"], bins=20)
    for f in ("worst area", "mean radius"):
        np.testing.assert_allclose(pdp.grid[f], mine.grid[f])
        np.testing.assert_allclose(pdp.average[f], mine.average[f], atol=1e-6)
        np.testing.assert_allclose(accumulated.effect[f], theirs.effect[f], atol=1e-6)
    first = pdp.average["worst area"][1]  # the probability of 'benign'
    grid = pdp.grid["worst area"]
    verb = "falls" if first[-1] < first[0] else "rises"
    assert section.findings[0].startswith(f"the probability of benign {verb} from {first[0]:.3g} to {first[-1]:.3g} "
                                          f"as worst area rises from {grid[0]:,.0f} to {grid[-1]:,.0f}")


def test_counterfactuals_of_unfavourable_rows_are_valid(section, cancer) -> None:
    model, data = cancer
    found = section.results["counterfactuals"]
    rows, favourable = unfavourable(model, data)
    assert favourable == "benign" and len(found) == 2
    np.testing.assert_array_equal(found.queries, data.x[rows[:2]])
    assert (model.predict(found.queries) == 0).all() and len(found.values) >= 2
    assert (model.predict(found.values.astype(np.float32)) == 1).all() and found.validity.all()
    assert section.metrics["effects.counterfactual_validity"] == 1.0
    assert section.metrics["effects.counterfactual_sparsity"] == pytest.approx(found.sparsity.mean())
    assert "100% valid on a fresh forward pass" in section.findings[-1]
    assert f"changing {found.sparsity.mean():.2g} feature(s)" in section.findings[-1]


def test_json_keeps_curves_and_records_not_ice(section) -> None:
    out = json.loads(json.dumps(section_dict(section), allow_nan=False))
    pdp = out["results"]["partial_dependence"]
    assert [e["feature"] for e in pdp["effects"]] == ["worst area", "mean radius"]
    assert "individual" not in pdp["effects"][0] and len(pdp["effects"][0]["grid"]) == 20
    np.testing.assert_allclose(pdp["effects"][0]["average"], section.results["partial_dependence"].average["worst area"])
    assert len(out["results"]["ale"]["effects"]) == 2
    records = out["results"]["counterfactuals"]["records"]
    assert len(records) == len(section.results["counterfactuals"].values)
    assert {"query", "worst area", "validity", "sparsity", "proximity", "plausibility"} <= set(records[0])
    figures = section_figures(section)
    assert [name for name, _, _ in figures].count("partial_dependence") == 2 and len(figures) >= 5


def test_default_features_are_the_top_three_and_positive_turns_the_rows(cancer) -> None:
    model, data = cancer
    done = SECTION.run(model, data, positive="malignant", counterfactual_rows=1)
    assert list(done.results["partial_dependence"].features) == top_features(model, data)
    assert done.findings[0].startswith("the probability of malignant")
    found = done.results["counterfactuals"]
    assert (model.predict(found.queries) == 1).all() and (model.predict(found.values.astype(np.float32)) == 0).all()
    none = SECTION.run(model, data, effect_features="worst area", counterfactual_rows=0)
    assert "counterfactuals" not in none.results and len(none.findings) == 1
    with pytest.raises(InputError, match="pass 0 to 5"):
        SECTION.run(model, data, counterfactual_rows=9)


def test_skipped_for_images_and_regression_says_why() -> None:
    model, data = explain.load_example("digits")
    skipped = SECTION.run(model, data)
    assert skipped.status == "skipped" and "tables" in skipped.reason and "image" in skipped.reason
    model, data = explain.load_example("diabetes")
    done = SECTION.run(model, data, effect_features=["bmi"])
    assert done.status == "ok" and "target range" in done.findings[-1]


def test_audit_report_has_the_section(tmp_path: Path, cancer) -> None:
    model, data = cancer
    result = explain.audit(model, data, sections=["effects"], effect_features=["worst area"], counterfactual_rows=1)
    result.to_html(tmp_path / "r.html")
    result.to_json(tmp_path / "r.json")
    assert "Feature effects and counterfactuals" in (tmp_path / "r.html").read_text()
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["sections"][0]["name"] == "effects" and report["metrics"]["effects.counterfactual_rows"] == 1.0
