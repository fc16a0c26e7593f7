"""Property-based fuzzing of every loader: whatever the bytes, the answer is a result or a
clean ExplainError, never another exception and never a hang."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn

import explain

FUZZ = settings(max_examples=100, deadline=5000, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def _load_dataset(data: bytes, **options: object) -> None:
    try:
        explain.load_dataset(data, **options)
    except explain.ExplainError as err:
        assert str(err)  # every refusal says something


def _load_model(data: bytes) -> None:
    try:
        explain.load_model(data, task="classification", modality="tabular")
    except explain.ExplainError as err:
        assert str(err)


@pytest.fixture(scope="module")
def valid_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """One small valid file of each format, to mutate."""
    folder = tmp_path_factory.mktemp("valid")
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2)).eval()
    explain.save_model(net, folder / "m.pt2", torch.zeros(2, 3))
    torch.onnx.export(net, (torch.zeros(1, 3),), str(folder / "m.onnx"), dynamo=False)
    npz = io.BytesIO()
    np.savez(npz, x=np.arange(12, dtype=np.float32).reshape(4, 3), y=np.array([0, 1, 0, 1]))
    images = io.BytesIO()
    with zipfile.ZipFile(images, "w") as z:
        from PIL import Image

        for label in ("cat", "dog"):
            png = io.BytesIO()
            Image.fromarray(np.full((4, 4), 200 if label == "cat" else 10, np.uint8)).save(png, format="PNG")
            z.writestr(f"{label}/a.png", png.getvalue())
    return {
        "csv": b"a,b,label\n1,2,x\n3,4,y\n5,6,x\n",
        "npz": npz.getvalue(),
        "images": images.getvalue(),
        "pt2": Path(folder / "m.pt2").read_bytes(),
        "onnx": Path(folder / "m.onnx").read_bytes(),
    }


@FUZZ
@given(st.binary(max_size=2048))
def test_any_bytes_as_a_dataset(data: bytes) -> None:
    _load_dataset(data, target="label")


@FUZZ
@given(st.binary(max_size=2048))
def test_any_bytes_as_a_model(data: bytes) -> None:
    _load_model(data)


_CELLS = st.one_of(st.text(max_size=8), st.floats(allow_nan=True, allow_infinity=True).map(str),
                   st.integers(-5, 5).map(str), st.sampled_from(['"', '""', "\n", "\r\n", ";", ",", "NA", ""]))


@FUZZ
@given(st.lists(st.lists(_CELLS, min_size=1, max_size=4), min_size=1, max_size=8),
       st.sampled_from([",", ";", "\t"]), st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"]))
def test_odd_csv_tables(rows: list[list[str]], sep: str, encoding: str) -> None:
    header = sep.join(["a", "b", "label"])
    body = "\n".join(sep.join(r) for r in rows)
    try:
        data = (header + "\n" + body).encode(encoding)
    except UnicodeEncodeError:
        return
    _load_dataset(data, target="label")


@FUZZ
@given(st.data())
@pytest.mark.parametrize("kind", ["csv", "npz", "images", "pt2", "onnx"])
def test_mutated_valid_files(valid_files: dict[str, bytes], kind: str, data: st.DataObject) -> None:
    original = bytearray(valid_files[kind])
    cut = data.draw(st.integers(0, len(original)), label="truncate at")
    mutated = original[:cut] if data.draw(st.booleans(), label="truncate") else original
    for _ in range(data.draw(st.integers(0, 6), label="flips")):
        if mutated:
            at = data.draw(st.integers(0, len(mutated) - 1))
            mutated[at] = data.draw(st.integers(0, 255))
    if kind in ("pt2", "onnx"):
        _load_model(bytes(mutated))
    else:
        _load_dataset(bytes(mutated), target="label" if kind == "csv" else None)
