"""nc_core.theory against independent references: the closed forms of Theorem 3.3 and Lemma E.6, the
exact (a, b) structure and switch conditions of Theorem 3.4, Lemma E.5's recursion on a real MLP, the
spectral decay rate of that recursion, and the shapes claimed for Figure 8; plus the chapter notebook."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from nc_core.optim import make_optimizer
from nc_core.theory import (
    classify_curve,
    exact_rate,
    fig8_nc0_curves,
    fit_decay_rate,
    lemma_e5_max_deviation,
    lemma_e6_closed_form,
    lemma_e6_solutions,
    loglog_slope,
    predicted_switch_times,
    rate_table,
    row_sum_factors,
    sign_conditions,
    simulate_ufm_sign_gd,
    switch_times,
    theorem_condition,
    theorem_rate,
    thm33_nc0,
    thm34_band_scaling,
)

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "theory.ipynb"


@pytest.mark.parametrize("K,eta,lam", [(3, 0.1, 0.5), (5, 0.05, 0.2), (8, 0.02, 1.0)])
def test_thm33_closed_form_to_float_precision(K, eta, lam):
    sim = simulate_ufm_sign_gd(K, eta, lam, 80, coupled=False)
    ref = thm33_nc0(K, eta, lam, sim.index.to_numpy())
    np.testing.assert_allclose(sim["nc0"], ref, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(sim["row_sum_sq"], K * ref, rtol=1e-12, atol=1e-14)  # ||W^T 1||^2 = K nc0
    assert sim["structure_err"].max() < 1e-14
    assert thm33_nc0(K, eta, lam, 10**6) == pytest.approx((K - 2) ** 2 / lam**2)


@pytest.fixture(scope="module")
def coupled_run():
    return simulate_ufm_sign_gd(5, 0.02, 0.1, 200, coupled=True)


def test_thm34_structure_and_signs_follow_exact_conditions(coupled_run):
    sim = coupled_run
    assert sim["structure_err"].max() < 1e-14  # W_t = (a_t + b_t) I - b_t J at every step
    run = sim.iloc[:-1]
    off_ok, diag_ok = sign_conditions(run["a"], run["b"], 5, 0.1)
    # the signs taken by autograd + signum are exactly those predicted by the exact Eq. 22
    assert ((run["sign_off"] > 0) == off_ok).all() and ((run["sign_diag"] < 0) == diag_ok).all()
    # the nc0 identity alpha = (a - (K-1) b)^2
    np.testing.assert_allclose(sim["nc0"], (sim["a"] - 4 * sim["b"]) ** 2, atol=1e-12)


def test_thm34_switch_times_and_eq22_at_them(coupled_run):
    sim, K, eta, lam = coupled_run, 5, 0.02, 0.1
    sw = switch_times(sim)
    T1, T2 = sw["T1"], sw["T2"]
    assert 1 < T1 < T2 < len(sim) - 1
    assert T1 == predicted_switch_times(K, eta, lam)["T1"]  # closed form with s_off and 1/sqrt(K-1)
    assert T1 != predicted_switch_times(K, eta, lam, exact=False)["T1"]  # the printed phi misplaces it
    a, b = sim["a"].to_numpy(), sim["b"].to_numpy()
    c1, c2 = sign_conditions(a, b, K, lam)
    assert c1[:T1].all() and c2[:T1].all() and not c1[T1]
    assert c2[T1:T2].all() and not c2[T2]
    np.testing.assert_allclose(a[: T1 + 1], eta * np.arange(T1 + 1), atol=1e-12)  # a_t = b_t = eta t
    np.testing.assert_allclose(b[: T1 + 1], eta * np.arange(T1 + 1), atol=1e-12)
    nc0 = sim["nc0"].to_numpy()
    assert (np.diff(nc0[: T1 + 1]) > 0).all() and nc0[T1 + 1] < nc0[T1]  # increases up to T1
    assert (nc0[T1 + 2 : T2 + 1] < nc0[T1 : T2 - 1]).all()  # then decreases (every second step)
    assert nc0[T2:].max() <= (K - 1) ** 2 * eta**2 + 1e-12  # settles in an O(eta^2) band


def test_thm34_band_shrinks_like_eta_squared():
    df = thm34_band_scaling(5, 0.1, [0.04, 0.02, 0.01], horizon=3.0, tail=20)
    assert (df["T1"] == df["T1_exact"]).all() and (df["T1"] < df["T2"]).all()
    assert (df["sup"] <= (5 - 1) ** 2 * df["eta"] ** 2 + 1e-12).all()
    assert df["sup"].iloc[-1] < df["sup"].iloc[0] / 10
    assert 1.5 < loglog_slope(df["eta"], df["sup"]) < 3.0


@pytest.mark.parametrize("model", ["mlp", "ufm"])
def test_lemma_e5_recursion_exact_on_real_network(model):
    assert lemma_e5_max_deviation(0.9, 0.01, 0.1, 60, model=model) < 1e-10


def test_rates_fitted_vs_exact_spectral_and_theorem():
    df = rate_table([0.0, 0.5, 0.9], [0.01], 0.1, 200)
    real = df[~df["complex_roots"]]
    assert len(real) == 3
    np.testing.assert_allclose(real["fitted_rate"], real["exact_rate"], rtol=0.03)
    assert (df["condition_holds"]).all() and (df["fitted_rate"] >= df["theorem_rate"]).all()
    # beta = 0: exact NC0 rate is -2 log(1 - eta lambda), twice the theorem's
    assert exact_rate(0.0, 0.01, 0.1) == pytest.approx(2 * theorem_rate(0.0, 0.01, 0.1))
    assert not theorem_condition(0.99, 0.01) and theorem_condition(0.9, 0.01)


def test_fit_decay_rate_recovers_exponential():
    t = np.arange(200)
    assert fit_decay_rate(3.0 * np.exp(-0.02 * t)) == pytest.approx(0.02, rel=1e-9)


@pytest.mark.parametrize("lam,beta", [(0.05, 0.5), (0.3, 0.5), (0.02, 0.9)])  # real and complex roots
def test_lemma_e6_closed_form_vs_numerical(lam, beta):
    errs = []
    for h in (0.1, 0.05):
        df = lemma_e6_solutions(lam, beta, 20.0, h, alpha0=2.0)
        errs.append(float(np.abs(df["closed_form"] - df["numerical"]).max()))
    assert errs[0] < 5e-4 and errs[1] < errs[0] / 3.5  # second order in h
    assert lemma_e6_closed_form(np.array([0.0]), lam, beta, 2.0)[0] == pytest.approx(2.0)
    # alpha'(0) = 0 (the memory integral starts at 0)
    assert (lemma_e6_closed_form(np.array([1e-6]), lam, beta, 2.0)[0] - 2.0) / 1e-6 == pytest.approx(
        0, abs=1e-4
    )
    assert math.isfinite(errs[1])


def test_prop21_nc0_vanishes_with_nc2_nc3():
    from nc_core.theory import ufm_collapse_trajectory

    df = ufm_collapse_trajectory(steps=400, log_every=100)
    first, last = df.iloc[0], df.iloc[-1]
    assert last["NC2"] < 1e-3 * first["NC2"] and last["NC3"] < 1e-3 * first["NC3"]
    assert last["NC0"] < 1e-8 * first["NC0"] and last["NC0_rel"] < 1e-8


def test_classify_curve_shapes():
    t = np.linspace(0, 1, 100)
    assert classify_curve(t * np.exp(-8 * t) + 1e-3) == "rise_then_fall"
    assert classify_curve(1 - np.exp(-10 * t) + 0.01) == "plateau"
    assert classify_curve(np.exp(-5 * t)) == "decreasing"


def test_fig8_coupled_rise_then_fall_decoupled_plateau():
    df = fig8_nc0_curves(steps=600, optimizers=["SGD", "SignSGD", "AdamW0"])
    shape = {k: classify_curve(g["NC0"].to_numpy()) for k, g in df.groupby("optimizer")}
    assert shape == {"SGD": "decreasing", "SignSGD": "rise_then_fall", "AdamW0": "plateau"}


@pytest.mark.parametrize(("optimizer", "beta"), [("sgd", 0.0), ("sgd", 0.9), ("sgdw", 0.0), ("sgdw", 0.9)])
def test_row_sum_factors_follow_real_sgd_under_a_step_schedule(optimizer, beta):
    """c_t of the recursion against the row sum of a real linear classifier trained on cross-entropy in
    float64 with the paper's step schedule (LR / 10 twice); independent of the recursion's code."""
    torch.manual_seed(0)
    x, y = torch.randn(40, 6, dtype=torch.float64), torch.arange(4).repeat(10)
    layer = torch.nn.Linear(6, 4, dtype=torch.float64)
    opt = make_optimizer(optimizer, layer.parameters(), lr=0.2, momentum=beta, weight_decay=0.05)
    etas = np.repeat([0.2, 0.02, 0.002], 30)
    r0 = layer.weight.detach().sum(0).clone()
    ratios = [1.0]
    for eta in etas:
        for group in opt.param_groups:
            group["lr"] = float(eta)
        opt.zero_grad()
        torch.nn.functional.cross_entropy(layer(x), y).backward()
        opt.step()
        ratios.append(float(layer.weight.detach().sum(0) @ r0 / (r0 @ r0)))
    c = row_sum_factors(etas, beta, 0.05, decoupled=optimizer == "sgdw")
    np.testing.assert_allclose(c, ratios, rtol=1e-10, atol=1e-13)


def test_row_sum_factors_closed_forms():
    etas = np.array([0.1] * 5 + [0.01] * 5)
    # momentum 0: Theorem 3.1's (1 - eta lambda)^t, piecewise over the schedule
    expect = np.concatenate([[1.0], 0.97 ** np.arange(1, 6), 0.97**5 * 0.997 ** np.arange(1, 6)])
    np.testing.assert_allclose(row_sum_factors(etas, 0.0, 0.3), expect, rtol=1e-14)
    np.testing.assert_allclose(row_sum_factors(etas, 0.9, 0.3, decoupled=True), expect, rtol=1e-14)
    # coupled with momentum, constant LR: the 2x2 matrix power of Lemma E.5 applied to (r, v) = (1, 0)
    beta, lam, eta = 0.9, 0.3, 0.1
    A = np.array([[1 - eta * lam, -eta * beta], [lam, beta]])
    c = row_sum_factors(np.full(12, eta), beta, lam)
    assert c[12] == pytest.approx((np.linalg.matrix_power(A, 12) @ [1.0, 0.0])[0], rel=1e-12)
