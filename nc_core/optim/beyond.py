r"""Optimizers beyond the paper, to test its weight-decay prediction on newer rules (issue "Beyond the
paper").

The paper's Theorem 3.3 shows that sign GD with *decoupled* weight decay keeps the classifier's NC0
(``(1/K)||W^T 1||^2``) bounded away from zero, while with *coupled* decay (Theorem 3.4) NC0 is driven
into an ``O(eta^2)`` band. The rules here carry that question to Lion (a sign update), Schedule-Free
SGD / AdamW and Muon (an orthogonalised update). Notation as in :mod:`nc_core.optim.rules`: ``g_t`` the
gradient at the point where the loss is evaluated, ``eta_t`` the scheduled ``group["lr"]``, ``lambda``
the weight decay.

* :class:`Lion` - ``lion-pytorch``'s Lion (its foreach implementation), decoupled decay
  ``theta <- (1 - eta lambda) theta`` (Chen et al. 2023, "Symbolic Discovery of Optimization
  Algorithms"), with this project's hyperparameter checks.
* :class:`LionCoupled` - Lion with the decay added to the gradient before the sign (hand-written: the
  package has no such variant).
* :class:`MuonAdamW` - Muon (Jordan et al. 2024) for the parameter groups tagged ``use_muon=True`` and
  AdamW for the others, in one ``torch.optim.Optimizer``; both steps are torch's own code
  (``torch.optim._muon.muon`` and ``torch.optim.adam.adam`` with decoupled decay).

Schedule-Free SGD / AdamW (Defazio et al. 2024, "The Road Less Scheduled") are the ``schedulefree``
package's ``SGDScheduleFree`` / ``AdamWScheduleFree``, returned as they are by
:func:`~nc_core.optim.make_optimizer`; their update and weight-decay placement, read from the package
source (``schedulefree`` 1.4.1), are (``c_{t}`` the averaging weight, ``beta`` = ``momentum`` /
``beta1``, ``y`` the point where gradients are taken = the parameters in ``train()`` mode, ``x`` the
average = the parameters in ``eval()`` mode, ``z`` the base sequence; ``x_0 = y_0 = z_0 = theta_0``):

.. math::

    \eta_t &= \eta\,\min(1, t/T_{warm}), \quad \eta^{max}_t = \max_{s \le t} \eta_s, \quad
    c_t = \frac{(\eta^{max}_t)^2}{\sum_{s \le t} (\eta^{max}_s)^2}
    \quad (r = 0,\ \text{weight\_lr\_power} = 2), \\
    \text{SGD:}\quad d_t &= g_t + \lambda y_{t-1}
        \quad\text{(coupled: L2 gradient at } y\text{, as torch.optim.SGD)}, \\
    \text{AdamW:}\quad v_t &= \beta_2 v_{t-1} + (1-\beta_2) g_t^2, \quad
        d_t = \frac{g_t}{\sqrt{v_t / (1 - \beta_2^t)} + \epsilon} + \lambda y_{t-1}
        \quad\text{(decoupled: added after the normalisation, at } y\text{)}, \\
    z_t &= z_{t-1} - \eta_t d_t, \qquad x_t = (1 - c_t) x_{t-1} + c_t z_t, \qquad
    y_t = (1 - \beta) z_t + \beta x_t .

So SGD-SF's decay is coupled (it is part of the gradient; SGD has no normaliser for it to bypass) and
AdamW-SF's is decoupled from the Adam normaliser, as in AdamW; in both it is evaluated at ``y`` and
enters the base sequence ``z`` (and through it the average ``x``), not a direct shrink
``x <- (1 - eta lambda) x``. AdamW-SF has no first-moment EMA: ``beta1`` is the interpolation weight.
The two are different base rules (plain vs Adam-normalised steps), so their coupled/decoupled pair
compares more than the decay placement.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch
from lion_pytorch.foreach import Lion as _PackageLion
from torch import Tensor
from torch.optim import Optimizer
from torch.optim._muon import DEFAULT_A, DEFAULT_B, DEFAULT_C, DEFAULT_NS_STEPS, EPS
from torch.optim._muon import muon as _torch_muon
from torch.optim.adam import adam as _torch_adam
from torch.optim.optimizer import ParamsT, _get_scalar_dtype

from .rules import _DecayOptimizer, _zeros_state, check_nonnegative, check_unit_interval

__all__ = [
    "LION_BETA2",
    "MUON_AUX_LR_RATIO",
    "MUON_NS_COEFFICIENTS",
    "Lion",
    "LionCoupled",
    "MuonAdamW",
]

LION_BETA2 = 0.99
"""Lion's default ``beta2`` (Chen et al. 2023 and ``lion-pytorch``), used when none is given."""

MUON_AUX_LR_RATIO = 0.05
"""Default ``aux_lr / lr`` of :class:`MuonAdamW`: Muon's usual LR 0.02 gives AdamW's usual 1e-3."""

MUON_NS_COEFFICIENTS: tuple[float, float, float] = (DEFAULT_A, DEFAULT_B, DEFAULT_C)
"""torch's (Keller Jordan's) quintic Newton-Schulz coefficients ``(a, b, c) = (3.4445, -4.7750, 2.0315)``."""

_ADJUST_LR_FNS = (None, "original", "match_rms_adamw", "spectral_unclamped")


def check_positive(name: str, value: float) -> None:
    """Raise ``ValueError`` unless ``value`` is a finite number ``> 0``."""
    check_nonnegative(name, value)
    if value == 0.0:
        raise ValueError(f"{name} must be > 0, got {value!r}")


# ---------------------------------------------------------------------------------------------
# Lion: decoupled (lion-pytorch) and coupled (hand-written).


def _check_lion_group(group: dict[str, Any]) -> None:
    check_positive("lr", group["lr"])
    beta1, beta2 = group["betas"]
    check_unit_interval("beta1 (momentum)", beta1)
    check_unit_interval("beta2", beta2)
    check_nonnegative("weight_decay", group["weight_decay"])


class Lion(_PackageLion):
    r"""Lion with *decoupled* weight decay: ``lion-pytorch``'s foreach implementation
    (``lion_pytorch.foreach.Lion``), hyperparameters validated with ``ValueError``\ s (every group).

    .. math::

        \theta' = (1 - \eta_t \lambda)\,\theta_{t-1}, \qquad
        c_t = \beta_1 m_{t-1} + (1 - \beta_1)\,g_t, \qquad
        \theta_t = \theta' - \eta_t \operatorname{sign}(c_t), \qquad
        m_t = \beta_2 m_{t-1} + (1 - \beta_2)\,g_t \quad (m_0 = 0).

    A sign update with decoupled decay: the setting of the paper's Theorem 3.3 (NC0 stays bounded away
    from zero). ``betas = (0, beta2)`` is exactly signSGD with decoupled decay (``signumw`` with
    momentum 0). The package's own ``decoupled_weight_decay=True`` means something else (decay
    ``lambda / eta_0``, independent of the LR) and is not used. ``lr`` must be ``> 0`` (the package
    refuses 0); the state is ``exp_avg`` (``m``) per parameter, as in :class:`LionCoupled`.
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-4,
        betas: tuple[float, float] = (0.9, LION_BETA2),
        weight_decay: float = 0.0,
    ) -> None:
        _check_lion_group({"lr": lr, "betas": tuple(betas), "weight_decay": weight_decay})
        super().__init__(params, lr=lr, betas=tuple(betas), weight_decay=weight_decay)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        super().add_param_group(param_group)
        _check_lion_group(self.param_groups[-1])


class LionCoupled(_DecayOptimizer):
    r"""Lion with *coupled* weight decay: the decay enters the gradient before the sign and the EMA.

    .. math::

        \tilde g_t = g_t + \lambda \theta_{t-1}, \qquad
        c_t = \beta_1 m_{t-1} + (1 - \beta_1)\,\tilde g_t, \qquad
        \theta_t = \theta_{t-1} - \eta_t \operatorname{sign}(c_t), \qquad
        m_t = \beta_2 m_{t-1} + (1 - \beta_2)\,\tilde g_t \quad (m_0 = 0).

    The coupled counterpart of :class:`Lion` (the paper's Theorem 3.4 setting: sign GD with coupled
    decay drives NC0 into an ``O(eta^2)`` band); ``betas = (0, beta2)`` is exactly signSGD with coupled
    decay (``signum`` with momentum 0). The EMAs are computed as ``lerp``, like ``lion-pytorch``, so
    at ``weight_decay = 0`` the two classes take bit-identical steps. ``lr`` must be ``> 0``.
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-4,
        betas: tuple[float, float] = (0.9, LION_BETA2),
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, {"lr": lr, "betas": tuple(betas), "weight_decay": weight_decay})

    def _check_group(self, group: dict[str, Any]) -> None:
        _check_lion_group(group)

    def _decay(self, group: dict[str, Any]) -> tuple[float, float]:
        return group["weight_decay"], 0.0

    def _update(
        self, group: dict[str, Any], params: list[Tensor], grads: list[Tensor], states: list[dict[str, Any]]
    ) -> None:
        beta1, beta2 = group["betas"]
        exp_avgs = _zeros_state(states, params, "exp_avg")
        direction = torch._foreach_lerp(exp_avgs, grads, 1.0 - beta1)
        torch._foreach_sign_(direction)
        torch._foreach_add_(params, direction, alpha=-group["lr"])
        torch._foreach_lerp_(exp_avgs, grads, 1.0 - beta2)


# ---------------------------------------------------------------------------------------------
# Muon for hidden matrices + AdamW for the rest.


def _as_matrix(p: Tensor) -> tuple[Tensor, bool]:
    """``p`` as an ``out x rest`` matrix and whether that matrix shares ``p``'s storage (a view). A
    channels_last conv kernel cannot be viewed so; it is reshaped into a copy that must be written back."""
    if p.ndim == 2:
        return p, True
    try:
        return p.view(p.shape[0], -1), True
    except RuntimeError:
        return p.reshape(p.shape[0], -1), False


class MuonAdamW(Optimizer):
    r"""Muon on the groups tagged ``use_muon=True``, AdamW on the groups tagged ``use_muon=False``.

    Muon (Jordan et al. 2024; ``torch.optim.Muon``'s own step, ``torch.optim._muon.muon``), for a
    matrix parameter ``theta`` of shape ``A x B`` (a conv kernel ``out x in x k x k`` is stepped as
    the ``out x (in k k)`` matrix it reshapes to):

    .. math::

        B_t &= \mu B_{t-1} + (1 - \mu)\,g_t, \qquad
        \tilde B_t = (1 - \mu)\,g_t + \mu B_t \ \text{(Nesterov; } B_t \text{ without)}, \\
        O_t &= \mathrm{NS}^{(a,b,c)}_5\big(\tilde B_t / \max(\|\tilde B_t\|_F, \epsilon_{NS})\big), \qquad
        \theta_t = (1 - \eta_t \lambda)\,\theta_{t-1} - \eta_t \sqrt{\max(1, A/B)}\; O_t ,

    where ``NS`` is five steps of ``X <- a X + (b X X^T + c (X X^T)^2) X`` (on the transpose when
    ``A > B``) in bfloat16, with :data:`MUON_NS_COEFFICIENTS`; it maps the singular values of the
    normalised momentum into roughly ``[0.5, 1.5]`` (torch's docstring), so ``O_t ~ U V^T``. The
    decay is decoupled and uses the unadjusted ``eta_t``; ``sqrt(max(1, A/B))`` is torch's default
    ("original") LR adjustment (``adjust_lr_fn`` picks another). The state is ``momentum_buffer``
    (``A x B``).

    AdamW groups take ``torch.optim.AdamW``'s step (``torch.optim.adam.adam`` with decoupled decay,
    state ``step`` / ``exp_avg`` / ``exp_avg_sq``), so they match ``torch.optim.AdamW`` bit for bit.

    Every group is an ordinary parameter group: LR schedulers scale each group's ``lr``, and
    ``state_dict`` / ``load_state_dict`` round-trip everything (``use_muon`` included).

    Args:
        params: parameter-group dicts, each with a boolean ``use_muon``; Muon groups may hold only
            tensors of >= 2 dimensions. :func:`nc_core.models.params.param_groups_for_muon` builds
            them from a model.
        lr: Muon's learning rate (the usual value is 0.02); the default ``lr`` of Muon groups.
        aux_lr: the default ``lr`` of AdamW groups (a group's own ``lr`` wins); ``None`` means
            ``lr * MUON_AUX_LR_RATIO`` (0.05: 0.02 -> 1e-3).
        momentum: Muon's momentum ``mu`` in ``[0, 1)``; ``nesterov``, ``ns_coefficients``,
            ``ns_steps``, ``ns_eps``, ``adjust_lr_fn``: Muon's other settings (torch's defaults).
        betas, eps: AdamW's ``(beta1, beta2)`` and denominator epsilon.
        weight_decay: decoupled decay of both kinds of group (a group's own value wins).
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 0.02,
        *,
        aux_lr: float | None = None,
        momentum: float = 0.95,
        nesterov: bool = True,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        ns_coefficients: tuple[float, float, float] = MUON_NS_COEFFICIENTS,
        ns_steps: int = DEFAULT_NS_STEPS,
        ns_eps: float = EPS,
        adjust_lr_fn: str | None = None,
    ) -> None:
        check_nonnegative("lr", lr)
        self._aux_lr = lr * MUON_AUX_LR_RATIO if aux_lr is None else aux_lr
        check_nonnegative("aux_lr", self._aux_lr)
        groups = list(params)
        if not groups or not all(isinstance(g, dict) for g in groups):
            raise ValueError(
                "MuonAdamW needs a non-empty list of parameter-group dicts, each with a boolean 'use_muon' "
                "(build them from a model with nc_core.models.params.param_groups_for_muon)"
            )
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "nesterov": nesterov,
            "ns_coefficients": tuple(ns_coefficients),
            "ns_steps": ns_steps,
            "ns_eps": ns_eps,
            "adjust_lr_fn": adjust_lr_fn,
            "betas": tuple(betas),
            "eps": eps,
            "weight_decay": weight_decay,
        }
        super().__init__(groups, defaults)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        group = dict(param_group)
        if not isinstance(group.get("use_muon"), bool):
            raise ValueError(
                f"every MuonAdamW parameter group needs a boolean 'use_muon', got {group.get('use_muon')!r}"
            )
        if not group["use_muon"]:
            group.setdefault("lr", self._aux_lr)
        super().add_param_group(group)
        self._check_group(self.param_groups[-1])

    @staticmethod
    def _check_group(group: dict[str, Any]) -> None:
        check_nonnegative("lr", group["lr"])
        check_nonnegative("weight_decay", group["weight_decay"])
        if not group["use_muon"]:
            beta1, beta2 = group["betas"]
            check_unit_interval("beta1 (momentum)", beta1)
            check_unit_interval("beta2", beta2)
            check_nonnegative("eps", group["eps"])
            return
        check_unit_interval("momentum", group["momentum"])
        check_nonnegative("ns_eps", group["ns_eps"])
        steps = group["ns_steps"]
        if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps < 100:
            raise ValueError(f"ns_steps must be an integer in [1, 100), got {steps!r}")
        if len(group["ns_coefficients"]) != 3:
            raise ValueError(f"ns_coefficients must be 3 numbers (a, b, c), got {group['ns_coefficients']!r}")
        if group["adjust_lr_fn"] not in _ADJUST_LR_FNS:
            raise ValueError(f"adjust_lr_fn must be one of {_ADJUST_LR_FNS}, got {group['adjust_lr_fn']!r}")
        for p in group["params"]:
            if p.ndim < 2:
                raise ValueError(
                    f"a Muon group (use_muon=True) takes matrices and conv kernels (>= 2 dims), got a "
                    f"parameter of shape {tuple(p.shape)}: put it in an AdamW group (use_muon=False)"
                )

    @staticmethod
    def _with_grad(group: dict[str, Any]) -> Iterable[Tensor]:
        for p in group["params"]:
            if p.grad is None:
                continue
            if p.grad.is_sparse:
                raise RuntimeError("MuonAdamW does not support sparse gradients")
            if torch.is_complex(p):
                raise RuntimeError("MuonAdamW does not support complex parameters")
            yield p

    def _muon_step(self, group: dict[str, Any]) -> None:
        params: list[Tensor] = []
        grads: list[Tensor] = []
        bufs: list[Tensor] = []
        copies: list[tuple[Tensor, Tensor]] = []
        for p in self._with_grad(group):
            matrix, is_view = _as_matrix(p)
            if not is_view:
                copies.append((p, matrix))
            state = self.state[p]
            if "momentum_buffer" not in state:
                state["momentum_buffer"] = torch.zeros(matrix.shape, dtype=p.grad.dtype, device=p.device)
            params.append(matrix)
            grads.append(p.grad.reshape(matrix.shape))
            bufs.append(state["momentum_buffer"])
        if not params:
            return
        _torch_muon(
            params, grads, bufs, lr=group["lr"], weight_decay=group["weight_decay"],
            momentum=group["momentum"], nesterov=group["nesterov"], ns_coefficients=group["ns_coefficients"],
            eps=group["ns_eps"], ns_steps=group["ns_steps"], adjust_lr_fn=group["adjust_lr_fn"],
            has_complex=False,
        )  # fmt: skip
        for p, matrix in copies:
            p.copy_(matrix.view(p.shape))

    def _adamw_step(self, group: dict[str, Any]) -> None:
        params: list[Tensor] = []
        grads: list[Tensor] = []
        exp_avgs: list[Tensor] = []
        exp_avg_sqs: list[Tensor] = []
        steps: list[Tensor] = []
        for p in self._with_grad(group):
            state = self.state[p]
            if "step" not in state:  # as torch.optim.Adam._init_group (not capturable, not fused)
                state["step"] = torch.tensor(0.0, dtype=_get_scalar_dtype())
                state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                state["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
            params.append(p)
            grads.append(p.grad)
            exp_avgs.append(state["exp_avg"])
            exp_avg_sqs.append(state["exp_avg_sq"])
            steps.append(state["step"])
        if not params:
            return
        beta1, beta2 = group["betas"]
        _torch_adam(
            params, grads, exp_avgs, exp_avg_sqs, [], steps, decoupled_weight_decay=True, amsgrad=False,
            beta1=beta1, beta2=beta2, lr=group["lr"], weight_decay=group["weight_decay"], eps=group["eps"],
            maximize=False,
        )  # fmt: skip

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None) -> float | None:
        """One Muon / AdamW update of every parameter with a gradient; ``closure`` re-evaluates the loss."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            if group["use_muon"]:
                self._muon_step(group)
            else:
                self._adamw_step(group)
        return loss
