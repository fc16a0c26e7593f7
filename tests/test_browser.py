"""The whole app in a real headless Chromium: `streamlit run app.py`, driven by Playwright.

Uses Debian's chromium (``playwright install`` cannot download browsers here).
Screenshots go to tests/artifacts/ for a person to look at.
"""

from __future__ import annotations

import os
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


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """`streamlit run app.py` on a free port; killed at the end."""
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
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                pytest.fail(f"streamlit exited with {proc.returncode}: {log_path.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"streamlit did not answer in 90 s: {log_path.read_text()[-2000:]}")
            time.sleep(0.5)
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
def page(server: str) -> Iterator[sync_api.Page]:
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 1600})
        page.set_default_timeout(60_000)
        yield page
        browser.close()


def _idle(page: sync_api.Page) -> None:
    """Wait until the script run is over (Streamlit shows a status widget while running)."""
    page.wait_for_timeout(300)
    page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached", timeout=120_000)


def _no_errors(page: sync_api.Page) -> None:
    text = page.inner_text("body")
    assert "Traceback" not in text
    assert page.locator('[data-testid="stException"]').count() == 0
    errors = page.locator('[data-testid="stAlertContentError"]')
    assert errors.count() == 0, errors.all_inner_texts()


def test_load_digits_and_run_saliency_in_chromium(server: str, page: sync_api.Page) -> None:
    started = time.monotonic()
    page.goto(server)
    page.get_by_text("Nothing loaded yet").wait_for()
    page.get_by_role("button", name="Load example").wait_for()
    _idle(page)
    page.screenshot(path=str(ARTIFACTS / "1_home_empty.png"))

    page.get_by_test_id("stSelectbox").filter(has_text="Example").click()
    page.get_by_role("option", name="digits").click()
    page.get_by_role("button", name="Load example").click()
    page.get_by_text("Loaded the example 'digits'").wait_for()
    page.get_by_test_id("stMetric").filter(has_text="Accuracy").wait_for()
    _idle(page)
    _no_errors(page)
    assert "example digits" in page.get_by_test_id("stSidebar").inner_text()
    page.screenshot(path=str(ARTIFACTS / "2_home_digits.png"))

    # Client-side navigation keeps the session (a new URL would start a new one).
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Saliency").click()
    page.get_by_role("button", name="Run").wait_for()
    _idle(page)
    page.get_by_role("button", name="Run").click()
    page.wait_for_selector(".js-plotly-plot", timeout=120_000)
    _idle(page)
    page.wait_for_timeout(1000)  # let plotly finish drawing before the screenshot
    _no_errors(page)
    assert page.locator(".js-plotly-plot").count() == 1
    assert page.locator(".js-plotly-plot .heatmaplayer, .js-plotly-plot .imagelayer").count() >= 1
    assert page.get_by_role("button", name="Download chart (HTML)").count() == 1
    page.screenshot(path=str(ARTIFACTS / "3_saliency_digits.png"))
    print(f"digits flow took {time.monotonic() - started:.1f} s")


def test_tabular_saliency_shows_row_and_global_charts(server: str, page: sync_api.Page) -> None:
    """Runs after the digits test, in the same browser session."""
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="app").click()
    page.get_by_role("button", name="Load example").wait_for()
    page.get_by_test_id("stSelectbox").filter(has_text="Example").click()
    page.get_by_role("option", name="breast_cancer").click()
    page.get_by_role("button", name="Load example").click()
    page.get_by_text("Loaded the example 'breast_cancer'").wait_for()
    _idle(page)
    page.screenshot(path=str(ARTIFACTS / "4_home_breast_cancer.png"))
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Saliency").click()
    page.get_by_role("button", name="Run").wait_for()
    _idle(page)
    page.get_by_role("button", name="Run").click()
    page.wait_for_selector(".js-plotly-plot >> nth=1", timeout=120_000)
    _idle(page)
    page.wait_for_timeout(1000)
    _no_errors(page)
    assert page.locator(".js-plotly-plot").count() == 2
    assert page.locator(".js-plotly-plot .barlayer .point").count() >= 20
    page.screenshot(path=str(ARTIFACTS / "5_saliency_breast_cancer.png"))
