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
    assert [s.name for s in audit.sections] == ["performance", "saliency", "shap", "attention", "quality",
                                                "robustness", "uncertainty"]
    assert [s.name for s in audit.sections if s.status == "ok"] == [
        "performance", "saliency", "shap", "quality", "robustness", "uncertainty"]
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
    shap_values = loaded["sections"][2]["results"]["shap"]["values"]
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
