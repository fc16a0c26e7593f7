"""The explain command: help, info, methods, attribute, and errors as one line with status 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import explain
from explain.cli import main


def test_help_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    out = capsys.readouterr().out
    for command in ("examples", "info", "methods", "attribute"):
        assert command in out


def test_info_and_methods_of_a_pt2(tmp_path: Path, mlp: torch.nn.Module, capsys: pytest.CaptureFixture[str]) -> None:
    explain.save_model(mlp, tmp_path / "m.pt2", torch.zeros(2, 5), class_names=["a", "b", "c"])
    assert main(["info", str(tmp_path / "m.pt2")]) == 0
    out = capsys.readouterr().out
    assert "pt2" in out and "('a', 'b', 'c')" in out
    assert main(["methods", str(tmp_path / "m.pt2")]) == 0
    listed = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert listed == explain.methods(explain.load_model(tmp_path / "m.pt2"))


def test_attribute_writes_json_and_offline_html(tmp_path: Path) -> None:
    out, html = tmp_path / "a.json", tmp_path / "a.html"
    code = main(["attribute", "example:breast_cancer", "--method", "saliency", "--rows", "4",
                 "--out", str(out), "--html", str(html)])
    assert code == 0
    result = json.loads(out.read_text())
    model, data = explain.load_example("breast_cancer")
    expected = explain.attribute(model, data[:4], method="saliency")
    assert result["method"] == "saliency"
    np.testing.assert_allclose(np.array(result["values"]), expected.values, rtol=1e-6)
    page = html.read_text()
    assert 'src="http' not in page and len(page) > 1_000_000  # plotly.js inlined, nothing fetched


def test_attribute_on_a_csv_with_a_pt2(tmp_path: Path, mlp: torch.nn.Module) -> None:
    explain.save_model(mlp, tmp_path / "m.pt2", torch.zeros(2, 5))
    (tmp_path / "d.csv").write_text("a,b,c,d,e,label\n1,2,3,4,5,x\n0,0,0,0,1,y\n")
    code = main(["attribute", str(tmp_path / "m.pt2"), str(tmp_path / "d.csv"), "--target", "label",
                 "--out", str(tmp_path / "a.json")])
    assert code == 0
    assert len(json.loads((tmp_path / "a.json").read_text())["values"]) == 2


def test_errors_are_one_line_with_status_2(tmp_path: Path) -> None:
    (tmp_path / "m.pkl").write_bytes(b"\x80\x04K\x01.")
    done = subprocess.run([sys.executable, "-m", "explain", "info", str(tmp_path / "m.pkl")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.startswith("error: ") and "never unpickles" in done.stderr
    assert "Traceback" not in done.stderr


# --- explain app ---------------------------------------------------------------------------
def test_app_without_streamlit_names_the_pip_command(monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    import importlib.util

    from explain.cli import app_command

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "streamlit" else real(name, *a))
    with pytest.raises(explain.MissingDependencyError, match=r'pip install "explain-torch\[app\]"'):
        app_command()
    assert main(["app", "--server.port", "8600"]) == 2
    assert 'pip install "explain-torch[app]"' in capsys.readouterr().err


def test_app_serves_the_package_entry_with_streamlit_options(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("streamlit")
    started: list[list[str]] = []

    class FakePopen:
        def __init__(self, command: list[str]) -> None:
            started.append(command)

        def wait(self) -> int:
            return 0

    monkeypatch.setattr(subprocess, "Popen", FakePopen)
    assert main(["app", "--server.port", "8600", "--server.address", "127.0.0.1", "--client.toolbarMode=auto"]) == 0
    (command,) = started
    assert command[:4] == [sys.executable, "-m", "streamlit", "run"]
    entry = Path(command[4])
    assert entry == Path(explain.__file__).parent / "app" / "entry" / "dashboard.py" and entry.is_file()
    assert command[-5:] == ["--server.port", "8600", "--server.address", "127.0.0.1", "--client.toolbarMode=auto"]
    assert command[5:9] == ["--browser.gatherUsageStats", "false", "--server.maxUploadSize", "500"]
    assert "viewer" not in command, "an option given replaces its default"
    with pytest.raises(SystemExit):  # other commands still refuse options they do not know
        main(["examples", "--server.port", "1"])


def test_python_m_explain_app_help() -> None:
    out = subprocess.run([sys.executable, "-m", "explain", "app", "--help"], capture_output=True, text=True,
                         check=True).stdout
    assert "streamlit run" in out and "--server.port" in out


# --- explain audit: the performance gates and --slice ----------------------------------------
def _planted_files(tmp_path: Path) -> tuple[Path, Path, np.ndarray]:
    """A .pt2 churn model and a CSV where it errs on 70% of the rows with region 'north' and
    tenure < 0.3 (region is a metadata column the model never sees), on 5% elsewhere."""
    rng = np.random.default_rng(1)
    n = 2000
    x = rng.random((n, 2)).astype(np.float32)
    region = rng.choice(["north", "south"], n)
    net = torch.nn.Linear(2, 2)
    with torch.no_grad():
        net.weight.copy_(torch.tensor([[0, -5.0], [0, 5.0]]))
        net.bias.copy_(torch.tensor([2.5, -2.5]))  # "leave" where x[:, 1] > 0.5
    predicted = (x[:, 1] > 0.5).astype(int)
    planted = (region == "north") & (x[:, 0] < 0.3)
    truth = np.where(rng.random(n) < np.where(planted, 0.7, 0.05), 1 - predicted, predicted)
    explain.save_model(net, tmp_path / "m.pt2", torch.zeros(2, 2), feature_names=["tenure", "balance"],
                       class_names=["stay", "leave"])
    lines = ["tenure,balance,region,label"] + [f"{a:.4f},{b:.4f},{r},{['stay', 'leave'][t]}"
                                               for (a, b), r, t in zip(x, region, truth)]
    (tmp_path / "d.csv").write_text("\n".join(lines))
    return tmp_path / "m.pt2", tmp_path / "d.csv", planted


def test_audit_gates_on_the_worst_cohort_and_slices(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model, data, planted = _planted_files(tmp_path)
    base = ["audit", str(model), str(data), "--target", "label", "--metadata", "region", "--sections", "performance",
            "--out", str(tmp_path / "r.html"), "--json", str(tmp_path / "r.json")]
    assert main([*base, "--fail-if", "performance.worst_cohort_error>0.3",
                 "--fail-if", "performance.balanced_accuracy<0.5"]) == 1
    err = capsys.readouterr().err
    assert "gate failed: performance.worst_cohort_error" in err and "balanced_accuracy" not in err
    report = json.loads((tmp_path / "r.json").read_text())
    metrics = report["metrics"]
    worst = max((c for c in report["sections"][0]["results"]["error_analysis"]["cohorts"] if c["significant"]),
                key=lambda c: c["error_rate"])
    assert "region in {north}" in worst["rule"] and "tenure" in worst["rule"]  # metadata searched
    assert metrics["performance.worst_cohort_error"] == pytest.approx(worst["error_rate"]) and worst["error_rate"] > 0.5
    assert worst["size"] == pytest.approx(planted.sum(), rel=0.2)
    assert main([*base, "--fail-if", "performance.worst_cohort_error>0.95", "--slice", "region == 'north'",
                 "--slice", "tenure < 0.3 and region == 'north'"]) == 0
    out = capsys.readouterr().out
    assert "- slice tenure < 0.3 and region == 'north': " in out and "beyond chance" in out
    assert json.loads((tmp_path / "r.json").read_text())["metrics"]["performance.slices_flagged"] == 2


def test_audit_help_lists_the_performance_gates() -> None:
    out = subprocess.run([sys.executable, "-m", "explain", "audit", "--help"], capture_output=True, text=True,
                         check=True).stdout
    flat = " ".join(out.split())
    for text in ("--slice RULE", "--metadata COLUMN", "performance.worst_cohort_error", "performance.cohorts_found",
                 ".balanced_accuracy", "performance.r2"):
        assert text in flat, text


def _biased_files(tmp_path: Path) -> tuple[Path, Path]:
    """A .pt2 credit model on income alone and a CSV where group 'b' earns less (labels
    independent of the group): 'group' is metadata the model never sees, and the
    selection rate differs between the groups."""
    rng = np.random.default_rng(2)
    n = 1200
    group = rng.choice(["a", "b"], n)
    income = np.clip(rng.normal(np.where(group == "a", 0.6, 0.4), 0.2), 0, 1).astype(np.float32)
    truth = (rng.random(n) < 0.5).astype(int)
    net = torch.nn.Linear(1, 2)
    with torch.no_grad():
        net.weight.copy_(torch.tensor([[0.0], [8.0]]))
        net.bias.copy_(torch.tensor([0.0, -4.0]))  # "grant" where income > 0.5
    explain.save_model(net, tmp_path / "credit.pt2", torch.zeros(2, 1), feature_names=["income"],
                       class_names=["deny", "grant"])
    lines = ["income,group,label"] + [f"{a:.4f},{g},{['deny', 'grant'][t]}" for a, g, t in zip(income, group, truth)]
    (tmp_path / "credit.csv").write_text("\n".join(lines))
    return tmp_path / "credit.pt2", tmp_path / "credit.csv"


def test_audit_gates_on_fairness_with_sensitive_metadata(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model, data = _biased_files(tmp_path)
    base = ["audit", str(model), str(data), "--target", "label", "--metadata", "group", "--sections", "fairness",
            "--out", str(tmp_path / "r.html"), "--json", str(tmp_path / "r.json")]
    assert main([*base, "--sensitive", "group", "--fail-if", "fairness.demographic_parity_difference>0.2",
                 "--fail-if", "fairness.demographic_parity_ratio<0.1"]) == 1
    captured = capsys.readouterr()
    assert "gate failed: fairness.demographic_parity_difference" in captured.err and "ratio" not in captured.err
    assert "- selection rate " in captured.out and "beyond what chance allows on these counts" in captured.out
    report = json.loads((tmp_path / "r.json").read_text())
    fairness = report["sections"][0]["results"]["fairness"]
    gap = report["metrics"]["fairness.demographic_parity_difference"]
    assert gap == pytest.approx(fairness["disparities"]["demographic_parity_difference"]) and gap > 0.3
    assert [r["group"] for r in fairness["by_group"]] == ["a", "b"] and fairness["flips"] is None
    assert main([*base, "--sensitive", "group", "--fail-if", "fairness.demographic_parity_difference>0.9"]) == 0
    capsys.readouterr()
    assert main([*base]) == 0  # no --sensitive: the section says why it did not run
    assert "no sensitive columns were named" in json.loads((tmp_path / "r.json").read_text())["sections"][0]["reason"]
    assert main([*base, "--fail-if", "fairness.demographic_parity_difference>0.2"]) == 2  # a gate not measured
    assert "which this audit did not measure" in capsys.readouterr().err


def test_audit_help_lists_the_fairness_gates() -> None:
    out = subprocess.run([sys.executable, "-m", "explain", "audit", "--help"], capture_output=True, text=True,
                         check=True).stdout
    flat = " ".join(out.split())
    for text in ("--sensitive COLUMN [COLUMN ...]", "--positive CLASS", "fairness.demographic_parity_difference",
                 ".demographic_parity_ratio", ".equalized_odds_difference", ".equalized_odds_ratio",
                 ".equal_opportunity_difference", "fairness.flip_rate", ".mae_gap"):
        assert text in flat, text


def test_audit_effect_features_and_counterfactual_rows(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "r.json"
    assert main(["audit", "example:breast_cancer", "--sections", "effects", "--effect-features", "worst area",
                 "mean radius", "--counterfactual-rows", "1", "--out", str(tmp_path / "r.html"), "--json", str(out),
                 "--fail-if", "effects.counterfactual_validity<1"]) == 0
    assert "- the probability of benign" in capsys.readouterr().out
    section = json.loads(out.read_text())["sections"][0]
    assert [e["feature"] for e in section["results"]["partial_dependence"]["effects"]] == ["worst area", "mean radius"]
    assert section["metrics"]["effects.counterfactual_rows"] == 1.0
    assert main(["audit", "example:breast_cancer", "--sections", "effects", "--counterfactual-rows", "9",
                 "--out", str(tmp_path / "r.html")]) == 2
    assert "pass 0 to 5" in capsys.readouterr().err
    help_text = " ".join(subprocess.run([sys.executable, "-m", "explain", "audit", "--help"], capture_output=True,
                                        text=True, check=True).stdout.split())
    assert "--effect-features FEATURE [FEATURE ...]" in help_text and "--counterfactual-rows N" in help_text


def test_compare_int8_writes_the_offline_report_and_gates(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out, js = tmp_path / "c.html", tmp_path / "c.json"
    assert main(["compare", "example:breast_cancer", "int8", "--out", str(out), "--json", str(js), "--rows", "40",
                 "--fail-if", "agreement<0.99", "--fail-if", "size_ratio<3"]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("- int8: 3.") and "McNemar p" in printed
    html = out.read_text()
    assert "<h1>Model comparison</h1>" in html and "Content-Security-Policy" in html and "connect-src" in html
    assert '<section id="compression">' in html and "src=\"http" not in html
    report = json.loads(js.read_text())
    model, data = explain.load_example("breast_cancer")
    direct = explain.compare(model, explain.compress(model, method="quantize"), data, rows=40)
    metrics = report["metrics"]
    assert metrics["compression.agreement"] == direct.agreement
    assert metrics["compression.accuracy_b"] == direct.accuracy[1]
    assert metrics["compression.explanation_similarity"] == pytest.approx(direct.explanation_similarity)
    assert "predicted_a" not in report["sections"][0]["results"]["comparison"]


def test_compare_two_files_gates_fail_with_1_and_errors_with_2(tmp_path: Path, mlp: torch.nn.Module,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(80, 5)).astype(np.float32)
    explain.save_model(mlp, tmp_path / "a.pt2", torch.zeros(2, 5))
    other = torch.nn.Sequential(torch.nn.Linear(5, 3))
    explain.save_model(other, tmp_path / "b.pt2", torch.zeros(2, 5))
    labels = explain.Model(mlp, task="classification").predict(x)
    lines = ["f0,f1,f2,f3,f4,label"] + [",".join(f"{v:.5f}" for v in row) + f",{t}" for row, t in zip(x, labels)]
    (tmp_path / "d.csv").write_text("\n".join(lines))
    base = ["compare", str(tmp_path / "a.pt2"), str(tmp_path / "b.pt2"), str(tmp_path / "d.csv"), "--target", "label",
            "--out", str(tmp_path / "c.html"), "--rows", "10"]
    assert main([*base, "--fail-if", "accuracy_a<0.99"]) == 0  # A is right on its own labels
    assert main([*base, "--fail-if", "agreement>=0"]) == 1
    assert "gate failed: agreement" in capsys.readouterr().err
    assert main([*base, "--fail-if", "bogus<1"]) == 2
    assert "compare does not measure" in capsys.readouterr().err
    assert main(["compare", str(tmp_path / "a.pt2"), "int8"]) == 2
    assert "needs a labelled dataset" in capsys.readouterr().err


def test_audit_compress_adds_the_compression_section(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = ["audit", "example:breast_cancer", "--sections", "compression", "--compress", "prune:0.6", "--rows", "20",
            "--out", str(tmp_path / "r.html"), "--json", str(tmp_path / "r.json")]
    assert main([*base, "--fail-if", "compression.agreement<0.99"]) == 1
    assert "- pruned 60%: " in capsys.readouterr().out
    assert json.loads((tmp_path / "r.json").read_text())["metrics"]["compression.agreement"] < 0.99


def test_compare_sensitive_gates_on_fairness_drift(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model, data = _biased_files(tmp_path)
    net = torch.nn.Linear(1, 2)
    with torch.no_grad():
        net.weight.copy_(torch.tensor([[0.0], [8.0]]))
        net.bias.copy_(torch.tensor([0.0, -3.2]))  # "grant" where income > 0.4: both groups closer
    explain.save_model(net, tmp_path / "lenient.pt2", torch.zeros(2, 1), feature_names=["income"],
                       class_names=["deny", "grant"])
    base = ["compare", str(model), str(tmp_path / "lenient.pt2"), str(data), "--target", "label", "--metadata", "group",
            "--sensitive", "group", "--rows", "10", "--out", str(tmp_path / "c.html"), "--json", str(tmp_path / "c.json")]
    assert main([*base, "--fail-if", "parity_difference_a<0.3"]) == 0
    assert "- by group: demographic parity difference" in capsys.readouterr().out
    report = json.loads((tmp_path / "c.json").read_text())
    groups = report["sections"][0]["results"]["comparison"]["groups"]
    assert groups["names"] == ["a", "b"] and groups["parity_difference"][0] > 0.3
    assert report["metrics"]["compression.fairness_drift"] == pytest.approx(
        groups["parity_difference"][1] - groups["parity_difference"][0])
