"""The audit: sections, findings, JSON schema, the offline HTML report, and the CLI gate."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

import explain
from explain.cli import main, parse_gate

PAYLOADS = ['<script>alert("col")</script>', '<img src=x onerror=alert("img")>', "a&b", "normal"]


@pytest.fixture
def hostile(tmp_path: Path) -> tuple[explain.Model, explain.Dataset]:
    """A dataset whose column names and labels are HTML / JS payloads."""
    rng = np.random.default_rng(0)
    header = ",".join(f'"{p}"' if "," in p else p.replace('"', '""').join('""') for p in PAYLOADS)
    labels = ['<script>alert("label")</script>', "<b onmouseover=alert(3)>x</b>"]
    lines = [header + ",label"] + [
        ",".join(f"{v:.3f}" for v in rng.normal(size=4)) + "," + labels[i % 2].replace('"', '""').join('""')
        for i in range(40)
    ]
    (tmp_path / "evil.csv").write_text("\n".join(lines))
    data = explain.load_dataset(tmp_path / "evil.csv", target="label")
    assert data.feature_names == tuple(PAYLOADS) and set(data.class_names) == set(labels)
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2)).eval()
    return explain.Model(net, feature_names=data.feature_names, class_names=data.class_names), data


def test_sections_findings_and_json_round_trip(tmp_path: Path) -> None:
    model, data = explain.load_example("breast_cancer")
    audit = explain.audit(model, data, rows=20)
    assert [s.name for s in audit.sections] == ["performance", "fairness", "effects", "saliency", "shap",
                                                "attention", "quality", "robustness", "uncertainty"]
    assert [s.name for s in audit.sections if s.status == "ok"] == [
        "performance", "effects", "saliency", "shap", "quality", "robustness", "uncertainty"]
    for gate in ("robustness.accuracy@0.1", "calibration.ece", "conformal.coverage", "quality.deletion_auc"):
        assert 0 <= audit.metrics[gate] <= 1
    assert audit.metrics["robustness.accuracy@0"] == pytest.approx(audit.metrics["robustness.clean_accuracy"])
    attention = audit.section("attention")
    assert attention.status == "skipped" and "nn.MultiheadAttention" in attention.reason
    assert audit.metrics["accuracy"] == pytest.approx(np.mean(
        [model.class_names[p] == t for p, t in zip(model.predict(data), data.labels)]))
    assert any(f.startswith("accuracy ") for f in audit.findings)
    assert any("top three features carry" in f for f in audit.findings)
    assert audit.metrics["shap.additivity_error"] < 1e-4
    loaded = json.loads(audit.to_json(tmp_path / "a.json"))
    assert loaded == json.loads((tmp_path / "a.json").read_text())
    assert loaded["schema"] == "explain.audit/1"
    assert loaded["findings"] == audit.findings and loaded["metrics"] == pytest.approx(audit.metrics)
    assert audit.section("fairness").status == "skipped"  # no sensitive columns named
    shap_values = loaded["sections"][4]["results"]["shap"]["values"]
    np.testing.assert_allclose(shap_values, audit.section("shap").results["shap"].values)
    assert len(loaded["provenance"]["model_sha256"]) == 64


def test_report_is_self_contained_and_escapes_user_text(hostile: tuple, tmp_path: Path) -> None:
    model, data = hostile
    audit = explain.audit(model, data, rows=10)  # every section: their plots quote names and labels too
    assert {s.name for s in audit.sections if s.status == "ok"} >= {"robustness", "uncertainty", "quality"}
    html = audit.to_html(tmp_path / "r.html")
    assert "<script>alert(" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&#34;label&#34;)" in html or "&lt;script&gt;alert(&#34;col&#34;)" in html
    page = html.split("</head>", 1)[1]  # the body: everything but the inlined plotly.js bundle
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)  # nothing loads from elsewhere
    assert html.count("<script>") == 1 + page.count("<script")  # plotly.js inlined exactly once
    assert "Content-Security-Policy" in html and len(html) < 6_000_000


def test_unknown_sections_and_inputs() -> None:
    model, data = explain.load_example("diabetes")
    with pytest.raises(explain.InputError, match="Unknown sections"):
        explain.audit(model, data, sections=["robustnes"])
    unlabelled = explain.Dataset(data.x)
    audit = explain.audit(model, unlabelled, sections=["performance"])
    assert audit.section("performance").status == "skipped" and "no labels" in audit.section("performance").reason


def test_cli_gate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert parse_gate("accuracy < 0.9") == ("accuracy", "<", 0.9)
    with pytest.raises(explain.ExplainError, match="METRIC<NUMBER"):
        parse_gate("accuracy is low")
    out = str(tmp_path / "r.html")
    base = ["audit", "example:diabetes", "--sections", "performance", "--out", out]
    assert main([*base, "--fail-if", "r2<0.3"]) == 0
    assert main([*base, "--fail-if", "r2<0.3", "--fail-if", "mae>10"]) == 1
    assert "gate failed: mae" in capsys.readouterr().err
    assert main([*base, "--fail-if", "ece>0.1"]) == 2
    assert main([*base, "--json", str(tmp_path / "r.json")]) == 0
    assert json.loads((tmp_path / "r.json").read_text())["metrics"]["r2"] > 0.4


def test_cli_robustness_and_calibration_gates(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = str(tmp_path / "r.html")
    base = ["audit", "example:breast_cancer", "--sections", "robustness", "uncertainty", "--out", out,
            "--epsilons", "0", "0.5", "--alpha", "0.2", "--json", str(tmp_path / "r.json")]
    assert main([*base, "--fail-if", "robustness.accuracy@0.5<0.1", "--fail-if", "calibration.ece>0.2"]) == 0
    metrics = json.loads((tmp_path / "r.json").read_text())["metrics"]
    assert metrics["robustness.accuracy@0.5"] < metrics["robustness.clean_accuracy"]
    assert "robustness.accuracy@0.1" not in metrics  # only the sizes asked for
    capsys.readouterr()
    assert main([*base, "--fail-if", "robustness.accuracy@0.5<0.9"]) == 1
    assert "gate failed: robustness.accuracy@0.5" in capsys.readouterr().err


@pytest.mark.browser
@pytest.mark.slow
def test_report_in_chromium_runs_no_script_and_renders_every_plot(hostile: tuple, tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path("/usr/bin/chromium").exists():
        pytest.skip("Debian chromium is not installed (apt-get install chromium)")
    model, data = hostile
    path = tmp_path / "r.html"
    audit = explain.audit(model, data, rows=10)
    audit.to_html(path)
    dialogs, errors, requests = [], [], []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync"])
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("request", lambda r: requests.append(r.url))
        page.goto(path.as_uri())
        page.wait_for_timeout(1500)
        page.mouse.move(700, 400)
        rendered = page.locator(".js-plotly-plot").count()
        text = page.inner_text("body")
        Path("tests/artifacts").mkdir(parents=True, exist_ok=True)
        page.screenshot(path="tests/artifacts/report_hostile.png", full_page=True)
        browser.close()
    assert dialogs == [] and errors == []
    assert all(url.startswith("file:") for url in requests)
    assert rendered == len(re.findall(r'<div id="figure-\d+"', path.read_text())) >= 4
    assert '<script>alert("label")</script>' in text  # shown as text, not run


def test_shap_finding_on_an_unnamed_table_speaks_of_features() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 4)).astype(np.float32)
    net = torch.nn.Linear(4, 2)
    model = explain.Model(net, task="classification", modality="tabular")  # no feature names
    data = explain.Dataset(x, (x[:, 0] > 0).astype(np.int64), feature_names=["age", "bmi", "bp", "s1"])
    section = explain.audit(model, data, sections=["shap"], rows=20).section("shap")
    text = section.findings[0]
    assert "token" not in text and "the top three features carry" in text
    assert any(name in text for name in ["age", "bmi", "bp", "s1"])  # the dataset's names reach SHAP
    bare = explain.audit(model, explain.Dataset(x, data.y), sections=["shap"], rows=20).section("shap")
    assert "token" not in bare.findings[0] and "features carry" in bare.findings[0]


def test_a_section_declared_here_shows_its_figure_in_the_report_and_the_app() -> None:
    import plotly.graph_objects as go

    from explain.auditing import registry
    from explain.auditing.common import Section, SectionSpec, timed

    def run(model: explain.Model, data: explain.Dataset, **_: object) -> Section:
        return timed(spec, lambda: (["rows counted"], {"demo.rows": float(len(data))}, {"count": len(data)}))

    def figures(name: str, result: int) -> list[go.Figure]:
        return [go.Figure(go.Bar(y=[result]), layout={"title": {"text": f"demo figure of {name}"}})]

    spec = SectionSpec("demo", "Demo section", run, figures)
    registry.register(spec)
    try:
        assert registry.audit_sections()[-1] == "demo" == explain.audit_sections()[-1]
        model, data = explain.load_example("diabetes")
        audit = explain.audit(model, data, sections=["performance", "demo"])
        section = audit.section("demo")
        assert section.status == "ok" and audit.metrics["demo.rows"] == len(data)
        drawn = registry.section_figures(section)
        assert [(name, result) for name, result, _ in drawn] == [("count", len(data))]
        assert drawn[0][2].layout.title.text == "demo figure of count"
        html = audit.to_html()
        assert '<section id="demo"><h2>Demo section</h2>' in html and "rows counted" in html
        demo = html.split('<section id="demo">', 1)[1].split("</section>", 1)[0]
        assert demo.count('<div id="figure-') == 1 and "demo figure of count" in demo
        with pytest.raises(explain.InputError, match="already declared"):
            registry.register(spec)
    finally:
        registry.SECTIONS.pop("demo", None)
    with pytest.raises(explain.InputError, match="No audit section is named 'demo'"):
        registry.section_figures(section)


# --- the performance section: explain.performance, error analysis, drivers, slices ------------
def _planted(n: int = 3000, seed: int = 0) -> tuple[explain.Model, explain.Dataset, np.ndarray]:
    """A churn model right on 95% of the rows but on only 30% where tenure < 0.25 and
    balance <= 0.5 (about an eighth of the rows): the planted failure region."""
    rng = np.random.default_rng(seed)
    x = rng.random((n, 3)).astype(np.float32)
    net = nn.Linear(3, 2)
    with torch.no_grad():
        net.weight.copy_(torch.tensor([[0, 0, -5.0], [0, 0, 5.0]]))
        net.bias.copy_(torch.tensor([2.5, -2.5]))  # predicts "leave" where age > 0.5
    predicted = (x[:, 2] > 0.5).astype(int)
    region = (x[:, 0] < 0.25) & (x[:, 1] <= 0.5)
    wrong = rng.random(n) < np.where(region, 0.7, 0.05)
    names, classes = ["tenure", "balance", "age"], ["stay", "leave"]
    model = explain.Model(net, task="classification", modality="tabular", feature_names=names, class_names=classes)
    return model, explain.Dataset(x, np.where(wrong, 1 - predicted, predicted), feature_names=names,
                                  class_names=classes), region


def test_performance_section_finds_the_planted_failure_region() -> None:
    model, data, region = _planted()
    section = explain.audit(model, data, sections=["performance"]).section("performance")
    analysis = section.results["error_analysis"]
    worst = max(analysis.significant, key=lambda c: c.error_rate)
    inside = region[worst.rows].mean()
    assert inside > 0.9 and worst.size > 0.7 * region.sum()  # the cohort is the planted region
    assert {c for c, _, _ in worst.conditions} == {"tenure", "balance"}
    assert section.metrics["performance.worst_cohort_error"] == worst.error_rate > 0.6
    assert section.metrics["performance.cohorts_found"] == len(analysis.significant) >= 1
    said = [f for f in section.findings if f.startswith("errors concentrate in ")]
    assert said == [analysis.verdict()] and worst.summary() in said[0]  # e.g. "...: 66% wrong on 352 rows, 6.3% elsewhere"
    drivers = section.results["drivers"]
    assert drivers.rule == worst.rule
    assert f"in the cohort that errs most ({worst.rule}), the model leans on" in section.findings[-1]


def test_performance_section_equals_explain_performance() -> None:
    for name in ("breast_cancer", "digits", "diabetes"):
        model, data = explain.load_example(name)
        section = explain.audit(model, data, sections=["performance"]).section("performance")
        perf = explain.performance(model, data)
        assert {k.removeprefix("performance."): v for k, v in section.metrics.items()
                if k.startswith("performance.") and "cohort" not in k} == perf.metrics
        assert section.results["performance"].intervals == perf.intervals
        old = ["accuracy"] if perf.task == "classification" else ["r2", "mae"]
        assert {k: section.metrics[k] for k in old} == {k: perf.metrics[k] for k in old}  # the gates kept
        analysis = explain.error_analysis(model, data)
        assert [c.rule for c in section.results["error_analysis"].cohorts] == [c.rule for c in analysis.cohorts]
        if not analysis.significant:
            assert section.metrics["performance.worst_cohort_error"] == analysis.error_rate
            assert "drivers" not in section.results and analysis.verdict() in section.findings
    binary = explain.audit(*explain.load_example("breast_cancer"), sections=["performance"]).findings
    assert any(f.startswith("weakest class: 'malignant'") for f in binary)
    assert any("maximises F1" in f or "as good as any for F1" in f for f in binary)


def test_performance_json_carries_cohorts_not_rows(tmp_path: Path) -> None:
    model, data, _ = _planted()
    audit = explain.audit(model, data, sections=["performance"])
    loaded = json.loads(audit.to_json(tmp_path / "a.json"))
    results = loaded["sections"][0]["results"]
    analysis = audit.section("performance").results["error_analysis"]
    cohorts = results["error_analysis"]["cohorts"]
    assert [(c["rule"], c["size"], c["error_rate"], c["interval"]) for c in cohorts] == [
        (c.rule, c.size, pytest.approx(c.error_rate), pytest.approx(list(c.interval))) for c in analysis.cohorts]
    assert all("rows" not in c and "row_ids" not in c for c in cohorts)
    assert results["error_analysis"]["verdict"] == analysis.verdict() and results["error_analysis"]["n"] == len(data)
    performance = results["performance"]
    assert performance["n"] == len(data) and performance["accuracy"] == audit.metrics["performance.accuracy"]
    assert not {"labels", "predictions", "rows", "roc_points"} & set(performance)
    assert performance["confusion_matrix"] == audit.section("performance").results["performance"].confusion_matrix.tolist()
    assert results["drivers"]["rule"] == max(analysis.significant, key=lambda c: c.error_rate).rule
    assert len((tmp_path / "a.json").read_text()) < 60_000  # 3,000 rows, none listed


def test_performance_section_slices_when_asked() -> None:
    model, data, _ = _planted()
    rules = {"new, low balance": "tenure < 0.25 and balance <= 0.5", "rich": "balance > 0.99"}
    section = explain.audit(model, data, sections=["performance"], slices=rules).section("performance")
    expected = explain.slices(model, data, rules)
    assert section.metrics["performance.slices_flagged"] == expected.flagged.sum() == 1
    assert section.results["slices"].flagged.tolist() == expected.flagged.tolist()
    line = next(f for f in section.findings if f.startswith("slice 'new, low balance'"))
    assert "beyond chance" in line and "within chance" not in line
    assert "within chance" in next(f for f in section.findings if f.startswith("slice 'rich' (balance > 0.99)"))
    assert "slices" not in explain.audit(model, data, sections=["performance"]).section("performance").results
    typo = explain.audit(model, data, sections=["performance"], slices=["tenur < 1"]).section("performance")
    assert typo.status == "ok" and any(f.startswith("the slices were not measured: ") for f in typo.findings)
    assert "performance.slices_flagged" not in typo.metrics


def test_report_draws_the_performance_figures(tmp_path: Path) -> None:
    model, data, _ = _planted()
    html = explain.audit(model, data, sections=["performance"], slices=["age > 0.9"]).to_html(tmp_path / "r.html")
    part = html.split('<section id="performance">', 1)[1].split("</section>", 1)[0]
    for title in ("Confusion matrix (shares of each true class)", "ROC curve: AUC", "Precision-recall curve",
                  "Precision, recall and F1 by threshold", "Error tree", "errors concentrate in",
                  "in this cohort the model leans on", "by slice"):
        assert title in part, title
    assert part.count('<div id="figure-') == 8
    regression = explain.audit(*explain.load_example("diabetes"), sections=["performance"]).to_html()
    assert "Residuals: R\\u00b2" in regression and "Error tree: mean absolute error" in regression
