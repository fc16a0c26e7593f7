"""The Streamlit pages through streamlit.testing.v1.AppTest (no browser)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

import explain  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
HOME = str(ROOT / "app.py")
SALIENCY = "pages/1_Saliency.py"
TIMEOUT = 120


def _home() -> AppTest:
    at = AppTest.from_file(HOME, default_timeout=TIMEOUT).run()
    assert not at.exception
    return at


def _load(at: AppTest, name: str) -> AppTest:
    at.selectbox(key="home.example").select(name).run()
    next(b for b in at.button if b.label == "Load example").click().run()
    assert not at.exception
    assert not at.error, [e.value for e in at.error]
    return at


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _charts(at: AppTest) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def test_home_starts_empty_and_preselects_breast_cancer() -> None:
    at = _home()
    assert at.radio(key="home.source").value == "Try an example"
    assert at.selectbox(key="home.example").value == "breast_cancer"
    assert any("Nothing loaded yet" in i.value for i in at.info)


def test_home_upload_mode_shows_two_uploaders_and_a_target_column() -> None:
    at = _home()
    at.radio(key="home.source").set_value("Upload your own").run()
    assert not at.exception
    assert [u.proto.label for u in at.get("file_uploader")] == ["Model", "Dataset"]
    assert at.text_input[0].label == "Target column"
    load = next(b for b in at.button if b.label == "Load uploads")
    assert load.disabled, "nothing to load before a file is chosen"


@pytest.mark.parametrize(
    ("name", "score"), [("breast_cancer", "Accuracy"), ("digits", "Accuracy"), ("diabetes", "R²")]
)
def test_home_loads_an_example_and_shows_its_summary(name: str, score: str) -> None:
    at = _load(_home(), name)
    metrics = _metrics(at)
    model, data = explain.load_example(name)
    assert metrics["Task"] == model.task
    assert metrics["Parameters"] == f"{model.n_parameters:,}"
    assert metrics["Rows"] == f"{len(data):,}"
    value = metrics[f"{score} on the dataset"]
    if score == "Accuracy":
        assert 0.8 <= float(value.rstrip("%")) / 100 <= 1.0
    else:
        assert 0.0 < float(value) <= 1.0
    if name == "digits":
        assert len(at.get("image")) == 1, "a strip of the first images"


def test_saliency_without_a_model_says_what_to_do() -> None:
    at = _home()
    at.switch_page(SALIENCY).run()
    assert not at.exception
    assert any("Load a model and a dataset on the Home page first" in i.value for i in at.info)
    assert at.get("page_link"), "a link back to the Home page"
    assert not at.get("plotly_chart")


def test_saliency_runs_integrated_gradients_and_never_recomputes(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    original = explain.attribute

    def counting(*args, **kwargs):
        calls.append(kwargs["method"])
        return original(*args, **kwargs)

    monkeypatch.setattr(explain, "attribute", counting)
    at = _load(_home(), "breast_cancer")
    at.switch_page(SALIENCY).run()
    assert at.selectbox(key="saliency.method").value == "integrated_gradients"
    at.slider(key="saliency.rows").set_value(20).run()
    at.number_input(key="saliency.row").set_value(3).run()
    assert not at.get("plotly_chart"), "nothing computed before Run"
    next(b for b in at.button if b.label == "Run").click().run()
    assert not at.exception
    assert not at.error, [e.value for e in at.error]
    charts = _charts(at)
    assert len(charts) == 2  # the row's feature bars and the global importance
    assert "example 3" in charts[0]["layout"]["title"]["text"]
    assert len(charts[0]["data"][0]["y"]) == 20  # the top 20 of 30 features
    assert "over 20 example(s)" in charts[1]["layout"]["title"]["text"]
    assert len(at.get("download_button")) == 4  # two charts, two JSON files
    assert calls == ["integrated_gradients"]  # row 3 came from the 20-row computation

    at.switch_page("app.py").run()
    at.switch_page(SALIENCY).run()
    assert not at.exception
    assert at.number_input(key="saliency.row").value == 3
    assert len(_charts(at)) == 2
    assert calls == ["integrated_gradients"], "switching pages must not recompute"


def test_saliency_on_images_shows_the_heatmap() -> None:
    at = _load(_home(), "digits")
    at.switch_page(SALIENCY).run()
    assert not at.get("slider"), "no global view for images"
    at.number_input(key="saliency.row").set_value(7).run()
    next(b for b in at.button if b.label == "Run").click().run()
    assert not at.exception
    assert not at.error, [e.value for e in at.error]
    charts = _charts(at)
    assert len(charts) == 1
    assert {t["type"] for t in charts[0]["data"]} >= {"heatmap"}
    assert "example 7" in charts[0]["layout"]["title"]["text"]


def _uploads_script() -> None:
    import io
    from pathlib import Path

    import streamlit as st

    from explain.app import state

    if st.button("example"):
        state.load_example("breast_cancer")
    if st.button("bad model"):
        bad = io.BytesIO(b"this is not a model")
        bad.name = "broken.pt2"
        state.load_uploads(bad, None, None)
    if st.button("wrong data"):
        root = Path(st.session_state["root"])
        digits = io.BytesIO((root / "models" / "digits" / "data.npz").read_bytes())
        digits.name = "data.npz"
        state.load_uploads(None, digits, None)
    model, data = state.current()
    st.write(f"model={model.source if model else None} rows={len(data) if data else None}")


def test_failed_uploads_show_an_error_and_keep_what_was_loaded() -> None:
    at = AppTest.from_function(_uploads_script, default_timeout=TIMEOUT)
    at.session_state["root"] = str(ROOT)
    at.run()
    at.button[0].click().run()
    assert at.markdown[-1].value == "model=example:breast_cancer rows=143"
    for which in (1, 2):
        at.button[which].click().run()
        assert not at.exception
        assert len(at.error) == 1
        assert "Traceback" not in at.error[0].value
        assert at.markdown[-1].value == "model=example:breast_cancer rows=143"
    assert "does not fit" in at.error[0].value
