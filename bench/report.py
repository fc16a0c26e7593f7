"""The audit report of every bundled example: build time, size, and whether it opens in
headless Chromium with every plot rendered, no console error and no network request.

Run: ``python -m bench report [--rows 50] [--no-write]`` (needs Debian's chromium).
"""

from __future__ import annotations

import argparse
import datetime
import re
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

from bench._readme import write_section

HEADING = "## Audit reports of the bundled examples"
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync"]


def _open(path: Path) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    requests: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("request", lambda r: requests.append(r.url))
        start = time.perf_counter()
        page.goto(path.as_uri())
        page.wait_for_load_state("load")
        page.wait_for_timeout(1000)
        rendered = page.locator(".js-plotly-plot").count()
        seconds = time.perf_counter() - start
        browser.close()
    expected = len(re.findall(r'<div id="figure-\d+"', path.read_text(encoding="utf-8")))
    return {"rendered": rendered, "expected": expected, "errors": len(errors),
            "external": len([u for u in requests if not u.startswith("file:")]), "open_s": seconds}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench report", description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")
    import torch

    import explain

    torch.set_num_threads(2)
    lines = ["| example | build (s) | size (MB) | plots rendered | console errors | external requests | sections skipped |",
             "|---|---:|---:|---|---:|---:|---|"]
    with tempfile.TemporaryDirectory() as folder:
        for name in explain.examples():
            model, data = explain.load_example(name)
            start = time.perf_counter()
            audit = explain.audit(model, data, rows=args.rows)
            path = Path(folder) / f"{name}.html"
            audit.to_html(path)
            build = time.perf_counter() - start
            seen = _open(path)
            skipped = ", ".join(s.name for s in audit.sections if s.status != "ok") or "none"
            lines.append(f"| {name} | {build:.1f} | {path.stat().st_size / 1e6:.2f} | {seen['rendered']} of "
                         f"{seen['expected']} | {seen['errors']} | {seen['external']} | {skipped} |")
            print(lines[-1], flush=True)
    section = (f"{HEADING}\n\n`python -m bench report`, {datetime.date.today()}, 2 threads, {args.rows} examples "
               "per explanation section; each report opened in headless Chromium (Debian's chromium).\n\n"
               + "\n".join(lines) + "\n")
    if not args.no_write:
        write_section(HEADING, section)
    return 0
