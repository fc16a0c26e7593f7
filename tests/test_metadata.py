"""Metadata columns: kept beside the features from CSV and Parquet tables or from Python,
never given to the model, aligned with the rows through slicing, dropped rows and pickling."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

import explain

CSV = """age,income,sex,region,score,zip,label
30,1.5,f,north,0.5,01234,yes
45,2.0,m,south,NA,02345,no
51,,f,,0.75,03456,no
62,3.1,m,north,1,04567,yes
"""


def _csv(tmp_path: Path, text: str = CSV) -> Path:
    path = tmp_path / "data.csv"
    path.write_text(text)
    return path


def test_csv_metadata_is_kept_beside_the_features(tmp_path: Path) -> None:
    data = explain.load_dataset(_csv(tmp_path), target="label", metadata=["sex", "region", "score"],
                                missing="drop")  # row 3 lacks an income: dropped, metadata too
    assert data.feature_names == ("age", "income", "zip") and data.x.shape == (3, 3)
    meta = data.metadata
    assert list(meta.columns) == ["sex", "region", "score"] and meta.index.tolist() == [0, 1, 2]
    assert meta["sex"].tolist() == ["f", "m", "m"] and meta["region"].tolist() == ["north", "south", "north"]
    assert meta["score"].dtype == np.float64 and np.isnan(meta["score"][1]) and meta["score"][2] == 1.0
    assert data.labels == ["yes", "no", "yes"]
    assert data.describe()["metadata"] == ["sex", "region", "score"]
    kept = explain.load_dataset(_csv(tmp_path), target="label", metadata=["income", "region", "zip", "sex", "score"])
    assert kept.feature_names == ("age",) and kept.metadata["region"].tolist()[2] == ""  # text as written
    assert np.isnan(kept.metadata["income"][2]) and kept.metadata["zip"].tolist()[0] == 1234.0


def test_text_columns_as_written_and_one_name_as_text(tmp_path: Path) -> None:
    path = _csv(tmp_path, "a,b,group,size,label\n1,2,NA,NA,x\n3,4,north,7,y\n")
    data = explain.load_dataset(path, target="label", metadata=["group", "size"])
    assert data.metadata["group"].tolist() == ["NA", "north"]  # not all numbers: kept exactly as written
    assert np.isnan(data.metadata["size"][0]) and data.metadata["size"][1] == 7.0  # numbers: NA is missing
    assert explain.load_dataset(path, target="label", metadata=["group"], missing="drop").metadata["group"].tolist() == ["north"]
    assert explain.load_dataset(_csv(tmp_path, "a,label\n1,x\n"), target="label").metadata is None


def test_parquet_metadata_keeps_its_types_and_missing_values(tmp_path: Path) -> None:
    frame = pd.DataFrame({"f0": [0.1, 0.2, 0.3], "f1": [1.0, 2.0, 3.0], "region": ["n", None, "s"],
                          "weight": [1.5, np.nan, 2.5], "flag": [True, False, True], "label": [0, 1, 0]})
    frame.to_parquet(tmp_path / "d.parquet")
    data = explain.load_dataset(tmp_path / "d.parquet", target="label", metadata=["region", "weight", "flag"])
    assert data.feature_names == ("f0", "f1")
    assert data.metadata["region"].tolist()[::2] == ["n", "s"] and pd.isna(data.metadata["region"][1])
    assert np.isnan(data.metadata["weight"][1]) and data.metadata["flag"].dtype == bool


def test_a_bad_metadata_name_names_the_columns(tmp_path: Path) -> None:
    path = _csv(tmp_path)
    with pytest.raises(explain.DataError, match=r"'regoin' is not a column.*\['age', 'income'.*Did you mean 'region'"):
        explain.load_dataset(path, target="label", metadata=["regoin"])
    with pytest.raises(explain.DataError, match="'label' is the target"):
        explain.load_dataset(path, target="label", metadata=["label"])
    with pytest.raises(explain.InputTypeError, match="list of column names"):
        explain.load_dataset(path, target="label", metadata=[1, 2])


def test_text_tables_take_metadata_and_npz_refuses_it(tmp_path: Path) -> None:
    path = _csv(tmp_path, "review,channel,label\ngood movie indeed,web,pos\nbad film here,shop,neg\n")
    data = explain.load_dataset(path, target="label", text="review", metadata=["channel"])
    assert data.texts == ["good movie indeed", "bad film here"] and data.metadata["channel"].tolist() == ["web", "shop"]
    np.savez(tmp_path / "a.npz", x=np.zeros((2, 3)), y=np.array([0, 1]))
    with pytest.raises(explain.DataError, match="not a table"):
        explain.load_dataset(tmp_path / "a.npz", metadata=["region"])


def test_metadata_from_python_stays_aligned_and_pickles() -> None:
    meta = pd.DataFrame({"region": list("abcde"), "age": [20, 30, np.nan, 50, 60]}, index=[10, 11, 12, 13, 14])
    data = explain.Dataset(np.arange(10.0).reshape(5, 2), np.array([0, 1, 0, 1, 1]), metadata=meta)
    assert data.metadata.index.tolist() == [0, 1, 2, 3, 4]
    assert data[1:4].metadata["region"].tolist() == ["b", "c", "d"]
    assert data[[4, 0]].metadata["region"].tolist() == ["e", "a"]
    assert data[np.array([True, False, False, False, True])].metadata["region"].tolist() == ["a", "e"]
    assert data[2].metadata["region"].tolist() == ["c"] and data[-1].metadata["region"].tolist() == ["e"]
    assert data[1:4][[2]].metadata["region"].tolist() == ["d"] and data[1:4][[2]].rows.tolist() == [3]
    again = pickle.loads(pickle.dumps(data[1:]))
    assert again.metadata.equals(data[1:].metadata) and again.rows.tolist() == [1, 2, 3, 4]
    assert explain.Dataset(np.zeros((2, 1)), metadata={"g": ["x", "y"]}).metadata["g"].tolist() == ["x", "y"]
    with pytest.raises(explain.DataError, match="metadata has 2 rows"):
        explain.Dataset(np.zeros((3, 1)), metadata=pd.DataFrame({"g": [1, 2]}))
    with pytest.raises(explain.InputTypeError, match="DataFrame"):
        explain.Dataset(np.zeros((2, 1)), metadata=["x", "y"])


def test_metadata_never_reaches_the_model(tmp_path: Path) -> None:
    data = explain.load_dataset(_csv(tmp_path), target="label", metadata=["sex", "region", "score", "income"])
    seen = []

    class Spy(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            seen.append(x.shape[1])
            return torch.cat([x[:, :1], -x[:, :1]], dim=1)

    model = explain.Model(Spy(), modality="tabular", feature_names=["age", "zip"])
    assert explain.performance(model, data, bootstrap=0).confusion_matrix.sum() == 4
    assert set(seen) == {2}
