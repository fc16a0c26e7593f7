"""App timings: cold start of ``streamlit run app.py``, first plot, and a cached page revisit.

Each start launches a fresh server (headless, loopback, a free port) and times, from the
process start, until ``/_stcore/health`` answers ``ok`` and the home page answers HTTP
200. Then Debian's chromium, driven by Playwright, opens the app in a new session and
times, with ``time.perf_counter`` around the Playwright calls:

* the first page: from ``goto`` until the home page says "Nothing loaded yet";
* from pressing **Load example** (breast_cancer) until the page says it loaded, then
  opening **Saliency** from the sidebar, then pressing **Run** (the page's default method,
  integrated gradients) until the first Plotly chart is drawn;
* a revisit: leave Saliency for Home, come back, and time until the charts are drawn
  again, with nothing recomputed (no progress bar may appear).

Server-side script time is read without touching the app: a Chrome DevTools Protocol
session records the browser's receive time of every websocket frame, and the frames are
decoded as Streamlit's ``ForwardMsg`` protobufs. A run's server time is from its
``new_session`` message (sent when the script starts) to its ``script_finished`` message;
loopback adds well under a millisecond to either end.

Run: ``python -m bench app`` (``--quick`` for one start and three revisits; ``--help``).
Results go to stdout and, unless ``--no-write``, to bench/README.md.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench._machine import load_average
from bench._readme import publish

HEADING = "## App timings"
ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync"]
EXAMPLE = "breast_cancer"
GOAL_REVISIT_S = 0.300
TIMEOUT_MS = 180_000


# --- the server ---------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:
            return answer.status, answer.read()
    except OSError:
        return 0, b""


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    url: str
    log: Path
    health_s: float
    home_s: float

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def start_server(log_dir: Path, index: int) -> Server:
    """``streamlit run app.py`` on a free loopback port; waits until health is ok and the
    home page answers 200, timing both from just before the process starts."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = log_dir / f"streamlit_{index}.log"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    t0 = time.perf_counter()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
             "--server.port", str(port), "--server.address", "127.0.0.1",
             "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, env=env,
        )
    health = home = None
    deadline = t0 + 120
    while health is None or home is None:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with {proc.returncode}: {log.read_text()[-2000:]}")
        if time.perf_counter() > deadline:
            proc.kill()
            raise RuntimeError(f"streamlit did not answer in 120 s: {log.read_text()[-2000:]}")
        if health is None:
            status, body = _get(f"{url}/_stcore/health")
            if status == 200 and body.strip() == b"ok":
                health = time.perf_counter() - t0
        if health is not None and home is None:
            status, _ = _get(url)
            if status == 200:
                home = time.perf_counter() - t0
        time.sleep(0.02)
    return Server(proc, url, log, health, home)


# --- websocket frames, as the browser received them ---------------------------------------
@dataclass
class Frame:
    ts: float  # browser's monotonic clock, seconds
    kind: str  # the ForwardMsg / BackMsg type
    sent: bool


class Frames:
    """Every Streamlit websocket message of one page, typed, with the browser's timestamps."""

    def __init__(self, page: Any) -> None:
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        self.frames: list[Frame] = []
        self._forward, self._back = ForwardMsg, BackMsg
        self.cdp = page.context.new_cdp_session(page)
        self.cdp.on("Network.webSocketFrameReceived", lambda p: self._add(p, sent=False))
        self.cdp.on("Network.webSocketFrameSent", lambda p: self._add(p, sent=True))
        self.cdp.send("Network.enable")

    def _add(self, params: dict[str, Any], *, sent: bool) -> None:
        response = params.get("response", {})
        if response.get("opcode") != 2:  # Streamlit's messages are binary frames
            return
        try:
            raw = base64.b64decode(response.get("payloadData", ""))
            msg = (self._back if sent else self._forward).FromString(raw)
            kind = msg.WhichOneof("type") or "?"
        except Exception:  # noqa: BLE001 (a frame that is not a Streamlit message)
            kind = "?"
        self.frames.append(Frame(float(params["timestamp"]), kind, sent))

    def mark(self) -> int:
        return len(self.frames)

    def runs(self, since: int) -> list[tuple[float, float]]:
        """(start, end) browser times of the script runs that started after ``since``."""
        out, start = [], None
        for f in self.frames[since:]:
            if f.sent:
                continue
            if f.kind == "new_session":
                start = f.ts
            elif f.kind == "script_finished" and start is not None:
                out.append((start, f.ts))
                start = None
        return out

    def request(self, since: int) -> float | None:
        """Browser time of the first rerun request sent after ``since``."""
        return next((f.ts for f in self.frames[since:] if f.sent and f.kind == "rerun_script"), None)


def settle(page: Any, frames: Frames, since: int, timeout_s: float = 180.0) -> list[tuple[float, float]]:
    """Wait until a script run started after ``since`` has finished, the app says it is not
    running, and no new run starts within 300 ms (a page that reruns itself)."""
    deadline = time.perf_counter() + timeout_s
    while True:
        runs = frames.runs(since)
        running = page.locator('[data-testid="stApp"][data-test-script-state="running"]').count()
        if runs and not running:
            count = len(frames.frames)
            page.wait_for_timeout(300)
            if len(frames.frames) == count or not any(
                    f.kind == "new_session" for f in frames.frames[count:]):
                return frames.runs(since)
        if time.perf_counter() > deadline:
            raise TimeoutError("the script run did not finish")
        page.wait_for_timeout(10)


# --- one browser session ------------------------------------------------------------------
@dataclass
class Session:
    health_s: float = 0.0
    home_s: float = 0.0
    first_page_s: float = 0.0
    first_run_server_s: float = 0.0
    load_s: float = 0.0
    load_server_s: float = 0.0
    open_s: float = 0.0
    open_server_s: float = 0.0
    run_s: float = 0.0
    run_server_s: float = 0.0
    revisit_s: list[float] = field(default_factory=list)
    revisit_server_s: list[float] = field(default_factory=list)
    revisit_request_s: list[float] = field(default_factory=list)
    recomputed: int = 0

    @property
    def flow_s(self) -> float:
        return self.load_s + self.open_s + self.run_s


def _server_time(runs: list[tuple[float, float]]) -> float:
    return runs[-1][1] - runs[0][0] if runs else float("nan")


def _timed(action: Callable[[], Any], until: Callable[[], Any]) -> float:
    t0 = time.perf_counter()
    action()
    until()
    return time.perf_counter() - t0


def drive(browser: Any, server: Server, revisits: int, shots: Path | None) -> Session:
    out = Session(health_s=server.health_s, home_s=server.home_s)
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.set_default_timeout(TIMEOUT_MS)
    frames = Frames(page)
    nav = lambda name: page.get_by_test_id("stSidebarNav").get_by_role("link").get_by_text(name, exact=True)  # noqa: E731

    mark = frames.mark()
    out.first_page_s = _timed(lambda: page.goto(server.url),
                              lambda: page.get_by_text("Nothing loaded yet").wait_for())
    out.first_run_server_s = _server_time(settle(page, frames, mark))

    example = page.get_by_test_id("stSelectbox").filter(has_text="Example")
    if example.get_by_role("combobox").input_value() != EXAMPLE:
        example.click()
        page.get_by_role("option", name=EXAMPLE, exact=True).click()
        settle(page, frames, frames.mark())
    mark = frames.mark()
    out.load_s = _timed(lambda: page.get_by_role("button", name="Load example").click(),
                        lambda: page.get_by_text("Loaded the example").wait_for())
    out.load_server_s = _server_time(settle(page, frames, mark))

    mark = frames.mark()
    out.open_s = _timed(lambda: nav("Saliency").click(),
                        lambda: page.get_by_role("button", name="Run", exact=True).wait_for())
    out.open_server_s = _server_time(settle(page, frames, mark))

    mark = frames.mark()
    out.run_s = _timed(lambda: page.get_by_role("button", name="Run", exact=True).click(),
                       lambda: page.locator(".js-plotly-plot").first.wait_for(state="visible"))
    out.run_server_s = _server_time(settle(page, frames, mark))
    charts = page.locator(".js-plotly-plot").count()
    if shots:
        page.screenshot(path=str(shots / "app_bench_saliency.png"))

    for _ in range(revisits):
        mark = frames.mark()
        page.get_by_test_id("stSidebarNav").get_by_role("link").first.click()  # the home page
        page.get_by_text("Explain it: Saliency").wait_for()
        settle(page, frames, mark)
        page.evaluate("""() => {  // note any progress bar drawn during the revisit
            window.__progressSeen = false;
            window.__observer = new MutationObserver(() => {
                if (document.querySelector('[data-testid="stProgress"]')) window.__progressSeen = true;
            });
            window.__observer.observe(document.body, {childList: true, subtree: true});
        }""")
        mark = frames.mark()
        out.revisit_s.append(_timed(
            lambda: nav("Saliency").click(),
            lambda: page.locator(".js-plotly-plot").nth(charts - 1).wait_for(state="visible")))
        runs = settle(page, frames, mark)
        out.revisit_server_s.append(_server_time(runs))
        sent = frames.request(mark)
        if sent is not None and runs:
            out.revisit_request_s.append(runs[-1][1] - sent)
        out.recomputed += bool(page.evaluate("() => { window.__observer.disconnect(); return window.__progressSeen; }"))
    page.context.close()
    return out


# --- reporting ----------------------------------------------------------------------------
def _stats(values: list[float]) -> str:
    values = [v for v in values if v == v]
    if not values:
        return "–"
    if len(values) == 1:
        return f"{values[0]:.3f}"
    return f"{statistics.median(values):.3f} ({min(values):.3f} – {max(values):.3f})"



def _versions() -> str:
    from importlib.metadata import version

    import streamlit
    import torch

    chromium = "unknown"
    try:
        chromium = subprocess.run([str(CHROMIUM), "--version"], capture_output=True, text=True,
                                  timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    return (f"Python {platform.python_version()}, streamlit {streamlit.__version__}, torch {torch.__version__}, "
            f"playwright {version('playwright')}, {chromium}")


def section(sessions: list[Session], command: str, loads: str, quick: bool, busy: bool, wall: float) -> str:
    def col(name: str) -> list[float]:
        return [getattr(s, name) for s in sessions]

    def flat(name: str) -> list[float]:
        return [v for s in sessions for v in getattr(s, name)]

    revisit_server = flat("revisit_server_s")
    ok = revisit_server and statistics.median(revisit_server) < GOAL_REVISIT_S
    verdict = "met" if ok else "**not met**"
    noisy = ""
    if quick or busy:
        noisy = ("\n**Noisy figures**: " + ("a `--quick` run " if quick else "a run ")
                 + "on a 2-core machine shared with other jobs. Rerun `python -m bench app` on a quiet machine "
                 "for figures to quote.\n")
    rows = [
        ("cold start: process start → `/_stcore/health` says ok", _stats(col("health_s")), "server"),
        ("cold start: process start → home page HTTP 200", _stats(col("home_s")), "server"),
        ("first page in a new session: `goto` → home page shown", _stats(col("first_page_s")), "browser"),
        ("… its script run (imports explain on the first session)", _stats(col("first_run_server_s")), "frames"),
        ("press **Load example** (breast_cancer) → \"Loaded\" shown", _stats(col("load_s")), "browser"),
        ("… its script run", _stats(col("load_server_s")), "frames"),
        ("open **Saliency** from the sidebar → Run button shown", _stats(col("open_s")), "browser"),
        ("… its script run", _stats(col("open_server_s")), "frames"),
        ("press **Run** (integrated gradients) → first chart drawn", _stats(col("run_s")), "browser"),
        ("… its script run (computes the row and the global-view sample)", _stats(col("run_server_s")), "frames"),
        ("**Load example → Saliency → Run → first chart**, total", _stats([s.flow_s for s in sessions]), "browser"),
        ("revisit: click **Saliency** (from Home) → all charts drawn", _stats(flat("revisit_s")), "browser"),
        ("revisit: rerun request sent → script finished", _stats(flat("revisit_request_s")), "frames"),
        (f"**revisit: server script run** (goal < {GOAL_REVISIT_S * 1000:.0f} ms: {verdict})",
         _stats(revisit_server), "frames"),
    ]
    table = "\n".join(["| step | seconds: median (min – max) | clock |", "|---|---:|---|"]
                      + [f"| {a} | {b} | {c} |" for a, b, c in rows])
    recomputed = sum(s.recomputed for s in sessions)
    n_revisits = len(revisit_server)
    return f"""{HEADING}

`{command}`, {wall / 60:.1f} min, {datetime.date.today().isoformat()}, {os.cpu_count()} cores;
{_versions()}. Load average {loads} (1, 5, 15 min).
{noisy}
{len(sessions)} cold start(s) of `streamlit run app.py` (headless, 127.0.0.1, a free port, file
watcher off), each followed by one new browser session in Debian's chromium driven by Playwright,
with {n_revisits // max(1, len(sessions))} revisit(s) of Saliency per session.

Clocks: *server* = `time.perf_counter` from just before the process starts, polling every 20 ms;
*browser* = `time.perf_counter` around the Playwright calls (click → the element is drawn; includes
Playwright's own round trips of a few ms); *frames* = the browser's receive times of the websocket
messages (Chrome DevTools Protocol `Network.webSocketFrame*`, decoded as Streamlit's
`ForwardMsg`/`BackMsg`): a script run lasts from its `new_session` message to its `script_finished`
message, which is the server-side run time to within the loopback latency. No hook in the app is needed.

Revisits with a progress bar drawn (something recomputed): {recomputed} of {n_revisits}.

{table}
"""


# --- entry point --------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench app", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one start and three revisits")
    parser.add_argument("--starts", type=int, default=None, help="cold starts (default 3; 1 with --quick)")
    parser.add_argument("--revisits", type=int, default=None, help="revisits per start (default 5; 3 with --quick)")
    parser.add_argument("--shots", action="store_true", help="save a screenshot of the first chart to tests/artifacts/")
    parser.add_argument("--no-write", action="store_true", help="print only; leave bench/README.md alone")
    args = parser.parse_args(argv)
    starts = args.starts if args.starts is not None else (1 if args.quick else 3)
    revisits = args.revisits if args.revisits is not None else (3 if args.quick else 5)
    if not CHROMIUM.exists():
        print(f"no Chromium at {CHROMIUM} (apt-get install chromium)", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    shots = None
    if args.shots:
        shots = ROOT / "tests" / "artifacts"
        shots.mkdir(exist_ok=True)
    load_before = load_average()
    busy = load_before != "unknown" and float(load_before.split()[0]) > 0.5
    if busy:
        print(f"warning: the machine is busy (load average {load_before}); the timings are noisy", file=sys.stderr)
    sessions: list[Session] = []
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench_app_") as tmp, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS, headless=True)
        try:
            for i in range(starts):
                server = start_server(Path(tmp), i)
                try:
                    session = drive(browser, server, revisits, shots)
                except Exception:
                    print(f"streamlit log:\n{server.log.read_text()[-3000:]}", file=sys.stderr)
                    raise
                finally:
                    server.stop()
                sessions.append(session)
                print(f"start {i + 1}: health {session.health_s:.2f}s, home {session.home_s:.2f}s, first page "
                      f"{session.first_page_s:.2f}s, load {session.load_s:.2f}s, open {session.open_s:.2f}s, run "
                      f"{session.run_s:.2f}s; revisit {_stats(session.revisit_s)} s, server "
                      f"{_stats(session.revisit_server_s)} s", file=sys.stderr, flush=True)
        finally:
            browser.close()
    wall = time.perf_counter() - start
    loads = f"{load_before} before, {load_average()} after"
    command = " ".join(["python -m bench app", *(sys.argv[1:] if argv is None else argv)])
    text = section(sessions, re.sub(r"\s*--no-write", "", command), loads, args.quick, busy, wall)
    publish(HEADING, text, write=not args.no_write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
