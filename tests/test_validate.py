"""One validator: its rules by hand, and TypeError against ValueError across public functions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch
from torch import nn

import explain
from explain.confidence.calibrating import reliability
from explain.core.budget import check_batch_size
from explain.core.model import check_model
from explain.core.validate import Instance, Int, Number, OneOf, check
from explain.errors import InputError, InputTypeError


# --- the rules ------------------------------------------------------------------------------
def test_bool_is_not_an_int_and_numpy_ints_are() -> None:
    with pytest.raises(InputTypeError, match="steps must be a positive integer, got True"):
        check(steps=(True, Int(low=1)))
    converted = check(steps=(np.int64(5), Int(low=1)))["steps"]
    assert converted == 5 and type(converted) is int
    with pytest.raises(InputTypeError):
        check(steps=(2.0, Int(low=1)))
    with pytest.raises(InputTypeError):
        check(steps=("3", Int(low=1)))


def test_int_bounds_and_optional_none() -> None:
    assert check(k=(None, Int(low=1, optional=True)))["k"] is None
    with pytest.raises(InputTypeError):
        check(k=(None, Int(low=1)))
    with pytest.raises(InputError, match=r"k must be an integer between 0 and 3, got 4; pass e.g. k=0") as err:
        check(k=(4, Int(low=0, high=3)))
    assert not isinstance(err.value, TypeError)
    assert check(k=(0, Int(low=0)), j=(3, Int(high=3))) == {"k": 0, "j": 3}


def test_numbers_refuse_nan_bools_and_strings() -> None:
    with pytest.raises(InputError, match="alpha must be a number strictly between 0 and 1, got nan"):
        check(alpha=(float("nan"), Number(low=0, high=1, open=True)))
    with pytest.raises(InputError, match="got nan"):
        check(x=(float("nan"), Number()))
    with pytest.raises(InputTypeError):
        check(alpha=(False, Number()))
    with pytest.raises(InputTypeError):
        check(alpha=("0.1", Number()))
    value = check(alpha=(np.float32(0.5), Number(low=0, high=1, open=True)))["alpha"]
    assert value == 0.5 and type(value) is float
    assert check(n=(3, Number(low=0)))["n"] == 3.0


def test_open_and_closed_bounds() -> None:
    with pytest.raises(InputError):
        check(alpha=(0, Number(low=0, high=1, open=True)))
    assert check(alpha=(0, Number(low=0, high=1)))["alpha"] == 0.0
    assert check(p=(None, Number(optional=True)))["p"] is None


def test_one_of_and_instance() -> None:
    assert check(norm=("l2", OneOf(("linf", "l2"))))["norm"] == "l2"
    with pytest.raises(InputError, match="norm must be one of 'linf', 'l2', got 'l3'; pass e.g. norm='linf'"):
        check(norm=("l3", OneOf(("linf", "l2"))))
    with pytest.raises(InputError):
        check(norm=(["l2"], OneOf(("linf", "l2"))))  # unhashable: refused, not a crash
    with pytest.raises(InputTypeError, match="x must be an int, got str. Pass a number."):
        check(x=("a", Instance(int, "Pass a number.")))
    assert check(x=(None, Instance(int, "", optional=True)))["x"] is None


def test_a_hint_is_added_and_the_batch_size_message_names_the_budget() -> None:
    with pytest.raises(InputError, match=r"batch_size must be a positive integer or None, got 0; pass e.g. "
                                         r"batch_size=64. None takes the rows from the memory budget "
                                         r"\(EXPLAIN_MEMORY_BUDGET\)."):
        check_batch_size(0)
    assert check_batch_size(None) is None and check_batch_size(np.int32(8)) == 8


def test_check_model_is_the_one_model_check() -> None:
    model = explain.Model(nn.Linear(2, 2))
    assert check_model(model) is model
    with pytest.raises(InputTypeError, match="models must be an explain.Model, got Linear. Wrap a module"):
        check_model(nn.Linear(2, 2), "models")


# --- across public functions ----------------------------------------------------------------------
_NET = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Dropout(0.2), nn.Linear(8, 3)).eval()
_MODEL = explain.Model(_NET)
_X = torch.randn(8, 5, generator=torch.Generator().manual_seed(0))
_Y = np.arange(8) % 3


class _Tiny(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.attn = nn.MultiheadAttention(4, 2, batch_first=True)
        self.head = nn.Linear(4, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tokens = x.reshape(-1, 5, 4)
        y, _ = self.attn(tokens, tokens, tokens, need_weights=False)
        return self.head(y.mean(1))


def _attr() -> explain.Attribution:
    return explain.attribute(_MODEL, _X, method="saliency")


CASES: list[tuple[str, Callable[[], Any], type[Exception], str]] = [
    ("Model module", lambda: explain.Model(3), TypeError, "module must be a Module, got int"),
    ("Model task", lambda: explain.Model(nn.Linear(2, 2), task="ranking"), ValueError, "task must be one of"),
    ("attribute model", lambda: explain.attribute(_NET, _X), TypeError, "explain.Model"),
    ("attribute batch 0", lambda: explain.attribute(_MODEL, _X, batch_size=0), ValueError, "batch_size"),
    ("attribute batch float", lambda: explain.attribute(_MODEL, _X, batch_size=2.5), TypeError, "batch_size"),
    ("attribute batch bool", lambda: explain.attribute(_MODEL, _X, batch_size=True), TypeError, "batch_size"),
    ("global batch str", lambda: explain.global_importance(_MODEL, _X, batch_size="64"), TypeError, "batch_size"),
    ("global model", lambda: explain.global_importance("model", _X), TypeError, "explain.Model"),
    ("shap rows 0", lambda: explain.shap_values(_MODEL, _X, rows_per_call=0), ValueError, "rows_per_call"),
    ("shap algorithm", lambda: explain.shap_values(_MODEL, _X, algorithm="magic"), ValueError,
     "algorithm must be one of"),
    ("shap model", lambda: explain.shap_values(_NET, _X), TypeError, "explain.Model"),
    ("shap background", lambda: explain.shap_values(_MODEL, _X, max_background=0), ValueError, "max_background"),
    ("logits batch", lambda: _MODEL.logits(_X, batch_size=-1), ValueError, "batch_size"),
    ("attention model", lambda: explain.attention(_NET, _X), TypeError, "explain.Model"),
    ("attention batch 0", lambda: explain.attention(explain.Model(_Tiny(), input_shape=(20,)), torch.randn(3, 20),
                                                    batch_size=0), ValueError, "batch_size must be a positive"),
    ("attention batch float", lambda: explain.attention(explain.Model(_Tiny(), input_shape=(20,)),
                                                        torch.randn(3, 20), batch_size=1.5), TypeError, "batch_size"),
    ("uncertainty samples", lambda: explain.uncertainty(_MODEL, _X, n_samples=1), ValueError, "n_samples"),
    ("uncertainty samples float", lambda: explain.uncertainty(_MODEL, _X, n_samples=2.0), TypeError, "n_samples"),
    ("uncertainty level", lambda: explain.uncertainty(_MODEL, _X, level=1.5), ValueError, "level"),
    ("uncertainty level nan", lambda: explain.uncertainty(_MODEL, _X, level=float("nan")), ValueError, "level"),
    ("uncertainty shift", lambda: explain.uncertainty(_MODEL, _X, method="tta", shift=-1), ValueError, "shift"),
    ("uncertainty model", lambda: explain.uncertainty(_NET, _X), TypeError, "explain.Model"),
    ("uncertainty members", lambda: explain.uncertainty(_MODEL, _X, method="ensemble", models=[_NET]), TypeError,
     "every entry of models"),
    ("risk_coverage model", lambda: explain.risk_coverage(_NET, _X, _Y), TypeError, "explain.Model"),
    ("calibration bins", lambda: explain.calibration(_MODEL, _X, _Y, n_bins=0), ValueError, "n_bins"),
    ("calibration bins bool", lambda: explain.calibration(_MODEL, _X, _Y, n_bins=True), TypeError, "n_bins"),
    ("calibration fraction", lambda: explain.calibration(_MODEL, _X, _Y, fit_fraction=1), ValueError,
     "fit_fraction"),
    ("calibration model", lambda: explain.calibration(None, _X, _Y), TypeError, "explain.Model"),
    ("reliability bins", lambda: reliability(np.full((2, 2), 0.5), [0, 1], n_bins=-3), ValueError, "n_bins"),
    ("conformal alpha", lambda: explain.conformal(_MODEL, _X, _Y, alpha=0), ValueError, "alpha"),
    ("conformal alpha str", lambda: explain.conformal(_MODEL, _X, _Y, alpha="0.1"), TypeError, "alpha"),
    ("conformal penalty", lambda: explain.conformal(_MODEL, _X, _Y, penalty=-1), ValueError, "penalty"),
    ("conformal k_reg", lambda: explain.conformal(_MODEL, _X, _Y, k_reg=-1), ValueError, "k_reg"),
    ("conformal batch", lambda: explain.conformal(_MODEL, _X, _Y, batch_size=0), ValueError, "batch_size"),
    ("evaluate steps", lambda: explain.evaluate(_MODEL, _X, _attr(), steps=0), ValueError, "steps"),
    ("evaluate random", lambda: explain.evaluate(_MODEL, _X, _attr(), n_random=1.5), TypeError, "n_random"),
    ("evaluate attribution", lambda: explain.evaluate(_MODEL, _X, np.zeros((8, 5))), TypeError,
     "explain.Attribution"),
    ("evaluate model", lambda: explain.evaluate(_NET, _X, _attr()), TypeError, "explain.Model"),
    ("sanity keep", lambda: explain.sanity_check(_MODEL, _X, keep=0), ValueError, "keep"),
    ("sanity threshold", lambda: explain.sanity_check(_MODEL, _X, threshold=2), ValueError, "threshold"),
    ("sanity threshold str", lambda: explain.sanity_check(_MODEL, _X, threshold="a"), TypeError, "threshold"),
    ("sanity model", lambda: explain.sanity_check(_NET, _X), TypeError, "explain.Model"),
    ("agreement k", lambda: explain.agreement([_attr(), _attr()], k=0), ValueError, "k must be"),
    ("robustness batch", lambda: explain.robustness(_MODEL, _X, _Y, batch_size=0), ValueError, "batch_size"),
    ("audit model", lambda: explain.audit("model.pt2", explain.Dataset(_X.numpy(), _Y)), TypeError,
     "explain.Model"),
]


@pytest.mark.parametrize("call, kind, fragment", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_arguments_raise_type_or_value_errors(call: Callable[[], Any], kind: type[Exception],
                                                  fragment: str) -> None:
    with pytest.raises(InputError, match=fragment) as err:
        call()
    assert isinstance(err.value, kind) and isinstance(err.value, explain.ExplainError)
    if kind is ValueError:
        assert not isinstance(err.value, TypeError)
