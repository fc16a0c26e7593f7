"""Dataset readers: CSV / Parquet tables, text CSVs, NPZ arrays and zips of images.

Labels are kept exactly as written: the string "NA" in a label column is a class
called "NA", not a missing value. Metadata columns of a table are kept beside the
features (``Dataset.metadata``) and never given to the model: a column whose every
value is a number (or missing) becomes numbers with NaN where missing; any other
column keeps its values exactly as written.
"""

from __future__ import annotations

import difflib
import io
import re
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import pandas as pd

from explain.core.dataset import Dataset, encode_labels
from explain.errors import DataError, InputError, InputTypeError
from explain.loading.archives import Blob, read_source, safe_zip
from explain.runtime.deps import require

MISSING_TOKENS = {"", "na", "n/a", "nan", "null", "none", "?"}
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp"}
MAX_IMAGES = 100_000
MAX_IMAGE_SIDE = 4096
_MISSING_CHOICES = ("error", "drop")


def read(
    source: Any,
    *,
    target: str | None = None,
    text: str | None = None,
    task: str | None = None,
    missing: str = "error",
    image_size: Sequence[int] | None = None,
    metadata: Sequence[str] | str | None = None,
) -> Dataset:
    """Read a dataset, recognising the format from the content.

    Args:
        source: path, bytes or binary file-like object (a browser upload).
        target: the label column of a table (None: no labels).
        text: the text column of a text CSV (None: found when the table has exactly one
            non-numeric column besides the target).
        task: ``"classification"`` or ``"regression"`` labels; inferred when None
            (numbers with a fraction, or more than 20 distinct numbers, mean regression).
        missing: ``"error"`` (default) or ``"drop"`` rows with missing feature values.
        image_size: ``(height, width)`` to resize images of different sizes to.
        metadata: columns of a table (CSV, Parquet) to keep beside the features as
            ``Dataset.metadata`` and never give to the model (``["sex", "region"]``).
    """
    if missing not in _MISSING_CHOICES:
        raise InputError(f"missing must be one of {list(_MISSING_CHOICES)}, got {missing!r}.")
    metadata = _metadata_names(metadata)
    blob = read_source(source, what="dataset")
    if isinstance(blob, Path):
        raise DataError(f"{blob} is a folder; zip the class folders of images into one .zip.")
    name = blob.name or "the upload"
    if blob.data[:4] == b"PK\x03\x04":
        names = safe_zip(blob).namelist()  # caps, path rules and damage checked for NPZ too
        if metadata:
            raise DataError(f"{name} is not a table: metadata columns come from CSV or Parquet tables.")
        if names and all(n.endswith(".npy") for n in names):
            return _read_npz(blob, task)
        return _read_image_zip(blob, image_size)
    if blob.data[:4] == b"PAR1":
        pyarrow = require("pyarrow", feature="Parquet files")
        _check_pyarrow(pyarrow)
        try:
            frame = pd.read_parquet(io.BytesIO(blob.data))
        except (pyarrow.lib.ArrowException, OSError, ValueError) as err:
            raise DataError(f"{name} starts like a Parquet file but could not be read ({err}). "
                            "Export it again, or save the table as CSV.") from err
    else:
        frame = _read_csv(blob)
    return _from_frame(frame, target=target, text=text, task=task, missing=missing, name=name,
                       metadata=metadata)


def _metadata_names(metadata: Sequence[str] | str | None) -> list[str]:
    if metadata is None:
        return []
    if isinstance(metadata, str):
        return [metadata]
    if not isinstance(metadata, (list, tuple)) or not all(isinstance(m, str) for m in metadata):
        raise InputTypeError(
            f"metadata must be a list of column names, got {metadata!r}; pass e.g. metadata=['sex', 'region']."
        )
    return list(metadata)


def _check_pyarrow(pyarrow: Any) -> None:
    version = tuple(int(p) for p in re.findall(r"\d+", pyarrow.__version__)[:2])
    if version < (14, 0):
        raise DataError(
            f"pyarrow {pyarrow.__version__} has a known code-execution flaw when reading "
            "Parquet (CVE-2023-47248). Upgrade: pip install 'pyarrow>=14.0.1'."
        )


def _read_csv(blob: Blob) -> pd.DataFrame:
    head = blob.data[:8192]
    if b"\x00" in head:
        raise DataError(
            f"{blob.name or 'The upload'} is not a text CSV file (it contains binary data). "
            "Upload a CSV, Parquet, NPZ or a zip of images."
        )
    for encoding in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            text = blob.data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    header = text.split("\n", 1)[0]
    sep = max(",;\t|", key=header.count) if any(c in header for c in ",;\t|") else ","
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, sep=sep)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, TypeError) as err:
        raise DataError(f"Could not parse {blob.name or 'the upload'} as CSV: {err}") from err
    if frame.shape[1] == 0 or frame.shape[0] == 0:
        raise DataError(f"{blob.name or 'The CSV'} has no rows or no columns.")
    return frame


def _from_frame(
    frame: pd.DataFrame, *, target: str | None, text: str | None, task: str | None,
    missing: str, name: str, metadata: list[str] | None = None,
) -> Dataset:
    frame.columns = [str(c) for c in frame.columns]
    columns = list(frame.columns)
    for wanted, role in ((target, "target"), (text, "text")):
        if wanted is not None and wanted not in columns:
            close = difflib.get_close_matches(wanted, columns, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise DataError(
                f"The {role} column {wanted!r} is not in {name}; its columns are {columns}.{hint}"
            )
    meta = _metadata_columns(frame, metadata or [], target, text, name)
    frame = frame.drop(columns=list(meta.columns))
    labels = None
    if target is not None:
        labels = [_label_text(v) for v in frame[target].tolist()]
        frame = frame.drop(columns=[target])
    if text is None:
        text = _find_text_column(frame)
    if text is not None:
        texts = [str(t) for t in frame[text].tolist()]
        y, class_names, task = _labels(labels, task)
        return Dataset(texts=texts, y=y, class_names=class_names, target_name=target, task=task, source=name,
                       metadata=meta if metadata else None)
    numbers, bad = _numeric(frame)
    if bad:
        raise DataError(
            f"Columns {bad[:5]} of {name} are not numeric (e.g. {frame[bad[0]].iloc[0]!r}). "
            "Feature columns must be numbers: encode categories first, set target= to the "
            "label column, or text= to the column of a text dataset."
        )
    rows = np.isnan(numbers).any(axis=1)
    if rows.any():
        if missing == "error":
            where = [c for c, m in zip(frame.columns, np.isnan(numbers).any(axis=0)) if m]
            raise DataError(
                f"{int(rows.sum())} rows of {name} have missing values (in {where[:5]}). "
                "Fill them, or pass missing='drop' to drop those rows."
            )
        numbers = numbers[~rows]
        labels = None if labels is None else [l for l, r in zip(labels, rows) if not r]
        meta = meta[~rows]
    y, class_names, task = _labels(labels, task)
    return Dataset(
        numbers, y, feature_names=list(frame.columns), class_names=class_names,
        target_name=target, task=task, source=name, metadata=meta if metadata else None,
    )


def _metadata_columns(frame: pd.DataFrame, metadata: list[str], target: str | None, text: str | None,
                      name: str) -> pd.DataFrame:
    """The metadata columns of ``frame``: all-number columns as floats (NaN where missing),
    others exactly as written. A name that is not a column, or is the target or the text
    column, is a DataError naming the columns."""
    columns = list(frame.columns)
    for wanted in metadata:
        if wanted not in columns or wanted in (target, text):
            role = "the target" if wanted == target else "the text column" if wanted == text else "not a column"
            close = difflib.get_close_matches(wanted, columns, n=1) if wanted not in columns else []
            hint = f" Did you mean {close[0]!r}?" if close else ""
            others = [c for c in columns if c not in (target, text)]
            raise DataError(
                f"The metadata column {wanted!r} is {role} of {name}; metadata columns must be "
                f"among its other columns {others}.{hint}"
            )
    meta = frame[list(dict.fromkeys(metadata))].copy()
    for column in meta.columns:
        if meta[column].dtype == object or pd.api.types.is_string_dtype(meta[column]):
            values, numeric = _numeric_column(meta[column])
            if numeric and not np.isnan(values).all():
                meta[column] = values
    return meta


def _label_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _find_text_column(frame: pd.DataFrame) -> str | None:
    strings = [c for c in frame.columns if not _numeric_column(frame[c])[1]]
    if len(strings) == 1 and len(frame.columns) == 1:
        values = frame[strings[0]].astype(str)
        if values.str.contains(r"\s").mean() > 0.5:
            return strings[0]
    return None


def _numeric_column(column: pd.Series) -> tuple[np.ndarray, bool]:
    """The column as floats (NaN where missing) and whether every value was a number."""
    if pd.api.types.is_numeric_dtype(column):  # booleans count as 0 / 1
        return column.to_numpy(dtype=np.float64, na_value=np.nan), True
    text = column.astype(str).str.strip()
    is_missing = text.str.lower().isin(MISSING_TOKENS)
    values = pd.to_numeric(text.where(~is_missing, None), errors="coerce")
    ok = bool((values.notna() | is_missing).all())
    return values.to_numpy(dtype=np.float64, na_value=np.nan), ok


def _numeric(frame: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    arrays, bad = [], []
    for column in frame.columns:
        values, ok = _numeric_column(frame[column])
        arrays.append(values)
        if not ok:
            bad.append(column)
    return np.stack(arrays, axis=1) if arrays else np.zeros((len(frame), 0)), bad


def _labels(labels: list[str] | None, task: str | None) -> tuple[Any, Any, str | None]:
    if labels is None:
        return None, None, task
    if task is None:
        task = "regression" if _looks_continuous(labels) else "classification"
    if task == "regression":
        try:
            return np.array([float(v) for v in labels], dtype=np.float64), None, task
        except ValueError as err:
            raise DataError(f"Regression labels must be numbers: {err}") from err
    y, class_names = encode_labels(labels)
    return y, class_names, task


def _looks_continuous(labels: list[str]) -> bool:
    try:
        values = np.array([float(v) for v in labels])
    except ValueError:
        return False
    fractional = not np.all(np.isclose(values, np.round(values)))
    return fractional or len(np.unique(values)) > 20


def _read_npz(blob: Blob, task: str | None) -> Dataset:
    try:
        arrays = np.load(io.BytesIO(blob.data), allow_pickle=False)
        content = {k: arrays[k] for k in arrays.files}
    except ValueError as err:
        if "pickle" not in str(err):
            raise DataError(f"{blob.name or 'The NPZ'} could not be read ({err}); save it again with np.savez.") from err
        raise DataError(
            f"{blob.name or 'The NPZ'} holds object arrays, which would need unpickling; "
            "save plain numeric arrays with np.savez."
        ) from err
    except Exception as err:  # noqa: BLE001 - a damaged archive fails in zipfile, zlib or numpy's header parser
        raise DataError(f"{blob.name or 'The NPZ'} is damaged and could not be read ({type(err).__name__}: {err}); "
                        "save it again with np.savez.") from err
    x = next((content[k] for k in ("x", "X", "inputs", "data") if k in content), None)
    if x is None:
        raise DataError(f"The NPZ needs an array named 'x' (and optionally 'y'); it has {sorted(content)}.")
    y = next((content[k] for k in ("y", "Y", "labels", "targets") if k in content), None)
    if not np.issubdtype(x.dtype, np.number):
        raise DataError(f"The NPZ array 'x' must be numeric, got dtype {x.dtype}.")
    if x.ndim == 3:
        x = x[:, None]
    elif x.ndim == 4 and x.shape[1] not in (1, 3, 4) and x.shape[-1] in (1, 3, 4):
        x = np.transpose(x, (0, 3, 1, 2))  # NHWC -> NCHW
    if not np.isfinite(x).all():
        raise DataError("The NPZ array 'x' contains NaN or infinite values; fill or drop them.")
    names = [str(n) for n in content["class_names"]] if "class_names" in content else None
    features = [str(n) for n in content["feature_names"]] if "feature_names" in content else None
    if y is not None and names is None and task != "regression":
        labels = [_label_text(v) for v in y.tolist()]
        if not _looks_continuous(labels):
            y, names = encode_labels(labels)
    if y is not None and task is None:
        task = "classification" if np.issubdtype(np.asarray(y).dtype, np.integer) else "regression"
    return Dataset(x, y, feature_names=features, class_names=names, task=task, source=blob.name or None)


def _read_image_zip(blob: Blob, image_size: Sequence[int] | None) -> Dataset:
    pil = require("PIL.Image", feature="image datasets")
    archive = safe_zip(blob)
    entries = [
        i for i in archive.infolist()
        if not i.is_dir() and PurePosixPath(i.filename).suffix.lower() in IMAGE_SUFFIXES
        and not PurePosixPath(i.filename).name.startswith(".") and "__MACOSX" not in i.filename
    ]
    if not entries:
        raise DataError("The zip holds no images (.png, .jpg). Put one folder per class inside.")
    if len(entries) > MAX_IMAGES:
        raise DataError(f"The zip holds {len(entries)} images; at most {MAX_IMAGES} are accepted.")
    images, labels = [], []
    for info in entries:
        parts = PurePosixPath(info.filename).parts
        labels.append(parts[-2] if len(parts) >= 2 else None)
        try:
            with pil.open(io.BytesIO(archive.read(info))) as img:
                if max(img.size) > MAX_IMAGE_SIDE:
                    raise DataError(f"{info.filename} is {img.size[0]}x{img.size[1]} pixels; at most {MAX_IMAGE_SIDE} per side.")
                img.load()
                images.append(img.copy())
        except DataError:
            raise
        except pil.DecompressionBombError as err:
            raise DataError(f"{info.filename} is a decompression bomb ({err}); it was not opened.") from err
        except Exception as err:  # noqa: BLE001 - damaged entries fail in zipfile, zlib or any Pillow decoder
            raise DataError(f"Could not read the image {info.filename} ({type(err).__name__}: {err}). "
                            "The zip or the image is damaged; make the zip again.") from err
    gray = all(img.mode in ("L", "1", "I;16", "I") for img in images)
    sizes = {img.size for img in images}
    if image_size is None and len(sizes) > 1:
        raise DataError(
            f"The images have {len(sizes)} different sizes (e.g. {sorted(sizes)[:3]}). Pass "
            "image_size=(height, width) to resize them all."
        )
    arrays = []
    for img in images:
        img = img.convert("L" if gray else "RGB")
        if image_size is not None:
            img = img.resize((int(image_size[1]), int(image_size[0])))
        a = np.asarray(img, dtype=np.float32) / 255.0
        arrays.append(a[None] if gray else np.transpose(a, (2, 0, 1)))
    x = np.stack(arrays)
    if any(l is None for l in labels):
        return Dataset(x, modality="image", source=blob.name or None)
    y, names = encode_labels(labels)
    return Dataset(x, y, modality="image", class_names=names, task="classification", source=blob.name or None)
