"""One lazy import guard for optional, heavy dependencies.

Example:
    >>> from explain.runtime.deps import require
    >>> require("numpy").__name__
    'numpy'
"""

from __future__ import annotations

import importlib
from types import ModuleType

from explain.errors import MissingDependencyError

# module name -> the pip extra that installs it (others, such as onnx2torch, are named as
# themselves: install them directly)
_EXTRAS = {
    "transformers": "hf",
    "tokenizers": "hf",
    "onnx": "onnx",
    "onnxruntime": "onnx",
    "pyarrow": "parquet",
    "shap": "shap",
}


def require(module: str, *, feature: str = "") -> ModuleType:
    """Import ``module`` or raise an error that names the pip command to install it.

    Args:
        module: importable module name, such as ``"onnx2torch"``.
        feature: what the user asked for, used in the message.

    Returns:
        The imported module.

    Raises:
        MissingDependencyError: the module is not installed.
    """
    try:
        return importlib.import_module(module)
    except ImportError as err:
        extra = _EXTRAS.get(module.split(".")[0], "")
        target = f"'explain-torch[{extra}]'" if extra else module.split(".")[0]
        what = f" for {feature}" if feature else ""
        raise MissingDependencyError(
            f"The optional package '{module}' is needed{what} but could not be imported "
            f"({err}). Install it with: pip install {target}"
        ) from err
