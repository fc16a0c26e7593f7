"""Slice rules: a tiny parser (no ``eval``) for the filters :func:`explain.slices` takes.

A rule is clauses joined by ``and``; each clause is ``<column> <op> <value>`` with ``op``
one of ``> >= < <= == != in``, a value a number or quoted text, and ``in`` followed by a
list: ``region in ['north', 'east']``. A column name with spaces or symbols goes in
backticks: ```mean radius` > 14``. Text datasets also take ``contains 'refund'`` (the
text holds the word, case ignored). A row whose value is missing matches no clause on
that column (``!=`` included).

Example:
    >>> clauses = parse_rule("age >= 60 and region in ['north', 'east']", ["age", "region"])
    >>> [(c.column, c.op, c.value) for c in clauses]
    [('age', '>=', 60.0), ('region', 'in', ('north', 'east'))]
    >>> clause_mask(clauses[1], np.array(["north", None, "south"], dtype=object), "...", []).tolist()
    [True, False, False]
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from explain.errors import InputError

__all__ = ["Clause", "parse_rule", "clause_mask", "CONTAINS", "EXAMPLE"]

CONTAINS = "contains"
EXAMPLE = "\"age > 60 and region == 'north'\""
_OPS = (">=", "<=", "==", "!=", ">", "<")
_ORDERING = {">", ">=", "<", "<="}
_TOKEN = re.compile(r"""\s*(?:
    (?P<string>'[^']*'|"[^"]*")
    |(?P<number>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?![\w.]))
    |(?P<op>>=|<=|==|!=|>|<|=)
    |(?P<punct>[\[\](),])
    |(?P<name>`[^`]+`|[^\s'"<>=!\[\](),]+)
    )""", re.VERBOSE)


@dataclass(frozen=True)
class Clause:
    """One comparison: ``column op value`` (``value``: a number, text, or a tuple for ``in``;
    ``written``: the values as written, to compare with text columns)."""

    column: str
    op: str
    value: Any
    written: tuple[str, ...]


def _fail(rule: str, why: str, available: Sequence[str]) -> InputError:
    shown = ", ".join(available[:30]) + (", ..." if len(available) > 30 else "")
    return InputError(
        f"Could not read the slice rule {rule!r}: {why}. Columns you can use: {shown or 'none'}. "
        f"A rule looks like {EXAMPLE}: <column> <op> <value> with op one of > >= < <= == != in, "
        "text in quotes, clauses joined by 'and'."
    )


def _tokens(rule: str, available: Sequence[str]) -> list[tuple[str, str]]:
    out, position = [], 0
    while position < len(rule):
        if not rule[position:].strip():
            break
        match = _TOKEN.match(rule, position)
        if match is None or match.end() == position:
            raise _fail(rule, f"unexpected {rule[position:].strip()[:20]!r}", available)
        kind = match.lastgroup or ""
        out.append((kind, match.group(kind)))
        position = match.end()
    return out


def _value(rule: str, token: tuple[str, str], available: Sequence[str]) -> tuple[Any, str]:
    kind, text = token
    if kind == "string":
        return text[1:-1], text[1:-1]
    if kind == "number":
        return float(text), text
    if kind == "name" and text.lower() in {"true", "false"}:
        return float(text.lower() == "true"), text
    raise _fail(rule, f"{text!r} is not a value: put text in quotes ('{text}') or write a number", available)


def _clause(rule: str, tokens: list[tuple[str, str]], available: Sequence[str], text: bool) -> Clause:
    if not tokens:
        raise _fail(rule, "a clause is empty (check the 'and's)", available)
    kind, name = tokens[0]
    if kind != "name":
        raise _fail(rule, f"a clause starts with {name!r}, not a column name", available)
    column = name[1:-1] if name.startswith("`") else name
    if column == CONTAINS and column not in available and text:
        if len(tokens) != 2 or tokens[1][0] != "string":
            raise _fail(rule, "contains takes one quoted word: contains 'refund'", available)
        return Clause(CONTAINS, CONTAINS, tokens[1][1][1:-1], (tokens[1][1][1:-1],))
    if any(t == "name" and w.lower() == "or" for t, w in tokens):
        raise _fail(rule, "only 'and' joins clauses ('or' is not supported: define two slices)", available)
    if column not in available:
        raise _fail(rule, f"there is no column {column!r}", available)
    if len(tokens) < 3:
        raise _fail(rule, f"the clause on {column!r} needs an operator and a value", available)
    (op_kind, op), rest = tokens[1], tokens[2:]
    if op_kind == "name" and op.lower() == "in":
        if rest[0][1] not in "[(" or rest[-1][1] not in "])" or len(rest) < 3:
            raise _fail(rule, f"'in' takes a list: {column} in ['a', 'b']", available)
        inner = rest[1:-2] if rest[-2] == ("punct", ",") else rest[1:-1]  # a trailing comma is fine
        items, commas = inner[0::2], inner[1::2]
        if not items or any(c != ("punct", ",") for c in commas) or len(inner) % 2 == 0:
            raise _fail(rule, f"the list after 'in' must be values separated by commas: {column} in ['a', 'b']",
                        available)
        values = [_value(rule, t, available) for t in items]
        return Clause(column, "in", tuple(v for v, _ in values), tuple(w for _, w in values))
    if op == "=":
        raise _fail(rule, f"write == to compare ({column} == ...)", available)
    if op_kind != "op" or op not in _OPS:
        raise _fail(rule, f"{op!r} is not an operator (> >= < <= == != in)", available)
    if len(rest) != 1:
        raise _fail(rule, f"the clause on {column!r} takes one value after {op}", available)
    value, written = _value(rule, rest[0], available)
    return Clause(column, op, value, (written,))


def parse_rule(rule: str, available: Sequence[str], *, text: bool = False) -> tuple[Clause, ...]:
    """The clauses of ``rule``, whose columns must be among ``available``; ``text``: the
    rows are texts, so ``contains '<word>'`` is a clause too.

    Raises:
        InputError: the rule cannot be read; the message names it, the columns available
            and an example.
    """
    if not isinstance(rule, str) or not rule.strip():
        raise _fail(str(rule), "a rule must be non-empty text", available)
    clauses: list[list[tuple[str, str]]] = [[]]
    for token in _tokens(rule, available):
        if token[0] == "name" and token[1].lower() == "and":
            clauses.append([])
        else:
            clauses[-1].append(token)
    return tuple(_clause(rule, tokens, available, text) for tokens in clauses)


def _is_numeric(values: np.ndarray) -> bool:
    return values.dtype != object and (np.issubdtype(values.dtype, np.number) or values.dtype == np.bool_)


def clause_mask(clause: Clause, values: np.ndarray, rule: str, available: Sequence[str]) -> np.ndarray:
    """Which rows satisfy ``clause``, given the column's ``values`` (numbers, NaN where
    missing; or objects, None or NaN where missing; for ``contains``: the texts).

    Raises:
        InputError: text compared with a number, or text ordered with ``>``.
    """
    if clause.op == CONTAINS:
        word = str(clause.value).lower()
        return np.array([word in str(t).lower() for t in values], dtype=bool)
    if _is_numeric(values):
        numbers = np.asarray(values, dtype=np.float64)
        wanted = clause.value if clause.op == "in" else (clause.value,)
        if any(isinstance(v, str) for v in wanted):
            raise _fail(rule, f"{clause.column!r} holds numbers; compare it with a number, not text", available)
        present = ~np.isnan(numbers)
        if clause.op == "in":
            return present & np.isin(numbers, np.asarray(wanted, dtype=np.float64))
        compare = {">": np.greater, ">=": np.greater_equal, "<": np.less, "<=": np.less_equal,
                   "==": np.equal, "!=": np.not_equal}[clause.op]
        return present & compare(numbers, float(clause.value))
    if clause.op in _ORDERING:
        raise _fail(rule, f"{clause.column!r} holds text; compare it with ==, != or in", available)
    present = ~pd.isna(pd.Series(values, dtype=object)).to_numpy()
    text = np.array([str(v) for v in values], dtype=object)
    hit = np.isin(text, np.array(clause.written, dtype=object))
    return present & (~hit if clause.op == "!=" else hit)
