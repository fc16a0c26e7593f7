"""Seeded runs of code that draws from the global random generators.

Captum's stochastic methods (SmoothGrad, GradientSHAP, LIME, ...), PGD's random start and
MC dropout draw from torch's and numpy's *global* generators, which every thread of a
process shares. Two sessions of the app computing at once would interleave their draws,
and a seeded result would no longer repeat. :func:`seeded` therefore holds one lock for
the whole seeded run, seeds the generators, and puts the caller's generator states back.
Seeded runs of explain exclude each other; code outside explain that draws from the global
generators in another thread at the same time is not held back by the lock.

Example:
    >>> import torch
    >>> with seeded(3):
    ...     a = torch.rand(2)
    >>> with seeded(3):
    ...     b = torch.rand(2)
    >>> bool(torch.equal(a, b))
    True
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import numpy as np
import torch

__all__ = ["seeded", "untouched"]

_LOCK = threading.RLock()  # re-entrant: a seeded run may call another (SHAP -> attribute)


@contextlib.contextmanager
def seeded(seed: int, device: torch.device | None = None) -> Iterator[None]:
    """Seed torch's (CPU and ``device``'s) and numpy's global generators for the block,
    one thread at a time, then restore the generators as they were."""
    devices = [device.index or 0] if device is not None and device.type == "cuda" else []
    with _LOCK:
        state = np.random.get_state()
        with torch.random.fork_rng(devices=devices):
            _seed_torch(int(seed))
            np.random.seed(int(seed) % 2**32)
            try:
                yield
            finally:
                np.random.set_state(state)


def _seed_torch(seed: int) -> None:
    """``torch.manual_seed``; where no accelerator has started, only the CPU generator: for
    each backend not started ``torch.manual_seed`` queues a seeding with a traceback,
    about a millisecond per call, for generators nothing draws from yet."""
    started = any(backend.is_initialized() for backend in (torch.cuda, torch.xpu, torch.mtia))
    if started or torch.backends.mps.is_available():
        torch.manual_seed(seed)
    else:
        torch.default_generator.manual_seed(seed)


@contextlib.contextmanager
def untouched(device: torch.device | None = None) -> Iterator[None]:
    """Run a block that may draw from the global generators (a pass with dropout on) and
    put them back as they were, one thread at a time like :func:`seeded`, so that neither
    the caller nor a seeded run in another thread sees the draws."""
    devices = [device.index or 0] if device is not None and device.type == "cuda" else []
    with _LOCK:
        state = np.random.get_state()
        with torch.random.fork_rng(devices=devices):
            try:
                yield
            finally:
                np.random.set_state(state)
