"""Dataset loading: every format, labels kept as written, and every bad input explained."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image
from torch import nn

import explain


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


def test_csv_with_target(tmp_path: Path) -> None:
    path = write(tmp_path, "d.csv", "a,b,label\n1,2,cat\n3,4.5,dog\n-1,0,cat\n")
    data = explain.load_dataset(path, target="label")
    np.testing.assert_array_equal(data.x, [[1, 2], [3, 4.5], [-1, 0]])
    assert data.feature_names == ("a", "b") and data.class_names == ("cat", "dog")
    assert data.y.tolist() == [0, 1, 0] and data.task == "classification"
    assert data.labels == ["cat", "dog", "cat"]
    assert len(data[:2]) == 2 and data[1].labels == ["dog"]


def test_labels_are_kept_exactly_as_written(tmp_path: Path) -> None:
    path = write(tmp_path, "d.csv", "x,label\n1,NA\n2,None\n3,NA\n4,0\n")
    data = explain.load_dataset(path, target="label")
    assert data.class_names == ("0", "NA", "None")
    assert data.labels == ["NA", "None", "NA", "0"]


def test_integer_labels_sort_numerically_and_regression_is_inferred(tmp_path: Path) -> None:
    data = explain.load_dataset(write(tmp_path, "d.csv", "x,y\n1,10\n2,9\n3,10\n"), target="y")
    assert data.class_names == ("9", "10") and data.y.tolist() == [1, 0, 1]
    reg = explain.load_dataset(write(tmp_path, "r.csv", "x,y\n1,0.5\n2,1.25\n"), target="y")
    assert reg.task == "regression" and reg.y.tolist() == [0.5, 1.25]


def test_bom_semicolons_and_latin1(tmp_path: Path) -> None:
    path = write(tmp_path, "d.csv", "\ufeffa;b;label\n1;2;x\n".encode("utf-8"))
    data = explain.load_dataset(path, target="label")
    assert data.feature_names == ("a", "b")
    latin = write(tmp_path, "l.csv", "caf\xe9,label\n1,s\xfc\xdf\n".encode("latin-1"))
    assert explain.load_dataset(latin, target="label").class_names == ("s\xfc\xdf",)


def test_missing_values_are_an_error_or_dropped(tmp_path: Path) -> None:
    path = write(tmp_path, "d.csv", "a,b,label\n1,,x\n2,3,y\nNaN,1,x\n4,5,x\n")
    with pytest.raises(explain.DataError, match=r"2 rows .* missing values \(in \['a', 'b'\]\).*missing='drop'"):
        explain.load_dataset(path, target="label")
    data = explain.load_dataset(path, target="label", missing="drop")
    assert data.x.tolist() == [[2, 3], [4, 5]] and data.labels == ["y", "x"]


def test_missing_target_column_suggests_the_close_one(tmp_path: Path) -> None:
    path = write(tmp_path, "d.csv", "a,b,label\n1,2,x\n")
    with pytest.raises(explain.DataError, match="'labels' is not in .* Did you mean 'label'"):
        explain.load_dataset(path, target="labels")


def test_non_numeric_features_are_named(tmp_path: Path) -> None:
    path = write(tmp_path, "d.csv", "a,colour,label\n1,red,x\n2,blue,y\n")
    with pytest.raises(explain.DataError, match=r"Columns \['colour'\].*'red'.*encode categories"):
        explain.load_dataset(path, target="label")


def test_binary_garbage_named_csv(tmp_path: Path) -> None:
    path = write(tmp_path, "d.csv", bytes(range(256)) * 8)
    with pytest.raises(explain.DataError, match="not a text CSV"):
        explain.load_dataset(path)


def test_csv_with_one_column_too_few_names_both_numbers(tmp_path: Path) -> None:
    model = explain.Model(nn.Linear(3, 2))
    data = explain.load_dataset(write(tmp_path, "d.csv", "a,b,label\n1,2,x\n"), target="label")
    with pytest.raises(explain.DataError, match="takes 3 features but the data has 2"):
        explain.attribute(model, data, method="saliency")


def test_text_csv(tmp_path: Path) -> None:
    path = write(tmp_path, "t.csv", 'text,label\n"a fine day, truly",pos\nawful stuff,neg\n')
    data = explain.load_dataset(path, target="label")
    assert data.modality == "text" and data.texts == ["a fine day, truly", "awful stuff"]
    assert data.labels == ["pos", "neg"]


def test_parquet(tmp_path: Path) -> None:
    frame = pd.DataFrame({"a": [1.0, 2.0], "b": [3, 4], "label": ["NA", "b"]})
    frame.to_parquet(tmp_path / "d.parquet")
    data = explain.load_dataset(tmp_path / "d.parquet", target="label")
    assert data.x.tolist() == [[1, 3], [2, 4]] and data.labels == ["NA", "b"]


def test_npz_images_and_tables(tmp_path: Path) -> None:
    np.savez(tmp_path / "i.npz", x=np.zeros((4, 8, 8)), y=np.array([0, 1, 1, 0]))
    images = explain.load_dataset(tmp_path / "i.npz")
    assert images.modality == "image" and images.x.shape == (4, 1, 8, 8)
    np.savez(tmp_path / "h.npz", x=np.zeros((2, 5, 5, 3)))
    assert explain.load_dataset(tmp_path / "h.npz").x.shape == (2, 3, 5, 5)  # NHWC -> NCHW
    np.savez(tmp_path / "t.npz", x=np.ones((3, 2)), y=np.array([0.5, 1.5, 2.5]))
    table = explain.load_dataset(tmp_path / "t.npz")
    assert table.modality == "tabular" and table.task == "regression"


def test_npz_with_objects_is_refused_without_unpickling(tmp_path: Path) -> None:
    np.savez(tmp_path / "o.npz", x=np.array([{"a": 1}], dtype=object))
    with pytest.raises(explain.DataError, match="object arrays"):
        explain.load_dataset(tmp_path / "o.npz")


def _png(value: int, size: tuple[int, int] = (6, 4)) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.full(size[::-1], value, dtype=np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_image_zip_in_class_folders(tmp_path: Path) -> None:
    path = tmp_path / "imgs.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("data/cat/1.png", _png(255))
        archive.writestr("data/dog/2.png", _png(0))
        archive.writestr("data/cat/3.png", _png(51))
    data = explain.load_dataset(path)
    assert data.x.shape == (3, 1, 4, 6) and data.class_names == ("cat", "dog")
    np.testing.assert_allclose(data.x[:, 0, 0, 0], [1.0, 0.0, 0.2])
    assert data.labels == ["cat", "dog", "cat"]


def test_image_zip_sizes_must_match_or_be_resized(tmp_path: Path) -> None:
    path = tmp_path / "imgs.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("a/1.png", _png(1, (6, 4)))
        archive.writestr("b/2.png", _png(1, (8, 8)))
    with pytest.raises(explain.DataError, match="image_size"):
        explain.load_dataset(path)
    assert explain.load_dataset(path, image_size=(5, 5)).x.shape == (2, 1, 5, 5)


def test_image_zip_with_parent_entry_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "evil.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("cat/1.png", _png(1))
        archive.writestr("../cat/2.png", _png(1))
    with pytest.raises(explain.DataError, match="points outside the archive.*without '..'"):
        explain.load_dataset(path)


def test_inputs_with_nan_are_refused(mlp: nn.Module) -> None:
    x = torch.zeros(2, 5)
    x[1, 3] = float("nan")
    with pytest.raises(explain.DataError, match="NaN"):
        explain.attribute(explain.Model(mlp), x, method="saliency")


def test_dataframe_inputs(mlp: nn.Module) -> None:
    frame = pd.DataFrame(np.ones((3, 5)), columns=list("abcde"))
    a = explain.attribute(explain.Model(mlp), frame, method="saliency")
    assert a.values.shape == (3, 5)
    frame["name"] = "x"
    with pytest.raises(explain.DataError, match="not numeric"):
        explain.attribute(explain.Model(mlp), frame, method="saliency")


def test_quoted_newlines_and_mixed_types(tmp_path: Path) -> None:
    texts = 'review,stars\n"great film,\nsaw it twice",5\n"dull",1\n"a ""quoted"" word",3\n'
    (tmp_path / "reviews.csv").write_text(texts, encoding="utf-8")
    data = explain.load_dataset(tmp_path / "reviews.csv", target="stars")
    assert data.texts == ["great film,\nsaw it twice", "dull", 'a "quoted" word'] and data.labels == ["5", "1", "3"]
    (tmp_path / "mixed.csv").write_text("a,b,label\n1,2,x\n3,oops,y\n4,5,x\n", encoding="utf-8")
    with pytest.raises(explain.DataError, match="'b'|b"):
        explain.load_dataset(tmp_path / "mixed.csv", target="label", text=None)
