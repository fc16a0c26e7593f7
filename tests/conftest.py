"""Shared fixtures: tiny networks with known weights, and model files in every format."""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest
import torch
from torch import nn

from explain.runtime.backends import LOCAL_ONLY

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# a local Ray instance on 127.0.0.1, not the machine's other address (set before ray is imported)
os.environ.setdefault(LOCAL_ONLY, "0")
torch.set_num_threads(2)
warnings.filterwarnings("ignore", category=UserWarning, module=r"captum\.")


class TinyCNN(nn.Module):
    """A small image classifier with conv, ReLU modules, max-pool and a linear head."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.relu1 = nn.ReLU()
        self.pool = nn.MaxPool2d(2)
        self.flat = nn.Flatten()
        self.fc = nn.Linear(4 * 4 * 4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.flat(self.pool(self.relu1(self.conv(x)))))


@pytest.fixture
def mlp() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Linear(16, 3)).eval()


@pytest.fixture
def tabular_x() -> torch.Tensor:
    return torch.randn(12, 5, generator=torch.Generator().manual_seed(1))


@pytest.fixture
def cnn() -> nn.Module:
    torch.manual_seed(0)
    return TinyCNN().eval()


@pytest.fixture
def image_x() -> torch.Tensor:
    return torch.rand(6, 1, 8, 8, generator=torch.Generator().manual_seed(2))


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)
