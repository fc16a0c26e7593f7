"""Models in worker processes: same answers as in the server, and a crash, the memory limit,
a timeout or a cancel never take the caller down; the next call works again."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

import explain
from explain.app import remote, tasks
from explain.runtime.worker import Worker, WorkerError


@pytest.fixture(scope="module")
def pt2_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2)).eval()
    path = tmp_path_factory.mktemp("worker") / "m.pt2"
    explain.save_model(net, path, torch.zeros(2, 4), feature_names=["a", "b", "c", "d"], class_names=["no", "yes"])
    return path.read_bytes()


@pytest.fixture(scope="module")
def worker(pt2_bytes: bytes):
    model = remote.from_upload(pt2_bytes, "m.pt2")
    yield model
    model.close()


# tasks for the worker (module level: the worker imports them by name)
def crash(model, *, progress):  # noqa: ANN001, ANN201
    os.kill(os.getpid(), signal.SIGKILL)


def hog(model, *, progress):  # noqa: ANN001, ANN201
    return np.ones(2**29).sum()  # 4 GiB


def slow(model, *, progress, seconds: float = 30.0):  # noqa: ANN001, ANN201
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        progress(min(1.0, (time.monotonic() - start) / seconds))
        time.sleep(0.05)
    return "done"


def pid(model, *, progress):  # noqa: ANN001, ANN201
    return os.getpid()


def test_an_upload_runs_in_its_own_process_with_the_same_answers(worker, pt2_bytes: bytes) -> None:
    assert worker.in_worker and worker.call(pid) != os.getpid()
    assert worker.feature_names == ("a", "b", "c", "d") and worker.format == "pt2" and "deeplift" in worker.methods
    x = explain.Dataset(np.random.default_rng(0).normal(size=(6, 4)))
    local = explain.load_model(pt2_bytes)
    for method in ("integrated_gradients", "deeplift"):
        there = worker.call(tasks.attribute, x, method=method)
        here = explain.attribute(local, x, method=method)
        np.testing.assert_allclose(there.values, here.values, rtol=1e-6)
    seen = []
    worker.call(tasks.attribute, x, method="saliency", batch_size=2, progress=seen.append)
    assert seen and seen[-1] == pytest.approx(1.0)  # progress crosses the process boundary


def test_a_bad_file_gives_the_loaders_own_error() -> None:
    with pytest.raises(explain.ModelFormatError, match="Could not recognise the model file junk.dat"):
        remote.from_upload(b"not a model at all", "junk.dat")


def test_a_crash_is_an_error_and_the_next_call_loads_the_model_again(worker) -> None:
    before = worker.call(pid)
    with pytest.raises(WorkerError, match="killed by signal SIGKILL"):
        worker.call(crash)
    after = worker.call(pid)  # a fresh worker, the model loaded again from its bytes
    assert after != before and worker.call(tasks.score, explain.Dataset(np.zeros((3, 4)), np.array([0, 1, 0]),
                                                                         class_names=["no", "yes"]))["rows"] == 3


def test_a_worker_killed_mid_run(worker) -> None:
    target = worker.call(pid)
    threading.Timer(1.0, os.kill, args=(target, signal.SIGKILL)).start()
    with pytest.raises(WorkerError, match="Your data and results are kept"):
        worker.call(slow, seconds=30)
    assert worker.call(pid) != target


def test_the_memory_limit_stops_a_hog_not_the_server(pt2_bytes: bytes) -> None:
    model = remote.SessionModel(*_started(Worker(remote.load_upload, pt2_bytes, "m.pt2", describe=remote.describe,
                                                 memory_mb=512)))
    try:
        with pytest.raises(explain.ExplainError, match="memory"):
            model.call(hog)
        assert model.call(pid) > 0  # still there (or started again), and answering
    finally:
        model.close()


def test_the_time_limit_stops_a_long_call(pt2_bytes: bytes) -> None:
    model = remote.SessionModel(*_started(Worker(remote.load_upload, pt2_bytes, "m.pt2", describe=remote.describe,
                                                 timeout_s=1.5)))
    try:
        with pytest.raises(WorkerError, match="time limit"):
            model.call(slow, seconds=30)
        assert model.call(slow, seconds=0.1) == "done"
    finally:
        model.close()


class _Stop(Exception):
    """What Streamlit raises in a script when the user stops it."""


def test_a_cancel_interrupts_the_computation_and_keeps_the_worker(worker) -> None:
    before, restarts = worker.call(pid), worker.runner.restarts
    calls = []

    def cancel_after_a_while(fraction: float) -> None:
        calls.append(fraction)
        if len(calls) == 5:
            raise _Stop

    started = time.monotonic()
    with pytest.raises(_Stop):
        worker.call(slow, seconds=30, progress=cancel_after_a_while)
    assert time.monotonic() - started < 10, "the call stopped, not ran to its end"
    assert worker.call(pid) == before and worker.runner.restarts == restarts, "same worker, model kept"


@pytest.mark.slow
def test_an_idle_worker_exits_and_comes_back(pt2_bytes: bytes) -> None:
    model = remote.SessionModel(*_started(Worker(remote.load_upload, pt2_bytes, "m.pt2", describe=remote.describe,
                                                 idle_s=1)))
    try:
        first = model.call(pid)
        deadline = time.monotonic() + 10
        while Path(f"/proc/{first}").exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not model.runner.alive
        assert model.call(pid) != first
    finally:
        model.close()


def _started(worker: Worker) -> tuple[remote.ModelInfo, Worker]:
    return worker.start(), worker
