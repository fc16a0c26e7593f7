"""Counterfactuals of images (the bundled 8x8 digits CNN) and text (the bundled sentiment
model): validity by a fresh forward pass, the value range, determinism, the time limit,
the edits, the plots and the errors."""

from __future__ import annotations

import time

import numpy as np
import pytest

import explain
from explain.errors import InputError
from explain.plots import counterfactual_difference, counterfactual_edits
from explain.recourse_media.texts import token_edits


@pytest.fixture(scope="module")
def digits() -> tuple[explain.Model, explain.Dataset]:
    return explain.load_example("digits")


@pytest.fixture(scope="module")
def found(digits: tuple[explain.Model, explain.Dataset]) -> explain.ImageCounterfactuals:
    model, data = digits
    return explain.counterfactuals(model, data, data[:3], target="3", time_limit=20.0)


def test_image_counterfactuals_reach_the_target_on_a_fresh_pass(
        digits: tuple[explain.Model, explain.Dataset], found: explain.ImageCounterfactuals) -> None:
    model, data = digits
    assert isinstance(found, explain.ImageCounterfactuals) and found.validity.all()
    assert (model.predict(found.counterfactuals) == 3).all() and (found.prediction == 3).all()
    np.testing.assert_array_equal(found.originals, data.x[:3])
    assert found.counterfactuals.min() >= data.x.min() and found.counterfactuals.max() <= data.x.max()
    diff = found.difference.reshape(3, -1)
    np.testing.assert_allclose(found.l2, np.linalg.norm(diff, axis=1), rtol=1e-5)
    np.testing.assert_allclose(found.linf, np.abs(diff).max(axis=1), rtol=1e-5)
    assert (found.l2 > 0).all() and ((found.changed_pixels > 0) & (found.changed_pixels <= 1)).all()
    assert found.l2.max() < np.linalg.norm(data.x[:3].reshape(3, -1), axis=1).min()  # a small change
    assert found.summary().shape[0] == 3 and found.frame()["valid"].all() and found.to_json()
    assert found.reasons == ("", "", "")


def test_image_plot_shows_original_counterfactual_and_difference(found: explain.ImageCounterfactuals) -> None:
    fig = found.plot(1)
    assert [t.type for t in fig.data] == ["heatmap"] * 3
    np.testing.assert_allclose(np.array(fig.data[2].z), found.difference[1].sum(axis=0), atol=1e-6)
    assert counterfactual_difference(found, 0).layout.title.text.startswith("toward 3")
    with pytest.raises(InputError, match="out of range"):
        found.plot(5)


def test_image_search_is_deterministic_and_a_query_at_the_target_needs_no_change(
        digits: tuple[explain.Model, explain.Dataset]) -> None:
    model, data = digits
    rows = [int(np.flatnonzero(model.predict(data) == 3)[0]), 0]
    a = explain.counterfactuals(model, data, data[rows], target=3, time_limit=60.0, seed=1)  # no time-out
    b = explain.counterfactuals(model, data, data[rows], target=3, time_limit=60.0, seed=1)
    np.testing.assert_array_equal(a.counterfactuals, b.counterfactuals)
    assert not a.validity[0] and "already" in a.reasons[0] and (a.difference[0] == 0).all()
    assert a.validity[1]


def test_image_time_limit_runner_up_default_and_errors(digits: tuple[explain.Model, explain.Dataset]) -> None:
    model, data = digits
    start = time.monotonic()
    quick = explain.counterfactuals(model, data, data[:2], time_limit=0.01)
    assert time.monotonic() - start < 5.0
    runner_up = np.argsort(-model.logits(data[:2]), axis=1)[:, 1]
    np.testing.assert_array_equal(quick.target_index, runner_up)
    for valid, reason in zip(quick.validity, quick.reasons):
        assert valid or "time limit" in reason
    with pytest.raises(InputError, match="pixel range"):
        explain.counterfactuals(model, data, data[:1], ranges=(1.0, 0.0, 2.0))
    with pytest.raises(InputError, match="Unknown target class"):
        explain.counterfactuals(model, data, data[:1], target="eleven")


@pytest.fixture(scope="module")
def sentiment() -> tuple[explain.Model, explain.Dataset]:
    return explain.load_example("sentiment")


def test_text_counterfactuals_flip_the_decision_with_word_edits(
        sentiment: tuple[explain.Model, explain.Dataset]) -> None:
    model, data = sentiment
    texts = list(data.texts[:4])
    cf = explain.counterfactuals(model, data, texts, max_edits=4)
    assert isinstance(cf, explain.TextCounterfactuals) and cf.validity.sum() >= 3
    predicted = model.predict(texts)
    np.testing.assert_array_equal(cf.targets, [cf.outputs[1 - p] for p in predicted])  # binary: the other class
    fresh = model.predict(list(cf.counterfactuals))
    np.testing.assert_array_equal(fresh[cf.validity], 1 - predicted[cf.validity])
    tokenize = model.tokenizer.tokenize
    for i in np.flatnonzero(cf.validity):
        assert 1 <= len(cf.edits[i]) <= 4 and cf.counterfactuals[i] != texts[i]
        rebuilt = [t for t in tokenize(texts[i])]
        for position, word, new in sorted(cf.edits[i], reverse=True):
            assert rebuilt[position] == word
            if new is None:
                del rebuilt[position]
            else:
                rebuilt[position] = new
        assert rebuilt == tokenize(cf.counterfactuals[i])  # the edits are exactly the change
        assert len(cf.changes(i)) == len(cf.edits[i]) and cf.reasons[i] == ""
    for i in np.flatnonzero(~cf.validity):
        assert cf.reasons[i] and cf.counterfactuals[i] == texts[i]
    fig = counterfactual_edits(cf, int(np.flatnonzero(cf.validity)[0]))
    assert "<s>" in fig.layout.annotations[0].text and cf.summary().shape[0] == 4 and cf.to_json()


def test_text_target_already_reached_one_string_and_errors(sentiment: tuple[explain.Model, explain.Dataset]) -> None:
    model, _ = sentiment
    text = "i love this movie"
    label = model.class_names[int(model.predict([text])[0])]
    cf = explain.counterfactuals(model, None, text, target=label)
    assert not cf.validity[0] and "already" in cf.reasons[0] and cf.edits == ((),)
    with pytest.raises(InputError, match="Unknown target class"):
        explain.counterfactuals(model, None, [text], target="neutral")
    with pytest.raises(InputError, match="at least one"):
        explain.counterfactuals(model, None, [])


def test_token_edits() -> None:
    assert token_edits(["a", "b", "c"], ["a", "b", "c"]) == ()
    assert token_edits(["a", "b", "c"], ["a", "c"]) == ((1, "b", None),)
    assert token_edits(["a", "b", "c"], ["x", "b", "y"]) == ((0, "a", "x"), (2, "c", "y"))
