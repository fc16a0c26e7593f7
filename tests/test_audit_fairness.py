"""The audit's fairness section: skipped without sensitive columns, the numbers of
explain.fairness, its gates, its JSON (group records, disparities, p-values, notes; no
per-row arrays), and findings that say beyond chance on a planted bias and within chance
on an unbiased model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

import explain
from explain.auditing.sections.fairness import GATES


def _credit(bias: float, n: int = 1500, seed: int = 0) -> tuple[explain.Model, explain.Dataset]:
    """A credit model on (income, sex) whose logit is 6 (income - 0.5) + ``bias`` * sex, with
    labels that depend on income only, and sex (0 / 1) as an input; region as metadata."""
    rng = np.random.default_rng(seed)
    income, sex = rng.random(n), rng.integers(0, 2, n)
    x = np.column_stack([income, sex]).astype(np.float32)
    y = (rng.random(n) < 1 / (1 + np.exp(-6 * (income - 0.5)))).astype(int)
    net = nn.Linear(2, 2)
    with torch.no_grad():
        net.weight.copy_(torch.tensor([[0.0, 0.0], [6.0, bias]]))
        net.bias.copy_(torch.tensor([0.0, -3.0]))
    names, classes = ["income", "sex"], ["deny", "grant"]
    model = explain.Model(net, task="classification", modality="tabular", feature_names=names, class_names=classes)
    meta = pd.DataFrame({"region": rng.choice(["north", "south"], n)})
    return model, explain.Dataset(x, y, feature_names=names, class_names=classes, metadata=meta)


def test_without_sensitive_columns_the_section_is_skipped_and_says_how() -> None:
    model, data = _credit(1.5)
    audit = explain.audit(model, data, sections=["performance", "fairness"])
    section = audit.section("fairness")
    assert section.status == "skipped" and "sensitive=" in section.reason and "--sensitive" in section.reason
    assert not any(k.startswith("fairness.") for k in audit.metrics)
    assert "Fairness did not run: no sensitive columns were named" in audit.to_html()


def test_planted_bias_is_beyond_chance_and_equals_explain_fairness(tmp_path: Path) -> None:
    model, data = _credit(1.5)
    audit = explain.audit(model, data, sections=["fairness"], sensitive=["sex"])
    section = audit.section("fairness")
    assert section.status == "ok", section.reason
    expected = explain.fairness(model, data, sensitive=["sex"])
    result = section.results["fairness"]
    pd.testing.assert_frame_equal(result.by_group, expected.by_group)
    for name in GATES["classification"]:
        assert audit.metrics[f"fairness.{name}"] == getattr(expected, name)
    assert audit.metrics["fairness.flip_rate"] == expected.flips.rate > 0.1
    assert expected.demographic_parity_difference > 0.2 and expected.beyond_chance["demographic_parity_difference"]
    head = section.findings[0]
    assert head.startswith("selection rate ") and "for '1' vs " in head and "for '0'" in head
    assert f"a difference of {expected.demographic_parity_difference:.2g}, beyond what chance allows" in head
    assert section.findings[1].startswith("equalized odds: ")
    assert any(f.startswith("changing only sex changes ") and "uses the attribute itself" in f
               for f in section.findings)
    assert any(f.startswith("a preview, not a fix: per-group thresholds would bring the selection rate gap")
               for f in section.findings)
    assert explain.data_balance(data, sensitive=["sex"]).sentence() in section.findings
    low = expected.by_group["coverage"].idxmin()
    assert any(f.startswith("conformal sets that promise 90% on average cover "
                            f"{expected.by_group.loc[low, 'coverage']:.0%} of {low!r}") for f in section.findings)
    assert section.results["importance"].sentence() in section.findings
    assert list(section.results) == ["fairness", "balance", "importance"]
    # the JSON: group records, disparities, p-values, notes; no per-row arrays, no NaN
    report = json.loads(audit.to_json(tmp_path / "a.json"))
    exported = report["sections"][0]["results"]["fairness"]
    assert not {"codes", "rows"} & set(exported)
    assert [r["group"] for r in exported["by_group"]] == ["0", "1"]
    assert exported["by_group"][1]["selection_rate"] == pytest.approx(expected.by_group.loc["1", "selection_rate"])
    assert {"selection_rate_low", "selection_rate_high", "small", "count"} <= set(exported["by_group"][0])
    assert exported["disparities"] == pytest.approx(expected.disparities)
    assert exported["p_values"]["demographic_parity_difference"] < 0.001 and exported["notes"] == list(expected.notes)
    assert exported["flips"]["changed_rows"] == expected.flips.changed_rows
    assert "NaN" not in (tmp_path / "a.json").read_text()
    html = audit.to_html()
    part = html.split('<section id="fairness">', 1)[1].split("</section>", 1)[0]
    assert part.count("plotly-graph-div") >= 4  # group bars, TPR bars, previews, balance, importance


def test_an_unbiased_model_is_within_chance_and_metadata_groups_have_no_flip_probe() -> None:
    model, data = _credit(0.0)
    section = explain.audit(model, data, sections=["fairness"], sensitive="region").section("fairness")
    result = section.results["fairness"]
    assert not result.beyond_chance["demographic_parity_difference"]
    assert "within what chance allows on these counts" in section.findings[0]
    assert result.flips is None and "fairness.flip_rate" not in section.metrics
    assert section.metrics["fairness.demographic_parity_difference"] == result.demographic_parity_difference < 0.1


def test_small_groups_undefined_rates_and_bad_columns_are_said() -> None:
    model, data = _credit(1.5, n=400)
    region = data.metadata["region"].to_numpy().copy()
    region[:12] = "east"
    data = explain.Dataset(data.x, data.y, feature_names=data.feature_names, class_names=data.class_names,
                           metadata=pd.DataFrame({"region": region}))
    section = explain.audit(model, data, sections=["fairness"], sensitive=["region"]).section("fairness")
    assert any(f.startswith("fewer than 30 rows, too few to judge: 'east' (12 rows)") for f in section.findings)
    records = {r["group"]: r for r in section.to_dict(
        explain.auditing.registry.SECTIONS["fairness"].export)["results"]["fairness"]["by_group"]}
    assert records["east"]["small"] and not records["north"]["small"]
    typo = explain.audit(model, data, sections=["fairness"], sensitive=["regoin"]).section("fairness")
    assert typo.status == "skipped" and "regoin" in typo.reason
    regression = explain.audit(*explain.load_example("diabetes"), sections=["fairness"], sensitive=["sex"])
    gaps = regression.section("fairness")  # the example's sex column is a feature: the probe moves predictions
    assert set(gaps.metrics) == {f"fairness.{g}" for g in GATES["regression"]}
    assert gaps.findings[0].startswith("mean absolute error ") and "within what chance allows" in gaps.findings[0]
    assert gaps.findings[-1].startswith("changing only sex moves predictions by ")
