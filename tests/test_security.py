"""Protections against hostile files and strings (issue: reliability and security)."""

from __future__ import annotations

import csv
import io

import pandas as pd
import pytest

from explain._csv import safe_csv


@pytest.mark.parametrize("payload", ["=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd"])
def test_csv_exports_neutralise_formula_cells(payload: str) -> None:
    frame = pd.DataFrame({payload: [payload, "plain"], "value": [-1.5, 2.0]})
    header, first, second = list(csv.reader(io.StringIO(safe_csv(frame), newline="")))
    assert header == ["'" + payload, "value"]       # a spreadsheet shows both as text
    assert first == ["'" + payload, "-1.5"]         # numbers stay numbers, negatives too
    assert second == ["plain", "2.0"]
