"""Measuring helpers shared by the benchmarks: peak RSS from /proc and a timing record."""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Timing", "measure", "proc_status", "reset_peak", "peak_rss_available", "trim"]


def proc_status(key: str) -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def trim() -> bool:
    """Give the memory malloc keeps free back to the system (glibc's ``malloc_trim``), so
    that a call's peak RSS growth counts what it allocates, not less. False where absent."""
    try:
        import ctypes

        return bool(ctypes.CDLL("libc.so.6").malloc_trim(0))
    except (OSError, AttributeError):
        return False


def peak_rss_available() -> bool:
    if not reset_peak() or proc_status("VmHWM") is None:
        return False
    before = proc_status("VmHWM")
    block = np.ones(64 * 2**20 // 8)  # 64 MiB, touched
    grown = proc_status("VmHWM")
    del block
    reset_peak()
    after = proc_status("VmHWM")
    return bool(grown and before and after and grown - before > 32 * 2**20 and after < grown)


@dataclass
class Timing:
    times: list[float] = field(default_factory=list)
    growth: list[int] = field(default_factory=list)
    result: Any = None

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def best(self) -> float:
        return min(self.times)

    @property
    def mib(self) -> float | None:
        """Median peak-RSS growth per call, MiB."""
        return statistics.median(self.growth) / 2**20 if self.growth else None

    @property
    def peak_mib(self) -> float | None:
        """Largest peak-RSS growth of any call, MiB."""
        return max(self.growth) / 2**20 if self.growth else None


def measure(runners: dict[str, Callable[[], Any]], reps: int, memory: bool) -> dict[str, Timing]:
    """One warm-up call each (its result is the one reported or compared; its memory growth counts,
    its time does not), then ``reps`` alternating timed calls."""
    out = {name: Timing() for name in runners}
    for rep in range(reps + 1):
        for name, run in runners.items():
            gc.collect()
            trim()
            rss = proc_status("VmRSS") if memory else None
            if memory:
                reset_peak()
            t0 = time.perf_counter()
            result = run()
            elapsed = time.perf_counter() - t0
            peak = proc_status("VmHWM") if memory else None
            if rep:
                out[name].times.append(elapsed)
            else:
                out[name].result = result
            if rss is not None and peak is not None:
                out[name].growth.append(max(0, peak - rss))
    return out
