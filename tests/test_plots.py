"""Tests of the plot layer: content of the figures, not only that they draw."""

from __future__ import annotations

import json
import math

import numpy as np
import plotly.graph_objects as go
import pytest

from explain import plots
from explain.errors import InputError
from explain.results import Attribution


def _tabular(n: int = 30, d: int = 6, seed: int = 0, inputs: bool = True) -> Attribution:
    rng = np.random.default_rng(seed)
    return Attribution(
        values=rng.normal(size=(n, d)),
        method="saliency",
        target=np.zeros(n, dtype=int),
        modality="tabular",
        inputs=rng.normal(size=(n, d)) if inputs else None,
        feature_names=tuple(f"f{j}" for j in range(d)),
        class_names=("no", "yes"),
    )


def _image(channels: int = 3, inputs: bool = True) -> Attribution:
    rng = np.random.default_rng(1)
    return Attribution(
        values=rng.normal(size=(2, channels, 5, 7)),
        method="integrated_gradients",
        target=np.array([1, 0]),
        modality="image",
        inputs=rng.uniform(size=(2, channels, 5, 7)) if inputs else None,
        class_names=("cat", "dog"),
    )


def _text(lengths: tuple[int, ...] = (100, 3)) -> Attribution:
    width = max(lengths)
    values = np.zeros((len(lengths), width))
    tokens = []
    for i, length in enumerate(lengths):
        values[i, :length] = np.linspace(-1.0, 2.0, length) * (i + 1)
        tokens.append(tuple(f"t{i}_{p}" for p in range(length)))
    return Attribution(
        values=values,
        method="saliency",
        target=np.zeros(len(lengths), dtype=int),
        modality="text",
        tokens=tuple(tokens),
    )


def _serialises(fig: go.Figure) -> None:
    assert isinstance(fig, go.Figure)
    assert json.loads(fig.to_json())["data"]


# --- tabular -----------------------------------------------------------------


def test_feature_bars_orders_by_abs_value():
    attr = Attribution(
        values=np.array([[0.1, -3.0, 2.0, -0.5], [9.0, 0.0, 0.0, 0.0]]),
        method="saliency",
        target=np.array([1, 0]),
        modality="tabular",
        inputs=np.array([[10.0, 20.0, 30.0, 40.0], [0.0, 0.0, 0.0, 0.0]]),
        feature_names=("a", "b", "c", "d"),
        class_names=("no", "yes"),
    )
    fig = plots.feature_bars(attr, 0)
    bar = fig.data[0]
    assert list(bar.y) == ["b", "c", "d", "a"]
    np.testing.assert_allclose(bar.x, [-3.0, 2.0, -0.5, 0.1])
    np.testing.assert_allclose(np.asarray(bar.customdata)[:, 0], [20.0, 30.0, 40.0, 10.0])
    assert fig.layout.yaxis.autorange == "reversed"  # first y (largest) drawn at the top
    colors = list(bar.marker.color)
    assert colors[0] == colors[2] != colors[1] == colors[3]  # negatives share one colour
    assert "saliency" in fig.layout.title.text
    assert "example 0" in fig.layout.title.text and "yes" in fig.layout.title.text
    _serialises(fig)


def test_feature_bars_top_k_and_index():
    attr = _tabular()
    fig = plots.feature_bars(attr, 3, top_k=2)
    row = attr.values[3]
    order = np.argsort(-np.abs(row))[:2]
    assert list(fig.data[0].y) == [f"f{j}" for j in order]
    np.testing.assert_allclose(fig.data[0].x, row[order])
    with pytest.raises(InputError):
        plots.feature_bars(attr, 99)


def test_feature_bars_without_inputs():
    fig = plots.feature_bars(_tabular(inputs=False), 0)
    assert fig.data[0].customdata is None
    _serialises(fig)


def test_global_importance_is_mean_abs():
    attr = _tabular(n=10, d=5)
    fig = plots.global_importance(attr, top_k=3)
    expected = np.abs(attr.values).mean(axis=0)
    order = np.argsort(-expected)[:3]
    assert list(fig.data[0].y) == [f"f{j}" for j in order]
    np.testing.assert_allclose(fig.data[0].x, expected[order])
    _serialises(fig)


def test_beeswarm_rows_and_colours():
    attr = _tabular(n=40, d=8)
    fig = plots.beeswarm(attr, top_k=5)
    assert len(fig.data) == 5
    importance = np.abs(attr.values).mean(axis=0)
    order = np.argsort(-importance)[:5]
    assert [t.name for t in fig.data] == [f"f{j}" for j in order]
    assert list(fig.layout.yaxis.ticktext) == [f"f{j}" for j in order][::-1]
    for rank, (trace, j) in enumerate(zip(fig.data, order)):
        np.testing.assert_allclose(trace.x, attr.values[:, j])
        centre = 4 - rank
        assert np.all(np.abs(np.asarray(trace.y) - centre) <= 0.3)
        color = np.asarray(trace.marker.color)
        assert color.min() == pytest.approx(0.0) and color.max() == pytest.approx(1.0)
        column = attr.inputs[:, j]
        assert np.argmax(color) == np.argmax(column)
    assert fig.layout.coloraxis.colorbar.title.text == "feature value"
    assert any(s.type == "line" and s.x0 == 0 and s.x1 == 0 for s in fig.layout.shapes)
    _serialises(fig)


def test_beeswarm_max_points_is_deterministic():
    attr = _tabular(n=200, d=3)
    first = plots.beeswarm(attr, max_points=50, seed=3)
    second = plots.beeswarm(attr, max_points=50, seed=3)
    assert all(len(t.x) == 50 for t in first.data)
    for a, b in zip(first.data, second.data):
        np.testing.assert_array_equal(a.x, b.x)
        np.testing.assert_array_equal(a.y, b.y)
    assert all(len(t.x) == 200 for t in plots.beeswarm(attr).data)


def test_beeswarm_without_inputs_and_constant_feature():
    _serialises(plots.beeswarm(_tabular(inputs=False)))
    attr = Attribution(
        values=np.array([[1.0, 2.0], [3.0, 4.0]]),
        method="saliency",
        target=np.zeros(2, dtype=int),
        modality="tabular",
        inputs=np.array([[5.0, 1.0], [5.0, 2.0]]),
    )
    fig = plots.beeswarm(attr)
    constant = next(t for t in fig.data if t.name == "x0")
    np.testing.assert_allclose(constant.marker.color, [0.5, 0.5])


# --- image -------------------------------------------------------------------


@pytest.mark.parametrize("channels", [1, 3])
def test_image_heatmap_panels(channels):
    attr = _image(channels)
    fig = plots.image_heatmap(attr, 1)
    heat = fig.data[1]
    assert heat.type == "heatmap"
    np.testing.assert_allclose(heat.z, attr.values[1].sum(axis=0))
    bound = np.abs(attr.values[1].sum(axis=0)).max()
    assert heat.zmin == pytest.approx(-bound) and heat.zmax == pytest.approx(bound)
    assert heat.zmid == 0
    assert heat.colorscale[0][1] == "rgb(5,48,97)"  # RdBu_r: blue low, red high
    assert fig.data[0].type == ("image" if channels == 3 else "heatmap")
    if channels == 3:
        z = np.asarray(fig.data[0].z)
        assert z.shape == (5, 7, 3) and z.min() >= 0 and z.max() <= 255
        np.testing.assert_allclose(z, attr.inputs[1].transpose(1, 2, 0) * 255)
    overlay = fig.data[3]
    assert overlay.opacity == pytest.approx(0.6) and overlay.showscale is False
    np.testing.assert_allclose(fig.data[2].z, attr.inputs[1].mean(axis=0))
    for name in ("yaxis", "yaxis2", "yaxis3"):
        assert fig.layout[name].autorange == "reversed"
    assert fig.layout.yaxis2.scaleanchor == "x2"
    assert "dog" in fig.layout.title.text or "cat" in fig.layout.title.text
    _serialises(fig)


def test_image_heatmap_without_inputs_and_all_zero():
    attr = Attribution(
        values=np.zeros((1, 1, 4, 4)), method="saliency", target=np.array([0]), modality="image"
    )
    fig = plots.image_heatmap(attr)
    assert len(fig.data) == 1
    assert fig.data[0].zmin == -fig.data[0].zmax and fig.data[0].zmax > 0
    assert fig.layout.yaxis.autorange == "reversed"
    _serialises(fig)


def test_image_heatmap_scales_normalised_rgb():
    attr = Attribution(
        values=np.ones((1, 3, 2, 2)),
        method="saliency",
        target=np.array([0]),
        modality="image",
        inputs=np.linspace(-2.0, 2.0, 12).reshape(1, 3, 2, 2),
    )
    z = np.asarray(plots.image_heatmap(attr).data[0].z)
    assert z.min() == pytest.approx(0.0) and z.max() == pytest.approx(255.0)


# --- text --------------------------------------------------------------------


def test_token_strip_wraps_long_examples():
    attr = _text((100, 3))
    wrap = 40
    fig = plots.token_strip(attr, wrap=wrap)
    heat = fig.data[0]
    z = [list(r) for r in heat.z]
    text = [list(r) for r in heat.text]
    rows = math.ceil(100 / wrap)
    assert len(z) == rows + 1
    assert all(len(r) == wrap for r in z)
    flat_text = [t for r in text[:rows] for t in r][:100]
    assert flat_text == list(attr.tokens[0])
    flat_z = [v for r in z[:rows] for v in r]
    np.testing.assert_allclose(flat_z[:100], attr.values[0, :100])
    assert all(v is None for v in flat_z[100:])
    assert text[rows][:3] == ["t1_0", "t1_1", "t1_2"] and z[rows][3] is None
    bound = np.abs(attr.values).max()
    assert heat.zmin == pytest.approx(-bound) and heat.zmax == pytest.approx(bound)
    assert heat.zmid == 0 and heat.texttemplate == "%{text}"
    assert heat.colorscale[0][1] == "rgb(5,48,97)"
    assert "%{text}" in heat.hovertemplate and "%{z" in heat.hovertemplate
    assert fig.layout.yaxis.autorange == "reversed"
    _serialises(fig)


def test_token_strip_indices_and_escaping():
    attr = Attribution(
        values=np.array([[0.5, -1.0, 0.0], [1.0, 2.0, 3.0]]),
        method="saliency",
        target=np.array([0, 1]),
        modality="text",
        tokens=(("<s>", "a&b"), ("x", "y", "z")),
    )
    fig = plots.token_strip(attr, indices=[1])
    assert [list(r) for r in fig.data[0].text] == [["x", "y", "z"]]
    fig = plots.token_strip(attr, indices=[0], wrap=5)
    assert list(fig.data[0].text[0]) == ["&lt;s&gt;", "a&amp;b"]
    np.testing.assert_allclose(fig.data[0].z[0], [0.5, -1.0])
    assert len(plots.token_strip(attr, max_examples=1).data[0].z) == 1


def test_token_strip_needs_tokens():
    attr = Attribution(values=np.zeros((1, 3)), method="s", target=np.array([0]), modality="text")
    with pytest.raises(InputError):
        plots.token_strip(attr)


# --- dispatch ----------------------------------------------------------------


def test_plot_dispatches_by_modality():
    tab = _tabular()
    assert len(plots.plot(tab).data) == 6  # beeswarm: one trace per feature
    assert plots.plot(tab, index=2).data[0].type == "bar"
    assert plots.plot(tab[0]).data[0].type == "bar"  # one row: bars
    assert [t.type for t in plots.plot(_image()).data] == ["image", "heatmap", "heatmap", "heatmap"]
    np.testing.assert_allclose(
        plots.plot(_image(), index=1).data[1].z, _image().values[1].sum(axis=0)
    )
    text = _text((5, 3))
    assert len(plots.plot(text).data[0].z) == 2
    assert list(plots.plot(text, index=1).data[0].text[0]) == ["t1_0", "t1_1", "t1_2"]
    assert plots.plot(tab, top_k=2).data.__len__() == 2  # options pass through


def test_attribution_plot_method_uses_plots():
    assert _tabular().plot(index=0).data[0].type == "bar"


def test_bad_modality_raises_input_error():
    attr = Attribution(values=np.zeros((1, 2)), method="s", target=np.array([0]), modality="audio")
    with pytest.raises(InputError, match="modality"):
        plots.plot(attr)
    with pytest.raises(ValueError):  # a bad value, not a bad type
        plots.plot(attr)
    with pytest.raises(InputError):
        plots.feature_bars(_image())


def test_public_api():
    assert set(plots.__all__) == {
        "plot",
        "feature_bars",
        "global_importance",
        "importance_bars",
        "importance_map",
        "beeswarm",
        "image_heatmap",
        "token_strip",
        "waterfall",
        "dependence",
        "strongest_interaction",
        "attention_grid",
        "attention_head",
        "attention_scores",
        "robustness_curve",
        "min_epsilon_histogram",
        "adversarial_example",
        "explanation_shift",
        "reliability_diagram",
        "temperature_comparison",
        "confidence_histogram",
        "entropy_by_correctness",
        "set_size_distribution",
        "risk_coverage_curve",
        "prediction_intervals",
        "deletion_insertion",
        "cascade_maps",
        "cascade_similarity",
        "agreement_heatmap",
        "confusion_matrix",
        "roc_curve",
        "pr_curve",
        "threshold_curve",
        "residuals",
        "slice_metrics",
        "cohort_bars",
        "cohort_table",
        "error_tree",
        "error_heatmap",
        "cohort_drivers",
        "group_bars",
        "group_importance",
        "threshold_preview",
        "balance_bars",
        "pdp_curves",
        "pdp_heatmap",
        "ale_curves",
        "counterfactual_table",
        "counterfactual_changes",
        "counterfactual_difference",
        "counterfactual_edits",
        "sweep_curves",
        "class_deltas",
        "similarity_histogram",
        "row_side_by_side",
    }
    assert all(callable(getattr(plots, name)) for name in plots.__all__)


def test_user_text_is_shown_literally_not_as_html():
    from explain.results import Attribution

    attr = Attribution(values=np.array([[1.0, -2.0]]), method="saliency", target=np.array([0]),
                       modality="tabular", feature_names=("<b>bold</b>", "a&b"), class_names=("<i>x</i>",))
    fig = plots.feature_bars(attr, 0)
    assert list(fig.data[0].y) == ["a&amp;b", "&lt;b&gt;bold&lt;/b&gt;"]
    assert "&lt;i&gt;x&lt;/i&gt;" in fig.layout.title.text
