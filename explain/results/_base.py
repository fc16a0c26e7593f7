"""What every result type shares: read-only numpy fields and JSON export."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["frozen", "freeze", "jsonable", "Exported"]


def frozen(array: Any) -> Any:
    """Return a read-only numpy copy of ``array`` (None stays None)."""
    if array is None:
        return None
    out = np.array(array, copy=True)
    out.flags.writeable = False
    return out


def freeze(result: Any, arrays: tuple[str, ...] = (), texts: tuple[str, ...] = ()) -> None:
    """In a frozen result's ``__post_init__``: read-only copies of the ``arrays`` fields,
    tuples of ``str`` for the ``texts`` fields (names, labels) that are set, and a dict of
    its own for ``params`` where the result has one."""
    for name in arrays:
        object.__setattr__(result, name, frozen(getattr(result, name)))
    for name in texts:
        value = getattr(result, name, None)  # a field this result type may not have
        if value is not None:
            object.__setattr__(result, name, tuple(str(v) for v in value))
    if isinstance(getattr(result, "params", None), dict):
        object.__setattr__(result, "params", dict(result.params))


def jsonable(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (np.floating, np.integer, np.bool_)):
        return value.item()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


class Exported:
    """JSON export shared by the result dataclasses."""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary of every field."""
        return {f.name: jsonable(getattr(self, f.name)) for f in dataclasses.fields(self)}

    def to_json(self, path: str | Path | None = None) -> str:
        """Serialise to JSON; also write it to ``path`` when one is given."""
        text = json.dumps(self.to_dict())
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text
