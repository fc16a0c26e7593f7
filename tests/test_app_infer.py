"""The app's pure helpers: inferring an upload's label column, and the tables behind charts."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pandas as pd
import pytest

from explain.app import infer, tables
from explain.app.infer import Header, guess_columns, metadata_columns, read_header
from explain.core.dataset import Dataset
from explain.results import Attribution

NUM = "number"


# --- read_header ------------------------------------------------------------------------
def test_read_header_finds_columns_and_kinds() -> None:
    data = (
        b"age,city,review,label\n"
        b"31,Paris,this place was lovely and quiet,yes\n"
        b"NA,Oslo,far too loud for my taste,no\n"
        b"45,Rome,would come back any time,yes\n"
    )
    header = read_header(data)
    assert header == Header(("age", "city", "review", "label"), (NUM, "category", "text", "category"))


@pytest.mark.parametrize("sep", [";", "\t", "|"])
def test_read_header_sniffs_the_separator_like_the_loader(sep: str) -> None:
    data = sep.join(["a", "b", "y"]).encode() + b"\n" + sep.join(["1", "2", "0"]).encode() + b"\n"
    assert read_header(data).columns == ("a", "b", "y")


def test_read_header_handles_a_byte_order_mark_and_latin1() -> None:
    assert read_header("\ufeffnaïve,y\n1,0\n".encode("utf-8")).columns == ("naïve", "y")
    assert read_header("naïve,y\n1,0\n".encode("latin-1")).columns == ("naïve", "y")


def test_read_header_reads_only_the_head_of_a_large_file() -> None:
    head = b"x1,x2,target\n" + b"1.5,2.5,0\n" * (infer.HEAD_BYTES // 10 - 5)
    tail = b"\x00\x01 not a csv \x00" * 100_000  # past the head: never parsed
    assert len(head) < infer.HEAD_BYTES < len(head + tail)
    header = read_header(head + tail)
    assert header == Header(("x1", "x2", "target"), (NUM, NUM, NUM))


def test_read_header_of_parquet() -> None:
    pytest.importorskip("pyarrow")
    buffer = io.BytesIO()
    pd.DataFrame({"a": [1.0, 2.0], "b": [3, 4], "kind": ["x", "y"]}).to_parquet(buffer)
    assert read_header(buffer.getvalue()) == Header(("a", "b", "kind"), (NUM, NUM, "category"))


def test_read_header_is_none_for_archives_and_binary_files() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("x.npy", b"")
    assert read_header(buffer.getvalue()) is None
    assert read_header(b"\x00\x01\x02binary") is None
    assert read_header(b"") is None


# --- guess_columns ------------------------------------------------------------------------
def _numbers(*columns: str) -> Header:
    return Header(columns, (NUM,) * len(columns))


def test_the_column_not_among_the_models_feature_names_is_the_target() -> None:
    header = _numbers("age", "income", "outcome_code", "height")
    guess = guess_columns(header, n_features=3, feature_names=["age", "income", "height"])
    assert (guess.target, guess.text, guess.certain) == ("outcome_code", None, True)
    assert "not one of the model's 3 features" in guess.reason


def test_every_column_a_feature_means_no_labels() -> None:
    guess = guess_columns(_numbers("a", "b"), n_features=2, feature_names=["a", "b"])
    assert guess.target is None and guess.certain


def test_several_extra_columns_prefer_a_label_name_and_offer_the_rest_as_metadata() -> None:
    header = _numbers("id", "a", "b", "Target")
    guess = guess_columns(header, feature_names=["a", "b"])
    assert guess.target == "Target" and not guess.certain
    assert "'id'" in guess.reason and "offered as metadata" in guess.reason
    assert metadata_columns(header, guess.target, None, feature_names=["a", "b"]) == (["id", "a", "b"], ["id"])


def test_the_column_of_the_models_class_names_is_the_label_beside_a_metadata_column() -> None:
    header = read_header(b"a,b,diagnosis,region\n1,2,sick,north\n3,4,healthy,south\n5,6,sick,east\n")
    assert header.levels[2] == ("sick", "healthy") and header.levels[0] == ()
    guess = guess_columns(header, feature_names=["a", "b"], class_names=["healthy", "sick"])
    assert guess.target == "diagnosis" and "class names" in guess.reason
    assert guess_columns(header, feature_names=["a", "b"]).target == "region", "without class names: the last"
    assert metadata_columns(header, "diagnosis", None, feature_names=["a", "b"]) == (["a", "b", "region"], ["region"])
    assert metadata_columns(header, "diagnosis", None, n_features=2) == (["a", "b", "region"], ["region"])
    assert metadata_columns(header, "diagnosis", None) == (["a", "b", "region"], ["region"])


def test_feature_names_of_another_table_fall_back_to_counting() -> None:
    guess = guess_columns(_numbers("c1", "c2", "c3"), n_features=2, feature_names=["x0", "x1"])
    assert guess.target == "c3" and not guess.certain


@pytest.mark.parametrize("name", ["label", "target", "class", "y", "outcome", "Label", "CLASS"])
def test_counting_prefers_a_label_like_name(name: str) -> None:
    guess = guess_columns(_numbers("f1", name, "f2"), n_features=2)
    assert guess.target == name and guess.certain
    assert "named like a label" in guess.reason


def test_counting_prefers_the_only_non_numeric_column() -> None:
    header = Header(("f1", "species", "f2"), (NUM, "category", NUM))
    guess = guess_columns(header, n_features=2)
    assert guess.target == "species" and guess.certain


def test_counting_falls_back_to_the_last_column_and_says_to_check() -> None:
    guess = guess_columns(_numbers("f1", "f2", "f3"), n_features=2)
    assert guess.target == "f3" and not guess.certain and "last column" in guess.reason


def test_a_table_of_exactly_the_models_features_has_no_labels() -> None:
    guess = guess_columns(_numbers("f1", "f2"), n_features=2)
    assert guess.target is None and guess.certain


def test_a_table_that_cannot_fit_says_so() -> None:
    guess = guess_columns(_numbers("f1", "f2", "f3", "label"), n_features=2)
    assert guess.target == "label" and not guess.certain
    assert "takes 2 features but the table has 4 columns" in guess.reason


def test_a_text_csv_takes_the_text_column_as_input_and_the_other_as_target() -> None:
    header = Header(("sentence", "sentiment"), ("text", "category"))
    guess = guess_columns(header)
    assert (guess.text, guess.target, guess.certain) == ("sentence", "sentiment", True)
    assert guess_columns(header, modality="text") == guess


def test_a_text_csv_with_more_columns_prefers_a_label_name() -> None:
    header = Header(("id", "text", "label"), (NUM, "text", "category"))
    guess = guess_columns(header, modality="text")
    assert (guess.text, guess.target, guess.certain) == ("text", "label", False)


def test_a_lone_text_column_has_no_labels() -> None:
    guess = guess_columns(Header(("text",), ("text",)))
    assert guess.text == "text" and guess.target is None


def test_without_a_model_only_a_named_or_non_numeric_column_is_guessed() -> None:
    assert guess_columns(_numbers("a", "b", "y")).target == "y"
    assert guess_columns(Header(("a", "kind"), (NUM, "category"))).target == "kind"
    nothing = guess_columns(_numbers("a", "b"))
    assert nothing.target is None and not nothing.certain


def test_the_guess_on_a_real_file_end_to_end() -> None:
    csv = pd.DataFrame({"a": [1.0, 2.0], "diagnosis": ["sick", "ok"], "b": [3.0, 4.0]}).to_csv(index=False)
    guess = guess_columns(read_header(csv.encode()), n_features=2, feature_names=["a", "b"])
    assert guess.target == "diagnosis"


# --- tables -----------------------------------------------------------------------------------
def test_tabular_attributions_as_a_wide_table() -> None:
    attr = Attribution(values=np.array([[0.1, -0.2], [0.3, 0.4]]), method="saliency",
                       target=np.array([0, 1]), modality="tabular", feature_names=("a", "b"))
    frame = tables.attribution_frame(attr, [5, 9])
    assert list(frame.columns) == ["row", "target", "a", "b"]
    assert frame["row"].tolist() == [5, 9] and frame["target"].tolist() == ["0", "1"]
    assert np.allclose(frame[["a", "b"]].to_numpy(), attr.values)


def test_image_attributions_as_a_long_table_of_pixel_coordinates() -> None:
    values = np.arange(2 * 3 * 4, dtype=float).reshape(1, 2, 3, 4)
    attr = Attribution(values=values, method="saliency", target=np.array([2]), modality="image",
                       class_names=("a", "b", "c"))
    frame = tables.attribution_frame(attr, [7])
    assert list(frame.columns) == ["row", "target", "channel", "y", "x", "value"]
    assert len(frame) == 24 and set(frame["target"]) == {"c"}
    for record in frame.sample(5, random_state=0).itertuples():
        assert record.value == values[0, record.channel, record.y, record.x]


def test_text_attributions_as_a_long_table_of_tokens() -> None:
    attr = Attribution(values=np.array([[0.5, -0.5, 0.0]]), method="saliency", target=np.array([0]),
                       modality="text", tokens=(("[CLS]", "good", "[SEP]"),))
    frame = tables.attribution_frame(attr, [3])
    assert frame.to_dict("records")[1] == {"row": 3, "target": "0", "position": 1, "token": "good", "value": -0.5}


def test_attribution_frame_needs_one_row_per_example() -> None:
    attr = Attribution(values=np.zeros((2, 2)), method="saliency", target=np.zeros(2, int), modality="tabular")
    with pytest.raises(ValueError, match="one per example"):
        tables.attribution_frame(attr, [0])


def test_row_previews_of_texts_and_images_with_labels() -> None:
    texts = Dataset(texts=["a rather long sentence " * 5, "short"], y=np.array([1, 0]), class_names=["neg", "pos"])
    lines = tables.row_previews(texts)
    assert lines[1] == "1 · neg · 'short'"
    assert lines[0].startswith("0 · pos · 'a rather") and lines[0].endswith("…")
    images = Dataset(np.zeros((3, 1, 8, 8)), modality="image")
    assert tables.row_previews(images, limit=2) == ["0 · image 1×8×8", "1 · image 1×8×8"]


def test_sample_rows_and_rank_agreement() -> None:
    rows = tables.sample_rows(500, 50, seed=3)
    assert len(set(rows)) == 50 and rows == sorted(rows) and rows == tables.sample_rows(500, 50, seed=3)
    assert tables.rank_agreement(np.array([1.0, 2.0, 3.0]), np.array([-3.0, -2.0, -1.0])) == pytest.approx(-1.0)
    assert np.isnan(tables.rank_agreement(np.ones(3), np.arange(3.0)))
