"""The bundled examples: small trained models with held-out data, ready to explain.

Example:
    >>> import explain
    >>> sorted(explain.examples())
    ['breast_cancer', 'diabetes', 'digits', 'sentiment', 'vit_digits']
"""

from __future__ import annotations

import os
from pathlib import Path

from explain.core.dataset import Dataset
from explain.core.model import Model
from explain.errors import InputError

__all__ = ["examples", "load_example", "examples_folder"]

_DATA_FILES = {
    "breast_cancer": ("data.csv", {"target": "label"}),
    "diabetes": ("data.csv", {"target": "target"}),
    "digits": ("data.npz", {}),
    "sentiment": ("data.csv", {"target": "label", "text": "text"}),
    "vit_digits": ("data.npz", {}),
}


def examples_folder() -> Path:
    """Where the bundled examples live: ``$EXPLAIN_EXAMPLES``, else ``explain/loading/bundled/`` (package
    data, installed with the wheel; written by ``models/train.py`` in a source checkout)."""
    env = os.environ.get("EXPLAIN_EXAMPLES")
    return Path(env) if env else Path(__file__).resolve().parent / "bundled"


def examples() -> list[str]:
    """Names of the bundled examples.

    Example:
        >>> "digits" in examples()
        True
    """
    return list(_DATA_FILES)


def load_example(name: str) -> tuple[Model, Dataset]:
    """Load a bundled example's model and its held-out dataset.

    Raises:
        InputError: the name is not a bundled example, or the files are missing.

    Example:
        >>> model, data = load_example("breast_cancer")
        >>> model.task, model.modality, len(data), data.feature_names[0]
        ('classification', 'tabular', 143, 'mean radius')
    """
    from explain.loading.files import load_dataset, load_model

    if name not in _DATA_FILES:
        raise InputError(f"No bundled example {name!r}; choose one of {examples()}.")
    folder = examples_folder() / name
    data_file, options = _DATA_FILES[name]
    if not (folder / "model").is_dir() or not (folder / data_file).exists():
        raise InputError(
            f"The files of example {name!r} are not in {folder}. Reinstall explain-torch (the wheel "
            "ships them), point EXPLAIN_EXAMPLES at a folder that holds them, or retrain them in a "
            "source checkout with: python models/train.py"
        )
    model = load_model(folder / "model")
    data = load_dataset(folder / data_file, **options)
    model.source = f"example:{name}"
    return model, data
