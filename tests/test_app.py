"""The Streamlit pages through streamlit.testing.v1.AppTest (no browser)."""

from __future__ import annotations

import gc
import io
import json
import pickle
import weakref
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

import explain  # noqa: E402
from explain.app.navigation import page_file
from explain.loading.catalog import examples_folder

ROOT = Path(__file__).resolve().parent.parent
HOME = str(ROOT / "app.py")
# Pages by their files in the package (what app.py's st.navigation lists; absolute paths).
SALIENCY = str(page_file("saliency"))
HOME_PAGE = str(page_file("home"))
TIMEOUT = 120
FEATURES = ["age", "income", "height", "weight", "score"]
OCTETS = "application/octet-stream"


# --- helpers -------------------------------------------------------------------------------
def _home() -> AppTest:
    at = AppTest.from_file(HOME, default_timeout=TIMEOUT).run()
    assert not at.exception
    return at


def _ok(at: AppTest) -> AppTest:
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    return at


def _load(at: AppTest, name: str) -> AppTest:
    at.selectbox(key="home.example").select(name).run()
    _button(at, "Load example").click().run()
    return _ok(at)


def _button(at: AppTest, label: str):  # noqa: ANN202
    return next(b for b in at.button if b.label == label)


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _charts(at: AppTest) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def _titles(at: AppTest) -> list[str]:
    return [c["layout"]["title"]["text"] for c in _charts(at)]


def _upload_mode(at: AppTest) -> AppTest:
    at.radio(key="home.source").set_value("Upload your own").run()
    return at


def _target(at: AppTest):  # noqa: ANN202
    return next(s for s in at.selectbox if s.label == "Target column")


def _run_saliency(at: AppTest) -> AppTest:
    _button(at, "Run").click().run()
    return _ok(at)


@pytest.fixture(scope="module")
def clinic(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, bytes]:
    """A .pt2 MLP on 5 named features and a CSV whose label column sits in the middle."""
    torch.manual_seed(0)
    x = torch.randn(60, 5)
    y = (x[:, 0] + x[:, 1] > 0).long()
    net = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 2)).eval()
    path = tmp_path_factory.mktemp("clinic") / "clinic.pt2"
    explain.save_model(net, path, x[:4], feature_names=FEATURES, class_names=["healthy", "sick"])
    table = pd.DataFrame(x.numpy(), columns=FEATURES)
    table.insert(2, "diagnosis", np.where(y.numpy() == 1, "sick", "healthy"))
    return path.read_bytes(), table.to_csv(index=False).encode()


def _upload(at: AppTest, model: bytes | None, data: bytes | None, names=("clinic.pt2", "patients.csv")) -> AppTest:
    if model is not None:
        at.file_uploader(key="home.model_file").set_value((names[0], model, OCTETS)).run()
    if data is not None:
        at.file_uploader(key="home.data_file").set_value((names[1], data, "text/csv")).run()
    assert not at.exception, at.exception
    return at


# --- home ----------------------------------------------------------------------------------
def test_home_starts_empty_and_preselects_breast_cancer() -> None:
    at = _home()
    assert at.radio(key="home.source").value == "Try an example"
    assert at.selectbox(key="home.example").value == "breast_cancer"
    assert any("Nothing loaded yet" in i.value for i in at.info)
    assert not at.get("plotly_chart")


def test_home_upload_mode_shows_two_uploaders_and_nothing_to_load_yet() -> None:
    at = _upload_mode(_home())
    assert not at.exception
    assert [u.proto.label for u in at.get("file_uploader")] == ["Model", "Dataset"]
    assert not [s for s in at.selectbox if s.label == "Target column"], "asked only once a table is given"
    assert _button(at, "Load uploads").disabled, "nothing to load before a file is chosen"


@pytest.mark.parametrize(
    ("name", "score"), [("breast_cancer", "Accuracy"), ("digits", "Accuracy"), ("diabetes", "R²")]
)
def test_home_loads_an_example_and_shows_its_summary(name: str, score: str) -> None:
    at = _load(_home(), name)
    metrics = _metrics(at)
    model, data = explain.load_example(name)
    assert metrics["Task"] == model.task
    assert metrics["Format"] == model.format
    assert metrics["Parameters"] == f"{model.n_parameters:,}"
    assert metrics["Rows"] == f"{len(data):,}"
    value = metrics[f"{score} on the dataset"]
    if score == "Accuracy":
        assert 0.8 <= float(value.rstrip("%")) / 100 <= 1.0
    else:
        assert 0.0 < float(value) <= 1.0
    if name == "digits":
        assert metrics["Image size"] == "1×8×8"
        assert len(at.get("image")) == 1, "a strip of the first images"
    if name == "breast_cancer":
        assert metrics["Features"] == "30"


def test_home_infers_the_target_of_an_upload_and_loads_it(clinic: tuple[bytes, bytes]) -> None:
    model_bytes, csv_bytes = clinic
    at = _upload(_upload_mode(_home()), model_bytes, None)
    assert any("Read clinic.pt2" in c.value and "5 features" in c.value for c in at.caption)
    at = _upload(at, None, csv_bytes)
    assert _target(at).value == "diagnosis", "the only column that is not a model feature"
    assert _target(at).options[0] == "(no labels)"
    assert any(c.value.startswith("Inferred:") for c in at.caption)
    _button(at, "Load uploads").click().run()
    _ok(at)
    assert any("Loaded the uploads" in s.value for s in at.success)
    metrics = _metrics(at)
    assert metrics["Format"] == "pt2"
    assert metrics["Rows"] == "60" and metrics["Features"] == "5"
    assert "Accuracy on the dataset" in metrics
    assert at.session_state["explain.model"].label == "clinic.pt2"


def test_home_text_csv_takes_the_text_column_as_input() -> None:
    at = _upload_mode(_home())
    texts = b'review,stars\n"a fine film, well worth it",5\n"dull and far too long",1\n'
    at.file_uploader(key="home.data_file").set_value(("reviews.csv", texts, "text/csv")).run()
    assert not at.exception
    assert _target(at).value == "stars"
    assert any("'review'" in c.value and "texts" in c.value for c in at.caption)
    _button(at, "Load uploads").click().run()
    _ok(at)
    assert _metrics(at)["Modality"] == "text"


def _with_region(csv_bytes: bytes, north: int) -> bytes:
    """The clinic table with a string column the model does not take: the first ``north`` rows 'north'."""
    table = pd.read_csv(io.BytesIO(csv_bytes))
    table["region"] = ["north" if i < north else "south" for i in range(len(table))]
    return table.to_csv(index=False).encode()


def test_home_offers_the_columns_the_model_does_not_take_as_metadata(clinic: tuple[bytes, bytes]) -> None:
    model_bytes, csv_bytes = clinic
    at = _upload(_upload_mode(_home()), model_bytes, _with_region(csv_bytes, 20))
    assert _target(at).value == "diagnosis", "the column of the model's class names, not the last string column"
    metadata = next(m for m in at.multiselect if m.label == "Metadata columns")
    assert metadata.value == ["region"] and set(metadata.options) == {*FEATURES, "region"}
    _button(at, "Load uploads").click().run()
    _ok(at)
    data = at.session_state["explain.data"].value
    assert list(data.metadata.columns) == ["region"] and data.feature_names == tuple(FEATURES)
    assert any("Metadata, kept beside the features" in c.value and "region" in c.value for c in at.caption)
    assert "region" in next(d.value for d in at.dataframe if "age" in d.value.columns).columns

    # a slice over the metadata; then the same features and labels with other metadata: no stale result
    at.switch_page(str(page_file("performance"))).run()
    at.text_area(key="perf.rules").set_value("region == 'north'").run()
    _ok(at)
    assert next(d.value for d in at.dataframe if "flagged" in d.value.columns)["size"].tolist() == [20]
    at.switch_page(HOME_PAGE).run()
    _upload(at, None, _with_region(csv_bytes, 45), names=("", "patients2.csv"))
    _button(at, "Load uploads").click().run()
    _ok(at)
    at.switch_page(str(page_file("performance"))).run()
    _ok(at)
    assert next(d.value for d in at.dataframe if "flagged" in d.value.columns)["size"].tolist() == [45]


def test_the_cache_key_holds_the_labels_and_the_metadata() -> None:
    from explain.app.cache import rows_digest

    x, y = np.zeros((4, 2)), np.array([0, 1, 0, 1])
    base = explain.Dataset(x, y, metadata=pd.DataFrame({"region": ["n", "s", "n", "s"]}))
    same = explain.Dataset(x, y, metadata=pd.DataFrame({"region": ["n", "s", "n", "s"]}))
    other = explain.Dataset(x, y, metadata=pd.DataFrame({"region": ["s", "s", "n", "s"]}))
    renamed = explain.Dataset(x, y, metadata=pd.DataFrame({"site": ["n", "s", "n", "s"]}))
    relabelled = explain.Dataset(x, 1 - y, metadata=pd.DataFrame({"region": ["n", "s", "n", "s"]}))
    assert rows_digest(base) == rows_digest(same)
    assert len({rows_digest(d) for d in (base, other, renamed, relabelled, explain.Dataset(x, y))}) == 5


@pytest.mark.parametrize(
    ("model", "data", "message"),
    [
        (b"this is not a model", None, "Model:"),
        (pickle.dumps({"weights": [1, 2]}), None, "pickle"),
        (None, b"\x00\x01\x02 binary junk", "Dataset:"),
        ("clinic", b"a,b,c\n1,2,x\n3,4,y\n", "does not fit"),
    ],
    ids=["not-a-model", "pickle", "binary-data", "data-does-not-fit"],
)
def test_bad_uploads_show_an_error_and_keep_what_was_loaded(
    clinic: tuple[bytes, bytes], model: bytes | str | None, data: bytes | None, message: str
) -> None:
    at = _load(_home(), "breast_cancer")
    _upload_mode(at)
    model_bytes = clinic[0] if model == "clinic" else model
    _upload(at, model_bytes, data, names=("upload.pt2", "upload.csv"))
    load = _button(at, "Load uploads")
    if not load.disabled:
        load.click().run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert len(errors) == 1, errors
    assert message in errors[0] and "Traceback" not in errors[0]
    assert len(errors[0]) > 40, "says what to do, not only what failed"
    assert at.session_state["explain.model"].label == "example breast_cancer", "nothing lost"
    assert at.session_state["explain.data"].label == "example breast_cancer"
    assert _metrics(at)["Rows"] == "143"


# --- model settings -------------------------------------------------------------------------
def _widget(at: AppTest, kind: str, label: str):  # noqa: ANN202
    return next(w for w in getattr(at, kind) if w.label.startswith(label))


def test_model_settings_fix_a_wrong_modality_and_keep_what_was_loaded(tmp_path: Path) -> None:
    """A CNN saved with modality="tabular" is recorded as a table: reading it fails; the
    Model settings expander is open, and choosing "image" there reads it; the example
    loaded before stays loaded throughout."""
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(256, 10)).eval()
    explain.save_model(net, tmp_path / "cnn.pt2", torch.rand(4, 1, 8, 8), modality="tabular")  # wrong on purpose
    at = _upload_mode(_load(_home(), "breast_cancer"))
    _upload(at, (tmp_path / "cnn.pt2").read_bytes(), None, names=("cnn.pt2", ""))
    assert any("Tabular inputs must be 2-D" in e.value for e in at.error)
    assert [e.label for e in at.expander] == ["Model settings"]
    assert _button(at, "Load uploads").disabled
    assert _widget(at, "selectbox", "Modality").value == "tabular"

    _widget(at, "text_input", "Feature names").input("a, b").run()  # a wrong correction: an error, nothing lost
    _button(at, "Apply").click().run()
    assert any(e.value.startswith("Model settings:") for e in at.error)
    assert at.session_state["explain.model"].label == "example breast_cancer"
    _widget(at, "text_input", "Feature names").input("").run()

    _widget(at, "selectbox", "Modality").select("image").run()
    _widget(at, "text_input", "Class names").input(", ".join(f"digit {k}" for k in range(10))).run()
    _button(at, "Apply").click().run()
    _ok(at)
    assert any("Read cnn.pt2" in c.value and "image classification" in c.value and "digit 0" in c.value
               for c in at.caption)
    assert any("modality" in s.value and "class names" in s.value for s in at.success)
    assert at.session_state["explain.model"].label == "example breast_cancer", "not loaded before Load uploads"
    digits = (examples_folder() / "digits" / "data.npz").read_bytes()
    _upload(at, None, digits, names=("", "digits.npz"))
    _button(at, "Load uploads").click().run()
    _ok(at)
    metrics = _metrics(at)
    assert metrics["Modality"] == "image" and metrics["Image size"] == "1×8×8"
    model = at.session_state["explain.model"].value
    assert model.modality == "image" and model.class_names[0] == "digit 0"
    assert model.runner.alive, "the corrected model lives in its worker"


def test_model_settings_correct_the_loaded_upload_in_place(clinic: tuple[bytes, bytes]) -> None:
    """Renaming the features of the loaded upload reads it again in a new worker and replaces
    it, with the dataset kept and the cached results of the old model dropped."""
    model_bytes, csv_bytes = clinic
    at = _upload(_upload_mode(_home()), model_bytes, csv_bytes)
    _button(at, "Load uploads").click().run()
    _ok(at)
    old = at.session_state["explain.model"]
    assert _widget(at, "text_input", "Feature names").value == ", ".join(FEATURES)
    assert _widget(at, "text_input", "Class names").value == "healthy, sick"
    _widget(at, "selectbox", "Task").select("classification").run()
    _widget(at, "text_input", "Feature names").input("Age, Income, Height, Weight, Score").run()
    _button(at, "Apply").click().run()
    _ok(at)
    new = at.session_state["explain.model"]
    assert new is not old and new.fingerprint != old.fingerprint
    assert new.value.feature_names == ("Age", "Income", "Height", "Weight", "Score")
    assert not old.value.runner.alive, "the replaced model's worker stopped"
    assert at.session_state["explain.data"].label == "patients.csv", "the dataset stays"
    assert "Accuracy on the dataset" in _metrics(at)
    assert any("feature names" in s.value for s in at.success)


def test_string_labels_and_a_model_without_class_names_score_in_sorted_order(clinic: tuple[bytes, bytes]) -> None:
    """The app scores as the audit does (it showed 0% here): labels matched with outputs in
    sorted order, said on the page; class names set under Model settings change it."""
    torch.manual_seed(0)
    x = torch.randn(60, 5)
    net = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 2)).eval()
    buffer = io.BytesIO()
    torch.export.save(torch.export.export(net, (x[:2],)), buffer)  # no metadata: no class names
    predicted = net(x).argmax(1).numpy()
    table = pd.DataFrame(x.numpy(), columns=FEATURES).assign(kind=np.array(["type_a", "type_b"])[predicted])
    at = _upload(_upload_mode(_home()), buffer.getvalue(), table.to_csv(index=False).encode())
    _button(at, "Load uploads").click().run()
    _ok(at)
    assert _metrics(at)["Accuracy on the dataset"] == "100.0%"
    assert any("sorted order: 'type_a' → 0, 'type_b' → 1" in i.value for i in at.info)
    _widget(at, "text_input", "Class names").input("type_b, type_a").run()  # the other order
    _button(at, "Apply").click().run()
    _ok(at)
    assert _metrics(at)["Accuracy on the dataset"] == "0.0%"
    assert not any("sorted order" in i.value for i in at.info)


# --- saliency -------------------------------------------------------------------------------
def test_saliency_without_a_model_says_what_to_do() -> None:
    at = _home()
    at.switch_page(SALIENCY).run()
    assert not at.exception
    assert any("Load a model and a dataset on the Home page first" in i.value for i in at.info)
    assert at.get("page_link"), "a link back to the Home page"
    assert not at.get("plotly_chart")


def test_saliency_runs_on_a_row_and_a_sample_and_never_recomputes(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, int, dict]] = []
    original = explain.attribute

    def counting(model, inputs, **kwargs):  # noqa: ANN001, ANN202
        calls.append((kwargs["method"], len(inputs), {k: kwargs.get(k) for k in ("n_steps",)}))
        return original(model, inputs, **kwargs)

    monkeypatch.setattr(explain, "attribute", counting)
    at = _load(_home(), "breast_cancer")
    at.switch_page(SALIENCY).run()
    _ok(at)
    assert at.selectbox(key="saliency.a.method").value == "integrated_gradients"
    assert at.number_input(key="saliency.a.integrated_gradients.n_steps").value == 50
    row = at.selectbox(key="saliency.row")
    assert row.options[3].startswith("3 · ") and "mean radius=" in row.options[3], "a preview with the label"
    at.slider(key="saliency.rows").set_value(20).run()
    at.selectbox(key="saliency.row").select(3).run()
    assert not at.get("plotly_chart"), "nothing computed before Run"
    _run_saliency(at)
    titles = _titles(at)
    assert len(titles) == 2  # the row's feature bars and the global importance
    assert "row 3" in titles[0]
    assert "over 20 sampled rows" in titles[1]
    assert len(_charts(at)[0]["data"][0]["y"]) == 20  # the top 20 of 30 features
    labels = [b.label for b in at.get("download_button")]
    assert labels.count("Data (CSV)") == 2 and labels.count("Chart (HTML)") == 2
    assert labels.count("Attributions (JSON)") == 2
    first = _charts(at)[0]
    sampled = len(calls)
    assert [c[1] for c in calls] in ([20], [20, 1])  # row 3 from the sample, or alone

    # Another row: computed at once (Run was pressed for these settings); the figure changes.
    at.selectbox(key="saliency.row").select(7).run()
    _ok(at)
    assert "row 7" in _titles(at)[0]
    assert _charts(at)[0]["data"] != first["data"]

    # Switching pages never recomputes.
    before = len(calls)
    at.switch_page(HOME_PAGE).run()
    at.switch_page(SALIENCY).run()
    _ok(at)
    assert at.selectbox(key="saliency.row").value == 7
    assert len(_charts(at)) == 2
    assert len(calls) == before, "switching pages must not recompute"

    # An option reaches the method, and changes the figure.
    at.number_input(key="saliency.a.integrated_gradients.n_steps").set_value(4).run()
    _run_saliency(at)
    assert calls[-1][2] == {"n_steps": 4}
    assert len(calls) > sampled


def test_saliency_changing_the_method_changes_the_figure() -> None:
    at = _load(_home(), "diabetes")
    at.switch_page(SALIENCY).run()
    at.slider(key="saliency.rows").set_value(10).run()
    _run_saliency(at)
    before = _charts(at)
    at.selectbox(key="saliency.a.method").select("saliency").run()
    assert [c.label for c in at.checkbox] == ["abs"], "the method's options follow the method"
    _run_saliency(at)
    after = _charts(at)
    assert "saliency" in after[0]["layout"]["title"]["text"]
    assert after[0]["data"] != before[0]["data"]


def test_saliency_compares_two_methods_side_by_side() -> None:
    at = _load(_home(), "breast_cancer")
    at.switch_page(SALIENCY).run()
    at.slider(key="saliency.rows").set_value(10).run()
    assert at.selectbox(key="saliency.b.method").value == "(none)"
    at.selectbox(key="saliency.b.method").select("gradient_shap").run()
    assert {n.label for n in at.number_input} >= {"n_steps", "n_samples", "stdevs"}
    _run_saliency(at)
    titles = _titles(at)
    assert len(titles) == 4
    assert titles[0].startswith("integrated_gradients: row") and titles[1].startswith("gradient_shap: row")
    assert "mean |attribution|" in titles[2] and "mean |attribution|" in titles[3]
    assert any("Rank agreement" in c.value for c in at.caption)


def test_saliency_on_images_shows_the_heatmap_and_grad_cam_layers() -> None:
    at = _load(_home(), "digits")
    at.switch_page(SALIENCY).run()
    assert not at.get("slider"), "no global view for images"
    assert at.selectbox(key="saliency.row").label == "Image to explain"
    at.selectbox(key="saliency.row").select(7).run()
    _run_saliency(at)
    charts = _charts(at)
    assert len(charts) == 1
    assert {t["type"] for t in charts[0]["data"]} >= {"heatmap"}
    assert "row 7" in charts[0]["layout"]["title"]["text"]
    at.selectbox(key="saliency.a.method").select("grad_cam").run()
    layer = at.selectbox(key="saliency.a.grad_cam.layer")
    assert layer.options == ["features.0", "features.2"] and layer.value == "features.2"
    layer.select("features.0").run()
    _run_saliency(at)
    assert "grad_cam" in _titles(at)[0]


def test_saliency_on_texts_shows_tokens() -> None:
    at = _load(_home(), "sentiment")
    at.switch_page(SALIENCY).run()
    row = at.selectbox(key="saliency.row")
    assert row.label == "Text to explain" and "'" in row.options[0]
    at.selectbox(key="saliency.a.method").select("saliency").run()
    _run_saliency(at)
    assert len(_charts(at)) == 1


def test_a_new_model_releases_the_old_one_and_its_results(clinic: tuple[bytes, bytes]) -> None:
    model_bytes, csv_bytes = clinic
    at = _upload(_upload_mode(_home()), model_bytes, csv_bytes)
    _button(at, "Load uploads").click().run()
    _ok(at)
    at.switch_page(SALIENCY).run()
    _run_saliency(at)
    old = at.session_state["explain.model"]
    worker = old.value.runner
    pid = worker.pid
    assert old.value.in_worker and worker.alive and Path(f"/proc/{pid}").exists(), "an upload runs in a worker"
    handle = weakref.ref(old.value)
    cache = at.session_state["explain.cache"]
    assert cache and {fingerprint for fingerprint, _ in cache.values()} == {old.fingerprint}
    del old
    at.switch_page(HOME_PAGE).run()
    at.radio(key="home.source").set_value("Try an example").run()
    _load(at, "breast_cancer")
    assert at.session_state["explain.model"].label == "example breast_cancer"
    assert "explain.pending" not in at.session_state
    assert not at.session_state["explain.cache"], "the old model's results are dropped"
    gc.collect()
    assert handle() is None, "nothing holds the replaced model"
    assert not worker.alive and not Path(f"/proc/{pid}").exists(), "its worker process is gone, memory and all"


def test_a_crashed_model_worker_loses_nothing(clinic: tuple[bytes, bytes]) -> None:
    """The upload's worker dies (as if out of memory); the session keeps its data, results
    and settings, and the next Run loads the model again and answers the same."""
    import os
    import signal
    import time

    model_bytes, csv_bytes = clinic
    at = _upload(_upload_mode(_home()), model_bytes, csv_bytes)
    _button(at, "Load uploads").click().run()
    at.switch_page(SALIENCY).run()
    _run_saliency(at)
    first = _charts(at)[0]
    held = at.session_state["explain.model"]
    os.kill(held.value.runner.pid, signal.SIGKILL)
    for _ in range(100):  # the worker is gone between two runs
        if not held.value.runner.alive:
            break
        time.sleep(0.05)
    at.selectbox(key="saliency.a.method").set_value("saliency").run()
    _run_saliency(at)  # computed by the dead worker's successor
    assert len(_charts(at)) == 2
    assert at.session_state["explain.model"] is held and at.session_state["explain.data"].label == "patients.csv"
    assert held.value.runner.alive and held.value.runner.restarts == 1
    at.selectbox(key="saliency.a.method").set_value("integrated_gradients").run()  # back: from the cache
    assert _charts(at)[0] == first


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@pytest.mark.slow
def test_replacing_an_upload_50_times_gives_the_memory_back(clinic: tuple[bytes, bytes]) -> None:
    """A soak: the same session replaces its model 50 times. Every replaced model's worker
    stops, and the server's own memory stays where it was."""
    import multiprocessing

    model_bytes, csv_bytes = clinic
    at = _upload(_upload_mode(_home()), model_bytes, csv_bytes)
    _button(at, "Load uploads").click().run()
    _ok(at)
    gc.collect()
    start = _rss_mb()
    workers = set()
    for k in range(50):
        at = _upload(at, model_bytes, None, names=(f"clinic{k}.pt2", "patients.csv"))
        _button(at, "Load uploads").click().run()
        _ok(at)
        workers.add(at.session_state["explain.model"].value.runner.pid)
    gc.collect()
    alive = [p for p in multiprocessing.active_children() if p.name == "explain-model-worker"]
    assert len(workers) == 50 and len(alive) == 1, "each replaced model's worker stopped"
    assert _rss_mb() - start < 150, f"server memory grew by {_rss_mb() - start:.0f} MB"


# --- the Compare page's uploaded second model ---------------------------------------------------
@pytest.mark.slow
def test_an_uploaded_second_model_is_compared_and_loaded_only_in_a_worker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Compare page's upload: beside a bundled example (run in the server process) the
    file is loaded in a worker of its own, never here; beside an upload, in that upload's
    worker. Either way the figures equal explain.compare on the same two models; a file
    that is not a model says what the loader said."""
    from explain.app import remote, tasks
    from explain.runtime.worker import Worker

    model, data = explain.load_example("breast_cancer")
    pruned = explain.compress(model, method="prune", amount=0.7)
    path = tmp_path / "student.pt2"
    explain.save_model(pruned.network, path, torch.as_tensor(data.x[:4]), feature_names=list(model.feature_names),
                       class_names=list(model.class_names))
    upload = path.read_bytes()
    expected = explain.compare(model, explain.load_model(path), data, names=("loaded model", "student.pt2"), rows=40)

    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("an upload was loaded in the server's process")

    monkeypatch.setattr(explain, "load_model", refuse)  # the spawned worker imports its own, unpatched
    beside_example = tasks.comparison_with_upload(model, data, progress=lambda f: None, upload=upload,
                                                  filename="student.pt2", rows=40)
    monkeypatch.undo()
    assert beside_example.agreement == expected.agreement < 1.0
    assert beside_example.accuracy == expected.accuracy and beside_example.names == ("loaded model", "student.pt2")
    assert beside_example.explanation_similarity == pytest.approx(expected.explanation_similarity)

    first = tmp_path / "first.pt2"
    explain.save_model(model.network, first, torch.as_tensor(data.x[:4]), feature_names=list(model.feature_names),
                       class_names=list(model.class_names))
    worker = Worker(remote.load_upload, first.read_bytes(), "first.pt2", describe=remote.describe)
    try:
        worker.start()
        beside_upload = worker.call(tasks.comparison_with_upload, data, upload=upload, filename="student.pt2", rows=40)
        assert beside_upload.agreement == expected.agreement and beside_upload.accuracy == expected.accuracy
        with pytest.raises(explain.ExplainError):
            worker.call(tasks.comparison_with_upload, data, upload=b"not a model", filename="notes.pt2", rows=40)
    finally:
        worker.close()
