"""The dataset-wide sections on Ray: a local Ray instance started here on loopback, and the
same numbers as the local run."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import explain
from explain.cli import main
from explain.runtime.backends import Ray

ray = pytest.importorskip("ray", reason="ray is not installed (pip install 'explain-torch[ray]')")
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def backend():
    if ray.is_initialized():
        ray.shutdown()
    chosen = Ray()
    yield chosen
    ray.shutdown()


def test_ray_runs_locally_with_actors_in_other_processes(backend: Ray) -> None:
    import os

    def pid(model, rows):  # noqa: ANN001, ANN202
        return os.getpid()

    assert len(ray.nodes()) == 1, "a local instance: this machine only"
    assert ray.nodes()[0]["NodeManagerAddress"] == "127.0.0.1", "bound to loopback only"
    pids = backend.map(None, pid, [([],), ([],), ([],)])
    assert os.getpid() not in pids


def test_global_importance_on_ray_equals_the_local_run(backend: Ray) -> None:
    model, data = explain.load_example("breast_cancer")
    for method in ("integrated_gradients", "deeplift", "feature_ablation"):
        here = explain.global_importance(model, data, method=method, batch_size=40)
        there = explain.global_importance(model, data, method=method, batch_size=40, backend=backend)
        np.testing.assert_array_equal(there.mean_abs, here.mean_abs)
        np.testing.assert_array_equal(there.mean, here.mean)
        assert there.n == here.n == len(data)


@pytest.mark.parametrize("name", ["breast_cancer", "digits", "sentiment"])
def test_robustness_on_ray_equals_the_local_run(backend: Ray, name: str) -> None:
    model, data = explain.load_example(name)
    part = data[:24] if name == "sentiment" else data[:120]
    options = {"batch_size": 8 if name == "sentiment" else 32}
    if name == "breast_cancer":
        options["immutable"] = ["mean radius"]
    here = explain.robustness(model, part, **options)
    there = explain.robustness(model, part, backend=backend, **options)
    assert there.params["backend"] == "ray" and there.params["chunks"] > 1
    np.testing.assert_array_equal(there.accuracy, here.accuracy)
    np.testing.assert_array_equal(there.flipped, here.flipped)
    np.testing.assert_allclose(there.min_epsilon, here.min_epsilon, equal_nan=True)
    if name == "sentiment":
        assert there.adversarial_texts == here.adversarial_texts
    else:
        np.testing.assert_array_equal(there.adversarial, here.adversarial)
        np.testing.assert_allclose(there.rank_correlation, here.rank_correlation, equal_nan=True)
    assert there.params.get("scale") == here.params.get("scale")


def test_calibration_and_conformal_on_ray_equal_the_local_run(backend: Ray) -> None:
    model, data = explain.load_example("digits")
    here = explain.calibration(model, data, batch_size=64)
    there = explain.calibration(model, data, batch_size=64, backend=backend)
    assert there.ece == here.ece and there.temperature == here.temperature and there.nll == here.nll
    cp_here = explain.conformal(model, data[:200], alpha=0.1, batch_size=64)
    cp_there = explain.conformal(model, data[:200], alpha=0.1, batch_size=64, backend=backend)
    assert cp_there.quantile == cp_here.quantile
    np.testing.assert_array_equal(cp_there.predict(data[200:260]), cp_here.predict(data[200:260]))


def test_audit_and_cli_on_ray(backend: Ray, tmp_path: Path) -> None:
    model, data = explain.load_example("breast_cancer")
    sections = ["saliency", "robustness", "uncertainty"]
    here = explain.audit(model, data, sections=sections, rows=30)
    there = explain.audit(model, data, sections=sections, rows=30, backend="ray")
    assert there.provenance["backend"] == "ray"
    assert there.metrics == pytest.approx(here.metrics)
    assert "saliency.global_top_share" in there.metrics
    out = tmp_path / "r.json"
    code = main(["audit", "example:breast_cancer", "--sections", "robustness", "--backend", "ray",
                 "--epsilons", "0", "0.3", "--out", str(tmp_path / "r.html"), "--json", str(out),
                 "--fail-if", "robustness.accuracy@0.3<0.1"])
    assert code == 0
    assert json.loads(out.read_text())["provenance"]["backend"] == "ray"
