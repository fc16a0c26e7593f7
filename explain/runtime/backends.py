"""Where dataset-wide work runs: in this process, or spread over a Ray cluster.

A dataset-wide computation (global importance, robustness curves) splits its rows into
chunks, runs one module-level function per chunk on the model, and combines the chunk
results in chunk order. :class:`Local` runs the chunks here, one after the other;
:class:`Ray` runs them on Ray actors that each receive the model once (``ray.put``) and
keep it, so a cluster of N workers loads N copies, not one per chunk. Because the chunks
and the order of combination are the same, deterministic computations give the same
numbers on both.

Example:
    >>> def double(model, rows):
    ...     return [2 * r for r in rows]
    >>> Local().map(None, double, [([1, 2],), ([3],)])
    [[2, 4], [6]]
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

from explain.errors import InputError
from explain.runtime.deps import require

__all__ = ["Backend", "Local", "Ray", "get_backend"]

Progress = Callable[[float], None]


class Local:
    """Run every chunk in this process."""

    name = "local"

    def map(self, model: Any, fn: Callable[..., Any], chunks: Sequence[tuple[Any, ...]],
            progress: Progress | None = None) -> list[Any]:
        out = []
        for k, args in enumerate(chunks):
            out.append(fn(model, *args))
            if progress is not None:
                progress((k + 1) / len(chunks))
        return out


# Ray's switch that makes a local instance use 127.0.0.1 (named for macOS and Windows,
# where it is off by default).
LOCAL_ONLY = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"


class Ray:
    """Run chunks on Ray actors that hold the model.

    Args:
        address: a running cluster's address (``"ray://host:10001"``, ``"auto"``); None
            starts a local Ray instance on this machine (one node, no dashboard, bound to
            127.0.0.1).
        workers: how many actors (default: the cluster's CPUs, at most the chunks).
    """

    name = "ray"

    def __init__(self, address: str | None = None, workers: int | None = None) -> None:
        if address is None:
            # Ray on Linux swaps a loopback node address for the machine's outward one
            # unless told it is not a cluster; read when ray is first imported.
            os.environ.setdefault(LOCAL_ONLY, "0")
        self.ray = require("ray", feature="the Ray backend")
        if not self.ray.is_initialized():
            if address is None:
                # a local instance listens on loopback only, never the machine's other addresses
                self.ray.init(address="local", include_dashboard=False, log_to_driver=False,
                              configure_logging=False, _node_ip_address="127.0.0.1")
            else:
                self.ray.init(address=address, log_to_driver=False, configure_logging=False)
        self.workers = workers

    def map(self, model: Any, fn: Callable[..., Any], chunks: Sequence[tuple[Any, ...]],
            progress: Progress | None = None) -> list[Any]:
        ray = self.ray
        if not chunks:
            return []
        cpus = int(ray.cluster_resources().get("CPU", 1))
        count = max(1, min(len(chunks), self.workers or cpus))
        holder = ray.remote(num_cpus=1)(_Holder)
        stored = ray.put(model)
        actors = [holder.remote(stored, max(1, cpus // count)) for _ in range(count)]
        pending = {actors[k % count].run.remote(fn, *args): k for k, args in enumerate(chunks)}
        results: list[Any] = [None] * len(chunks)
        done = 0
        waiting = list(pending)
        while waiting:
            ready, waiting = ray.wait(waiting, num_returns=1)
            results[pending[ready[0]]] = ray.get(ready[0])
            done += 1
            if progress is not None:
                progress(done / len(chunks))
        for actor in actors:
            ray.kill(actor)
        return results


class _Holder:
    """A Ray actor holding one copy of the model."""

    def __init__(self, model: Any, threads: int) -> None:
        import torch

        torch.set_num_threads(threads)  # one actor per CPU: no oversubscription
        self.model = model

    def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        return fn(self.model, *args)


Backend = Local | Ray


def get_backend(backend: str | Backend | None, address: str | None = None) -> Backend:
    """``None`` or ``"local"``: this process; ``"ray"``: Ray (a local instance, or the
    cluster at ``address``); a backend object as it is."""
    if backend is None or backend == "local":
        return Local()
    if backend == "ray":
        return Ray(address)
    if isinstance(backend, (Local, Ray)):
        return backend
    raise InputError(f"backend must be 'local' or 'ray'; got {backend!r}.")
