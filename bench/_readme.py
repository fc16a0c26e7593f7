"""Each benchmark owns one ``## heading`` section of bench/README.md and rewrites only it."""

from __future__ import annotations

import sys
from pathlib import Path

README = Path(__file__).resolve().parent / "README.md"


def write_section(heading: str, text: str, intro: str = "# Benchmarks\n") -> None:
    """Replace the section that starts with ``heading`` by ``text`` (or append it)."""
    old = README.read_text(encoding="utf-8") if README.exists() else intro
    if heading in old:
        start = old.index(heading)
        rest = old[start + len(heading):]
        nxt = rest.find("\n## ")
        end = len(old) if nxt < 0 else start + len(heading) + nxt + 1
        new = old[:start] + text.rstrip() + "\n" + ("\n" + old[end:] if end < len(old) else "")
    else:
        new = old.rstrip() + "\n\n" + text.rstrip() + "\n"
    README.write_text(new, encoding="utf-8")


def publish(heading: str, text: str, write: bool) -> None:
    """Print a benchmark's section and, when ``write``, put it in bench/README.md and say so."""
    print(text)
    if write:
        write_section(heading, text)
        print("wrote bench/README.md", file=sys.stderr)
