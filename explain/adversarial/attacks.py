"""Gradient attacks on tabular and image inputs through Captum's FGSM and PGD.

The attack runs in a scaled space ``u = x / scale``: for tables ``scale`` is each
feature's standard deviation, so epsilon 0.1 means a tenth of a standard deviation for
every column; for images it is 1 (pixel units). Bounds and the mask of features that may
move live in the same space. Captum clamps with a scalar range; its documented hook for
other bounds is the attack's ``bound`` attribute, which we set to a per-feature clamp.

After the attack, tabular inputs are projected back to valid values: integer features
are rounded (towards the original where rounding would leave the epsilon ball) and each
one-hot group holds exactly one 1 (the original category where the switch would leave
the ball). The model is then scored on the projected inputs, so every flip is real.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from explain.core.model import Model
from explain.errors import DataError, InputError

__all__ = ["Space", "attack_batch", "build_space", "as_array"]


@dataclass
class Space:
    """Where an attack may move: all tensors have shape ``(1, *example_shape)``."""

    scale: torch.Tensor
    lower: torch.Tensor  # raw units
    upper: torch.Tensor
    mask: torch.Tensor  # 1 where the input may move
    integer: torch.Tensor | None = None  # tabular: bool per feature
    one_hot: tuple[tuple[int, ...], ...] = ()

    def clamp_scaled(self, u: torch.Tensor) -> torch.Tensor:
        return torch.maximum(torch.minimum(u, self.upper / self.scale), self.lower / self.scale)

    def project(self, adv: torch.Tensor, x: torch.Tensor, eps: float, norm: str) -> torch.Tensor:
        """Valid tabular values inside the ball: integers rounded, one-hot groups whole."""
        out = adv.clone()
        if self.integer is not None and bool(self.integer.any()):
            cols = self.integer
            rounded = torch.round(out[:, cols])
            inside = (rounded - x[:, cols]).abs() / self.scale[:, cols] <= eps + 1e-6
            out[:, cols] = torch.where(inside, rounded, torch.round(x[:, cols]))
        if self.one_hot:
            for group in self.one_hot:
                cols = torch.tensor(group)
                pick = out[:, cols].argmax(dim=1)
                out[:, cols] = F.one_hot(pick, len(group)).to(out.dtype)
            rows = (~self.inside(out, x, eps, norm)).nonzero(as_tuple=True)[0]
            cols = torch.tensor([c for group in self.one_hot for c in group])
            out[rows[:, None], cols[None, :]] = x[rows[:, None], cols[None, :]]
        return torch.maximum(torch.minimum(out, self.upper), self.lower)

    def inside(self, adv: torch.Tensor, x: torch.Tensor, eps: float, norm: str) -> torch.Tensor:
        """Per example: whether ``adv`` lies within ``eps`` of ``x`` (scaled units)."""
        diff = ((adv - x) / self.scale).flatten(1)
        size = diff.abs().amax(dim=1) if norm == "linf" else diff.norm(dim=1)
        return size <= eps * (1 + 1e-4) + 1e-6


def _loss(outputs: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return F.cross_entropy(outputs, target, reduction="none")


def attack_batch(
    model: Model, x: torch.Tensor, target: torch.Tensor, *, attack: str, eps: float, norm: str,
    steps: int, step_size: float | None, random_start: bool, targeted: bool, space: Space,
) -> torch.Tensor:
    """Adversarial versions of ``x`` (raw units) at size ``eps``.

    ``target`` is the true label (untargeted: move away from it) or the class to reach
    (targeted: move towards it).
    """
    if eps <= 0:
        return x.clone()
    scale = space.scale

    def forward(u: torch.Tensor) -> torch.Tensor:
        return model.forward_module(u * scale)

    u = (x / scale).detach()
    mask = space.mask.expand_as(u).to(u.dtype)
    with warnings.catch_warnings():  # Captum warns each step that it sets requires_grad
        warnings.filterwarnings("ignore", message=".*did not already require gradients.*")
        u_adv = _captum(forward, u, target, attack, eps, norm, steps, step_size, random_start,
                        targeted, mask, space)
    # entries the attack left alone keep their exact value (u * scale can round off)
    adv = torch.where(u_adv == u, x, u_adv * scale).detach()
    return space.project(adv, x, eps, norm)


def _captum(
    forward: Any, u: torch.Tensor, target: torch.Tensor, attack: str, eps: float, norm: str, steps: int,
    step_size: float | None, random_start: bool, targeted: bool, mask: torch.Tensor, space: Space,
) -> torch.Tensor:
    from captum.robust import FGSM, PGD  # here, not at the top: captum imports matplotlib (slow)

    if attack == "fgsm":
        fgsm = FGSM(forward, _loss)
        fgsm.bound = space.clamp_scaled
        fgsm.zero_thresh = 0.0  # see below
        u_adv = fgsm.perturb(u, epsilon=eps, target=target, targeted=targeted, mask=mask)
    else:
        pgd = PGD(forward, _loss)
        pgd.bound = space.clamp_scaled
        # Captum skips entries whose gradient is below 1e-6; a confident example's loss
        # gradient is often that small, and FGSM is defined by its sign alone
        pgd.fgsm.zero_thresh = 0.0
        u_adv = pgd.perturb(
            u, radius=eps, step_size=step_size if step_size is not None else default_step(eps, steps, norm, mask),
            step_num=steps, target=target, targeted=targeted, random_start=random_start,
            norm="Linf" if norm == "linf" else "L2", mask=mask,
        )
    return u_adv


def default_step(eps: float, steps: int, norm: str, mask: torch.Tensor) -> float:
    """2.5 eps / steps (Madry et al.), so the last steps can still reach the border.

    Captum's L2 PGD takes sign steps (each moves ``step * sqrt(d)`` in L2), so for L2
    the step is divided by the root of the number of inputs that may move.
    """
    step = 2.5 * eps / steps
    if norm == "l2":
        movable = float(mask[0].sum().clamp(min=1))
        step /= movable**0.5
    return step


def as_array(t: torch.Tensor) -> np.ndarray:
    return t.detach().float().cpu().numpy()


def build_space(
    model: Model, x: torch.Tensor, *, bounds: Any, scale: Any, immutable: Any, integer: Any,
    one_hot: Any, names: tuple[str, ...] | None, reference: torch.Tensor | None = None,
) -> Space:
    """The attack space for ``x``, from the options of :func:`explain.robustness`.

    Example:
        >>> import torch, explain
        >>> model = explain.Model(torch.nn.Linear(2, 2), modality="tabular")
        >>> x = torch.tensor([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]])
        >>> space = build_space(model, x, bounds=None, scale="std", immutable=[1],
        ...                     integer=None, one_hot=None, names=None)
        >>> space.scale.tolist(), space.mask.tolist(), space.upper.tolist()
        ([[2.0, 2.0]], [[1.0, 0.0]], [[4.0, 5.0]])
    """
    ref = x if reference is None else reference
    shape = (1, *x.shape[1:])
    if model.modality == "image":
        if immutable is not None or integer not in (None, "auto") or one_hot:
            raise InputError("immutable, integer and one_hot are options for tabular data, not images.")
        lower, upper = _bounds(bounds, float(ref.min()), float(ref.max()), shape)
        unit = torch.ones(shape) if _named(scale, ("std", "none")) else _per_feature(scale, shape, "scale")
        return Space(unit, lower, upper, torch.ones(shape))
    low, high = ref.amin(dim=0, keepdim=True), ref.amax(dim=0, keepdim=True)
    lower, upper = _bounds(bounds, low, high, shape)
    mask = torch.ones(shape)
    if isinstance(scale, str) and scale == "std":
        std = ref.std(dim=0, keepdim=True) if ref.shape[0] > 1 else torch.zeros(shape)
        mask[std == 0] = 0.0  # a constant column has nowhere to go
        unit = torch.where(std > 0, std, torch.ones_like(std))
    elif _named(scale, ("none",)):
        unit = torch.ones(shape)
    else:
        unit = _per_feature(scale, shape, "scale")
        if bool((unit <= 0).any()):
            raise InputError("scale must be positive for every feature.")
    for j in _columns(immutable, names, shape[1], "immutable"):
        mask[0, j] = 0.0
    groups = tuple(tuple(_columns(g, names, shape[1], "one_hot")) for g in (one_hot or ()))
    for group in groups:
        values = ref[:, list(group)]
        if not (((values == 0) | (values == 1)).all() and bool((values.sum(dim=1) == 1).all())):
            raise DataError(
                f"one_hot group {[names[j] if names else j for j in group]} is not one-hot in the data "
                "(each row must hold exactly one 1 and zeros). Check the column names."
            )
    grouped = {j for group in groups for j in group}
    if integer == "auto":
        whole = (ref == torch.round(ref)).all(dim=0)
        cols = [j for j in range(shape[1]) if bool(whole[j]) and j not in grouped]
    else:
        cols = _columns(integer, names, shape[1], "integer")
    is_int = torch.zeros(shape[1], dtype=torch.bool)
    is_int[cols] = True
    return Space(unit, lower, upper, mask, is_int, groups)


def _named(value: Any, names: tuple[str, ...]) -> bool:
    """Whether ``value`` is None or one of ``names`` (it may also be an array)."""
    return value is None or (isinstance(value, str) and value in names)


def _bounds(bounds: Any, low: Any, high: Any, shape: tuple[int, ...]) -> tuple[torch.Tensor, torch.Tensor]:
    if bounds is None:
        lo, hi = low, high
    else:
        try:
            lo, hi = bounds
        except (TypeError, ValueError) as err:
            raise InputError(
                f"bounds must be (lower, upper): two numbers or two arrays of one example's shape; got {bounds!r}."
            ) from err
    lower = _per_feature(lo, shape, "bounds")
    upper = _per_feature(hi, shape, "bounds")
    if bool((lower > upper).any()):
        raise InputError("bounds: the lower bound is above the upper bound; give (lower, upper).")
    return lower, upper


def _per_feature(value: Any, shape: tuple[int, ...], what: str) -> torch.Tensor:
    t = torch.as_tensor(np.asarray(value, dtype=np.float32))
    try:
        return t.expand(shape).clone() if t.ndim <= len(shape) else t.reshape(shape)
    except RuntimeError as err:
        raise InputError(
            f"{what} must be a number or one value per feature (shape {tuple(shape[1:])}); got shape {tuple(t.shape)}."
        ) from err


def _columns(which: Any, names: tuple[str, ...] | None, n: int, what: str) -> list[int]:
    """Column indices from names or indices."""
    if which is None:
        return []
    if isinstance(which, (str, int)):
        which = [which]
    cols = []
    for item in which:
        if isinstance(item, (int, np.integer)) and not isinstance(item, bool):
            if not 0 <= int(item) < n:
                raise InputError(f"{what}: column {item} is out of range; the data has {n} features.")
            cols.append(int(item))
        elif names and str(item) in names:
            cols.append(names.index(str(item)))
        else:
            known = f" Known features: {list(names)[:20]}." if names else " Pass column indices."
            raise InputError(f"{what}: no feature named {item!r}.{known}")
    return cols
