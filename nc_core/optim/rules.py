"""The paper's update rules that torch does not ship: SGDW, Signum / SignumW and the Adam <-> AdamW
interpolation of Section 3.4.

Notation (per parameter tensor, step ``t = 1, 2, ...``): ``theta`` the parameter, ``g_t`` the stochastic
gradient at ``theta_{t-1}``, ``eta_t`` the *scheduled* learning rate (``group["lr"]``, read afresh at
every step, so LR schedulers also scale the decay terms), ``lambda`` the weight decay, ``beta`` the
momentum. The paper (Section 3.1) separates two ways of applying weight decay:

* coupled (L2 regularisation): the decay enters the gradient, ``g_t <- g_t + lambda theta_{t-1}``, and
  goes through the momentum / normalisation together with it;
* decoupled (Loshchilov & Hutter, as in AdamW): the weights are shrunk directly,
  ``theta <- (1 - eta_t lambda) theta_{t-1}``, before (and independently of) the rule's own step.

Every class here applies the decay in :meth:`_DecayOptimizer.step` (both forms are evaluated at
``theta_{t-1}``) and then the rule's own foreach update over each ``(device, dtype)`` bucket of a
parameter group. Parameters whose ``grad`` is ``None`` are skipped; sparse gradients are refused.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, ClassVar

import torch
from torch import Tensor
from torch.optim import Optimizer
from torch.optim.optimizer import ParamsT

__all__ = ["AdamAdamW", "SGDW", "Signum", "SignumW"]

_Bucket = tuple[list[Tensor], list[Tensor], list[dict[str, Any]]]


# ---------------------------------------------------------------------------------------------
# Hyperparameter checks (shared with nc_core.optim.factory).


def check_nonnegative(name: str, value: float) -> None:
    """Raise ``ValueError`` unless ``value`` is a finite number ``>= 0``."""
    if not (math.isfinite(value) and value >= 0.0):
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")


def check_unit_interval(name: str, value: float) -> None:
    """Raise ``ValueError`` unless ``0 <= value < 1`` (a momentum / EMA coefficient)."""
    if not (0.0 <= value < 1.0):
        raise ValueError(f"{name} must lie in [0, 1), got {value!r}")


def check_coupled_share(coupled_weight_decay: float, weight_decay: float) -> None:
    """Raise ``ValueError`` unless ``0 <= coupled_weight_decay <= weight_decay``."""
    if not (0.0 <= coupled_weight_decay <= weight_decay):
        raise ValueError(
            f"coupled_weight_decay must lie in [0, weight_decay] = [0, {weight_decay!r}], "
            f"got {coupled_weight_decay!r}"
        )


# ---------------------------------------------------------------------------------------------
# Shared step: gather -> weight decay (coupled and/or decoupled) -> the rule's own update.


class _DecayOptimizer(Optimizer):
    """Base class: one ``step`` for every rule below.

    For each parameter group and each ``(device, dtype)`` bucket of its parameters with a gradient::

        g      <- grad + lambda_c * theta          (coupled share, if lambda_c != 0)
        theta  <- (1 - eta * lambda_d) * theta     (decoupled share, if lambda_d != 0)
        self._update(group, params, g, states)     (the rule itself)

    Subclasses define :meth:`_check_group` (hyperparameter validation, run for every group added),
    :meth:`_decay` (the split ``(lambda_c, lambda_d)`` of the group's decay) and :meth:`_update`.
    """

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        super().add_param_group(param_group)
        self._check_group(self.param_groups[-1])

    def _check_group(self, group: dict[str, Any]) -> None:
        raise NotImplementedError

    def _decay(self, group: dict[str, Any]) -> tuple[float, float]:
        raise NotImplementedError

    def _update(
        self, group: dict[str, Any], params: list[Tensor], grads: list[Tensor], states: list[dict[str, Any]]
    ) -> None:
        raise NotImplementedError

    def _buckets(self, group: dict[str, Any]) -> list[_Bucket]:
        """The group's parameters with a gradient, their gradients and states, per (device, dtype)."""
        buckets: dict[tuple[torch.device, torch.dtype], _Bucket] = {}
        for p in group["params"]:
            if p.grad is None:
                continue
            if p.grad.is_sparse:
                raise RuntimeError(f"{type(self).__name__} does not support sparse gradients")
            params, grads, states = buckets.setdefault((p.device, p.dtype), ([], [], []))
            params.append(p)
            grads.append(p.grad)
            states.append(self.state[p])
        return list(buckets.values())

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None) -> float | None:
        """One update of every parameter with a gradient; ``closure`` re-evaluates the loss."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            coupled, decoupled = self._decay(group)
            for params, grads, states in self._buckets(group):
                if coupled != 0.0:
                    grads = torch._foreach_add(grads, params, alpha=coupled)
                if decoupled != 0.0:
                    torch._foreach_mul_(params, 1.0 - group["lr"] * decoupled)
                self._update(group, params, grads, states)
        return loss


def _zeros_state(states: list[dict[str, Any]], params: list[Tensor], key: str) -> list[Tensor]:
    """``state[key]`` for every parameter, created as zeros on first use."""
    for state, p in zip(states, params, strict=True):
        if key not in state:
            state[key] = torch.zeros_like(p, memory_format=torch.preserve_format)
    return [state[key] for state in states]


# ---------------------------------------------------------------------------------------------
# Momentum rules: SGDW, Signum, SignumW.


class _MomentumRule(_DecayOptimizer):
    """Rules with one momentum buffer ``b_t = beta b_{t-1} + c(beta) g_t``, ``b_0 = 0``.

    The whole decay ``lambda = group["weight_decay"]`` is coupled or decoupled according to the class
    attribute :attr:`decoupled`. With ``beta = 0`` no buffer is kept and ``b_t = g_t``.
    """

    decoupled: ClassVar[bool]

    def __init__(self, params: ParamsT, lr: float, momentum: float = 0.0, weight_decay: float = 0.0) -> None:
        super().__init__(params, {"lr": lr, "momentum": momentum, "weight_decay": weight_decay})

    def _check_group(self, group: dict[str, Any]) -> None:
        check_nonnegative("lr", group["lr"])
        check_unit_interval("momentum", group["momentum"])
        check_nonnegative("weight_decay", group["weight_decay"])

    def _decay(self, group: dict[str, Any]) -> tuple[float, float]:
        wd = group["weight_decay"]
        return (0.0, wd) if self.decoupled else (wd, 0.0)

    @staticmethod
    def _dampening(beta: float) -> float:
        """The weight ``c(beta)`` of the new gradient in the buffer."""
        raise NotImplementedError

    def _momentum(
        self, group: dict[str, Any], params: list[Tensor], grads: list[Tensor], states: list[dict[str, Any]]
    ) -> list[Tensor]:
        beta = group["momentum"]
        if beta == 0.0:
            return grads
        bufs = _zeros_state(states, params, "momentum_buffer")
        torch._foreach_mul_(bufs, beta)
        torch._foreach_add_(bufs, grads, alpha=self._dampening(beta))
        return bufs


class SGDW(_MomentumRule):
    r"""SGD with heavy-ball momentum and *decoupled* weight decay (paper Section 3.1; cf. Theorem 3.1,
    whose SGD analysis uses the coupled form of ``torch.optim.SGD``).

    .. math::

        b_t = \beta b_{t-1} + g_t \quad (b_1 = g_1), \qquad
        \theta_t = (1 - \eta_t \lambda)\,\theta_{t-1} - \eta_t b_t .

    The momentum buffer follows ``torch.optim.SGD`` (dampening 0, no Nesterov) but never sees the decay.
    The authors' code applies ``theta <- theta - eta lambda theta`` and then the momentum step, which is
    the same formula.
    """

    decoupled = True

    @staticmethod
    def _dampening(beta: float) -> float:
        return 1.0

    def _update(
        self, group: dict[str, Any], params: list[Tensor], grads: list[Tensor], states: list[dict[str, Any]]
    ) -> None:
        torch._foreach_add_(params, self._momentum(group, params, grads, states), alpha=-group["lr"])


class Signum(_MomentumRule):
    r"""Signum (sign of an EMA momentum) with *coupled* weight decay: the SignGD-with-coupled-decay
    model of Adam in the paper (Section 3.1, Theorem 3.3; Appendix D).

    .. math::

        \tilde g_t = g_t + \lambda \theta_{t-1}, \qquad
        m_t = \beta m_{t-1} + (1 - \beta)\,\tilde g_t \quad (m_0 = 0), \qquad
        \theta_t = \theta_{t-1} - \eta_t \operatorname{sign}(m_t) .

    ``momentum = 0`` is signSGD with coupled decay, ``theta -= eta sign(g + lambda theta)``.
    """

    decoupled = False

    @staticmethod
    def _dampening(beta: float) -> float:
        return 1.0 - beta

    def _update(
        self, group: dict[str, Any], params: list[Tensor], grads: list[Tensor], states: list[dict[str, Any]]
    ) -> None:
        direction = torch._foreach_sign(self._momentum(group, params, grads, states))
        torch._foreach_add_(params, direction, alpha=-group["lr"])


class SignumW(Signum):
    r"""Signum with *decoupled* weight decay: the SignGD-with-decoupled-decay model of AdamW in the
    paper (Section 3.1, Theorem 3.4; Appendix D).

    .. math::

        m_t = \beta m_{t-1} + (1 - \beta)\,g_t \quad (m_0 = 0), \qquad
        \theta_t = (1 - \eta_t \lambda)\,\theta_{t-1} - \eta_t \operatorname{sign}(m_t) .

    ``momentum = 0`` is signSGD with decoupled decay, ``theta <- (1 - eta lambda) theta - eta sign(g)``.
    """

    decoupled = True


# ---------------------------------------------------------------------------------------------
# Adam <-> AdamW.


class AdamAdamW(_DecayOptimizer):
    r"""Adam with its weight decay split into a coupled and a decoupled share (paper Section 3.4).

    With total decay ``lambda = weight_decay``, coupled share ``lambda_c = coupled_weight_decay`` and
    decoupled share ``lambda_d = lambda - lambda_c``:

    .. math::

        \tilde g_t &= g_t + \lambda_c \theta_{t-1}, \qquad
        \theta' = (1 - \eta_t \lambda_d)\,\theta_{t-1}, \\
        m_t &= \beta_1 m_{t-1} + (1 - \beta_1)\,\tilde g_t, \qquad
        v_t = \beta_2 v_{t-1} + (1 - \beta_2)\,\tilde g_t^2, \\
        \theta_t &= \theta' - \frac{\eta_t}{1 - \beta_1^t}\,
                     \frac{m_t}{\sqrt{v_t / (1 - \beta_2^t)} + \epsilon} .

    ``lambda_c = 0`` is ``torch.optim.AdamW`` and ``lambda_c = lambda`` is ``torch.optim.Adam`` with L2
    decay, step for step (same operations in the same order). ``betas = (0, 0)`` gives the paper's
    sign-like "AdamU" / "AdamW0" (Figure 8): the step is ``eta g / (|g| + eps)``. The state
    (``step``, ``exp_avg``, ``exp_avg_sq``) has the layout of ``torch.optim.Adam``'s.
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        coupled_weight_decay: float = 0.0,
    ) -> None:
        defaults = {
            "lr": lr,
            "betas": tuple(betas),
            "eps": eps,
            "weight_decay": weight_decay,
            "coupled_weight_decay": coupled_weight_decay,
        }
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        check_nonnegative("lr", group["lr"])
        beta1, beta2 = group["betas"]
        check_unit_interval("beta1 (momentum)", beta1)
        check_unit_interval("beta2", beta2)
        check_nonnegative("eps", group["eps"])
        check_nonnegative("weight_decay", group["weight_decay"])
        check_coupled_share(group["coupled_weight_decay"], group["weight_decay"])

    def _decay(self, group: dict[str, Any]) -> tuple[float, float]:
        total, coupled = group["weight_decay"], group["coupled_weight_decay"]
        check_coupled_share(coupled, total)  # the group may have been edited since construction
        return coupled, total - coupled

    def _update(
        self, group: dict[str, Any], params: list[Tensor], grads: list[Tensor], states: list[dict[str, Any]]
    ) -> None:
        beta1, beta2 = group["betas"]
        for state in states:
            if "step" not in state:
                state["step"] = torch.tensor(0.0, dtype=torch.float32)
        steps = [state["step"] for state in states]
        exp_avgs = _zeros_state(states, params, "exp_avg")
        exp_avg_sqs = _zeros_state(states, params, "exp_avg_sq")

        torch._foreach_add_(steps, 1.0)
        torch._foreach_lerp_(exp_avgs, grads, 1.0 - beta1)
        torch._foreach_mul_(exp_avg_sqs, beta2)
        torch._foreach_addcmul_(exp_avg_sqs, grads, grads, 1.0 - beta2)

        ts = [float(step) for step in steps]  # CPU scalars: no device sync
        neg_step_sizes = [-group["lr"] / (1.0 - beta1**t) for t in ts]
        denom = torch._foreach_sqrt(exp_avg_sqs)
        torch._foreach_div_(denom, [math.sqrt(1.0 - beta2**t) for t in ts])
        torch._foreach_add_(denom, group["eps"])
        torch._foreach_addcdiv_(params, exp_avgs, denom, neg_step_sizes)
