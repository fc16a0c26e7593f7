"""The SHAP, Attention and Report pages through AppTest: without a model, with an example,
an interaction that changes the figure, and no exception anywhere."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pytest

import explain

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

from explain.app.groups import NO_COLUMNS
from explain.app.navigation import page_file

ROOT = Path(__file__).resolve().parent.parent
# Pages by their files in the package (what app.py's st.navigation lists).
PAGES = ["performance", "error_analysis", "fairness", "what_if", "feature_effects", "compare", "shap", "attention", "report",
         "robustness", "uncertainty", "quality"]


def _loaded(name: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180).run()
    at.selectbox(key="home.example").select(name).run()
    next(b for b in at.button if b.label == "Load example").click().run()
    assert not at.exception and not at.error
    return at


def _ok(at: AppTest) -> AppTest:
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    return at


def _charts(at: AppTest) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def _click(at: AppTest, label: str) -> AppTest:
    next(b for b in at.button if b.label == label).click().run()
    return _ok(at)


@pytest.mark.parametrize("page", PAGES)
def test_pages_without_a_model_say_what_to_do(page: str) -> None:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    at.switch_page(str(page_file(page))).run()
    assert not at.exception
    assert any("Load a model and a dataset on the Home page first" in i.value for i in at.info)


def test_shap_page_tabular_charts_and_row_change() -> None:
    at = _loaded("breast_cancer")
    at.switch_page(str(page_file("shap"))).run()
    _ok(at)
    at.slider(key="shap.rows").set_value(20).run()
    _click(at, "Run")
    charts = _charts(at)
    titles = [c["layout"]["title"]["text"] for c in charts]
    assert len(charts) == 4 and any("mean |attribution|" in t for t in titles)
    assert any("Algorithm **kernel**" in c.value for c in at.caption)
    waterfall = charts[0]["data"][0]["x"]
    at.selectbox(key="saliency.row").set_value(5).run()  # a row outside the sample: computed on Run
    _click(at, "Run")
    assert _charts(at)[0]["data"][0]["x"] != waterfall
    assert len(at.get("download_button")) >= 3 * 4


def test_shap_page_images() -> None:
    at = _loaded("digits")
    at.switch_page(str(page_file("shap"))).run()
    _click(at, "Run")
    charts = _charts(at)
    assert len(charts) == 1 and charts[0]["data"][1]["type"] == "heatmap"


def test_attention_page_head_change() -> None:
    at = _loaded("sentiment")
    at.switch_page(str(page_file("attention"))).run()
    _ok(at)
    charts = _charts(at)
    assert len(charts) == 4  # grid, one head, rollout, relevance
    head = charts[1]["data"][0]["z"]
    at.selectbox(key="attention.head").set_value(1).run()
    _ok(at)
    assert _charts(at)[1]["data"][0]["z"] != head


def test_attention_page_on_a_model_without_attention() -> None:
    at = _loaded("diabetes")
    at.switch_page(str(page_file("attention"))).run()
    assert not at.exception
    assert not at.error and any("nn.MultiheadAttention" in i.value for i in at.info)


def test_report_page_builds_and_offers_downloads() -> None:
    at = _loaded("diabetes")
    at.switch_page(str(page_file("report"))).run()
    _ok(at)
    _click(at, "Build report")
    texts = [t.value for t in at.text]
    assert any(t.startswith("• R²") for t in texts)
    assert any("Attention did not run" in w.value for w in at.warning)
    labels = [b.label for b in at.get("download_button")]
    assert "Report (HTML, works offline)" in labels and "Report (JSON)" in labels


def test_robustness_page_attacks_and_keeps_immutable_features() -> None:
    at = _loaded("breast_cancer")
    at.switch_page(str(page_file("robustness"))).run()
    _ok(at)
    at.slider(key="robust.rows").set_value(30).run()
    at.multiselect(key="robust.immutable").set_value(["mean radius"]).run()
    _click(at, "Run")
    assert at.subheader[0].value.startswith("accuracy falls from")
    titles = [c["layout"]["title"]["text"] for c in _charts(at)]
    assert titles[0] == "Accuracy under attack" and "flipped" in titles[1]
    example = _charts(at)[2]
    assert "mean radius" not in example["data"][0]["y"]  # the frozen feature never moved
    labels = [b.label for b in at.get("download_button")]
    assert labels.count("Result (JSON)") == len(_charts(at))
    at.text_input(key="robust.eps.linf").set_value("0, x").run()
    assert any("Epsilons must be" in e.value for e in at.error)


def test_robustness_page_refuses_a_regression_plainly() -> None:
    at = _loaded("diabetes")
    at.switch_page(str(page_file("robustness"))).run()
    _ok(at)
    assert any("regression" in i.value for i in at.info)


def test_uncertainty_page_findings_charts_and_a_link_to_the_least_certain_row() -> None:
    at = _loaded("breast_cancer")
    at.switch_page(str(page_file("uncertainty"))).run()
    _ok(at)
    at.select_slider(key="unc.alpha").set_value(0.2).run()
    _click(at, "Run")
    text = [t.value for t in at.text]
    assert any("ECE" in t for t in text) and any("80% conformal prediction sets" in t for t in text)
    titles = [c["layout"]["title"]["text"] for c in _charts(at)]
    assert titles[0].startswith("Reliability") and any(t.startswith("Risk-coverage") for t in titles)
    least = next(b for b in at.button if b.label.startswith("Row "))
    row = int(least.label.split()[-1])
    least.click().run()
    _ok(at)
    assert at.title[0].value == "Saliency"
    assert at.selectbox(key="saliency.row").value == row


def test_explanation_quality_page_verdicts_per_method_and_agreement() -> None:
    at = _loaded("breast_cancer")
    at.switch_page(str(page_file("quality"))).run()
    _ok(at)
    at.multiselect(key="quality.methods").set_value(["integrated_gradients", "saliency"]).run()
    at.slider(key="quality.rows").set_value(30).run()
    _click(at, "Run")
    verdicts = [t.value for t in at.text]
    assert verdicts[0].startswith("integrated gradients: faithful") and "randomisation check" in verdicts[0]
    assert verdicts[1].startswith("saliency:")
    titles = [c["layout"]["title"]["text"] for c in _charts(at)]
    assert "integrated gradients: faithfulness on 30 examples" in titles
    assert titles[-1].startswith("Agreement between methods")


def test_saliency_and_shap_show_a_quality_badge() -> None:
    at = _loaded("breast_cancer")
    at.switch_page(str(page_file("saliency"))).run()
    _click(at, "Run")
    badges = [m.value for m in at.markdown if "Quality:" in m.value]
    assert badges == [":green-badge[:material/verified: Quality: faithful]"]
    assert any(c.value.startswith("integrated gradients: faithful, deletion AUC") for c in at.main.caption)
    at.switch_page(str(page_file("shap"))).run()
    at.slider(key="shap.rows").set_value(20).run()
    _click(at, "Run")
    assert any("Quality:" in m.value for m in at.markdown)


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _titles(at: AppTest) -> list[str]:
    return [c["layout"]["title"]["text"] for c in _charts(at)]


def test_performance_page_shows_the_librarys_figures_and_moves_with_the_threshold() -> None:
    at = _loaded("breast_cancer")
    at.switch_page(str(page_file("performance"))).run()
    _ok(at)
    model, data = explain.load_example("breast_cancer")
    perf = explain.performance(model, data)
    metrics = _metrics(at)
    assert metrics["Accuracy"] == f"{perf.accuracy:.1%}"
    assert metrics["Balanced accuracy"] == f"{perf.balanced_accuracy:.1%}"
    assert metrics["F1 (macro)"] == f"{perf.f1_macro:.1%}"
    assert metrics["ROC AUC"] == f"{perf.roc_auc:.3f}" and metrics["Brier score"] == f"{perf.brier:.3f}"
    low, high = perf.intervals["accuracy"]
    assert f"95% interval {low:.1%} to {high:.1%}" in [c.value for c in at.caption]
    titles = _titles(at)
    assert titles[:3] == [f"Confusion matrix: accuracy {perf.accuracy:.1%}, balanced {perf.balanced_accuracy:.1%}",
                          f"ROC curve: AUC {perf.roc_auc:.3f}",
                          f"Precision-recall curve: average precision {perf.average_precision:.3f}"]
    table = next(d.value for d in at.dataframe if "support" in d.value.columns)
    assert table["support"].tolist() == perf.support.tolist()
    assert [b.label for b in at.get("download_button")].count("Result (JSON)") == len(titles), "every figure"

    counts = _charts(at)[0]["data"][0]["text"]
    at.toggle(key="perf.normalize").set_value(True).run()
    assert _charts(at)[0]["data"][0]["text"] != counts and "%" in _charts(at)[0]["data"][0]["text"][0][0]

    f1 = _metrics(at)["F1 of benign"]
    assert f1 == f"{perf.f1[1]:.3f}", "at 0.5: the largest output's F1"
    at.slider(key="perf.threshold").set_value(0.9).run()
    _ok(at)
    there = explain.performance(model, data, threshold=0.9, bootstrap=0)
    assert _metrics(at)["F1 of benign"] == f"{there.f1[1]:.3f}" != f1
    assert _metrics(at)["Accuracy at this threshold"] == f"{there.accuracy:.3f}"
    title = _titles(at)[-1]
    assert title.startswith("Confusion matrix at 0.90 (shares of each true class)")
    assert title.endswith(f"accuracy {there.accuracy:.1%}, balanced {there.balanced_accuracy:.1%}")
    assert _charts(at)[-1]["data"][0]["customdata"] == json.loads(
        explain.plots.confusion_matrix(there, normalize=True).to_json())["data"][0]["customdata"], "the same matrix"


def test_performance_page_slices_flag_their_rows_and_a_bad_rule_shows_an_error() -> None:
    at = _loaded("breast_cancer")
    at.switch_page(str(page_file("performance"))).run()
    _ok(at)
    assert any("Write a rule" in i.value for i in at.info)
    at.text_area(key="perf.rules").set_value("`mean radius` > 17\n`no such column` > 3\n\n`mean radius` <= 12").run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "no such column" in errors[0] and "The other rules ran" in errors[0]
    model, data = explain.load_example("breast_cancer")
    expected = explain.slices(model, data, ["`mean radius` > 17", "`mean radius` <= 12"]).table
    shown = next(d.value for d in at.dataframe if "flagged" in d.value.columns)
    assert shown.index.tolist() == ["`mean radius` > 17", "`mean radius` <= 12"]
    assert shown["size"].tolist() == expected["size"].tolist()
    assert _titles(at)[-1].startswith("Error rate by slice: 0 of 2 differ")
    at.slider(key="perf.threshold").set_value(0.3).run()  # the page stays usable
    assert not at.exception and len(at.error) == 1


def test_performance_page_regression_shows_residuals() -> None:
    at = _loaded("diabetes")
    at.switch_page(str(page_file("performance"))).run()
    _ok(at)
    model, data = explain.load_example("diabetes")
    perf = explain.performance(model, data)
    metrics = _metrics(at)
    assert metrics["R²"] == f"{perf.r2:.3f}" and metrics["MAE"] == f"{perf.mae:.4g}"
    assert _titles(at) == [f"Residuals: R² {perf.r2:.3f}, MAE {perf.mae:.3g}, RMSE {perf.rmse:.3g}"]
    assert not [s for s in at.slider if s.key == "perf.threshold"]


def test_error_analysis_page_verdict_cohorts_drivers_and_a_row_on_the_saliency_page() -> None:
    at = _loaded("breast_cancer")
    at.switch_page(str(page_file("error_analysis"))).run()
    _ok(at)
    _click(at, "Run")
    assert at.text[0].value.startswith("No cohort errs more than the rest beyond chance")
    assert any("no cohort to look into" in i.value for i in at.info)

    at.number_input(key="errors.min_size").set_value(10).run()
    at.slider(key="errors.depth").set_value(2).run()
    _click(at, "Run")
    model, data = explain.load_example("breast_cancer")
    result = explain.error_analysis(model, data, min_size=10, max_depth=2)
    assert at.text[0].value.startswith(result.verdict()[:30].capitalize())
    table = next(d.value for d in at.dataframe if "rule" in d.value.columns)
    assert table["rule"].tolist() == [c.rule for c in result.cohorts] and len(table) >= 1
    cohort = result.cohorts[0]
    assert _metrics(at)["Rows"] == f"{cohort.size:,}" and _metrics(at)["Error rate"] == f"{cohort.error_rate:.1%}"
    rows = next(d.value for d in at.dataframe if "right" in d.value.columns)
    assert sorted(rows["row"]) == sorted(cohort.rows.tolist())
    drivers = explain.cohort_drivers(model, data, cohort)
    assert at.text[1].value == drivers.sentence[0].upper() + drivers.sentence[1:] + "."
    titles = _titles(at)
    assert titles[0].startswith("Error tree") and drivers.sentence in titles
    assert titles[-1].startswith("error rate by ")
    at.selectbox(key="errors.heat_b").set_value(at.selectbox(key="errors.heat_b").options[1]).run()
    _ok(at)
    assert " and " in _titles(at)[-1]
    first = next(b for b in at.button if b.label.startswith("Row "))
    row = int(first.label.split()[-1])
    assert row == int(rows["row"].iloc[0]) and not rows["right"].iloc[0], "a mistake first"
    first.click().run()
    _ok(at)
    assert at.title[0].value == "Saliency" and at.selectbox(key="saliency.row").value == row


@pytest.mark.parametrize("name", ["digits", "sentiment"])
def test_performance_and_error_analysis_pages_on_images_and_texts(name: str) -> None:
    at = _loaded(name)
    at.switch_page(str(page_file("performance"))).run()
    _ok(at)
    assert _titles(at)[0].startswith("Confusion matrix")
    at.switch_page(str(page_file("error_analysis"))).run()
    _click(at, "Run")
    assert at.text[0].value.split()[0] in ("No", "Errors")


# --- the Fairness page -----------------------------------------------------------------------
def test_fairness_page_without_a_column_to_group_by_says_only_that() -> None:
    at = _loaded("breast_cancer")  # thirty continuous features, no metadata
    at.switch_page(str(page_file("fairness"))).run()
    _ok(at)
    assert [i.value for i in at.info] == [NO_COLUMNS] and not at.button and not at.multiselect


def test_fairness_page_regression_verdict_groups_balance_importance_and_flips() -> None:
    at = _loaded("diabetes")
    at.switch_page(str(page_file("fairness"))).run()
    _ok(at)
    assert any("Choose the sensitive columns" in i.value for i in at.info) and not at.get("plotly_chart")
    model, data = explain.load_example("diabetes")
    columns = at.multiselect(key="fair.columns")
    few = [n for j, n in enumerate(data.feature_names) if len(set(data.x[:, j])) <= 50]
    assert columns.options == few and "sex" in few and "bmi" not in few, "features with few values only"
    columns.set_value(["sex"]).run()
    _click(at, "Run")
    result = explain.fairness(model, data, sensitive=["sex"])
    assert at.text[0].value == result.verdict()[0].upper() + result.verdict()[1:] + "."
    table = next(d.value for d in at.dataframe if "mae" in d.value.columns)
    assert table["group"].tolist() == list(result.groups) and table["rows"].tolist() == result.counts["count"].tolist()
    disparities = next(d.value for d in at.dataframe if "disparity" in d.value.columns)
    assert disparities["disparity"].tolist() == list(result.disparities)
    balance = explain.data_balance(data, sensitive=["sex"])
    found = explain.group_importance(model, data, sensitive=["sex"], sample=1000)
    texts = [t.value for t in at.text]
    assert balance.sentence()[1:] + "." in texts[1] and found.sentence()[1:] + "." in texts[2]
    assert texts[3].startswith("Changing only sex moves predictions by ")
    titles = _titles(at)
    assert titles[0] == result.verdict() and len(titles) == 3  # bars, balance, importance; no thresholds
    at.selectbox(key="fair.metric").set_value("mean_prediction").run()
    _ok(at)
    assert json.loads(at.get("plotly_chart")[0].proto.spec)["layout"]["yaxis"]["title"]["text"] == "mean_prediction"
    assert len([b for b in at.get("download_button")]) >= 9  # every figure with its downloads


def _credit_upload(tmp_path: Path) -> tuple[bytes, bytes]:
    """A .pt2 credit model on income alone and a CSV where group 'b' earns less: 'group' is a
    column the model does not take (Home offers it as metadata)."""
    import numpy as np
    import torch

    rng = np.random.default_rng(2)
    group = rng.choice(["a", "b"], 600)
    income = np.clip(rng.normal(np.where(group == "a", 0.6, 0.4), 0.2), 0, 1)
    truth = np.where(rng.random(600) < 0.5, "grant", "deny")
    net = torch.nn.Linear(1, 2)
    with torch.no_grad():
        net.weight.copy_(torch.tensor([[0.0], [8.0]]))
        net.bias.copy_(torch.tensor([0.0, -4.0]))
    explain.save_model(net, tmp_path / "credit.pt2", torch.zeros(2, 1), feature_names=["income"],
                       class_names=["deny", "grant"])
    lines = ["income,group,decision"] + [f"{a:.4f},{g},{t}" for a, g, t in zip(income, group, truth)]
    return (tmp_path / "credit.pt2").read_bytes(), "\n".join(lines).encode()


def test_fairness_page_on_an_upload_with_metadata_beyond_chance_and_thresholds(tmp_path: Path) -> None:
    model_bytes, csv_bytes = _credit_upload(tmp_path)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180).run()
    at.radio(key="home.source").set_value("Upload your own").run()
    at.file_uploader(key="home.model_file").set_value(("credit.pt2", model_bytes, "application/octet-stream")).run()
    at.file_uploader(key="home.data_file").set_value(("credit.csv", csv_bytes, "text/csv")).run()
    next(b for b in at.button if b.label == "Load uploads").click().run()
    _ok(at)
    at.switch_page(str(page_file("fairness"))).run()
    _ok(at)
    assert at.multiselect(key="fair.columns").options == ["group"]
    _click(at, "Run")
    assert any("Choose at least one sensitive column" in w.value for w in at.warning)
    at.multiselect(key="fair.columns").set_value(["group"]).run()
    _click(at, "Run")
    data = at.session_state["explain.data"].value
    result = explain.fairness(explain.load_model(tmp_path / "credit.pt2"), data, sensitive=["group"])
    assert result.beyond_chance["demographic_parity_difference"] and "beyond what chance allows" in at.text[0].value
    table = next(d.value for d in at.dataframe if "selection_rate" in d.value.columns)
    low, high = result.intervals["selection_rate"][0]
    assert table["selection_rate"].iloc[0] == f"{100 * result.metrics['selection_rate'][0]:.1f}% " \
                                              f"({100 * low:.1f}%–{100 * high:.1f}%)"
    disparities = next(d.value for d in at.dataframe if "disparity" in d.value.columns)
    assert disparities.set_index("disparity").loc["demographic_parity_difference", "chance"] == "beyond"
    texts = [t.value for t in at.text]
    assert [m.sentence()[1:] + "." for m in result.mitigation] == [t[1:] for t in texts[-2:]]
    assert not any(t.startswith("Changing only") for t in texts), "metadata: no flip probe"
    assert sum(t.startswith("per-group thresholds would bring") for t in _titles(at)) == 2


# --- the What-if and Feature effects pages ---------------------------------------------------
def _array(value: object) -> np.ndarray:
    """A Plotly array from a chart's JSON: a list, or base64 ``bdata`` with its dtype."""
    if isinstance(value, dict) and "bdata" in value:
        out = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
        shape = value.get("shape")
        return out.reshape([int(s) for s in str(shape).split(",")]) if shape else out
    return np.asarray(value, dtype=float)


@pytest.mark.parametrize("name", ["breast_cancer", "diabetes", "digits", "sentiment"])
def test_what_if_and_feature_effects_render_before_any_button(name: str) -> None:
    at = _loaded(name)
    for stem in ("what_if", "feature_effects"):
        at.switch_page(str(page_file(stem))).run()
        _ok(at)
        if name in ("digits", "sentiment"):
            assert any("tables" in i.value for i in at.info), "other modalities: say what is supported"
        elif name == "diabetes" and stem == "what_if":
            assert any("no dropout layers" in c.value for c in at.caption)


def test_what_if_page_edits_a_row_and_finds_counterfactuals() -> None:
    at = _loaded("breast_cancer")
    at.switch_page(str(page_file("what_if"))).run()
    _ok(at)
    model, data = explain.load_example("breast_cancer")
    frame = at.dataframe[0].value
    proba = model.predict_proba(data.x[:1])[0]
    assert frame["class"].tolist() == ["malignant", "benign"]
    assert frame["original"].to_numpy() == pytest.approx(proba, abs=1e-5)
    assert frame["edited"].to_numpy() == pytest.approx(proba, abs=1e-5)
    uncertainty = next(d.value for d in at.dataframe if "mutual information" in d.value.columns)  # it has dropout
    mine = explain.uncertainty(model, np.vstack([data.x[:1], data.x[:1]]), method="mc_dropout")
    assert uncertainty["entropy"].to_numpy() == pytest.approx(mine.entropy, abs=1e-5)
    j = list(data.feature_names).index("worst area")
    box = at.number_input(key=f"whatif.0.{j}")
    assert box.min == pytest.approx(float(data.x[:, j].min())) and box.max == pytest.approx(float(data.x[:, j].max()))
    box.set_value(float(data.x[:, j].max()))
    next(b for b in at.button if b.label == "Apply").click().run()
    _ok(at)
    edited = np.array(data.x[0], dtype=np.float32)
    edited[j] = float(data.x[:, j].max())
    assert at.dataframe[0].value["edited"].to_numpy() == pytest.approx(model.predict_proba(edited[None])[0], abs=1e-4)
    assert any("worst area" in c.value for c in at.caption)
    _click(at, "Find counterfactuals")
    found = explain.counterfactuals(model, data, edited[None], target=at.selectbox(key="whatif.target").value, n=3)
    measures = next(d.value for d in at.dataframe if "sparsity" in d.value.columns)
    assert measures["sparsity"].tolist() == found.sparsity.tolist() and measures["validity"].all()
    assert measures["proximity"].to_numpy() == pytest.approx(found.proximity)
    assert any(c["layout"]["title"]["text"] for c in _charts(at))


def test_feature_effects_page_pdp_ale_and_a_pair_equal_the_library() -> None:
    at = _loaded("breast_cancer")
    at.switch_page(str(page_file("feature_effects"))).run()
    _ok(at)
    model, data = explain.load_example("breast_cancer")
    assert at.multiselect(key="effects.features").value == list(data.feature_names[:3])
    at.multiselect(key="effects.features").set_value(["worst area"]).run()
    _click(at, "Run")
    mine = explain.partial_dependence(model, data, features=["worst area"], grid_resolution=20, sample=50)
    chart = _charts(at)[0]
    line = next(t for t in chart["data"] if t.get("name") == "average")
    assert _array(line["y"]) == pytest.approx(mine.average["worst area"][1], abs=1e-6)
    assert len(at.get("download_button")) >= 3
    at.radio(key="effects.kind").set_value("ALE").run()
    _click(at, "Run")
    theirs = explain.ale(model, data, features=["worst area"], bins=20)
    assert _array(_charts(at)[0]["data"][0]["y"]) == pytest.approx(theirs.effect["worst area"][1], abs=1e-6)
    at.radio(key="effects.kind").set_value("2-D PDP").run()
    _click(at, "Run")
    pair = explain.partial_dependence(model, data, features=[tuple(data.feature_names[:2])], kind="average")
    z = _array(_charts(at)[0]["data"][0]["z"])
    assert z.size == pair.average[tuple(data.feature_names[:2])][1].size


# --- the Compare page ---------------------------------------------------------------------
def test_compare_page_int8_and_pruned_equal_the_library_and_the_sweep() -> None:
    at = _loaded("breast_cancer")
    at.switch_page(str(page_file("compare"))).run()
    _ok(at)
    assert any("Press **Compare**" in i.value or "press **Compare**" in i.value for i in at.info)
    _click(at, "Compare")
    model, data = explain.load_example("breast_cancer")
    mine = explain.compare(model, explain.compress(model, method="quantize"), data, rows=100,
                           names=("original", "int8"))
    shown = {m.label: m.value for m in at.metric}
    assert shown["Agreement"] == f"{100 * mine.agreement:.1f}%"
    assert shown["Accuracy"] == f"{mine.accuracy[0]:.1%} → {mine.accuracy[1]:.1%}"
    assert shown["ECE"] == f"{mine.ece[0]:.3f} → {mine.ece[1]:.3f}"
    assert shown["Explanation similarity"] == f"{mine.explanation_similarity:.3f}"
    assert shown["Size"].endswith("MB") and shown["Latency"].endswith("ms/row")
    titles = [c["layout"]["title"]["text"] for c in _charts(at)]
    assert any(t.startswith("Per-class change") for t in titles) and any(t.startswith("Explanation similarity")
                                                                       for t in titles)
    at.radio(key="compare.second").set_value("Prune at").run()
    at.slider(key="compare.amount").set_value(0.6).run()
    _click(at, "Compare")
    pruned = explain.compare(model, explain.compress(model, method="prune", amount=0.6), data, rows=100)
    assert {m.label: m.value for m in at.metric}["Agreement"] == f"{100 * pruned.agreement:.1f}%"
    assert len(pruned.disagreeing) and at.selectbox(key="compare.row").value == int(pruned.disagreeing[0])
    assert any(c["layout"]["title"]["text"].startswith(f"Row {pruned.rows[pruned.disagreeing[0]]}:")
               for c in _charts(at))
    _click(at, "Run the sweep")
    sweep = explain.compress_sweep(model, data, amounts=(0.2, 0.4, 0.6, 0.8), keep=0.99)
    assert any(f"agreement ≥ 99%: {sweep.best:.0%}" in c.value for c in at.caption)


@pytest.mark.parametrize("name", ["diabetes", "digits", "sentiment"])
def test_compare_page_other_tasks_and_modalities(name: str) -> None:
    at = _loaded(name)
    at.switch_page(str(page_file("compare"))).run()
    _ok(at)
    _click(at, "Compare")
    shown = {m.label: m.value for m in at.metric}
    model, data = explain.load_example(name)
    if name == "diabetes":
        mine = explain.compare(model, explain.compress(model, method="quantize"), data, rows=100)
        assert shown["Agreement"] == f"{mine.agreement:.4g} apart"
        assert shown["Mean absolute error"] == f"{mine.accuracy[0]:.4g} → {mine.accuracy[1]:.4g}"
    else:
        assert shown["Agreement"].endswith("%") and "Explanation similarity" in shown
