"""Infer how an uploaded table fits a model: which column is the label, which holds the texts,
which are metadata (columns the model does not take).

Pure functions (no streamlit), so they are unit-tested without a browser. The Home page
reads only the head of an upload (:func:`read_header`), guesses with :func:`guess_columns`
and preselects that guess, so a user is asked only for what cannot be inferred.

Example:
    >>> header = Header(("a", "b", "label"), ("number", "number", "number"))
    >>> guess_columns(header, n_features=2).target
    'label'
    >>> header = Header(("review", "stars"), ("text", "number"))
    >>> g = guess_columns(header)
    >>> g.text, g.target
    ('review', 'stars')
    >>> header = Header(("age", "region", "sick"), ("number", "category", "category"),
    ...                 (("",), ("north", "south"), ("no", "yes")))
    >>> guess_columns(header, feature_names=["age"], class_names=["no", "yes"]).target
    'sick'
    >>> metadata_columns(header, "sick", None, feature_names=["age"])
    (['age', 'region'], ['region'])
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

__all__ = ["Guess", "Header", "LABEL_NAMES", "guess_columns", "metadata_columns", "read_header"]

LABEL_NAMES = ("label", "labels", "target", "targets", "class", "classes", "y", "outcome")
HEAD_BYTES = 1 << 20  # read at most this much of a CSV to find its columns
HEAD_ROWS = 200
LEVELS = 50  # distinct values kept of each non-number column (to match class names)
_MISSING = {"", "na", "n/a", "nan", "null", "none", "?"}


@dataclass(frozen=True)
class Header:
    """The columns of a table and the kind of each: ``"number"``, ``"category"`` (short
    strings) or ``"text"`` (mostly strings with spaces: sentences); ``levels``: the
    distinct values seen in each category column (at most :data:`LEVELS`; empty for the
    others, and for all when not read)."""

    columns: tuple[str, ...]
    kinds: tuple[str, ...]
    levels: tuple[tuple[str, ...], ...] = field(default=(), compare=False)

    def of(self, kind: str) -> list[str]:
        return [c for c, k in zip(self.columns, self.kinds) if k == kind]


@dataclass(frozen=True)
class Guess:
    """The inferred roles of the columns, and why.

    Attributes:
        target: the label column, or None for no labels.
        text: the column of texts (a text dataset), or None for a table of numbers.
        reason: one plain sentence saying why, to show beside the choice.
        certain: True when only this choice fits the model.
    """

    target: str | None
    text: str | None
    reason: str
    certain: bool


def read_header(data: bytes) -> Header | None:
    """The columns and their kinds from the first rows of a CSV or Parquet file.

    Returns None for other formats (NPZ, zips of images) and for files that do not parse
    as a table: the loader then says what is wrong.

    Example:
        >>> read_header(b"x1,x2,label\\n1,2,cat\\n3,4,dog\\n").kinds
        ('number', 'number', 'category')
        >>> read_header(b"PK\\x03\\x04...") is None
        True
    """
    if data[:4] == b"PK\x03\x04":
        return None
    try:
        frame = _parquet_head(data) if data[:4] == b"PAR1" else _csv_head(data)
    except Exception:  # noqa: BLE001 (any parse failure: the loader reports it properly)
        return None
    if frame is None or frame.shape[1] == 0:
        return None
    columns = tuple(str(c) for c in frame.columns)
    kinds = tuple(_kind(frame.iloc[:, j]) for j in range(frame.shape[1]))
    levels = tuple(_levels(frame.iloc[:, j]) if kind == "category" else () for j, kind in enumerate(kinds))
    return Header(columns, kinds, levels)


def _csv_head(data: bytes) -> pd.DataFrame | None:
    head = data[:HEAD_BYTES]
    if b"\x00" in head[:8192]:
        return None
    if len(data) > HEAD_BYTES and b"\n" in head:
        head = head[: head.rindex(b"\n")]  # whole lines only
    for encoding in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            text = head.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    first = text.split("\n", 1)[0]
    sep = max(",;\t|", key=first.count) if any(c in first for c in ",;\t|") else ","
    return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, sep=sep, nrows=HEAD_ROWS)


def _parquet_head(data: bytes) -> pd.DataFrame | None:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        return None
    table = pq.ParquetFile(io.BytesIO(data))
    batch = next(table.iter_batches(batch_size=HEAD_ROWS), None)
    if batch is None:
        return pd.DataFrame(columns=table.schema_arrow.names)
    return batch.to_pandas()


def _kind(column: pd.Series) -> str:
    if pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
        return "number"
    text = column.astype(str).str.strip()
    present = text[~text.str.lower().isin(_MISSING)]
    if present.empty or pd.to_numeric(present, errors="coerce").notna().all():
        return "number"
    return "text" if present.str.contains(r"\s").mean() > 0.5 else "category"


def _levels(column: pd.Series) -> tuple[str, ...]:
    text = column.astype(str).str.strip()
    present = text[~text.str.lower().isin(_MISSING)]
    return tuple(present.drop_duplicates().head(LEVELS + 1))


def _named(columns: Sequence[str]) -> str | None:
    """The first column named like a label (label, target, class, y, outcome)."""
    by_name = {c.strip().lower(): c for c in reversed(list(columns))}
    for wanted in LABEL_NAMES:
        if wanted in by_name:
            return by_name[wanted]
    return None


def _quote(names: Sequence[str], limit: int = 4) -> str:
    shown = ", ".join(repr(n) for n in list(names)[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _best(header: Header, candidates: Sequence[str],
          class_names: Sequence[str] | None = None) -> tuple[str | None, str]:
    """The likeliest label among ``candidates`` and why: the one column whose values are the
    model's class names, else a label-like name, else the one non-numeric column (features
    must be numbers), else the last column."""
    if not candidates:
        return None, ""
    classes = {str(c) for c in class_names or ()}
    if classes and len(header.levels) == len(header.columns):
        levels = dict(zip(header.columns, header.levels))
        matching = [c for c in candidates if levels.get(c) and len(levels[c]) <= LEVELS and set(levels[c]) <= classes]
        if len(matching) == 1:
            return matching[0], f"{matching[0]!r} holds the model's class names"
    named = _named(candidates)
    if named is not None:
        return named, f"{named!r} is named like a label"
    words = [c for c in candidates if c not in header.of("number")]
    if len(words) == 1:
        return words[0], f"{words[0]!r} is the only column that is not numbers"
    return candidates[-1], f"{candidates[-1]!r} is the last column"


def guess_columns(
    header: Header,
    *,
    n_features: int | None = None,
    feature_names: Sequence[str] | None = None,
    modality: str | None = None,
    class_names: Sequence[str] | None = None,
) -> Guess:
    """Guess the label column (and the text column) of a table for a model.

    Args:
        header: the table's columns and kinds (:func:`read_header`).
        n_features: how many input features the model takes, where known.
        feature_names: the model's feature names, where it has them: the label is then
            the column that is not among them.
        modality: the model's modality (``"text"`` makes the text column the input).
        class_names: the model's class names, where it has them: a column holding
            them is the label.

    Example:
        >>> h = Header(("age", "income", "id", "y"), ("number",) * 4)
        >>> guess_columns(h, feature_names=["age", "income", "id"]).target
        'y'
        >>> guess_columns(Header(("a", "b"), ("number", "number")), n_features=2).target is None
        True
    """
    columns = list(header.columns)
    texts = header.of("text")
    if texts and (modality == "text" or (modality != "image" and not n_features and not feature_names)):
        return _guess_text(header, texts, class_names)
    if feature_names:
        guess = _by_names(header, list(feature_names), class_names)
        if guess is not None:
            return guess
    if n_features:
        return _by_count(header, n_features, class_names)
    pick, why = _best(header, [c for c in columns if _named([c]) or c not in header.of("number")], class_names)
    if pick is None:
        return Guess(None, None, "No column looks like a label; choose one if the table has labels.", False)
    return Guess(pick, None, f"{why}; the other columns are the features.", False)


def _guess_text(header: Header, texts: list[str], class_names: Sequence[str] | None) -> Guess:
    text = next((c for c in texts if c.strip().lower() in ("text", "sentence", "review")), texts[0])
    others = [c for c in header.columns if c != text]
    if not others:
        return Guess(None, text, f"{text!r} holds the texts; there is no label column.", True)
    if len(others) == 1:
        return Guess(others[0], text, f"{text!r} holds the texts, so {others[0]!r} is the label.", True)
    pick, why = _best(header, others, class_names)
    return Guess(pick, text, f"{text!r} holds the texts; {why}; the others can be kept as metadata.", False)


def _by_names(header: Header, names: list[str], class_names: Sequence[str] | None) -> Guess | None:
    columns = list(header.columns)
    missing = [n for n in names if n not in columns]
    if missing:
        return None  # the model's names are not this table's: fall back to counting
    extra = [c for c in columns if c not in names]
    n = len(names)
    if not extra:
        return Guess(None, None, f"Every column is one of the model's {n} features: no labels.", True)
    if len(extra) == 1:
        return Guess(
            extra[0], None, f"{extra[0]!r} is the only column that is not one of the model's {n} features.", True
        )
    pick, why = _best(header, extra, class_names)
    return Guess(
        pick, None,
        f"{len(extra)} columns are not among the model's features ({_quote(extra)}); {why}. "
        "The others are offered as metadata.", False,
    )


def _by_count(header: Header, n: int, class_names: Sequence[str] | None) -> Guess:
    columns = list(header.columns)
    if len(columns) == n + 1:
        pick, why = _best(header, columns, class_names)
        certain = _named(columns) is not None or len([c for c in columns if c not in header.of("number")]) == 1
        return Guess(
            pick, None,
            f"The model takes {n} features and the table has {n + 1} columns, so one is the label: {why}.",
            certain,
        )
    if len(columns) == n:
        return Guess(None, None, f"The table has exactly the model's {n} features: no label column.", True)
    pick, why = _best(header, [c for c in columns if _named([c]) or c not in header.of("number")], class_names)
    return Guess(
        pick, None,
        f"The model takes {n} features but the table has {len(columns)} columns"
        + (f"; {why}" if pick else "")
        + ". Choose the label column, and as metadata the columns that are not the model's features.",
        False,
    )


def metadata_columns(
    header: Header,
    target: str | None,
    text: str | None,
    *,
    n_features: int | None = None,
    feature_names: Sequence[str] | None = None,
) -> tuple[list[str], list[str]]:
    """The columns that can be kept as metadata (all but the label and the text column) and
    those the model does not take, to preselect: for a text model every other column; for
    a model with feature names the columns not among them; else the columns that are not
    numbers (features must be numbers), where the model takes fewer columns than remain.

    Example:
        >>> h = Header(("f1", "site", "f2", "y"), ("number", "category", "number", "number"))
        >>> metadata_columns(h, "y", None, n_features=2)
        (['f1', 'site', 'f2'], ['site'])
        >>> metadata_columns(Header(("review", "stars", "shop"), ("text", "number", "category")), "stars", "review")
        (['shop'], ['shop'])
    """
    options = [c for c in header.columns if c not in (target, text)]
    if text is not None:
        return options, list(options)
    if feature_names and all(n in header.columns for n in feature_names):
        return options, [c for c in options if c not in feature_names]
    words = [c for c in options if c not in header.of("number")]
    if n_features is not None and len(options) <= n_features:
        return options, []
    return options, words
