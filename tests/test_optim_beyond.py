"""The optimizers beyond the paper (nc_core.optim.beyond, make_optimizer's new names) against independent
references: per-tensor float64 loops written from the update rules (Lion, Lion with coupled decay,
Schedule-Free SGD / AdamW as in Defazio et al. 2024 and the schedulefree package), a float64
Newton-Schulz reference for Muon, torch's own Muon / AdamW step for step; and the training engine with
each new name."""

from __future__ import annotations

import bisect
import io
import math

import pandas as pd
import pytest
import torch
from test_optim import F64, GAMMA, LR, MILESTONES, SHAPES, feed  # the paper's optimizers' tiny problem
from test_train import interrupt_at_epoch, results, tiny
from torch import nn
from torch.optim.lr_scheduler import LambdaLR, MultiStepLR

import nc_core.train.engine as engine
from nc_core.data import TensorLoader
from nc_core.models import make_model
from nc_core.models.params import param_groups_for_muon
from nc_core.optim import (
    COUPLED_DECOUPLED_PAIRS,
    MUON_AUX_LR_RATIO,
    MUON_NAMES,
    OPTIMIZER_NAMES,
    PAPER_OPTIMIZER_NAMES,
    SCHEDULE_FREE_NAMES,
    Lion,
    LionCoupled,
    MuonAdamW,
    is_decoupled,
    make_optimizer,
)
from nc_core.train import build_data, run_training

NEW_NAMES = ("lion", "lion_coupled", "sgd_schedulefree", "adamw_schedulefree", "muon", "muon_all")


def scheduled_lrs(lr: float, n: int) -> list[float]:
    return [lr * GAMMA ** bisect.bisect_right(MILESTONES, t) for t in range(n)]


def random_problem(n_steps: int, seed: int = 0, shapes=SHAPES, dtype=F64):
    g = torch.Generator().manual_seed(seed)
    params = [torch.randn(s, generator=g, dtype=dtype) for s in shapes]
    grads = [[torch.randn(s, generator=g, dtype=dtype) for s in shapes] for _ in range(n_steps)]
    return params, grads


def assert_all_close(actual, expected, atol=1e-12, rtol=1e-10):
    assert len(actual) == len(expected)
    for a, e in zip(actual, expected, strict=True):
        torch.testing.assert_close(a, e, atol=atol, rtol=rtol)


def max_diff(a, b) -> float:
    return max((x - y).abs().max().item() for x, y in zip(a, b, strict=True))


def detached(params):
    return [p.detach().clone() for p in params]


# ---------------------------------------------------------------------------------------------
# Lion and Lion with coupled decay.


def ref_lion(params, grads_seq, lrs, beta1, beta2, weight_decay, coupled):
    """c = b1 m + (1 - b1) g'; p <- p (1 - lr wd [decoupled]) - lr sign(c); m = b2 m + (1 - b2) g';
    g' = g + wd p when coupled, else g."""
    ps = [p.clone() for p in params]
    ms = [torch.zeros_like(p) for p in params]
    for grads, lr in zip(grads_seq, lrs, strict=True):
        for i, grad in enumerate(grads):
            g = grad + weight_decay * ps[i] if coupled else grad
            c = beta1 * ms[i] + (1 - beta1) * g
            shrink = 1.0 if coupled else 1 - lr * weight_decay
            ps[i] = ps[i] * shrink - lr * torch.sign(c)
            ms[i] = beta2 * ms[i] + (1 - beta2) * g
    return ps


@pytest.mark.parametrize("n_steps", [1, 6])
@pytest.mark.parametrize("name", ["lion", "lion_coupled"])
def test_lion_matches_reference_with_scheduled_lr(name, n_steps):
    params0, grads_seq = random_problem(n_steps)
    hp = {"momentum": 0.9, "beta2": 0.99, "weight_decay": 0.3}
    params = [p.clone().requires_grad_(True) for p in params0]
    opt = make_optimizer(name, params, lr=LR, **hp)
    assert type(opt) is (Lion if name == "lion" else LionCoupled)
    feed(opt, params, grads_seq, MultiStepLR(opt, milestones=MILESTONES, gamma=GAMMA))
    lrs = scheduled_lrs(LR, n_steps)
    want = ref_lion(params0, grads_seq, lrs, 0.9, 0.99, 0.3, coupled=name == "lion_coupled")
    assert_all_close(detached(params), want)
    if n_steps > 1:  # the other coupling gives another answer
        other = ref_lion(params0, grads_seq, lrs, 0.9, 0.99, 0.3, coupled=name == "lion")
        assert max_diff(detached(params), other) > 1e-3


def test_lion_decay_is_a_shrink_then_the_sign_step():
    """One step of ``lion`` from m = 0: p (1 - lr wd) - lr sign((1 - b1) g) = p (1 - lr wd) - lr sign(g)."""
    p0 = torch.tensor([[1.5, -2.0, 0.25], [-0.5, 3.0, -1.0]], dtype=F64)
    g = torch.tensor([[0.3, -0.2, -4.0], [0.1, 0.0, 2.0]], dtype=F64)
    lr, wd = 0.05, 2.0
    p = p0.clone().requires_grad_(True)
    feed(make_optimizer("lion", [p], lr=lr, momentum=0.9, weight_decay=wd), [p], [[g]])
    torch.testing.assert_close(p.detach(), p0 * (1 - lr * wd) - lr * torch.sign(g), atol=1e-15, rtol=0)
    q = p0.clone().requires_grad_(True)  # coupled: the decay is inside the sign
    feed(make_optimizer("lion_coupled", [q], lr=lr, momentum=0.9, weight_decay=wd), [q], [[g]])
    torch.testing.assert_close(q.detach(), p0 - lr * torch.sign(g + wd * p0), atol=1e-15, rtol=0)


@pytest.mark.parametrize(("lion", "signum"), [("lion", "signumw"), ("lion_coupled", "signum")])
def test_lion_without_momentum_is_signsgd(lion, signum):
    params0, grads_seq = random_problem(5, seed=1)
    got = [p.clone().requires_grad_(True) for p in params0]
    want = [p.clone().requires_grad_(True) for p in params0]
    feed(make_optimizer(lion, got, lr=LR, momentum=0.0, weight_decay=0.3), got, grads_seq)
    feed(make_optimizer(signum, want, lr=LR, momentum=0.0, weight_decay=0.3), want, grads_seq)
    assert_all_close(detached(got), detached(want), atol=0.0, rtol=0.0)


def test_lion_pair_is_identical_without_decay():
    params0, grads_seq = random_problem(5, seed=2)
    a = [p.clone().requires_grad_(True) for p in params0]
    b = [p.clone().requires_grad_(True) for p in params0]
    feed(make_optimizer("lion", a, lr=LR, momentum=0.9), a, grads_seq)
    feed(make_optimizer("lion_coupled", b, lr=LR, momentum=0.9), b, grads_seq)
    assert_all_close(detached(a), detached(b), atol=0.0, rtol=0.0)


def test_lion_beta2_default_and_override():
    p = torch.zeros(2, requires_grad=True)
    assert make_optimizer("lion", [p], lr=0.1, momentum=0.9).param_groups[0]["betas"] == (0.9, 0.99)
    assert make_optimizer("lion_coupled", [p], lr=0.1).param_groups[0]["betas"] == (0.0, 0.99)
    assert make_optimizer("lion", [p], lr=0.1, beta2=0.999).param_groups[0]["betas"] == (0.0, 0.999)
    assert make_optimizer("adam", [p], lr=0.1).param_groups[0]["betas"] == (0.0, 0.999)  # unchanged


# ---------------------------------------------------------------------------------------------
# Schedule-Free SGD / AdamW (Defazio et al. 2024, "The Road Less Scheduled").


def ref_schedulefree(kind, params, grads_seq, lrs, beta, weight_decay, warmup, beta2=0.999, eps=1e-8):
    """The x / z / y form of the paper, with the package's warm-up, weighting (r = 0, power 2) and decay
    placement; returns (y, x): the parameters in train and in eval mode.

        lr_t = lr min(1, t / warmup); lr_max = max lr so far; c_t = lr_max^2 / sum_s lr_max_s^2
        SGD:   d = g + wd y
        AdamW: v = b2 v + (1 - b2) g^2;  d = g / (sqrt(v / (1 - b2^t)) + eps) + wd y
        z <- z - lr_t d;  x <- (1 - c_t) x + c_t z;  y <- (1 - beta) z + beta x
    """
    x = [p.clone() for p in params]
    z = [p.clone() for p in params]
    y = [p.clone() for p in params]
    v = [torch.zeros_like(p) for p in params]
    lr_max, weight_sum = -1.0, 0.0
    for t, (grads, base_lr) in enumerate(zip(grads_seq, lrs, strict=True), start=1):
        lr = base_lr * min(1.0, t / warmup) if warmup else base_lr
        lr_max = max(lr_max, lr)
        weight_sum += lr_max**2
        c = lr_max**2 / weight_sum
        for i, g in enumerate(grads):
            if kind == "sgd":
                d = g + weight_decay * y[i]
            else:
                v[i] = beta2 * v[i] + (1 - beta2) * g * g
                d = g / (torch.sqrt(v[i] / (1 - beta2**t)) + eps) + weight_decay * y[i]
            z[i] = z[i] - lr * d
            x[i] = (1 - c) * x[i] + c * z[i]
            y[i] = (1 - beta) * z[i] + beta * x[i]
    return y, x


@pytest.mark.parametrize("scheduled", [False, True])
@pytest.mark.parametrize("warmup", [0, 3])
@pytest.mark.parametrize("name", SCHEDULE_FREE_NAMES)
def test_schedulefree_matches_the_paper_form(name, warmup, scheduled):
    n = 7
    params0, grads_seq = random_problem(n, seed=3)
    beta, beta2, wd = 0.8, 0.95, 0.3
    params = [p.clone().requires_grad_(True) for p in params0]
    opt = make_optimizer(
        name, params, lr=LR, momentum=beta, beta2=beta2, weight_decay=wd, warmup_steps=warmup
    )
    sched = MultiStepLR(opt, milestones=MILESTONES, gamma=GAMMA) if scheduled else None
    feed(opt, params, grads_seq, sched)
    lrs = scheduled_lrs(LR, n) if scheduled else [LR] * n
    kind = "sgd" if name == "sgd_schedulefree" else "adamw"
    y, x = ref_schedulefree(kind, params0, grads_seq, lrs, beta, wd, warmup, beta2=beta2)
    assert_all_close(detached(params), y)  # train mode: the gradient point y
    opt.eval()
    assert_all_close(detached(params), x)  # eval mode: the average x
    assert max_diff(x, y) > 1e-3
    opt.train()
    assert_all_close(detached(params), y)
    if warmup:  # the warm-up is visible
        y0, _ = ref_schedulefree(kind, params0, grads_seq, lrs, beta, wd, 0, beta2=beta2)
        assert max_diff(y, y0) > 1e-3


@pytest.mark.parametrize("name", SCHEDULE_FREE_NAMES)
def test_schedulefree_decay_placement(name):
    """SGD-SF's decay is the L2 gradient (coupled): the same as feeding g + wd y with no decay. AdamW-SF's
    bypasses the normalisation (decoupled), so feeding g + wd y differs."""
    params0, grads_seq = random_problem(5, seed=4)
    wd = 0.5
    decayed = [p.clone().requires_grad_(True) for p in params0]
    feed(make_optimizer(name, decayed, lr=LR, momentum=0.9, weight_decay=wd), decayed, grads_seq)
    l2 = [p.clone().requires_grad_(True) for p in params0]
    opt = make_optimizer(name, l2, lr=LR, momentum=0.9)
    opt.train()
    for grads in grads_seq:
        for p, g in zip(l2, grads, strict=True):
            p.grad = g + wd * p.detach()
        opt.step()
    if name == "sgd_schedulefree":
        assert_all_close(detached(decayed), detached(l2))
        assert not is_decoupled(name)
    else:
        assert max_diff(detached(decayed), detached(l2)) > 1e-3
        assert is_decoupled(name)


# ---------------------------------------------------------------------------------------------
# Muon (+ AdamW for the rest).

NS_ABC = (3.4445, -4.7750, 2.0315)  # torch.optim.Muon's documented default coefficients


def ns_reference(G: torch.Tensor, steps: int = 5, eps: float = 1e-7) -> torch.Tensor:
    """Newton-Schulz orthogonalisation in float64: X = G / ||G||_F (on G^T if tall), then
    X <- a X + (b A + c A^2) X with A = X X^T."""
    a, b, c = NS_ABC
    tall = G.shape[0] > G.shape[1]
    X = G.T if tall else G
    X = X / max(X.norm().item(), eps)
    for _ in range(steps):
        A = X @ X.T
        X = a * X + (b * A + c * A @ A) @ X
    return X.T if tall else X


def ref_muon(params, grads_seq, lrs, momentum, weight_decay, adjust=True):
    """torch's documented Muon: B = mu B + g; Nesterov g + mu B; O = NS(.) on the out x rest matrix;
    p <- p (1 - lr wd) - lr sqrt(max(1, A/B)) O."""
    ps = [p.clone() for p in params]
    bufs = [torch.zeros(p.shape[0], math.prod(p.shape[1:]), dtype=p.dtype) for p in params]
    for grads, lr in zip(grads_seq, lrs, strict=True):
        for i, grad in enumerate(grads):
            G = grad.reshape(grad.shape[0], -1)
            bufs[i] = momentum * bufs[i] + G
            O = ns_reference(G + momentum * bufs[i])
            rows, cols = O.shape
            scale = math.sqrt(max(1.0, rows / cols)) if adjust else 1.0
            ps[i] = ps[i] * (1 - lr * weight_decay) - lr * scale * O.reshape(ps[i].shape)
    return ps


MATRIX_SHAPES = [(6, 3), (3, 5), (4, 2, 3, 3), (8, 1, 1, 2)]  # tall, wide, conv kernel, tall conv kernel


def test_muon_matches_newton_schulz_reference():
    n = 4
    params0, grads_seq = random_problem(n, seed=5, shapes=MATRIX_SHAPES)
    params = [p.clone().requires_grad_(True) for p in params0]
    opt = make_optimizer(
        "muon", [{"params": params, "role": "hidden"}], lr=LR, momentum=0.9, weight_decay=0.3
    )
    feed(opt, params, grads_seq, MultiStepLR(opt, milestones=MILESTONES, gamma=GAMMA))
    lrs = scheduled_lrs(LR, n)
    want = ref_muon(params0, grads_seq, lrs, 0.9, 0.3)
    # torch iterates in bfloat16: a few 1e-3 after four steps of size <= 0.1 * sqrt(2)
    assert_all_close(detached(params), want, atol=1e-2, rtol=0)
    # the LR adjustment shows on the tall matrices
    assert max_diff(detached(params), ref_muon(params0, grads_seq, lrs, 0.9, 0.3, adjust=False)) > 5e-2


def test_muon_groups_equal_torch_muon_and_adamw_step_for_step():
    shapes = [(6, 3), (4, 2, 3, 3), (5,), (3, 4)]
    params0, grads_seq = random_problem(5, seed=6, shapes=shapes, dtype=torch.float32)
    ours = [p.clone().requires_grad_(True) for p in params0]
    groups = [
        {"params": ours[:2], "use_muon": True},
        {"params": ours[2:], "use_muon": False, "weight_decay": 0.1},
    ]
    opt = MuonAdamW(groups, lr=0.02, aux_lr=1e-2, momentum=0.9, betas=(0.8, 0.99), weight_decay=0.5)
    mat = [params0[0].clone().requires_grad_(True), params0[1].reshape(4, -1).clone().requires_grad_(True)]
    rest = [p.clone().requires_grad_(True) for p in params0[2:]]
    muon = torch.optim.Muon(mat, lr=0.02, momentum=0.9, weight_decay=0.5)
    adamw = torch.optim.AdamW(rest, lr=1e-2, betas=(0.8, 0.99), eps=1e-8, weight_decay=0.1)
    scheds = [MultiStepLR(o, milestones=MILESTONES, gamma=GAMMA) for o in (opt, muon, adamw)]
    for grads in grads_seq:
        for p, g in zip(ours, grads, strict=True):
            p.grad = g.clone()
        mat[0].grad, mat[1].grad = grads[0].clone(), grads[1].reshape(4, -1).clone()
        for p, g in zip(rest, grads[2:], strict=True):
            p.grad = g.clone()
        for o in (opt, muon, adamw):
            o.step()
        for s in scheds:
            s.step()
        want = [mat[0], mat[1].reshape(shapes[1]), *rest]
        assert_all_close(detached(ours), detached(want), atol=0.0, rtol=0.0)


def test_muon_channels_last_kernel_steps_like_a_contiguous_one():
    params0, grads_seq = random_problem(3, seed=7, shapes=[(4, 3, 3, 3)], dtype=torch.float32)
    plain = params0[0].clone().requires_grad_(True)
    cl = params0[0].clone().to(memory_format=torch.channels_last).requires_grad_(True)
    for p in (plain, cl):
        grads = [[g[0].clone().to(memory_format=torch.channels_last if p is cl else torch.contiguous_format)]
                 for g in grads_seq]  # fmt: skip
        feed(MuonAdamW([{"params": [p], "use_muon": True}], lr=0.05, weight_decay=0.1), [p], grads)
    assert cl.is_contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(cl.detach(), plain.detach(), atol=0.0, rtol=0.0)


def ids(tensors) -> list[int]:
    return [id(t) for t in tensors]


def test_muon_recipes_route_the_classifier():
    torch.manual_seed(0)
    model = make_model("resnet9", num_classes=3, in_channels=1, width=0.0625)
    groups = param_groups_for_muon(model, 0.1)
    by_role = {g["role"]: g for g in groups}
    assert [g["role"] for g in groups] == ["hidden", "classifier", "other"]
    W = model.classifier.weight
    assert ids(by_role["classifier"]["params"]) == ids([W])
    convs = [m.weight for m in model.modules() if isinstance(m, nn.Conv2d)]
    assert ids(by_role["hidden"]["params"]) == ids(convs) and all(p.ndim == 4 for p in convs)
    others = by_role["other"]["params"]
    assert id(model.classifier.bias) in ids(others) and all(p.ndim == 1 for p in others)
    assert sum(len(g["params"]) for g in groups) == len(list(model.parameters()))
    assert all(g["weight_decay"] == 0.1 for g in groups)
    # without decay on norm parameters and biases: those form their own undecayed "other" group
    split = param_groups_for_muon(model, 0.1, decay_norm_and_bias=False)
    assert [(g["role"], g["weight_decay"]) for g in split] == [
        ("hidden", 0.1),
        ("classifier", 0.1),
        ("other", 0.0),
    ]

    x = torch.randn(4, 1, 32, 32)
    for name, on_muon in (("muon", False), ("muon_all", True)):
        opt = make_optimizer(name, param_groups_for_muon(model, 0.0), lr=0.02, momentum=0.9)
        routed = {g["role"]: g["use_muon"] for g in opt.param_groups}
        assert routed == {"hidden": True, "classifier": on_muon, "other": False}
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), torch.tensor([0, 1, 2, 0])).backward()
        opt.step()
        assert set(opt.state[W]) == ({"momentum_buffer"} if on_muon else {"step", "exp_avg", "exp_avg_sq"})
        assert set(opt.state[convs[0]]) == {"momentum_buffer"}
        lrs = {g["role"]: g["lr"] for g in opt.param_groups}
        assert lrs["hidden"] == 0.02 and lrs["other"] == pytest.approx(0.02 * MUON_AUX_LR_RATIO)
        assert lrs["classifier"] == (0.02 if on_muon else pytest.approx(0.001))


@pytest.mark.parametrize("model_name", ["vit", "ufm"])
def test_muon_roles_of_embeddings_and_free_features(model_name):
    """Matrices that are not layer weights (CLS token, position embeddings, the UFM's features) go to
    AdamW; the ViT's patch embedding (a Conv2d) and its Linear layers to Muon."""
    if model_name == "vit":
        model = make_model("vit", num_classes=3, in_channels=1, image_size=8, patch_size=4, hidden=8, depth=1)
    else:
        model = make_model("ufm", num_classes=3, num_samples=6)
    roles = {id(p): g["role"] for g in param_groups_for_muon(model, 0.1) for p in g["params"]}
    names = dict(model.named_parameters())
    assert ("backbone.weight" in names) == (model_name == "ufm")  # the UFM's H is its backbone's weight
    for name, p in names.items():
        free_matrix = name in ("backbone.weight", "backbone.cls_token", "backbone.pos_embed")  # H, tokens
        is_layer_weight = p.ndim >= 2 and not free_matrix
        expected = "classifier" if name == "classifier.weight" else "hidden" if is_layer_weight else "other"
        assert roles[id(p)] == expected, name


def test_muon_aux_lr_and_schedulers_scale_every_group():
    w, b = torch.zeros(3, 2, requires_grad=True), torch.zeros(3, requires_grad=True)

    def groups():
        return [{"params": [w], "role": "hidden"}, {"params": [b], "role": "other"}]

    assert [g["lr"] for g in make_optimizer("muon", groups(), lr=0.02).param_groups] == [0.02, 0.02 / 20]
    opt = make_optimizer("muon", groups(), lr=0.02, aux_lr=3e-4)
    assert [g["lr"] for g in opt.param_groups] == [0.02, 3e-4]
    own = MuonAdamW([{"params": [w], "use_muon": True}, {"params": [b], "use_muon": False, "lr": 0.5}])
    assert [g["lr"] for g in own.param_groups] == [0.02, 0.5]  # a group's own lr wins
    sched = MultiStepLR(opt, milestones=[1], gamma=0.1)
    opt.step()
    sched.step()
    assert [g["lr"] for g in opt.param_groups] == pytest.approx([0.002, 3e-5])
    opt = make_optimizer("muon_all", groups(), lr=0.02, aux_lr=3e-4)
    lam = LambdaLR(opt, lambda step: 0.5**step)
    opt.step()
    lam.step()
    assert [g["lr"] for g in opt.param_groups] == pytest.approx([0.01, 1.5e-4])


@pytest.mark.parametrize("name", ["lion", "muon", "muon_all", "adamw_schedulefree"])
def test_decoupled_decay_without_gradient_only_shrinks(name):
    """Zero gradients: a decoupled rule only decays, p_t = (1 - lr wd)^t p_0 (each group at its own lr);
    ``lion_coupled`` instead steps by the sign of the decay term."""
    g = torch.Generator().manual_seed(8)
    w0, b0 = torch.randn(4, 3, generator=g, dtype=F64), torch.randn(4, generator=g, dtype=F64)
    w, b = w0.clone().requires_grad_(True), b0.clone().requires_grad_(True)
    lr, wd, n = 0.1, 0.5, 3
    if name in MUON_NAMES:
        opt = make_optimizer(name, [{"params": [w], "role": "hidden"}, {"params": [b], "role": "other"}],
                             lr=lr, weight_decay=wd, momentum=0.9)  # fmt: skip
    else:
        opt = make_optimizer(name, [w, b], lr=lr, weight_decay=wd, momentum=0.9)
    zeros = [[torch.zeros_like(w0), torch.zeros_like(b0)]] * n
    feed(opt, [w, b], zeros)
    if name == "adamw_schedulefree":  # the decay enters z at y: x, y and z stay multiples of p_0
        opt.eval()
        for p, p0 in ((w, w0), (b, b0)):
            alpha = (p.detach() * p0).sum() / (p0 * p0).sum()
            assert 0.0 < alpha < 1.0
            torch.testing.assert_close(p.detach(), alpha * p0, atol=1e-12, rtol=0)
        return
    aux = lr * MUON_AUX_LR_RATIO if name in MUON_NAMES else lr
    torch.testing.assert_close(w.detach(), w0 * (1 - lr * wd) ** n, atol=1e-12, rtol=0)
    torch.testing.assert_close(b.detach(), b0 * (1 - aux * wd) ** n, atol=1e-12, rtol=0)
    q = w0.clone().requires_grad_(True)
    feed(make_optimizer("lion_coupled", [q], lr=lr, weight_decay=wd), [q], [[torch.zeros_like(w0)]])
    torch.testing.assert_close(q.detach(), w0 - lr * torch.sign(w0), atol=1e-15, rtol=0)


# ---------------------------------------------------------------------------------------------
# Names, pairs, bad input.


def test_new_names_and_their_decay_coupling():
    assert set(NEW_NAMES) | set(PAPER_OPTIMIZER_NAMES) == set(OPTIMIZER_NAMES)
    expected = {"lion": True, "lion_coupled": False, "sgd_schedulefree": False, "adamw_schedulefree": True,
                "muon": True, "muon_all": True}  # fmt: skip
    assert {name: is_decoupled(name) for name in NEW_NAMES} == expected
    assert ("lion_coupled", "lion") in COUPLED_DECOUPLED_PAIRS
    assert ("sgd_schedulefree", "adamw_schedulefree") in COUPLED_DECOUPLED_PAIRS
    for coupled, decoupled in COUPLED_DECOUPLED_PAIRS:
        assert not is_decoupled(coupled) and is_decoupled(decoupled)
    assert is_decoupled("Lion") and not is_decoupled("LION_COUPLED")


def muon_groups():
    w, b = torch.zeros(3, 2, requires_grad=True), torch.zeros(3, requires_grad=True)
    return [{"params": [w], "role": "hidden"}, {"params": [b], "role": "other"}]


@pytest.mark.parametrize(
    ("name", "kwargs", "match"),
    [
        ("lion", {"lr": 0.0}, "lr must be > 0"),
        ("lion", {"lr": -1.0}, "lr"),
        ("lion", {"momentum": 1.0}, "momentum"),
        ("lion", {"beta2": 1.0}, "beta2"),
        ("lion", {"weight_decay": -0.1}, "weight_decay"),
        ("lion", {"warmup_steps": 10}, "warmup_steps"),
        ("lion_coupled", {"lr": float("nan")}, "lr"),
        ("lion_coupled", {"momentum": -0.5}, "momentum"),
        ("lion_coupled", {"beta2": -0.1}, "beta2"),
        ("lion_coupled", {"weight_decay": float("inf")}, "weight_decay"),
        ("sgd_schedulefree", {"momentum": 0.0}, r"momentum must lie in \(0, 1\)"),
        ("sgd_schedulefree", {"lr": -0.1}, "lr"),
        ("sgd_schedulefree", {"weight_decay": -1.0}, "weight_decay"),
        ("sgd_schedulefree", {"warmup_steps": -1}, "warmup_steps"),
        ("sgd_schedulefree", {"warmup_steps": 2.5}, "warmup_steps"),
        ("sgd_schedulefree", {"aux_lr": 0.1}, "aux_lr"),
        ("adamw_schedulefree", {"momentum": 0.0}, "momentum"),
        ("adamw_schedulefree", {"beta2": 1.0}, "beta2"),
        ("adamw_schedulefree", {"eps": -1e-8}, "eps"),
        ("adamw_schedulefree", {"coupled_weight_decay": 0.0}, "coupled_weight_decay"),
        ("muon", {"lr": -0.02}, "lr"),
        ("muon", {"momentum": 1.0}, "momentum"),
        ("muon", {"aux_lr": -1e-3}, "aux_lr"),
        ("muon", {"eps": -1.0}, "eps"),
        ("muon", {"warmup_steps": 5}, "warmup_steps"),
        ("muon_all", {"weight_decay": -0.1}, "weight_decay"),
        ("muon_all", {"beta2": 1.0}, "beta2"),
        ("adam", {"aux_lr": 1e-3}, "aux_lr"),
    ],
)
def test_bad_hyperparameters_raise_value_error_naming_them(name, kwargs, match):
    kwargs = {"lr": 0.1, "momentum": 0.9, **kwargs}
    params = muon_groups() if name in MUON_NAMES else [torch.zeros(2, requires_grad=True)]
    with pytest.raises(ValueError, match=match):
        make_optimizer(name, params, **kwargs)


def test_bad_muon_parameter_groups_raise():
    w, b = torch.zeros(3, 2, requires_grad=True), torch.zeros(3, requires_grad=True)
    with pytest.raises(ValueError, match="role.*param_groups_for_muon"):
        make_optimizer("muon", [w, b], lr=0.02)
    with pytest.raises(ValueError, match="role must be one of"):
        make_optimizer("muon_all", [{"params": [w], "role": "head"}], lr=0.02)
    with pytest.raises(ValueError, match=r">= 2 dims.*use_muon=False"):
        make_optimizer("muon", [{"params": [b], "role": "hidden"}], lr=0.02)
    with pytest.raises(ValueError, match="use_muon"):
        MuonAdamW([{"params": [w]}], lr=0.02)
    with pytest.raises(ValueError, match="ns_steps"):
        MuonAdamW([{"params": [w], "use_muon": True}], lr=0.02, ns_steps=0)
    with pytest.raises(ValueError, match="classifier"):
        param_groups_for_muon(nn.Sequential(nn.Linear(2, 2)), 0.1)


def test_bad_per_group_lion_hyperparameters_raise():
    p, q = torch.zeros(2, requires_grad=True), torch.zeros(2, requires_grad=True)
    for cls in (Lion, LionCoupled):
        with pytest.raises(ValueError, match="beta2"):
            cls([{"params": [p]}, {"params": [q], "betas": (0.9, 1.0)}], lr=0.1)


# ---------------------------------------------------------------------------------------------
# state_dict round trip.


def build(name, params, **hp):
    if name in MUON_NAMES:
        groups = [{"params": params[:2], "role": "hidden"}, {"params": params[2:3], "role": "classifier"},
                  {"params": params[3:], "role": "other"}]  # fmt: skip
        return make_optimizer(name, groups, **hp)
    return make_optimizer(name, params, **hp)


@pytest.mark.parametrize("name", NEW_NAMES)
def test_state_dict_round_trip_resumes_identically(name):
    shapes = [(4, 3), (3, 2, 2, 2), (3, 5), (5,)]
    params0, grads_seq = random_problem(6, seed=9, shapes=shapes)
    hp = {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.2, "beta2": 0.95}
    straight = [p.clone().requires_grad_(True) for p in params0]
    feed(build(name, straight, **hp), straight, grads_seq)

    params = [p.clone().requires_grad_(True) for p in params0]
    opt = build(name, params, **hp)
    feed(opt, params, grads_seq[:3])
    buffer = io.BytesIO()
    torch.save(opt.state_dict(), buffer)
    buffer.seek(0)
    resumed = [p.detach().clone().requires_grad_(True) for p in params]
    fresh = build(name, resumed, **{k: v / 2 for k, v in hp.items()})  # load_state_dict restores them all
    fresh.load_state_dict(torch.load(buffer, weights_only=True))
    feed(fresh, resumed, grads_seq[3:])
    assert_all_close(detached(resumed), detached(straight), atol=0.0, rtol=0.0)


# ---------------------------------------------------------------------------------------------
# The training engine with each new name.

ENGINE_SETTINGS = {
    "lion": {"lr": 1e-3},
    "lion_coupled": {"lr": 1e-3},
    "sgd_schedulefree": {"lr": 0.05, "lr_schedule": "constant"},
    "adamw_schedulefree": {"lr": 2e-3, "lr_schedule": "constant"},
    "muon": {"lr": 0.02},
    "muon_all": {"lr": 0.02},
}


@pytest.mark.parametrize("name", NEW_NAMES)
def test_engine_two_epochs_finish_with_finite_metrics(name):
    result = run_training(
        tiny(optimizer=name, epochs=2, metric_every=1, **ENGINE_SETTINGS[name]), progress=False
    )
    assert result.status == "completed"
    measured = result.history.dropna(subset=["NC1"])
    assert measured["epoch"].tolist() == [0, 1, 2]
    for key in ("NC0", "NC1", "NC2", "NC3", "train_loss", "train_acc"):
        assert math.isfinite(result.final[key]), key


@pytest.mark.parametrize("name", SCHEDULE_FREE_NAMES)
def test_engine_measures_the_schedulefree_average(name, monkeypatch):
    """Every measurement after training sees x = (y - (1 - beta) z) / beta, the eval-mode weights, not
    the training point y the last step left in the parameters."""
    seen, last_step, checked = {}, {}, []
    real_make, real_build, real_measure = engine.make_optimizer, engine._build_model, engine.measure

    def build_model(*args, **kwargs):
        seen["model"] = real_build(*args, **kwargs)
        return seen["model"]

    def make(*args, **kwargs):
        opt = seen["opt"] = real_make(*args, **kwargs)

        def after_step(optimizer, args, kwargs):
            W = seen["model"].classifier.weight
            last_step.update(y=W.detach().clone(), z=optimizer.state[W]["z"].clone())

        opt.register_step_post_hook(after_step)
        return opt

    def measure(model, *args, **kwargs):
        if last_step:  # after training: the parameters must hold x
            group = seen["opt"].param_groups[0]
            beta = group["betas"][0] if "betas" in group else group["momentum"]
            x = (last_step["y"] - (1 - beta) * last_step["z"]) / beta
            W = model.classifier.weight.detach()
            torch.testing.assert_close(W, x, atol=1e-5, rtol=1e-5)
            assert (W - last_step["y"]).abs().max() > 1e-4
            assert not group["train_mode"]
            checked.append(1)
        return real_measure(model, *args, **kwargs)

    monkeypatch.setattr(engine, "_build_model", build_model)
    monkeypatch.setattr(engine, "make_optimizer", make)
    monkeypatch.setattr(engine, "measure", measure)
    cfg = tiny(optimizer=name, epochs=3, metric_every=1, momentum=0.9, **ENGINE_SETTINGS[name])
    assert run_training(cfg, progress=False).status == "completed"
    assert len(checked) == 3


@pytest.mark.parametrize("name", [*SCHEDULE_FREE_NAMES, "muon_all"])
def test_engine_resumes_an_interrupted_run_identically(name, tmp_path, monkeypatch):
    cfg = tiny(optimizer=name, **ENGINE_SETTINGS[name])
    uninterrupted = run_training(cfg, progress=False)
    _, original = interrupt_at_epoch(cfg, tmp_path, monkeypatch)
    state = torch.load(tmp_path / f"{cfg.run_id}.pt", weights_only=False)
    if name in SCHEDULE_FREE_NAMES:  # checkpointed in eval mode: the model holds x
        assert not state["optimizer"]["param_groups"][0]["train_mode"]
    monkeypatch.setattr(TensorLoader, "set_epoch", original)
    resumed = run_training(cfg, checkpoint_dir=tmp_path, progress=False)
    pd.testing.assert_frame_equal(results(resumed), results(uninterrupted))


@pytest.mark.parametrize("decay_norm_and_bias", [True, False])
@pytest.mark.parametrize("name", MUON_NAMES)
def test_engine_builds_the_muon_groups_from_the_model(name, decay_norm_and_bias):
    cfg = tiny(optimizer=name, decay_norm_and_bias=decay_norm_and_bias, **ENGINE_SETTINGS[name])
    run = engine._setup(cfg, build_data(cfg))
    assert type(run.optimizer) is MuonAdamW
    W = run.model.classifier.weight
    (group,) = [g for g in run.optimizer.param_groups if any(p is W for p in g["params"])]
    assert group["role"] == "classifier" and group["use_muon"] == (name == "muon_all")
    hidden = [g for g in run.optimizer.param_groups if g["role"] == "hidden"]
    assert len(hidden) == 1 and len(hidden[0]["params"]) == 2  # the MLP's two hidden Linear weights
    assert {g["weight_decay"] for g in run.optimizer.param_groups} == (
        {cfg.weight_decay} if decay_norm_and_bias else {cfg.weight_decay, 0.0}
    )


# ---------------------------------------------------------------------------------------------
# Device-agnostic: the same numbers on CUDA (skipped without a GPU).


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("name", NEW_NAMES)
def test_cuda_matches_cpu(name):
    shapes = [(4, 3), (3, 2, 2, 2), (3, 5), (5,)]
    params0, grads_seq = random_problem(4, seed=10, shapes=shapes)
    hp = {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.2, "beta2": 0.95}
    final = []
    for device in ("cpu", "cuda"):
        params = [p.clone().to(device).requires_grad_(True) for p in params0]
        feed(build(name, params, **hp), params, [[g.to(device) for g in gs] for gs in grads_seq])
        assert all(p.device.type == device for p in params)
        final.append([p.detach().cpu() for p in params])
    if name in MUON_NAMES:  # Newton-Schulz runs in bfloat16 on both devices, with different kernels
        assert_all_close(final[1], final[0], atol=1e-2, rtol=0)
    else:
        assert_all_close(final[1], final[0])
