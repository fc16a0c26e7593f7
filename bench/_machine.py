"""What every benchmark says of the machine it ran on: the CPU, cores, torch threads and
library versions, and the load average (a shared machine makes timings noisy)."""

from __future__ import annotations

import datetime
import os
import platform
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np
import torch

__all__ = ["machine", "load_average"]


def machine(*libraries: str) -> str:
    """The date, CPU, cores, torch threads, Python, torch and numpy, then the versions of
    ``libraries`` (distribution names, e.g. ``"captum"``, ``"dice-ml"``)."""
    cpu = platform.processor() or "unknown"
    try:
        names = [line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                 if line.startswith("model name")]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    versions = [f"torch {torch.__version__}"]
    for name in libraries:
        try:
            versions.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            versions.append(f"{name} (not installed)")
    versions.append(f"numpy {np.__version__}")
    return (f"{datetime.date.today().isoformat()}; CPU {cpu}, {os.cpu_count()} cores, "
            f"torch.set_num_threads({torch.get_num_threads()}); Python {platform.python_version()}, "
            + ", ".join(versions))


def load_average() -> str:
    """The 1, 5 and 15 minute load averages, or "unknown"."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"
