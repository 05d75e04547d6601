"""nc_core.optim against independent references: plain per-tensor float64 update loops written straight
from the update rules, torch's own Adam / AdamW, closed forms at momentum = 0, and the row-sum dynamics
of a cross-entropy last layer (paper Lemmas E.4 / E.5)."""

from __future__ import annotations

import bisect
import copy
import io

import pytest
import torch
from torch import nn
from torch.nn.functional import cross_entropy, linear
from torch.optim.lr_scheduler import MultiStepLR

from nc_core.optim import (
    COUPLED_DECOUPLED_PAIRS,
    FUSED_NAMES,
    OPTIMIZER_NAMES,
    PAPER_OPTIMIZER_NAMES,
    SGDW,
    AdamAdamW,
    Signum,
    SignumW,
    is_decoupled,
    make_optimizer,
)

F64 = torch.float64
SHAPES = [(4, 3), (5,), (2, 3, 2)]
LR = 0.1
MILESTONES = [2, 4]  # MultiStepLR: lr, lr, lr/2, lr/2, lr/4, ...
GAMMA = 0.5
# Large enough that lr * wd visibly matters and a wrong (unscheduled) lr in a decay term shows.
HP = {"momentum": 0.9, "weight_decay": 0.3, "beta2": 0.99, "eps": 1e-8}
COUPLED_SHARE = 0.4  # adam_adamw: coupled_weight_decay = COUPLED_SHARE * weight_decay


def scheduled_lrs(lr: float, n: int) -> list[float]:
    return [lr * GAMMA ** bisect.bisect_right(MILESTONES, t) for t in range(n)]


def random_problem(n_steps: int, seed: int = 0, dtype: torch.dtype = F64):
    g = torch.Generator().manual_seed(seed)
    params = [torch.randn(s, generator=g, dtype=dtype) for s in SHAPES]
    grads = [[torch.randn(s, generator=g, dtype=dtype) for s in SHAPES] for _ in range(n_steps)]
    return params, grads


# ---------------------------------------------------------------------------------------------
# Reference update loops: one tensor at a time, straight from the formulas.


def ref_sgd(params, grads_seq, lrs, momentum, weight_decay, **_):
    """torch SGD: g = grad + wd p; buf = momentum buf + g (buf = g first); p -= lr buf."""
    ps = [p.clone() for p in params]
    bufs = [None] * len(ps)
    for grads, lr in zip(grads_seq, lrs, strict=True):
        for i, grad in enumerate(grads):
            g = grad + weight_decay * ps[i]
            bufs[i] = g.clone() if bufs[i] is None else momentum * bufs[i] + g
            ps[i] = ps[i] - lr * bufs[i]
    return ps


def ref_sgdw(params, grads_seq, lrs, momentum, weight_decay, **_):
    """buf = momentum buf + grad (buf = grad first); p <- p (1 - lr wd) - lr buf."""
    ps = [p.clone() for p in params]
    bufs = [None] * len(ps)
    for grads, lr in zip(grads_seq, lrs, strict=True):
        for i, grad in enumerate(grads):
            bufs[i] = grad.clone() if bufs[i] is None else momentum * bufs[i] + grad
            ps[i] = ps[i] * (1 - lr * weight_decay) - lr * bufs[i]
    return ps


def ref_signum(params, grads_seq, lrs, momentum, weight_decay, **_):
    """g = grad + wd p; m = momentum m + (1 - momentum) g (m_0 = 0); p -= lr sign(m)."""
    ps = [p.clone() for p in params]
    ms = [torch.zeros_like(p) for p in params]
    for grads, lr in zip(grads_seq, lrs, strict=True):
        for i, grad in enumerate(grads):
            g = grad + weight_decay * ps[i]
            ms[i] = momentum * ms[i] + (1 - momentum) * g
            ps[i] = ps[i] - lr * torch.sign(ms[i])
    return ps


def ref_signumw(params, grads_seq, lrs, momentum, weight_decay, **_):
    """m = momentum m + (1 - momentum) grad (m_0 = 0); p <- p (1 - lr wd) - lr sign(m)."""
    ps = [p.clone() for p in params]
    ms = [torch.zeros_like(p) for p in params]
    for grads, lr in zip(grads_seq, lrs, strict=True):
        for i, grad in enumerate(grads):
            ms[i] = momentum * ms[i] + (1 - momentum) * grad
            ps[i] = ps[i] * (1 - lr * weight_decay) - lr * torch.sign(ms[i])
    return ps


def ref_adam_split(params, grads_seq, lrs, momentum, beta2, eps, wd_coupled, wd_decoupled):
    """Adam (Kingma & Ba) with bias correction; wd_coupled enters the gradient, wd_decoupled shrinks p."""
    beta1 = momentum
    ps = [p.clone() for p in params]
    ms = [torch.zeros_like(p) for p in params]
    vs = [torch.zeros_like(p) for p in params]
    for t, (grads, lr) in enumerate(zip(grads_seq, lrs, strict=True), start=1):
        for i, grad in enumerate(grads):
            g = grad + wd_coupled * ps[i]
            ms[i] = beta1 * ms[i] + (1 - beta1) * g
            vs[i] = beta2 * vs[i] + (1 - beta2) * g * g
            m_hat = ms[i] / (1 - beta1**t)
            v_hat = vs[i] / (1 - beta2**t)
            ps[i] = ps[i] * (1 - lr * wd_decoupled) - lr * m_hat / (torch.sqrt(v_hat) + eps)
    return ps


def ref_adam(params, grads_seq, lrs, momentum, weight_decay, beta2, eps, **_):
    return ref_adam_split(params, grads_seq, lrs, momentum, beta2, eps, weight_decay, 0.0)


def ref_adamw(params, grads_seq, lrs, momentum, weight_decay, beta2, eps, **_):
    return ref_adam_split(params, grads_seq, lrs, momentum, beta2, eps, 0.0, weight_decay)


def ref_adam_adamw(params, grads_seq, lrs, momentum, weight_decay, beta2, eps, coupled_weight_decay, **_):
    wd_c = coupled_weight_decay
    return ref_adam_split(params, grads_seq, lrs, momentum, beta2, eps, wd_c, weight_decay - wd_c)


REFERENCE = {
    "sgd": ref_sgd,
    "sgdw": ref_sgdw,
    "adam": ref_adam,
    "adamw": ref_adamw,
    "signum": ref_signum,
    "signumw": ref_signumw,
    "adam_adamw": ref_adam_adamw,
}


def hyper(name: str, **overrides) -> dict:
    hp = dict(HP, **overrides)
    if name == "adam_adamw":
        hp.setdefault("coupled_weight_decay", COUPLED_SHARE * hp["weight_decay"])
    return hp


def feed(opt, params, grads_seq, sched=None):
    """Step ``opt`` with the given gradients, ``sched`` after each step (train mode first for the
    schedule-free optimizers, which have one)."""
    if hasattr(opt, "train"):
        opt.train()
    for grads in grads_seq:
        for p, g in zip(params, grads, strict=True):
            p.grad = g.clone()
        opt.step()
        if sched is not None:
            sched.step()


def run(name, params0, grads_seq, lr=LR, scheduler=True, **hp):
    """make_optimizer(name) over copies of params0, fed grads_seq, with MultiStepLR stepped each step."""
    params = [p.clone().requires_grad_(True) for p in params0]
    opt = make_optimizer(name, params, lr=lr, **hp)
    feed(opt, params, grads_seq, MultiStepLR(opt, milestones=MILESTONES, gamma=GAMMA) if scheduler else None)
    return [p.detach() for p in params]


def assert_all_close(actual, expected, atol=1e-12, rtol=1e-10):
    assert len(actual) == len(expected)
    for a, e in zip(actual, expected, strict=True):
        torch.testing.assert_close(a, e, atol=atol, rtol=rtol)


# ---------------------------------------------------------------------------------------------
# Every optimizer against its reference loop.


@pytest.mark.parametrize("n_steps", [1, 5])
@pytest.mark.parametrize("name", PAPER_OPTIMIZER_NAMES)
def test_matches_reference_with_scheduled_lr(name, n_steps):
    params, grads = random_problem(n_steps)
    hp = hyper(name)
    got = run(name, params, grads, **hp)
    want = REFERENCE[name](params, grads, scheduled_lrs(LR, n_steps), **hp)
    assert_all_close(got, want)
    if n_steps == 5:  # the schedule is visible: the base lr throughout gives another answer
        unscheduled = REFERENCE[name](params, grads, [LR] * n_steps, **hp)
        assert max((a - b).abs().max().item() for a, b in zip(got, unscheduled, strict=True)) > 1e-4


@pytest.mark.parametrize("name", FUSED_NAMES)
def test_fused_kernel_matches_the_reference_loop(name):
    """torch's fused kernel (``fused=True``) is the same update as the reference loop, to float64 rounding,
    under the LR schedule; it is refused by the names that have none."""
    params, grads = random_problem(5, seed=4)
    hp = hyper(name)
    got = run(name, params, grads, fused=True, **hp)
    assert_all_close(got, REFERENCE[name](params, grads, scheduled_lrs(LR, 5), **hp))
    assert all(g["fused"] for g in make_optimizer(name, [params[0].clone()], lr=LR, fused=True).param_groups)


@pytest.mark.parametrize("name", sorted(set(OPTIMIZER_NAMES) - set(FUSED_NAMES)))
def test_fused_is_refused_where_torch_has_no_fused_kernel(name):
    with pytest.raises(ValueError, match="fused is only accepted by"):
        make_optimizer(name, [torch.zeros(2, requires_grad=True)], lr=0.1, momentum=0.5, fused=True)


@pytest.mark.parametrize("name", ["sgdw", "signum", "signumw", "adam_adamw"])
def test_lr_edited_in_param_groups_is_used(name):
    """Setting group["lr"] by hand between steps (no scheduler) acts like the schedule."""
    params0, grads_seq = random_problem(4, seed=3)
    lrs = [0.1, 0.03, 0.2, 0.05]
    hp = hyper(name)
    params = [p.clone().requires_grad_(True) for p in params0]
    opt = make_optimizer(name, params, lr=123.0, **hp)
    for grads, lr in zip(grads_seq, lrs, strict=True):
        opt.param_groups[0]["lr"] = lr
        for p, g in zip(params, grads, strict=True):
            p.grad = g.clone()
        opt.step()
    assert_all_close([p.detach() for p in params], REFERENCE[name](params0, grads_seq, lrs, **hp))


# ---------------------------------------------------------------------------------------------
# Adam <-> AdamW interpolation against torch's own optimizers.


@pytest.mark.parametrize("dtype, atol", [(torch.float32, 1e-6), (F64, 1e-12)])
@pytest.mark.parametrize("endpoint", ["adamw", "adam"])
def test_adam_adamw_endpoints_equal_torch_step_for_step(endpoint, dtype, atol):
    params0, grads_seq = random_problem(10, seed=1, dtype=dtype)
    wd = HP["weight_decay"]
    coupled = 0.0 if endpoint == "adamw" else wd
    ours = [p.clone().requires_grad_(True) for p in params0]
    theirs = [p.clone().requires_grad_(True) for p in params0]
    opt = make_optimizer(
        "adam_adamw", ours, lr=LR, momentum=0.9, beta2=0.99, weight_decay=wd, coupled_weight_decay=coupled
    )
    torch_cls = torch.optim.AdamW if endpoint == "adamw" else torch.optim.Adam
    ref = torch_cls(theirs, lr=LR, betas=(0.9, 0.99), eps=1e-8, weight_decay=wd)
    scheds = [MultiStepLR(o, milestones=MILESTONES, gamma=GAMMA) for o in (opt, ref)]
    for grads in grads_seq:
        for a, b, g in zip(ours, theirs, grads, strict=True):
            a.grad, b.grad = g.clone(), g.clone()
        opt.step()
        ref.step()
        for s in scheds:
            s.step()
        assert_all_close([p.detach() for p in ours], [p.detach() for p in theirs], atol=atol, rtol=1e-6)


def test_adam_adamw_intermediate_split_differs_from_both_endpoints():
    params, grads = random_problem(5, seed=2)
    hp = hyper("adam_adamw")
    mid = run("adam_adamw", params, grads, **hp)
    for endpoint in ("adam", "adamw"):
        other = run(endpoint, params, grads, **{k: v for k, v in hp.items() if k != "coupled_weight_decay"})
        assert max((a - b).abs().max().item() for a, b in zip(mid, other, strict=True)) > 1e-6


@pytest.mark.parametrize("name", ["sgd", "adam", "adamw"])
def test_rules_torch_implements_are_torch_optimizers(name):
    p = torch.zeros(3, requires_grad=True)
    expected = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW}[name]
    opt = make_optimizer(name.upper(), [p], lr=0.1, momentum=0.5, beta2=0.9)
    assert type(opt) is expected
    group = opt.param_groups[0]
    if name == "sgd":
        assert (group["momentum"], group["dampening"], group["nesterov"]) == (0.5, 0.0, False)
    else:
        assert tuple(group["betas"]) == (0.5, 0.9)


# ---------------------------------------------------------------------------------------------
# momentum = 0 (and beta2 = 0): signSGD and AdamU / AdamW0 closed forms.


def run_closed_form(name, step, **hp):
    params0, grads_seq = random_problem(4, seed=4)
    lrs = scheduled_lrs(LR, len(grads_seq))
    expected = [p.clone() for p in params0]
    for grads, lr in zip(grads_seq, lrs, strict=True):
        expected = [step(p, g, lr) for p, g in zip(expected, grads, strict=True)]
    assert_all_close(run(name, params0, grads_seq, **hp), expected)


def test_signum_momentum_zero_is_signsgd_with_coupled_decay():
    wd = 0.3
    run_closed_form("signum", lambda p, g, lr: p - lr * torch.sign(g + wd * p), momentum=0.0, weight_decay=wd)


def test_signumw_momentum_zero_is_signsgd_with_decoupled_decay():
    wd = 0.3
    run_closed_form(
        "signumw", lambda p, g, lr: p * (1 - lr * wd) - lr * torch.sign(g), momentum=0.0, weight_decay=wd
    )


def test_sgdw_momentum_zero_is_gd_with_decoupled_decay():
    wd = 0.3
    run_closed_form("sgdw", lambda p, g, lr: p * (1 - lr * wd) - lr * g, momentum=0.0, weight_decay=wd)


@pytest.mark.parametrize("name", ["adam", "adam_coupled_share"])
def test_adamu_beta1_beta2_zero(name):
    """Adam with betas (0, 0) and coupled decay: p -= lr g~ / (|g~| + eps), g~ = g + wd p."""
    wd, eps = 0.3, 1e-8
    extra = {"coupled_weight_decay": wd} if name == "adam_coupled_share" else {}
    opt_name = "adam" if name == "adam" else "adam_adamw"

    def step(p, g, lr):
        gt = g + wd * p
        return p - lr * gt / (gt.abs() + eps)

    run_closed_form(opt_name, step, momentum=0.0, beta2=0.0, eps=eps, weight_decay=wd, **extra)


@pytest.mark.parametrize("name", ["adamw", "adam_adamw"])
def test_adamw0_beta1_beta2_zero(name):
    """AdamW with betas (0, 0): p <- p (1 - lr wd) - lr g / (|g| + eps)."""
    wd, eps = 0.3, 1e-8
    run_closed_form(
        name,
        lambda p, g, lr: p * (1 - lr * wd) - lr * g / (g.abs() + eps),
        momentum=0.0,
        beta2=0.0,
        eps=eps,
        weight_decay=wd,
    )


# ---------------------------------------------------------------------------------------------
# state_dict, parameter groups, bookkeeping.


@pytest.mark.parametrize("name", PAPER_OPTIMIZER_NAMES)
def test_state_dict_round_trip(name):
    params0, grads_seq = random_problem(5, seed=5)
    hp = hyper(name)
    straight = run(name, params0, grads_seq, scheduler=False, **hp)

    params = [p.clone().requires_grad_(True) for p in params0]
    opt = make_optimizer(name, params, lr=LR, **hp)
    for grads in grads_seq[:3]:
        for p, g in zip(params, grads, strict=True):
            p.grad = g.clone()
        opt.step()
    buffer = io.BytesIO()
    torch.save(opt.state_dict(), buffer)
    buffer.seek(0)

    # A fresh optimizer, built with other hyperparameters: load_state_dict must restore them all.
    resumed = [p.detach().clone().requires_grad_(True) for p in params]
    other = {k: v / 2 for k, v in hp.items()}
    fresh = make_optimizer(name, resumed, lr=LR / 7, **other)
    fresh.load_state_dict(torch.load(buffer, weights_only=True))
    for grads in grads_seq[3:]:
        for p, g in zip(resumed, grads, strict=True):
            p.grad = g.clone()
        fresh.step()
    assert_all_close([p.detach() for p in resumed], straight, atol=0.0, rtol=0.0)


@pytest.mark.parametrize("name", PAPER_OPTIMIZER_NAMES)
def test_param_groups_have_their_own_hyperparameters(name):
    params0, grads_seq = random_problem(5, seed=6)
    lr_a, lr_b = 0.1, 0.02
    hp_a = hyper(name, weight_decay=0.0, momentum=0.5)
    hp_b = hyper(name, weight_decay=0.5)
    if name == "adam_adamw":
        hp_a["coupled_weight_decay"], hp_b["coupled_weight_decay"] = 0.0, 0.2
    group_keys = ["weight_decay", "momentum"] if name in ("sgd", "sgdw", "signum", "signumw") else []
    group_keys += ["coupled_weight_decay"] if name == "adam_adamw" else []

    params = [p.clone().requires_grad_(True) for p in params0]

    def group(ps, lr, hp):
        g = {"params": ps, "lr": lr, **{k: hp[k] for k in group_keys}}
        if name in ("adam", "adamw", "adam_adamw"):
            g.update(weight_decay=hp["weight_decay"], betas=(hp["momentum"], hp["beta2"]))
        return g

    groups = [group(params[:1], lr_a, hp_a), group(params[1:], lr_b, hp_b)]
    opt = make_optimizer(name, groups, lr=1.0, **hyper(name, weight_decay=0.9, momentum=0.0))
    sched = MultiStepLR(opt, milestones=MILESTONES, gamma=GAMMA)
    for grads in grads_seq:
        for p, g in zip(params, grads, strict=True):
            p.grad = g.clone()
        opt.step()
        sched.step()

    n = len(grads_seq)
    want_a = REFERENCE[name](params0[:1], [g[:1] for g in grads_seq], scheduled_lrs(lr_a, n), **hp_a)
    want_b = REFERENCE[name](params0[1:], [g[1:] for g in grads_seq], scheduled_lrs(lr_b, n), **hp_b)
    assert_all_close([p.detach() for p in params], want_a + want_b)


@pytest.mark.parametrize("name", PAPER_OPTIMIZER_NAMES)
def test_params_without_grad_are_skipped(name):
    params0, grads_seq = random_problem(3, seed=7)
    params = [p.clone().requires_grad_(True) for p in params0]
    opt = make_optimizer(name, params, lr=LR, **hyper(name))
    for grads in grads_seq:
        params[0].grad, params[1].grad, params[2].grad = grads[0].clone(), None, grads[2].clone()
        opt.step()
    torch.testing.assert_close(params[1].detach(), params0[1], atol=0.0, rtol=0.0)
    assert not opt.state[params[1]]
    kept = [[g[0], g[2]] for g in grads_seq]
    want = REFERENCE[name]([params0[0], params0[2]], kept, [LR] * 3, **hyper(name))
    assert_all_close([params[0].detach(), params[2].detach()], want)


@pytest.mark.parametrize("name", ["sgdw", "signum", "signumw", "adam_adamw"])
def test_mixed_dtypes_in_one_group(name):
    """float32 and float64 params in one group are updated as if each had its own optimizer."""
    g = torch.Generator().manual_seed(8)
    p32, p64 = torch.randn(3, 2, generator=g), torch.randn(4, generator=g, dtype=F64)
    grads = [(torch.randn(3, 2, generator=g), torch.randn(4, generator=g, dtype=F64)) for _ in range(3)]
    together = [p32.clone().requires_grad_(True), p64.clone().requires_grad_(True)]
    alone = [p32.clone().requires_grad_(True), p64.clone().requires_grad_(True)]
    opts = [make_optimizer(name, together, lr=LR, **hyper(name))]
    opts += [make_optimizer(name, [p], lr=LR, **hyper(name)) for p in alone]
    for gs in grads:
        for ps in (together, alone):
            for p, gr in zip(ps, gs, strict=True):
                p.grad = gr.clone()
        for o in opts:
            o.step()
    assert_all_close([p.detach() for p in together], [p.detach() for p in alone], atol=0.0, rtol=0.0)


def test_closure_is_evaluated_with_grad_enabled():
    w = torch.tensor([1.0, -2.0], dtype=F64, requires_grad=True)
    opt = make_optimizer("signumw", [w], lr=0.1, weight_decay=0.5)

    def closure():
        opt.zero_grad()
        loss = (w**2).sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert loss.item() == 5.0
    torch.testing.assert_close(w.detach(), torch.tensor([1.0 * 0.95 - 0.1, -2.0 * 0.95 + 0.1], dtype=F64))


@pytest.mark.parametrize("cls", [SGDW, Signum, SignumW, AdamAdamW])
def test_sparse_gradients_are_refused(cls):
    p = torch.zeros(4, requires_grad=True)
    p.grad = torch.zeros(4).to_sparse()
    with pytest.raises(RuntimeError, match="sparse"):
        cls([p], lr=0.1).step()


def test_names_and_decoupling():
    assert set(PAPER_OPTIMIZER_NAMES) == {"sgd", "sgdw", "adam", "adamw", "signum", "signumw", "adam_adamw"}
    assert set(PAPER_OPTIMIZER_NAMES) < set(OPTIMIZER_NAMES)
    for coupled, decoupled in COUPLED_DECOUPLED_PAIRS:
        assert not is_decoupled(coupled) and is_decoupled(decoupled)
    assert is_decoupled("AdamW") and not is_decoupled(" SGD ")
    assert is_decoupled("adam_adamw")
    with pytest.raises(ValueError, match="unknown optimizer"):
        is_decoupled("lamb")
    p = torch.zeros(2, requires_grad=True)
    assert type(make_optimizer("SignumW", [p], lr=0.1)) is SignumW
    assert type(make_optimizer("Adam_AdamW", [p], lr=0.1)) is AdamAdamW


# ---------------------------------------------------------------------------------------------
# Bad input.


@pytest.mark.parametrize(
    "name, kwargs, match",
    [
        ("lamb", {}, r"unknown optimizer 'lamb'.*sgd, sgdw, adam, adamw, signum, signumw, adam_adamw, lion"),
        ("sgd", {"lr": -0.1}, "lr"),
        ("sgdw", {"lr": float("nan")}, "lr"),
        ("sgd", {"momentum": 1.0}, "momentum"),
        ("signum", {"momentum": -0.1}, "momentum"),
        ("sgdw", {"weight_decay": -1e-4}, "weight_decay"),
        ("adam", {"beta2": 1.0}, "beta2"),
        ("adamw", {"eps": -1.0}, "eps"),
        ("adam_adamw", {"weight_decay": 0.1, "coupled_weight_decay": 0.2}, "coupled_weight_decay"),
        ("adam_adamw", {"weight_decay": 0.1, "coupled_weight_decay": -0.1}, "coupled_weight_decay"),
        ("adam", {"weight_decay": 0.1, "coupled_weight_decay": 0.0}, "coupled_weight_decay.*adam_adamw"),
        ("signum", {"coupled_weight_decay": 0.0}, "coupled_weight_decay"),
    ],
)
def test_bad_input_raises_value_error(name, kwargs, match):
    p = torch.zeros(2, requires_grad=True)
    kwargs = {"lr": 0.1, **kwargs}
    with pytest.raises(ValueError, match=match):
        make_optimizer(name, [p], **kwargs)


def test_bad_per_group_hyperparameters_raise():
    p, q = torch.zeros(2, requires_grad=True), torch.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="momentum"):
        SGDW([{"params": [p]}, {"params": [q], "momentum": 1.5}], lr=0.1)
    with pytest.raises(ValueError, match="coupled_weight_decay"):
        AdamAdamW([{"params": [p], "weight_decay": 0.0}], lr=0.1, weight_decay=0.1, coupled_weight_decay=0.05)
    opt = AdamAdamW([p], lr=0.1, weight_decay=0.1, coupled_weight_decay=0.05)
    opt.param_groups[0]["weight_decay"] = 0.01  # edited below the coupled share after construction
    p.grad = torch.ones(2)
    with pytest.raises(ValueError, match="coupled_weight_decay"):
        opt.step()


# ---------------------------------------------------------------------------------------------
# Paper, Appendix E: cross-entropy never moves the row sum W^T 1 of the last layer (Lemma E.4), so
# under SGD with coupled decay W^T 1 follows a data-independent linear recursion (Lemma E.5).


def mlp(d: int, p: int, K: int, bias: bool, seed: int) -> nn.Sequential:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(d, p), nn.Tanh(), nn.Linear(p, K, bias=bias)).to(F64)


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("bias", [True, False])
def test_lemma_e4_cross_entropy_gradient_has_zero_class_sum(bias, seed):
    g = torch.Generator().manual_seed(seed)
    N, p, K = 50, 7, 6
    H = 5.0 * torch.randn(N, p, generator=g, dtype=F64)
    for y in (torch.randint(K, (N,), generator=g), torch.zeros(N, dtype=torch.long)):  # any labels
        W = torch.randn(K, p, generator=g, dtype=F64, requires_grad=True)
        b = torch.randn(K, generator=g, dtype=F64, requires_grad=True) if bias else None
        cross_entropy(linear(H, W, b), y).backward()
        torch.testing.assert_close(W.grad.sum(dim=0), torch.zeros(p, dtype=F64), atol=1e-12, rtol=0)
        if bias:
            torch.testing.assert_close(b.grad.sum(), torch.zeros((), dtype=F64), atol=1e-12, rtol=0)
    # the same through learned features
    net = mlp(5, p, K, bias, seed)
    x, y = torch.randn(N, 5, generator=g, dtype=F64), torch.randint(K, (N,), generator=g)
    cross_entropy(net(x), y).backward()
    torch.testing.assert_close(net[2].weight.grad.sum(dim=0), torch.zeros(p, dtype=F64), atol=1e-12, rtol=0)


def train_and_track_row_sum(name, bias, eta, beta, wd, n_steps=20):
    net = mlp(5, 8, 4, bias, seed=11)
    W = net[2].weight
    opt = make_optimizer(name, net.parameters(), lr=eta, momentum=beta, weight_decay=wd)
    g = torch.Generator().manual_seed(12)
    r0 = W.detach().sum(dim=0).clone()
    row_sums = []
    for _ in range(n_steps):
        x, y = torch.randn(16, 5, generator=g, dtype=F64), torch.randint(4, (16,), generator=g)
        opt.zero_grad()
        cross_entropy(net(x), y).backward()
        opt.step()
        row_sums.append(W.detach().sum(dim=0).clone())
    return r0, row_sums


@pytest.mark.parametrize("bias", [True, False])
def test_lemma_e5_row_sum_recursion_under_sgd(bias):
    eta, beta, wd = 0.05, 0.9, 0.1
    r, row_sums = train_and_track_row_sum("sgd", bias, eta, beta, wd)
    assert r.abs().max() > 0.1
    v = None
    for got in row_sums:
        v = wd * r if v is None else beta * v + wd * r
        r = r - eta * v
        torch.testing.assert_close(got, r, atol=1e-10, rtol=0)


def test_row_sum_decays_geometrically_under_sgdw():
    """Decoupled decay: the momentum buffer never sees W^T 1, so r_{t+1} = (1 - eta wd) r_t."""
    eta, beta, wd = 0.05, 0.9, 0.1
    r, row_sums = train_and_track_row_sum("sgdw", True, eta, beta, wd)
    for got in row_sums:
        r = (1 - eta * wd) * r
        torch.testing.assert_close(got, r, atol=1e-10, rtol=0)


# ---------------------------------------------------------------------------------------------
# Device-agnostic: the same numbers on CUDA (skipped without a GPU).


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("name", PAPER_OPTIMIZER_NAMES)
def test_cuda_matches_reference(name):
    params, grads = random_problem(5, seed=9)
    hp = hyper(name)
    on_cuda = run(
        name, [p.cuda() for p in params], [[g.cuda() for g in gs] for gs in grads], **copy.deepcopy(hp)
    )
    assert all(p.is_cuda for p in on_cuda)
    want = REFERENCE[name](params, grads, scheduled_lrs(LR, 5), **hp)
    assert_all_close([p.cpu() for p in on_cuda], want)
