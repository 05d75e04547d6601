"""NC metrics against independent references: closed forms, a NumPy float64 re-implementation
written straight from the paper's formulas (Appendix B), invariances and Proposition 2.1."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from nc_core.metrics import (
    METRIC_KEYS,
    FeatureAccumulator,
    metrics_from_stats,
    nc_metrics,
    nearest_mean_agreement,
)

# ---------------------------------------------------------------------------------------------
# Independent reference: NumPy float64, p x p pseudo-inverse, explicit loops, paper's formulas.


def reference_metrics(H: np.ndarray, y: np.ndarray, W: np.ndarray, H_test: np.ndarray | None = None) -> dict:
    H, W = H.astype(np.float64), W.astype(np.float64)
    K, p = W.shape
    N = len(y)
    mu = np.stack([H[y == k].mean(axis=0) for k in range(K)])
    mu_G = mu.mean(axis=0)
    M = (mu - mu_G).T  # p x K
    Sigma_W = sum(np.outer(H[n] - mu[y[n]], H[n] - mu[y[n]]) for n in range(N)) / N
    Sigma_B = M @ M.T / K
    Mstar = (np.eye(K) - np.ones((K, K)) / K) / math.sqrt(K - 1)

    def etf(S):
        return np.linalg.norm(S / np.linalg.norm(S) - Mstar) / K**2

    def equinorm(R):
        n = np.linalg.norm(R, axis=1)
        return np.std(n) / np.mean(n)

    def equiangle(R):
        vals = []
        for k in range(K):
            for j in range(K):
                if k != j:
                    c = R[k] @ R[j] / np.linalg.norm(R[k]) / np.linalg.norm(R[j])
                    vals.append(abs(c + 1 / (K - 1)))
        return float(np.mean(vals))

    Ht = H if H_test is None else H_test.astype(np.float64)
    ncc = [np.argmin([np.linalg.norm(h - mu[k]) for k in range(K)]) for h in Ht]
    agree = [np.argmax(W @ h) == c for h, c in zip(Ht, ncc, strict=True)]  # eq. 11 as printed
    agree_centred = [np.argmax(W @ (h - mu_G)) == c for h, c in zip(Ht, ncc, strict=True)]
    return {
        "NC0": np.linalg.norm(W.T @ np.ones(K)) ** 2 / K,
        "NC1": np.trace(Sigma_W @ np.linalg.pinv(Sigma_B, rcond=1e-10, hermitian=True)) / K,
        "NC2": etf(M.T @ M),
        "NC2W": etf(W @ W.T),
        "NC2M": etf(W @ M),
        "NC2n": equinorm(M.T),
        "NC2a": equiangle(M.T),
        "NC2Wn": equinorm(W),
        "NC2Wa": equiangle(W),
        "NC3": np.linalg.norm(W / np.linalg.norm(W) - M.T / np.linalg.norm(M)) / (K * p),
        "NC4": float(np.mean(agree)),
        "NC4_centred": float(np.mean(agree_centred)),
    }


def random_problem(seed: int, K: int = 5, p: int = 12, per_class: int = 30, sep: float = 3.0):
    g = torch.Generator().manual_seed(seed)
    centres = sep * torch.randn(K, p, generator=g)
    y = torch.arange(K).repeat_interleave(per_class)
    y = y[torch.randperm(len(y), generator=g)]
    H = centres[y] + torch.randn(len(y), p, generator=g)
    W = torch.randn(K, p, generator=g)
    return H, y, W


def simplex_etf_means(K: int, p: int, radius: float, seed: int) -> torch.Tensor:
    """K x p class means forming a simplex ETF of the given radius, randomly rotated in R^p."""
    Q, _ = torch.linalg.qr(
        torch.randn(p, p, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    )
    etf = torch.eye(K, dtype=torch.float64) - 1.0 / K  # rows have norm sqrt((K-1)/K)
    return radius * math.sqrt(K / (K - 1)) * etf @ Q[:, :K].T


# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_one_shot_matches_float64_reference(seed):
    H, y, W = random_problem(seed)
    Ht = random_problem(seed + 100)[0][:40]
    ours = nc_metrics(H.float(), y, W.float(), test_features=Ht.float())
    ref = reference_metrics(H.float().numpy(), y.numpy(), W.float().numpy(), Ht.float().numpy())
    for key in METRIC_KEYS:
        assert ours[key] == pytest.approx(ref[key], rel=1e-9, abs=1e-12), key


@pytest.mark.parametrize("batch", [1, 7, 64])
def test_streaming_matches_reference_with_chunked_float32_batches(batch):
    H, y, W = random_problem(3, K=4, p=9, per_class=25)
    H = H.float() * 10 + 50  # large offset: raw second moments would cancel badly
    acc = FeatureAccumulator(num_classes=4)
    for i in range(0, len(y), batch):
        acc.update(H[i : i + batch], y[i : i + batch])
    stats = acc.finalize()
    nc4 = {
        name: sum(
            int(nearest_mean_agreement(H[i : i + batch], W, stats.means, centered=centred))
            for i in range(0, len(y), batch)
        )
        / len(y)
        for name, centred in (("nc4", False), ("nc4_centred", True))
    }
    ours = metrics_from_stats(stats, W, **nc4)
    ref = reference_metrics(H.numpy(), y.numpy(), W.numpy())
    for key in METRIC_KEYS:
        assert ours[key] == pytest.approx(ref[key], rel=1e-9, abs=1e-12), key


def test_code_convention_drops_the_paper_normalisations():
    H, y, W = random_problem(4, K=6, p=10)
    paper = nc_metrics(H, y, W)
    code = nc_metrics(H, y, W, convention="code")
    K, p = 6, 10
    assert code["NC0"] == pytest.approx(float(torch.linalg.vector_norm(W.double().sum(0))), rel=1e-12)
    assert code["NC0"] ** 2 / K == pytest.approx(paper["NC0"], rel=1e-10)
    for key in ("NC2", "NC2W", "NC2M"):
        assert code[key] == pytest.approx(paper[key] * K**2, rel=1e-10)
    assert code["NC3"] == pytest.approx(paper["NC3"] * K * p, rel=1e-10)
    for key in ("NC1", "NC2a", "NC2Wa", "NC4", "NC4_centred"):
        assert code[key] == paper[key]
    # equinorm: the authors' code takes torch's default unbiased std, the paper's eqs. 3, 7 the population one
    for key in ("NC2Wn", "NC2n"):
        assert code[key] == pytest.approx(paper[key] * math.sqrt(K / (K - 1)), rel=1e-12), key
    norms = torch.linalg.vector_norm(W.double(), dim=1)
    assert code["NC2Wn"] == pytest.approx(float(norms.std() / norms.mean()), rel=1e-12)  # torch default std


def test_nc4_as_printed_and_the_centred_reading():
    """Perfect ETF means with a large global offset along mu_1, W = M^T: eq. 11's literal no-bias rule
    (NC4, both conventions, as the authors' code) sends every sample to class 1, whose score <m_1, h>
    gains ||offset|| * ||m_1||, so only class 1 agrees: NC4 = 1/K; in the NC frame (NC4_centred) the
    classifier agrees with NCC everywhere."""
    K, p = 4, 6
    centred = simplex_etf_means(K, p, radius=1.0, seed=0)
    means = centred + 50.0 * centred[1]
    y = torch.arange(K).repeat(3)
    for convention in ("paper", "code"):
        m = nc_metrics(means[y], y, centred, convention=convention)
        assert m["NC4"] == pytest.approx(1 / K) and m["NC4_centred"] == 1.0


@pytest.mark.parametrize("K,p", [(3, 5), (10, 32)])
def test_perfect_simplex_etf_gives_zero_metrics(K, p):
    means = simplex_etf_means(K, p, radius=2.5, seed=K) + 7.0 * torch.randn(p, dtype=torch.float64)  # offset
    y = torch.arange(K).repeat(4)
    H = means[y]
    W = 0.3 * (means - means.mean(0))  # W proportional to M^T
    m = nc_metrics(H, y, W)
    for key in METRIC_KEYS:
        if not key.startswith("NC4"):
            assert abs(m[key]) < 1e-12, (key, m[key])
    assert m["NC4_centred"] == 1.0  # the global offset is only invisible in the centred reading
    # Figure 6: equal singular values for an ETF
    assert m["M_sv_min"] == pytest.approx(m["M_sv_mean_rest"], rel=1e-10)


@pytest.mark.parametrize("sigma", [0.1, 0.5, 2.0])
def test_nc1_closed_form_under_isotropic_noise(sigma):
    """Means: simplex ETF of radius r. Noise: +-sigma*sqrt(p)*e_j for every j, so Sigma_W = sigma^2 I
    exactly and the class means are unchanged. Sigma_B has K-1 eigenvalues r^2/(K-1), so
    NC1 = sigma^2 Tr(Sigma_B^+)/K = sigma^2 (K-1)^2 / (K r^2)."""
    K, p, r = 4, 6, 1.7
    means = simplex_etf_means(K, p, radius=r, seed=5) + 3.0
    offsets = sigma * math.sqrt(p) * torch.cat([torch.eye(p), -torch.eye(p)]).double()
    H = (means[:, None, :] + offsets[None]).reshape(-1, p)
    y = torch.arange(K).repeat_interleave(2 * p)
    W = means - means.mean(0)
    m = nc_metrics(H, y, W)
    assert m["NC1"] == pytest.approx(sigma**2 * (K - 1) ** 2 / (K * r**2), rel=1e-10)
    assert m["NC2"] < 1e-12 and m["NC3"] < 1e-12


def test_invariances_scale_rotation_offset():
    H, y, W = random_problem(6, K=5, p=8)
    H, W = H.double(), W.double()
    base = nc_metrics(H, y, W)
    Q, _ = torch.linalg.qr(torch.randn(8, 8, generator=torch.Generator().manual_seed(1), dtype=torch.float64))
    rotated = nc_metrics(H @ Q, y, W @ Q)
    scaled = nc_metrics(3.0 * H + 5.0, y, 0.2 * W)
    for key in METRIC_KEYS:
        if key == "NC0":
            continue  # NC0 is rotation invariant but scales with ||W||^2
        assert rotated[key] == pytest.approx(base[key], rel=1e-9, abs=1e-13), key
        if key != "NC4":  # eq. 11's literal rule sees a global offset; its centred reading does not
            assert scaled[key] == pytest.approx(base[key], rel=1e-9, abs=1e-13), key
    assert nc_metrics(3.0 * H, y, 0.2 * W)["NC4"] == base["NC4"]  # but it is scale invariant
    assert rotated["NC0"] == pytest.approx(base["NC0"], rel=1e-9)
    assert scaled["NC0"] == pytest.approx(0.04 * base["NC0"], rel=1e-9)


def test_proposition_2_1_nc2_and_nc3_imply_nc0():
    """Move W and M toward an ETF pair at distance eps (NC2, NC3 = O(eps)): NC0/||W||^2 -> 0, and
    since 1^T M* 1 = 0 it does so quadratically, O(eps^2), although W's perturbation has a row sum."""
    K, p = 6, 16
    target = simplex_etf_means(K, p, radius=1.0, seed=2)
    g = torch.Generator().manual_seed(9)
    noise_W = torch.randn(K, p, generator=g, dtype=torch.float64) + 0.5  # non-zero row sum
    noise_M = torch.randn(K, p, generator=g, dtype=torch.float64)
    y = torch.arange(K).repeat(2)
    relative_nc0 = []
    for eps in [1e-1, 1e-2, 1e-3, 1e-4]:
        means = target + eps * noise_M
        W = target + eps * noise_W
        m = nc_metrics(means[y], y, W)
        assert m["NC2"] < eps and m["NC3"] < eps
        relative_nc0.append(m["NC0"] / float((W**2).sum()))
    ratios = [a / b for a, b in zip(relative_nc0, relative_nc0[1:], strict=False)]
    assert all(r == pytest.approx(100, rel=0.2) for r in ratios), ratios
    assert relative_nc0[-1] < 1e-6


def test_nc1_is_stable_on_nearly_collapsed_float32_features():
    """Tiny within-class spread on a large offset, in float32: NC1 stays positive and matches the
    float64 reference computed on the same float32 values."""
    K, p = 10, 64
    means = simplex_etf_means(K, p, radius=1.0, seed=3) + 100.0
    g = torch.Generator().manual_seed(0)
    y = torch.arange(K).repeat_interleave(50)
    H = (means[y] + 1e-3 * torch.randn(len(y), p, generator=g, dtype=torch.float64)).float()
    W = (means - means.mean(0)).float()
    m = nc_metrics(H, y, W)
    ref = reference_metrics(H.numpy(), y.numpy(), W.numpy())
    assert 0 < m["NC1"] < 1e-3
    assert m["NC1"] == pytest.approx(ref["NC1"], rel=1e-6)


def test_nc4_hand_derived():
    """Literal rule of eq. 11 (code convention). Means mu_k = 2 e_k (K = 3, p = 4), W = diag(1, 3, 1).
    h = (1, 0.5, 0, 0): classifier scores (1, 1.5, 0) -> class 1; squared distances to the means
    (1.25, 2.25, 5.25) -> class 0: disagree. h = (1.5, 0, 0, 0): scores (1.5, 0, 0) -> 0; distances
    (0.25, 6.25, 6.25) -> 0: agree. h = (0, 0, 1.2, 5): scores (0, 0, 1.2) -> 2; nearest -> 2: agree."""
    means = 2.0 * torch.eye(3, 4, dtype=torch.float64)
    y = torch.arange(3).repeat(3)
    W = torch.eye(3, 4, dtype=torch.float64)
    W[1] *= 3.0
    test = torch.tensor([[1.0, 0.5, 0, 0], [1.5, 0, 0, 0], [0, 0, 1.2, 5.0]], dtype=torch.float64)
    assert nc_metrics(means[y], y, W)["NC4"] == 1.0  # training features sit on their means
    assert nc_metrics(means[y], y, W, test_features=test, convention="code")["NC4"] == pytest.approx(2 / 3)
    assert nc_metrics(means[y], y, W, test_features=test[:1], convention="code")["NC4"] == 0.0


def test_singular_values_match_numpy():
    H, y, W = random_problem(8, K=5, p=7)
    m = nc_metrics(H.double(), y, W.double())
    sw = np.linalg.svd(W.double().numpy(), compute_uv=False)
    mu = np.stack([H.double().numpy()[y.numpy() == k].mean(0) for k in range(5)])
    sm = np.linalg.svd(mu - mu.mean(0), compute_uv=False)
    assert sm[-1] < 1e-12 * sm[0]  # M 1 = 0: one structural zero, dropped in the summary
    assert m["W_sv_min"] == pytest.approx(sw[-1], rel=1e-10)
    assert m["W_sv_mean_rest"] == pytest.approx(sw[:-1].mean(), rel=1e-10)
    assert m["M_sv_min"] == pytest.approx(sm[-2], rel=1e-10)
    assert m["M_sv_mean_rest"] == pytest.approx(sm[:-2].mean(), rel=1e-10)


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda H, y, W: (H[:-1], y, W), "rows"),
        (lambda H, y, W: (H, y, W[:, :-1]), "weight has shape"),
        (lambda H, y, W: (H, torch.where(y == 0, 5, y), W), r"\[0, 5\)"),
        (lambda H, y, W: (H, torch.where(y == 0, -1, y), W), r"\[0, 5\)"),
        (lambda H, y, W: (H[y != 2], y[y != 2], W), "no sample"),
        (lambda H, y, W: (H.index_put((torch.tensor([3]),), torch.tensor(float("nan"))), y, W), "NaN"),
        (lambda H, y, W: (H, y, W * float("inf")), "weight contains NaN"),
        (lambda H, y, W: (H, y.float(), W), "integer"),
        (lambda H, y, W: (H[0], y, W), "2-D"),
    ],
)
def test_bad_input_raises_clear_value_error(mutate, message):
    H, y, W = random_problem(0, K=5, p=6)
    with pytest.raises(ValueError, match=message):
        nc_metrics(*mutate(H, y, W))


def test_bad_convention_and_empty_accumulator():
    H, y, W = random_problem(0, K=5, p=6)
    with pytest.raises(ValueError, match="convention"):
        nc_metrics(H, y, W, convention="papr")
    with pytest.raises(ValueError, match="no features"):
        FeatureAccumulator(5).finalize()
    with pytest.raises(ValueError, match="width"):
        acc = FeatureAccumulator(5)
        acc.update(H, y)
        acc.update(H[:, :3], y)


def test_nc0_of_a_weight_alone_hand_derived():
    """W^T 1 = (4, 2) for the rows (1, 2), (3, -1), (0, 1): ||W^T 1||^2 = 20, K = 3."""
    from nc_core.metrics import nc0

    W = torch.tensor([[1.0, 2.0], [3.0, -1.0], [0.0, 1.0]])
    assert nc0(W) == pytest.approx(20 / 3, rel=1e-12)
    assert nc0(W, convention="code") == pytest.approx(math.sqrt(20), rel=1e-12)


def test_bad_inputs_are_named_for_what_they_are():
    """Issue 11, case 11: shape errors before 'class has no sample', NumPy arrays named, K = 2."""
    torch.manual_seed(0)
    h, y = torch.randn(40, 8, dtype=torch.float64), torch.arange(4).repeat(10)
    W = torch.randn(4, 8, dtype=torch.float64)
    with pytest.raises(ValueError, match=r"weight has shape \(8, 4\).*\(a transposed W\?\)"):
        nc_metrics(h, y, W.T)
    with pytest.raises(ValueError, match=r"class\(es\) \[4\] have no sample, and the weight has 5 rows"):
        nc_metrics(h, y, torch.randn(5, 8, dtype=torch.float64))
    with pytest.raises(ValueError, match="features must be a torch.Tensor, got ndarray"):
        nc_metrics(h.numpy(), y, W)
    with pytest.raises(ValueError, match="weight must be a torch.Tensor, got ndarray"):
        nc_metrics(h, y, W.numpy())
    # K = 2: M has a single informative singular value, so there is no "mean of the rest" (and no NaN)
    m = nc_metrics(h, torch.arange(2).repeat(20), torch.randn(2, 8, dtype=torch.float64))
    assert "M_sv_mean_rest" not in m and math.isfinite(m["M_sv_min"]) and math.isfinite(m["W_sv_mean_rest"])


@pytest.mark.parametrize("scale", [1e80, 1e-120])
def test_scale_invariant_metrics_survive_extreme_scales(scale):
    """NC1-NC3 do not change when features and W are scaled (issue 11: 1e80 gave NaN NC1, 1e-120 inf)."""
    torch.manual_seed(1)
    h, y = torch.randn(60, 8, dtype=torch.float64), torch.arange(4).repeat(15)
    W = torch.randn(4, 8, dtype=torch.float64)
    base, big = nc_metrics(h, y, W), nc_metrics(h * scale, y, W * scale)
    for key in ("NC1", "NC2", "NC2W", "NC2M", "NC3", "NC2n", "NC2a", "NC2Wn", "NC2Wa", "NC4"):
        assert big[key] == pytest.approx(base[key], rel=1e-9), key
    assert big["NC0"] == pytest.approx(base["NC0"] * scale**2, rel=1e-9)  # NC0 is not scale invariant


def test_coinciding_class_means_are_an_error_not_perfect_collapse():
    """Issue 11, case 11: all-identical features gave NC1 = 0 (reads as perfect collapse) with NaN NC2/NC3."""
    from nc_core.metrics import DegenerateFeaturesError

    y = torch.arange(4).repeat(5)
    with pytest.raises(DegenerateFeaturesError, match="all class means coincide"):
        nc_metrics(torch.ones(20, 6, dtype=torch.float64), y, torch.randn(4, 6, dtype=torch.float64))
