"""The wheel is what users install: build it, install it in a fresh virtual environment, load
a bundled example there, and serve the whole dashboard with ``explain app`` from another
folder, driven in headless Chromium.

Nothing is downloaded: the wheel is built without build isolation when setuptools is here,
and installed with ``--no-deps`` into a venv that sees this environment's packages through a
``.pth`` file (not its ``explain``: the editable install's hook is not run there, and the
checkout is never on the path). Screenshots go to tests/artifacts/wheel_*.png.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_browser import (
    ARTIFACTS,
    CHROMIUM,
    LAUNCH_ARGS,
    PAGES,
    _free_port,
    _idle,
    _nav,
    _no_errors,
    _open,
    _shot,
    children,
    wait_healthy,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)"),
]
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
pytest.importorskip("streamlit")

ROOT = Path(__file__).resolve().parent.parent


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "EXPLAIN_EXAMPLES", "VIRTUAL_ENV")}
    return {**env, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONNOUSERSITE": "1"}


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the wheel built from this checkout installed in it."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"  # a copy: the build writes build/ and *.egg-info beside the sources
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "explain", source / "explain", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    isolation = [] if importlib.util.find_spec("setuptools") is None else ["--no-build-isolation"]
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", *isolation,
                    "-w", str(work / "dist"), "-q"], check=True, cwd=work)
    (wheel,) = (work / "dist").glob("explain_torch-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in ("explain/loading/bundled/digits/data.npz", "explain/loading/bundled/digits/model/model.safetensors",
                   "explain/loading/bundled/sentiment/model/tokenizer.json", "explain/app/entry/dashboard.py",
                   "explain/app/navigation.py", "explain/app/pages/home.py", "explain/app/pages/quality.py"):
        assert needed in names, f"{needed} is not in the wheel"
    assert wheel.stat().st_size < 3_000_000, "the wheel ships the small examples, nothing bigger"

    env = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True)
    python = env / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()
    (Path(purelib) / "explain-test-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q", str(wheel)],
                   check=True, cwd=work)
    return env


def test_the_installed_wheel_loads_a_bundled_example(venv: Path, tmp_path: Path) -> None:
    probe = (
        "import json, sys, explain\n"
        "from explain.loading.catalog import examples_folder\n"
        "model, data = explain.load_example('digits')\n"
        "print(json.dumps({'file': explain.__file__, 'folder': str(examples_folder()),"
        " 'modality': model.modality, 'rows': len(data), 'path': sys.path}))\n"
    )
    out = subprocess.run([str(venv / "bin" / "python"), "-c", probe], check=True, capture_output=True, text=True,
                         cwd=tmp_path, env=_env()).stdout
    found = json.loads(out.strip().splitlines()[-1])
    assert Path(found["file"]).is_relative_to(venv), f"explain came from {found['file']}, not the wheel"
    assert Path(found["folder"]).is_relative_to(venv)
    assert not any(Path(p).resolve() == ROOT for p in found["path"] if p), "the checkout is on the path"
    assert found["modality"] == "image" and found["rows"] > 100
    listed = subprocess.run([str(venv / "bin" / "explain"), "examples"], check=True, capture_output=True,
                            text=True, cwd=tmp_path, env=_env()).stdout.split()
    assert "digits" in listed and "sentiment" in listed


@pytest.fixture
def served(venv: Path, tmp_path: Path) -> Iterator[str]:
    """``explain app`` of the venv, run from an empty folder, on a free loopback port."""
    port = _free_port()
    ARTIFACTS.mkdir(exist_ok=True)
    log_path = ARTIFACTS / "wheel_streamlit.log"
    log = log_path.open("w")  # noqa: SIM115 (closed in finally)
    proc = subprocess.Popen(
        [str(venv / "bin" / "explain"), "app", "--server.address", "127.0.0.1", "--server.port", str(port),
         "--server.headless", "true", "--server.fileWatcherType", "none"],
        cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT, env=_env(),
    )
    url = f"http://127.0.0.1:{port}"
    spawned: list[int] = []
    try:
        wait_healthy(proc, url, log_path, "explain app")
        spawned = children(proc.pid)
        yield url
    finally:
        proc.terminate()  # explain app passes it on to streamlit
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        deadline = time.monotonic() + 15
        while any(Path(f"/proc/{pid}").exists() for pid in spawned) and time.monotonic() < deadline:
            time.sleep(0.2)
        left = [pid for pid in spawned if Path(f"/proc/{pid}/cmdline").exists()
                and b"streamlit" in Path(f"/proc/{pid}/cmdline").read_bytes()]
        for pid in left:
            os.kill(pid, 9)
        assert not left, "stopping explain app must stop its streamlit server"


def test_explain_app_serves_the_dashboard_from_the_wheel(served: str) -> None:
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS, headless=True)
        try:
            page, errors = _open(browser)
            page.goto(served)
            page.get_by_text("Nothing loaded yet").wait_for()
            _idle(page)
            links = _nav(page)
            assert [links.nth(i).inner_text() for i in range(links.count())] == PAGES, "each page once, Home first"
            assert page.title().startswith("Home")

            page.get_by_test_id("stSelectbox").filter(has_text="Example").click()
            page.get_by_role("option", name="digits", exact=True).click()
            _idle(page)
            page.get_by_role("button", name="Load example").click()
            page.get_by_text("Loaded the example 'digits'.").wait_for()
            page.get_by_test_id("stMetric").filter(has_text="Accuracy").wait_for()
            _idle(page)
            _no_errors(page)
            _shot(page, "wheel_1_home_digits")

            _nav(page).get_by_text("Saliency", exact=True).click()
            page.get_by_role("heading", name="Saliency", exact=True).wait_for()
            _idle(page)
            page.get_by_role("button", name="Run", exact=True).click()
            page.wait_for_selector(".js-plotly-plot", timeout=120_000)
            _idle(page)
            _no_errors(page)
            assert page.locator(".js-plotly-plot").count() >= 1
            links = _nav(page)
            assert [links.nth(i).inner_text() for i in range(links.count())] == PAGES
            _shot(page, "wheel_2_saliency")
            assert errors == [], errors
        finally:
            browser.close()
