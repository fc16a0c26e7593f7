"""The whole app in a real headless Chromium: `streamlit run app.py`, driven by Playwright.

Uploads a .pt2 model and a CSV through the real file inputs, checks that the label
column is inferred, visits every page, and checks that a second browser session sees
none of the first one's data; drives the Performance and Error analysis pages on an
upload with a metadata column where the model was planted to fail. Uses Debian's chromium (``playwright install`` cannot
download browsers here). Full-page screenshots go to tests/artifacts/ for a person to
look at.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
LAUNCH_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]
FEATURES = ["age", "income", "height", "weight", "score"]
COLUMNS = ["age", "income", "diagnosis", "height", "weight", "score"]  # the label in the middle
VIEWPORT = {"width": 1400, "height": 1000}
PAGES = ["Home", "Performance", "Error analysis", "Fairness", "What-if", "Feature effects", "Compare", "Saliency", "SHAP",
         "Attention", "Report", "Robustness", "Uncertainty", "Explanation quality"]
SERVER_PID = [0]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)"),
]
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_healthy(proc: subprocess.Popen[bytes], url: str, log_path: Path, what: str, seconds: float = 90) -> None:
    """Wait until the Streamlit server ``proc`` at ``url`` answers its health check; fail the
    test with the end of its log when it exits or does not answer in ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        if proc.poll() is not None:
            pytest.fail(f"{what} exited with {proc.returncode}: {log_path.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not answer in {seconds:.0f} s: {log_path.read_text()[-2000:]}")
        time.sleep(0.5)


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """`streamlit run app.py` on a free port (with the repository's .streamlit/config.toml)."""
    port = _free_port()
    ARTIFACTS.mkdir(exist_ok=True)
    log_path = ARTIFACTS / "streamlit.log"
    log = log_path.open("w")  # noqa: SIM115 (closed in finally)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1",
         "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env,
    )
    SERVER_PID[0] = proc.pid
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(proc, url, log_path, "streamlit")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture(scope="module")
def uploads(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A small MLP on 5 named features saved as .pt2, and a matching CSV whose label
    column ("diagnosis") is neither last nor named like a label."""
    import numpy as np
    import pandas as pd
    import torch
    from torch import nn

    import explain

    folder = tmp_path_factory.mktemp("uploads")
    torch.manual_seed(0)
    x = torch.randn(240, 5)
    y = (x[:, 0] + x[:, 1] > 0).long()
    net = nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Linear(16, 2))
    opt = torch.optim.Adam(net.parameters(), lr=0.05)
    for _ in range(60):
        opt.zero_grad()
        nn.functional.cross_entropy(net(x), y).backward()
        opt.step()
    model_path = folder / "clinic.pt2"
    explain.save_model(net.eval(), model_path, x[:4], feature_names=FEATURES, class_names=["healthy", "sick"])
    table = pd.DataFrame(x.numpy(), columns=FEATURES)
    table.insert(2, "diagnosis", np.where(y.numpy() == 1, "sick", "healthy"))
    assert list(table.columns) == COLUMNS
    data_path = folder / "patients.csv"
    table.to_csv(data_path, index=False)
    return model_path, data_path


@pytest.fixture(scope="module")
def browser(server: str) -> Iterator[sync_api.Browser]:
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS, headless=True)
        yield browser
        browser.close()


def _open(browser: sync_api.Browser) -> tuple[sync_api.Page, list[str]]:
    """A page in a fresh browser context (a new Streamlit session), recording page errors."""
    page = browser.new_context(viewport=VIEWPORT).new_page()
    page.set_default_timeout(60_000)
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    return page, errors


def _idle(page: sync_api.Page) -> None:
    """Wait until the script run is over: the app root says so in ``data-test-script-state``
    (the status widget shows only after a delay, too late for this)."""
    page.wait_for_timeout(300)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=120_000)
    page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached", timeout=120_000)


def _choose_uploads(page: sync_api.Page, server: str, model_path: Path, data_path: Path) -> None:
    """Home, "Upload your own", the model and the table through the real file inputs, until
    the label column is offered (not yet loaded: the caller presses Load uploads)."""
    page.goto(server)
    page.get_by_text("Nothing loaded yet").wait_for()
    page.get_by_test_id("stRadioGroup").get_by_text("Upload your own").click()
    inputs = page.locator('input[type="file"]')
    inputs.first.wait_for(state="attached")
    inputs.nth(0).set_input_files(str(model_path))
    page.get_by_text(f"Read {model_path.name}").wait_for()
    inputs.nth(1).set_input_files(str(data_path))
    page.get_by_test_id("stSelectbox").filter(has_text="Target column").wait_for()
    _idle(page)


def _no_errors(page: sync_api.Page) -> None:
    assert "Traceback" not in page.inner_text("body")
    assert page.locator('[data-testid="stException"]').count() == 0
    errors = page.locator('[data-testid="stAlertContentError"]')
    assert errors.count() == 0, errors.all_inner_texts()


def _shot(page: sync_api.Page, name: str) -> None:
    """A full-page screenshot. Streamlit scrolls inside its main block, not the document,
    so the viewport is stretched to the content's height for the picture."""
    page.wait_for_timeout(500)  # let plotly finish drawing
    height = page.evaluate(
        "() => Math.max(...[...document.querySelectorAll('[data-testid=\"stMain\"], "
        "[data-testid=\"stAppViewContainer\"], [data-testid=\"stMainBlockContainer\"]')]"
        ".map(e => e.scrollHeight), document.body.scrollHeight)"
    )
    page.set_viewport_size({"width": VIEWPORT["width"], "height": max(VIEWPORT["height"], int(height) + 40)})
    page.wait_for_timeout(300)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    page.set_viewport_size(VIEWPORT)


def _nav(page: sync_api.Page) -> sync_api.Locator:
    return page.get_by_test_id("stSidebarNav").get_by_role("link")


def _nav_names(page: sync_api.Page) -> list[str]:
    links = _nav(page)
    return [links.nth(i).inner_text() for i in range(links.count())]


def test_first_request_to_a_page_lists_each_page_once(server: str, browser: sync_api.Browser) -> None:
    """The server's very first run, straight to a page's URL: Streamlit reads pages/ then
    (before app.py's st.navigation has run); that file hands over to the same navigation,
    so the sidebar lists Home and each page once, and the link home works."""
    page, errors = _open(browser)
    page.goto(f"{server}/Saliency")
    page.get_by_text("Load a model and a dataset on the Home page first").wait_for()
    _idle(page)
    assert _nav_names(page) == PAGES, "each page once, Home (not 'app') first"
    assert page.get_by_role("heading", name="Saliency", exact=True).count() == 1
    _shot(page, "0_first_request_saliency")
    page.get_by_role("link", name="Go to the Home page").click()
    page.get_by_text("Nothing loaded yet").wait_for()
    _idle(page)
    assert _nav_names(page) == PAGES
    _no_errors(page)
    assert errors == [], errors
    page.context.close()


def test_upload_explain_and_isolate_sessions(
    server: str, browser: sync_api.Browser, uploads: tuple[Path, Path]
) -> None:
    started = time.monotonic()
    model_path, data_path = uploads
    page, page_errors = _open(browser)
    page.goto(server)
    page.get_by_text("Nothing loaded yet").wait_for()
    _idle(page)
    _shot(page, "1_home_empty")

    # Upload through the real <input type=file> elements.
    page.get_by_test_id("stRadioGroup").get_by_text("Upload your own").click()
    inputs = page.locator('input[type="file"]')
    inputs.first.wait_for(state="attached")
    assert inputs.count() == 2
    inputs.nth(0).set_input_files(str(model_path))
    page.get_by_text("Read clinic.pt2").wait_for()
    inputs.nth(1).set_input_files(str(data_path))
    target = page.get_by_test_id("stSelectbox").filter(has_text="Target column")
    target.wait_for()
    _idle(page)
    assert target.get_by_role("combobox").input_value() == "diagnosis", "the inferred label is preselected"
    page.get_by_text("Inferred: 'diagnosis' is the only column").wait_for()
    _shot(page, "2_home_uploads_chosen")
    page.get_by_role("button", name="Load uploads").click()
    page.get_by_text("Loaded the uploads.").wait_for()
    page.get_by_test_id("stMetric").filter(has_text="Accuracy").wait_for()
    _idle(page)
    _no_errors(page)
    sidebar = page.get_by_test_id("stSidebar").inner_text()
    assert "clinic.pt2" in sidebar and "patients.csv" in sidebar
    _shot(page, "3_home_loaded")

    # Every page: open it (client-side navigation keeps the session), run what it runs.
    links = _nav(page)
    names = [links.nth(i).inner_text() for i in range(links.count())]
    assert names == PAGES, "Home and every page, each once"
    for name in names[1:]:
        _nav(page).get_by_text(name, exact=True).click()
        page.wait_for_url(re.compile(rf"/{re.escape(name.replace(' ', '_'))}$"))
        page.get_by_role("heading", name=name, exact=True).wait_for()  # pages are titled by name
        _idle(page)
        run = page.get_by_role("button", name="Run", exact=True)
        if run.count():
            run.click()
            page.wait_for_selector(".js-plotly-plot", timeout=120_000)
            _idle(page)
        _no_errors(page)
        slug = re.sub(r"\W+", "_", name.lower())
        _shot(page, f"4_{slug}")

    _nav(page).get_by_text("Saliency", exact=True).click()
    page.wait_for_url(re.compile(r"/Saliency$"))
    page.wait_for_selector(".js-plotly-plot >> nth=1")  # cached: shown again without a Run
    _idle(page)
    assert page.locator(".js-plotly-plot").count() == 2  # the row and the global view
    assert page.locator(".js-plotly-plot .modebar-container").count() == 2, "toolbar (PNG) shown"
    assert page.get_by_role("button", name="Data (CSV)").count() == 2

    # Compare two methods side by side on the Saliency page.
    page.get_by_test_id("stSelectbox").filter(has_text="Compare with").click()
    page.get_by_role("option", name="saliency", exact=True).click()
    _idle(page)
    page.get_by_role("button", name="Run", exact=True).click()
    page.wait_for_selector(".js-plotly-plot >> nth=3", timeout=120_000)
    _idle(page)
    _no_errors(page)
    assert page.get_by_text("Rank agreement").count() == 1
    _shot(page, "5_saliency_compare")

    # A second browser session sees nothing of the first one's.
    other, other_errors = _open(browser)
    other.goto(server)
    other.get_by_text("Nothing loaded yet").wait_for()
    _idle(other)
    assert "Model: none loaded" in other.get_by_test_id("stSidebar").inner_text()
    other.goto(f"{server}/Saliency")
    other.get_by_text("Load a model and a dataset on the Home page first").wait_for()
    _idle(other)
    assert other.locator(".js-plotly-plot").count() == 0
    assert "clinic" not in other.inner_text("body")
    _shot(other, "6_second_session_saliency")
    assert "clinic.pt2" in page.get_by_test_id("stSidebar").inner_text(), "the first session kept its model"
    assert page_errors == [] and other_errors == [], page_errors + other_errors
    print(f"browser flow took {time.monotonic() - started:.1f} s")


def children(parent: int) -> list[int]:
    """The live (not zombie) child processes of ``parent``, from /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == parent and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


def _workers(parent: int) -> list[int]:
    """Live model worker processes started by the server."""
    found = []
    for pid in children(parent):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"multiprocessing" in cmdline and b"resource_tracker" not in cmdline:
            found.append(pid)
    return found


def test_eight_sessions_compute_at_once(server: str, browser: sync_api.Browser, uploads: tuple[Path, Path]) -> None:
    """Eight users upload the model and press Run at the same moment: each gets its own
    worker and its own answer, no errors, and nothing crosses between sessions."""
    model_path, data_path = uploads
    sessions = []
    for k in range(8):
        page, errors = _open(browser)
        _choose_uploads(page, server, model_path, data_path)
        page.get_by_role("button", name="Load uploads").click()
        page.get_by_text("Loaded the uploads.").wait_for()
        _nav(page).get_by_text("Saliency", exact=True).click()
        page.get_by_role("heading", name="Saliency", exact=True).wait_for()
        _idle(page)
        row = page.get_by_test_id("stSelectbox").filter(has_text="Row to explain")
        row.click()
        page.get_by_role("option").nth(k).click()  # each session its own row
        _idle(page)
        sessions.append((page, errors))
    assert len(_workers(SERVER_PID[0])) >= 8, "one worker per session"
    for page, _ in sessions:  # all at once: the clicks return at once, the runs overlap
        page.get_by_role("button", name="Run", exact=True).click()
    for k, (page, errors) in enumerate(sessions):
        page.wait_for_selector(".js-plotly-plot >> nth=1", timeout=180_000)
        _idle(page)
        _no_errors(page)
        assert not errors, errors
        title = page.locator(".js-plotly-plot .gtitle").first.text_content() or ""
        assert f"row {k}" in title, title  # its own row, not another session's
    for page, _ in sessions:
        page.context.close()


def test_model_settings_correct_a_wrong_modality(
    server: str, browser: sync_api.Browser, tmp_path: Path
) -> None:
    """A CNN saved as a table (save_model's default modality) cannot be read; the open Model
    settings expander beside it takes the modality, and the model reads as an image model."""
    import torch
    from torch import nn

    import explain

    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(256, 10)).eval()
    explain.save_model(net, tmp_path / "cnn.pt2", torch.rand(4, 1, 8, 8), modality="tabular")  # wrong on purpose
    page, errors = _open(browser)
    page.goto(server)
    page.get_by_text("Nothing loaded yet").wait_for()
    page.get_by_test_id("stRadioGroup").get_by_text("Upload your own").click()
    inputs = page.locator('input[type="file"]')
    inputs.first.wait_for(state="attached")
    inputs.nth(0).set_input_files(str(tmp_path / "cnn.pt2"))
    page.get_by_text("Tabular inputs must be 2-D").wait_for()
    _idle(page)
    settings = page.get_by_test_id("stExpander").filter(has_text="Model settings")
    assert settings.get_by_role("button", name="Apply").is_visible(), "open at once after a failed read"
    _shot(page, "7_model_settings_failed_read")
    settings.get_by_test_id("stSelectbox").filter(has_text="Modality").click()
    page.get_by_role("option", name="image", exact=True).click()
    _idle(page)
    settings.get_by_role("button", name="Apply").click()
    page.get_by_text("Read cnn.pt2").wait_for()
    _idle(page)
    _no_errors(page)
    assert "image classification" in page.get_by_text("Read cnn.pt2").inner_text()
    page.get_by_text("Read the model again with the task and modality").wait_for()  # the expander stays open to say so
    settings = page.get_by_test_id("stExpander").filter(has_text="Model settings")
    shape = settings.get_by_test_id("stTextInput").filter(has_text="Input shape").get_by_role("textbox")
    assert shape.input_value() == "1, 8, 8", "the fields show what was read again"
    _shot(page, "8_model_settings_applied")
    assert errors == [], errors
    page.context.close()


def test_performance_and_error_analysis_on_an_upload_with_metadata(
    server: str, browser: sync_api.Browser, uploads: tuple[Path, Path], tmp_path: Path
) -> None:
    """The clinic table with a 'region' column the model does not take, whose 'east' rows
    carry wrong labels in part: Home offers region as metadata; the Performance page
    measures, moves with the threshold and slices by region (a bad rule shows an error and
    the rest still shows); the Error analysis page finds the east cohort, shows its rows and
    drivers, and opens one of its rows on the Saliency page. All in the upload's worker."""
    import numpy as np
    import pandas as pd

    model_path, data_path = uploads
    table = pd.read_csv(data_path)
    rng = np.random.default_rng(0)
    table["region"] = rng.choice(["north", "south", "east", "west"], size=len(table))
    east = np.flatnonzero(table["region"].to_numpy() == "east")
    flipped = rng.choice(east, size=int(0.45 * len(east)), replace=False)
    table.loc[flipped, "diagnosis"] = table.loc[flipped, "diagnosis"].map({"sick": "healthy", "healthy": "sick"})
    regions = tmp_path / "regions.csv"
    table.to_csv(regions, index=False)

    page, errors = _open(browser)
    _choose_uploads(page, server, model_path, regions)
    metadata = page.get_by_test_id("stMultiSelect").filter(has_text="Metadata columns")
    metadata.wait_for()
    assert page.get_by_test_id("stSelectbox").filter(has_text="Target column").get_by_role(
        "combobox").input_value() == "diagnosis"
    assert "region" in metadata.inner_text(), "preselected: the column the model does not take"
    page.get_by_role("button", name="Load uploads").click()
    page.get_by_text("Loaded the uploads.").wait_for()
    page.get_by_text("Metadata, kept beside the features").wait_for()
    _idle(page)
    _no_errors(page)
    _shot(page, "9_home_metadata")

    _nav(page).get_by_text("Performance", exact=True).click()
    page.get_by_role("heading", name="Performance", exact=True).wait_for()
    page.get_by_test_id("stMetric").filter(has_text="Balanced accuracy").wait_for()
    page.wait_for_selector(".js-plotly-plot >> nth=4")  # matrix, ROC, PR, threshold curve, matrix there
    _idle(page)
    _no_errors(page)
    page.get_by_test_id("stMetric").filter(has_text="F1 of sick").wait_for()
    page.get_by_test_id("stSlider").get_by_role("slider").focus()
    for _ in range(30):
        page.keyboard.press("ArrowRight")  # 0.5 -> 0.8
    _idle(page)
    assert page.get_by_test_id("stSlider").get_by_role("slider").input_value() == "0.8"  # an <input type=range>
    page.get_by_text("Confusion matrix at 0.80").wait_for()  # the page ran again at the new threshold
    # the figures at a threshold are checked against explain.performance(threshold=) in test_app_pages
    rules = page.get_by_test_id("stTextArea").get_by_role("textbox")
    rules.fill("region == 'east'\nregion == 'north'\n`no such column` > 1")
    rules.press("Control+Enter")
    page.get_by_text("there is no column 'no such column'").wait_for()
    page.wait_for_selector(".js-plotly-plot >> nth=5")  # the slices' plot below the error
    _idle(page)
    assert page.locator('[data-testid="stAlertContentError"]').count() == 1
    assert page.locator(".js-plotly-plot").count() == 6
    assert page.get_by_role("button", name="Result (JSON)").count() == 6, "every figure has its downloads"
    _shot(page, "10_performance_threshold_and_slices")

    _nav(page).get_by_text("Error analysis", exact=True).click()
    page.get_by_role("heading", name="Error analysis", exact=True).wait_for()
    _idle(page)
    page.get_by_role("button", name="Run", exact=True).click()
    page.get_by_test_id("stText").get_by_text("Errors concentrate in region").wait_for(timeout=120_000)
    page.get_by_text("What drives the model in this cohort").wait_for()
    page.wait_for_selector(".js-plotly-plot >> nth=3", timeout=120_000)  # tree, bars, drivers, heat map
    _idle(page)
    _no_errors(page)
    cohort = page.get_by_test_id("stSelectbox").filter(has_text="Cohort").get_by_role("combobox").input_value()
    assert cohort.startswith("1. region in {east}"), cohort
    _shot(page, "11_error_analysis")
    row = page.get_by_role("button", name=re.compile(r"^search Row \d+$|^Row \d+$")).first
    number = int(re.findall(r"\d+", row.inner_text())[-1])
    row.click()
    page.get_by_role("heading", name="Saliency", exact=True).wait_for()
    _idle(page)
    chosen = page.get_by_test_id("stSelectbox").filter(has_text="Row to explain").get_by_role("combobox")
    assert chosen.input_value().startswith(f"{number} ·"), chosen.input_value()
    _no_errors(page)
    assert errors == [], errors
    page.context.close()


def test_compare_an_uploaded_second_model(server: str, browser: sync_api.Browser, uploads: tuple[Path, Path]) -> None:
    """The Compare page's third choice: another model file, loaded in the upload's worker;
    the same network uploaded twice agrees on every row and explains alike."""
    model_path, data_path = uploads
    page, errors = _open(browser)
    _choose_uploads(page, server, model_path, data_path)
    page.get_by_role("button", name="Load uploads").click()
    page.get_by_text("Loaded the uploads.").wait_for()
    _idle(page)
    _nav(page).get_by_text("Compare", exact=True).click()
    page.get_by_role("heading", name="Compare", exact=True).wait_for()
    _idle(page)
    page.get_by_test_id("stRadioGroup").get_by_text("Upload a model").click()
    _idle(page)
    page.locator('input[type="file"]').first.set_input_files(str(model_path))
    _idle(page)
    page.get_by_role("button", name="Compare", exact=True).click()
    page.get_by_test_id("stMetric").filter(has_text="Agreement").wait_for(timeout=120_000)
    _idle(page)
    _no_errors(page)
    assert "100.0%" in page.get_by_test_id("stMetric").filter(has_text="Agreement").inner_text()
    assert "1.000" in page.get_by_test_id("stMetric").filter(has_text="Explanation similarity").inner_text()
    _shot(page, "12_compare_uploaded_second_model")
    assert errors == [], errors
    page.context.close()
