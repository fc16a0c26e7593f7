"""The bundled examples: every method on every modality, through the public API."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

import explain
from explain.attribution.registry import METHODS

# the ViT has GELU and functional softmax, which DeepLift has no rule for, and no nn.ReLU
REFUSED = {"vit_digits": {"deeplift", "deeplift_shap", "guided_backprop", "deconvolution"}}


@pytest.fixture(scope="module", params=explain.examples())
def example(request: pytest.FixtureRequest) -> tuple[str, explain.Model, explain.Dataset]:
    model, data = explain.load_example(request.param)
    return request.param, model, data


def test_examples_are_accurate_on_their_held_out_data(example: tuple) -> None:
    name, model, data = example
    predictions = model.predict(data)
    if data.task == "classification":
        # match labels by name: the dataset's class order need not be the model's
        accuracy = np.mean([model.class_names[p] == label for p, label in zip(predictions, data.labels)])
        assert accuracy >= 0.95, name
    else:
        r2 = 1 - ((predictions - data.y) ** 2).sum() / ((data.y - data.y.mean()) ** 2).sum()
        assert r2 >= 0.4


@pytest.mark.slow
def test_every_served_method_runs_on_every_example(example: tuple) -> None:
    name, model, data = example
    served = explain.methods(model)
    expected = {m for m, spec in METHODS.items() if model.modality in spec.modalities} - REFUSED.get(name, set())
    assert set(served) == expected, name
    rows = data[:3]
    for method in served:
        options = {"n_steps": 16} if method == "integrated_gradients" else {}
        if method in ("lime", "kernel_shap"):
            options = {"n_samples": 60}
        if method == "shapley_value_sampling":
            options = {"n_samples": 3}
        a = explain.attribute(model, rows, method=method, **options)
        assert a.values.shape[0] == 3 and np.isfinite(a.values).all(), method
        if model.modality == "text":
            assert a.values.shape[1] == max(len(t) for t in a.tokens)
            for i, tokens in enumerate(a.tokens):
                assert tokens[0] == "[CLS]" and tokens[-1] == "[SEP]"
                assert not a.values[i, len(tokens):].any()  # nothing past the text's end
        else:
            assert a.values.shape == data.x[:3].shape
        a.plot()  # the natural plot builds for every method and modality
    for method in expected.symmetric_difference(METHODS):
        with pytest.raises(explain.MethodError):
            explain.attribute(model, rows, method=method)


def test_text_example_explains_negation() -> None:
    model, _ = explain.load_example("sentiment")
    texts = ["the movie was not good", "the movie was good"]
    a = explain.attribute(model, texts, method="integrated_gradients", target=1)
    tokens = list(a.tokens[0])
    # "not" pushes away from positive; completeness holds over tokens
    assert a.values[0, tokens.index("not")] < 0
    np.testing.assert_allclose(a.values.sum(1), a.outputs - a.base_values, atol=0.05)


def test_unknown_example() -> None:
    with pytest.raises(explain.InputError, match="choose one of"):
        explain.load_example("mnist")


def test_examples_are_package_data_and_the_folder_can_be_moved(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from explain.loading.catalog import examples_folder

    bundled = Path(explain.__file__).parent / "loading" / "bundled"
    assert examples_folder() == bundled, "inside the package, so the wheel ships them"
    for name in explain.examples():
        assert (bundled / name / "model" / "config.json").is_file()
    shutil.copytree(bundled / "diabetes", tmp_path / "diabetes")
    monkeypatch.setenv("EXPLAIN_EXAMPLES", str(tmp_path))
    model, data = explain.load_example("diabetes")
    assert model.task == "regression" and len(data) > 50
    with pytest.raises(explain.InputError, match="EXPLAIN_EXAMPLES"):
        explain.load_example("digits")  # not in the folder pointed at
