"""CSV that a spreadsheet opens as data, never as formulas.

Excel, LibreOffice and Google Sheets run a cell that starts with ``=``, ``+``, ``-``, ``@``,
a tab or a carriage return as a formula (CSV injection, OWASP). Column names, feature
names, labels and texts come from users' files, so every text cell (and every column
name) that starts with one of those gets a leading apostrophe, which spreadsheets show
as text. Numbers stay numbers: a negative attribution is written as ``-0.5``.

Example:
    >>> import pandas as pd
    >>> print(safe_csv(pd.DataFrame({"=feature": ["=1+1", "ok", "-x"], "value": [-0.5, 1.0, 2.0]})), end="")
    "'=feature","value"
    "'=1+1",-0.5
    "ok",1.0
    "'-x",2.0
"""

from __future__ import annotations

import csv
from typing import Any

import pandas as pd

__all__ = ["safe_csv", "neutralise"]

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """A text value that would start a formula, with an apostrophe in front; others as they are."""
    if isinstance(value, str) and value.startswith(_TRIGGERS):
        return "'" + value
    return value


def safe_csv(frame: pd.DataFrame, **options: Any) -> str:
    """``frame.to_csv(index=False)`` with text cells and column names neutralised and
    quoted (pandas leaves a bare carriage return unquoted, which splits the row)."""
    out = frame.copy()
    out.columns = [neutralise(str(c)) for c in out.columns]
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(neutralise)
    return out.to_csv(index=False, quoting=csv.QUOTE_NONNUMERIC, **options)
