"""The paper's NC metrics (Section 2, Appendix B eqs. 2-12) from :class:`ClassStats` and ``W``.

Notation: ``K`` classes, ``p`` feature width, ``M = [mu_k - mu_G]`` (``p x K``), ``W`` (``K x p``) the
last-layer weight (bias excluded), ``M* = (I - J/K)/sqrt(K-1)`` the unit-norm simplex ETF Gram matrix.

Two conventions are available:

* ``"paper"`` - the formulas as printed in the paper:
  ``NC0 = ||W^T 1||^2 / K`` (the ``alpha_t`` of Theorems 3.1/3.3), ``NC2 = ||S/||S|| - M*|| / K^2`` for
  ``S = M^T M`` (eq. 5), ``W W^T`` (NC2W, eq. 6) and ``W M`` (NC2M, eq. 9), and
  ``NC3 = ||W/||W|| - M^T/||M|| || / (K p)`` (eq. 10).
* ``"code"`` - the normalisations logged by the authors' released code, which produced the numbers of
  Tables 1-2: ``NC0 = ||W^T 1||``, NC2/NC2W/NC2M without ``1/K^2``, NC3 without ``1/(K p)``, and the
  equinorm metrics NC2n/NC2Wn with torch's default (unbiased, ``K - 1``) standard deviation where the
  paper's eqs. 3 and 7 state the population one (a factor ``sqrt(K/(K-1))``).

NC4 is eq. 11 as printed in both conventions (and as the released code computes it): the classifier's
``argmax_k <w_k, h>`` without bias against the nearest class mean, on the test set. ``NC4_centred`` is
this project's offset-invariant reading, with the classifier scored on features centred at ``mu_G`` (as
in an NC solution, where the bias absorbs ``mu_G``). NC1, NC2a and NC2Wa are the same in both
conventions. All arithmetic is float64.

A metric that is not defined is never reported as a number that reads as a result:

* all class means coinciding (the features collapsed to one point) is an error,
  :class:`~nc_core.metrics.DegenerateFeaturesError` (NC1-NC3 are undefined; a training run stops there
  as diverged);
* an all-zero ``W`` is an error, :class:`~nc_core.metrics.accumulator.DegenerateWeightError` (NC2W,
  NC2Wn, NC2Wa, NC2M and NC3 measure its direction), or, with ``zero_weight="nan"`` (the training loop:
  a zero-initialised classifier is a legitimate start), those five metrics are NaN;
* NC1 is NaN when every class has a single sample: ``Sigma_W`` is then zero by construction, which says
  nothing about collapse (``0`` would read as perfect collapse);
* NC4 is NaN when it was not measured; a given rate outside ``[0, 1]`` is an error.

NC1-NC3 are invariant to the scale of the features and of ``W``: both are brought to unit size before
any float64 product, so features of any representable size (1e-120, 1e200) give the same values.
"""

from __future__ import annotations

import math
from typing import Literal

import torch

from .accumulator import (
    HUGE,
    ClassStats,
    DegenerateFeaturesError,
    DegenerateWeightError,
    FeatureAccumulator,
    NonFiniteError,
    _check_batch,
)

__all__ = [
    "Convention",
    "METRIC_KEYS",
    "metrics_from_stats",
    "nc0",
    "nc_metrics",
    "nearest_mean_agreement",
    "simplex_etf_gram",
    "singular_value_summary",
]

Convention = Literal["paper", "code"]
METRIC_KEYS = (
    "NC0", "NC1", "NC2", "NC2n", "NC2a", "NC2W", "NC2Wn", "NC2Wa", "NC2M", "NC3", "NC4", "NC4_centred",
)  # fmt: skip

# eigenvalues of M^T M below this fraction of the largest are treated as zero in the pseudo-inverse
_PINV_RTOL = 1e-10


def simplex_etf_gram(
    K: int, dtype: torch.dtype = torch.float64, device: torch.device | None = None
) -> torch.Tensor:
    """``M* = (I - J/K)/sqrt(K-1)``, the Gram matrix of a unit-Frobenius-norm simplex ETF (eq. 5)."""
    eye = torch.eye(K, dtype=dtype, device=device)
    return (eye - 1.0 / K) / math.sqrt(K - 1)


def _etf_distance(S: torch.Tensor) -> float:
    """``|| S/||S||_F - M* ||_F`` (eqs. 5, 6, 9 without their ``1/K^2``)."""
    return float(
        torch.linalg.matrix_norm(
            S / torch.linalg.matrix_norm(S) - simplex_etf_gram(S.shape[0], device=S.device)
        )
    )


def _equinorm(rows: torch.Tensor, convention: Convention = "paper") -> float:
    """``std_k ||r_k|| / mean_k ||r_k||`` with the population std (eqs. 3, 7; ``"paper"``) or torch's
    default unbiased one (the authors' code; ``"code"``)."""
    norms = torch.linalg.vector_norm(rows, dim=1)
    return float(norms.std(correction=0 if convention == "paper" else 1) / norms.mean())


def _equiangle(rows: torch.Tensor) -> float:
    """``mean_{k != k'} |cos(r_k, r_k') + 1/(K-1)|`` (eqs. 4, 8)."""
    K = rows.shape[0]
    unit = rows / torch.linalg.vector_norm(rows, dim=1, keepdim=True)
    dev = (unit @ unit.T + 1.0 / (K - 1)).abs()
    return float((dev.sum() - dev.diagonal().sum()) / (K * (K - 1)))


def nc0(weight: torch.Tensor, *, convention: Convention = "paper") -> float:
    """NC0 of a last layer ``W`` (``K x p``): ``||W^T 1||^2 / K`` in the paper convention (the
    ``alpha_t`` of Theorems 3.1/3.3), ``||W^T 1||`` in the authors' code convention. Needs no features."""
    row_sum = torch.linalg.vector_norm(weight.detach().to(torch.float64).sum(dim=0))  # ||W^T 1||
    return float(row_sum**2) / weight.shape[0] if convention == "paper" else float(row_sum)


def _nc1(stats: ClassStats) -> float:
    """``NC1 = Tr(Sigma_W Sigma_B^+) / K`` (eq. 2) through ``K x K`` matrices only.

    With ``Sigma_B = M M^T / K`` and ``G = M^T M``: ``(M M^T)^+ = M G^{+2} M^T``, hence
    ``Tr(Sigma_W Sigma_B^+)/K = Tr(G^{+2} A)`` with ``A = M^T Sigma_W M``. Writing ``G = V diag(l) V^T``,
    this is ``sum_i (v_i^T A v_i) / l_i^2`` over the kept eigenvalues, a sum of non-negative terms
    (``A`` is PSD), so NC1 cannot come out negative. The null direction ``1/sqrt(K)`` of ``G``
    (``M 1 = 0``) is exact in float64 and falls far below the relative cutoff.

    NaN when every class has a single sample (``Sigma_W = 0`` by construction: undefined, not collapse).
    """
    if bool((stats.counts <= 1).all()):
        return float("nan")
    Mt = stats.centered_means  # (K, p) = M^T
    G = Mt @ Mt.T
    A = Mt @ stats.within_cov @ Mt.T
    evals, evecs = torch.linalg.eigh(G.cpu())
    keep = evals > _PINV_RTOL * evals.max().clamp(min=torch.finfo(torch.float64).tiny)
    quad = torch.einsum("ki,kl,li->i", evecs, A.cpu(), evecs).clamp(min=0)
    return float((quad[keep] / evals[keep] ** 2).sum())


def nearest_mean_agreement(
    features: torch.Tensor, weight: torch.Tensor, means: torch.Tensor, *, centered: bool = False
) -> torch.Tensor:
    """Count of rows where the classifier and the nearest-class-mean rule agree (eq. 11, numerator).

    The NCC rule is ``argmin_k ||h - mu_k||``. The classifier rule is ``argmax_k <w_k, h>`` literally,
    as in eq. 11 and the authors' released code (NC4), or ``argmax_k <w_k, h - mu_G>`` when ``centered``
    (NC4_centred: the NC frame, where the bias absorbs the global mean, Papyan et al. 2020, so the rule is
    invariant to a global feature offset). Returns a 0-d int64 tensor on the features'
    device (no host sync), so batch counts can be summed.
    """
    h = features.detach().to(torch.float64)
    W = weight.detach().to(device=h.device, dtype=torch.float64)
    mu = means.to(device=h.device, dtype=torch.float64)
    if h.numel():  # both rules are scale invariant: huge values in units of a power of two (exact)
        h, mu = _huge_to_unit(h, mu)
        (W,) = _huge_to_unit(W)
    K = W.shape[0]
    scores = h @ torch.cat([W, mu]).T  # one (B, 2K) product: <w_k, h> and <mu_k, h>
    bias = -(W @ mu.mean(dim=0)) if centered else torch.zeros(K, dtype=h.dtype, device=h.device)
    by_classifier = (scores[:, :K] + bias).argmax(dim=1)
    # ||h - mu_k||^2 = ||h||^2 - 2 <mu_k, h> + ||mu_k||^2, and ||h||^2 does not depend on k
    by_ncc = ((mu * mu).sum(dim=1) - 2.0 * scores[:, K:]).argmin(dim=1)
    return (by_classifier == by_ncc).sum()


def _huge_to_unit(*tensors: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """``tensors`` divided by one power of two when their largest magnitude exceeds :data:`HUGE` (so that
    their products stay finite), unchanged (divided by 1) otherwise; no host sync."""
    peak = torch.stack([t.abs().amax() for t in tensors]).amax()
    s = torch.where(peak > HUGE, torch.exp2(torch.ceil(torch.log2(peak))), torch.ones_like(peak))
    return tuple(t / s for t in tensors)


def singular_value_summary(stats: ClassStats, weight: torch.Tensor) -> dict[str, float]:
    """Figure 6: singular values of ``W`` and ``M``: the smallest and the mean of the others.

    ``M`` has rank at most ``K-1`` by construction (``M 1 = 0``), so its structural zero singular
    value is dropped first and the summary is over its ``K-1`` informative singular values. With a single
    singular value (``K = 2`` for ``M``, ``p = 1`` for ``W``) there is no "rest": ``*_sv_mean_rest`` is
    left out.
    """
    sw = torch.linalg.svdvals(weight.detach().to(torch.float64).cpu())
    sm = torch.linalg.svdvals(stats.centered_means.cpu())[: stats.num_classes - 1]
    out = {"W_sv_min": float(sw[-1]), "M_sv_min": float(sm[-1])}
    # "the mean of the others" needs at least two singular values: W with p = 1 or M with K = 2 has one
    # (its only value is the smallest), so the key is left out rather than filled with a NaN
    if len(sw) > 1:
        out["W_sv_mean_rest"] = float(sw[:-1].mean())
    if len(sm) > 1:
        out["M_sv_mean_rest"] = float(sm[:-1].mean())
    return out


def _check_weight(weight: torch.Tensor, K: int, p: int) -> None:
    if not torch.is_tensor(weight) or weight.dim() != 2:
        raise ValueError(
            f"weight must be a 2-D tensor (K, p), got shape {tuple(getattr(weight, 'shape', ()))}"
        )
    if tuple(weight.shape) != (K, p):
        raise ValueError(f"weight has shape {tuple(weight.shape)} but features imply (K, p) = ({K}, {p})")
    if not bool(torch.isfinite(weight).all()):
        raise NonFiniteError("weight contains NaN or inf values")


#: The metrics of the direction of ``W``: undefined (NaN) for an all-zero ``W`` under ``zero_weight="nan"``.
WEIGHT_METRICS = ("NC2W", "NC2Wn", "NC2Wa", "NC2M", "NC3")


def _rate(value: float, name: str) -> float:
    """``value`` as an agreement rate: NaN (not measured) or a number in ``[0, 1]``."""
    rate = float(value)
    if rate == rate and not 0.0 <= rate <= 1.0:
        raise ValueError(f"{name} is a rate in [0, 1] (or NaN: not measured), got {value!r}")
    return rate


def metrics_from_stats(
    stats: ClassStats,
    weight: torch.Tensor,
    *,
    nc4: float = float("nan"),
    nc4_centred: float = float("nan"),
    convention: Convention = "paper",
    zero_weight: Literal["raise", "nan"] = "raise",
) -> dict[str, float]:
    """All NC metrics from the feature statistics and the last-layer weight ``W`` ``(K, p)``.

    ``nc4`` (eq. 11) and ``nc4_centred`` are NCC agreement rates computed on a separate pass with
    :func:`nearest_mean_agreement` (``centered=False`` / ``True``; they need the final class means): NaN
    (not measured) or in ``[0, 1]``. Returns the keys of :data:`METRIC_KEYS` plus the singular-value
    summary of :func:`singular_value_summary`. Undefined metrics (see the module docstring) are errors or
    NaN, never numbers.

    Args:
        zero_weight: an all-zero ``W``: ``"raise"`` (:class:`DegenerateWeightError`) or ``"nan"`` (the
            metrics of :data:`WEIGHT_METRICS` are NaN; the training loop's choice).

    Raises:
        DegenerateFeaturesError: all class means coincide.
        DegenerateWeightError: ``W`` is all zero (``zero_weight="raise"``).
        ValueError: a bad convention, weight shape or NC4 rate.
    """
    if convention not in ("paper", "code"):
        raise ValueError(f"convention must be 'paper' or 'code', got {convention!r}")
    if zero_weight not in ("raise", "nan"):
        raise ValueError(f"zero_weight must be 'raise' or 'nan', got {zero_weight!r}")
    nc4, nc4_centred = _rate(nc4, "nc4"), _rate(nc4_centred, "nc4_centred")
    K, p = stats.num_classes, stats.feature_dim
    _check_weight(weight, K, p)
    W_raw = weight.detach().to(device=stats.means.device, dtype=torch.float64)
    if not bool((stats.centered_means != 0).any()):
        raise DegenerateFeaturesError(
            "all class means coincide (the features collapsed to one point): NC1-NC3 are undefined"
        )
    zero = not bool((W_raw != 0).any())
    if zero and zero_weight == "raise":
        raise DegenerateWeightError(
            f"the last-layer weight W is all zero: {', '.join(WEIGHT_METRICS)} (its direction) are undefined"
        )
    # NC1-NC3 are invariant to the scale of the features and of W: bring both to unit size first, so
    # that their float64 products neither overflow (features ~1e80) nor underflow (~1e-120)
    scaled = _unit_scale(stats)
    W = W_raw / W_raw.abs().max().clamp(min=torch.finfo(torch.float64).tiny)
    Mt = scaled.centered_means
    nc3 = float(torch.linalg.matrix_norm(W / torch.linalg.matrix_norm(W) - Mt / torch.linalg.matrix_norm(Mt)))
    etf = {"NC2": _etf_distance(Mt @ Mt.T), "NC2W": _etf_distance(W @ W.T), "NC2M": _etf_distance(W @ Mt.T)}
    if convention == "paper":
        etf = {k: v / K**2 for k, v in etf.items()}
        nc3 /= K * p
    out = {
        "NC0": nc0(W_raw, convention=convention),
        "NC1": _nc1(scaled),
        **etf,
        "NC2n": _equinorm(Mt, convention),
        "NC2a": _equiangle(Mt),
        "NC2Wn": _equinorm(W, convention),
        "NC2Wa": _equiangle(W),
        "NC3": nc3,
        "NC4": nc4,
        "NC4_centred": nc4_centred,
        **singular_value_summary(stats, W_raw),
    }
    if zero:
        out.update(dict.fromkeys(WEIGHT_METRICS, float("nan")))
    return out


def _unit_scale(stats: ClassStats) -> ClassStats:
    """The statistics of the features divided by ``s = max |mu_k - mu_G|`` (``Sigma_W`` by ``s^2``), with
    ``scale`` 1 (statistics held in units of a power of two, :attr:`ClassStats.scale`, are converted)."""
    s = stats.centered_means.abs().max().clamp(min=torch.finfo(torch.float64).tiny)
    if stats.scale == 1.0:
        return ClassStats(stats.counts, stats.means / s, stats.within_cov / s**2)
    return ClassStats(stats.counts, stats.means / s, stats.within_cov * (stats.scale / s) ** 2)


def nc_metrics(
    features: torch.Tensor,
    labels: torch.Tensor,
    weight: torch.Tensor,
    *,
    num_classes: int | None = None,
    test_features: torch.Tensor | None = None,
    test_labels: torch.Tensor | None = None,
    convention: Convention = "paper",
) -> dict[str, float]:
    """NC metrics of in-memory features (paper Appendix B); see the module docstring for formulas.

    Args:
        features: ``(N, p)`` training features ``h_n`` (penultimate layer, eval mode).
        labels: ``(N,)`` integer labels in ``[0, K)``; every class must occur.
        weight: ``(K, p)`` last-layer weight ``W`` (without bias).
        num_classes: ``K``; defaults to ``weight.shape[0]``.
        test_features: features on which NC4 (eq. 11) is measured; the training features if omitted.
        test_labels: labels of ``test_features``; only checked for consistent shape (NC4 needs none).
        convention: ``"paper"`` (formulas as printed) or ``"code"`` (authors' logged normalisation).

    Returns:
        ``dict`` with ``NC0 ... NC4`` (see :data:`METRIC_KEYS`) and singular-value summaries.

    Raises:
        ValueError: mismatched shapes, labels outside ``[0, K)``, an empty class, NaN/inf input.
    """
    if not torch.is_tensor(weight):
        raise ValueError(f"weight must be a torch.Tensor, got {type(weight).__name__} (use torch.as_tensor)")
    if weight.dim() != 2:
        raise ValueError(f"weight must be a 2-D tensor (K, p), got shape {tuple(weight.shape)}")
    if torch.is_tensor(features) and features.dim() == 2 and weight.shape[1] != features.shape[1]:
        raise ValueError(
            f"weight has shape {tuple(weight.shape)} but the features have p = {features.shape[1]} columns: "
            f"expected (K, {features.shape[1]})"
            + (" (a transposed W?)" if weight.shape[0] == features.shape[1] else "")
        )
    K = int(num_classes if num_classes is not None else weight.shape[0])
    if torch.is_tensor(labels) and labels.numel() and not labels.is_floating_point():
        seen = set(torch.unique(labels).tolist())
        in_range = min(seen) >= 0 and max(seen) < K
        if num_classes is None and in_range and (missing := sorted(set(range(K)) - seen)):
            raise ValueError(
                f"class(es) {missing} have no sample, and the weight has {K} rows (K = {K}): every class "
                "needs samples (or check the weight's shape)"
            )
    acc = FeatureAccumulator(K)
    acc.update(features, labels)
    stats = acc.finalize()
    _check_weight(weight, K, stats.feature_dim)
    eval_features = features if test_features is None else test_features
    if test_features is not None:
        if test_labels is None:
            test_labels = torch.zeros(test_features.shape[0], dtype=torch.long, device=test_features.device)
        _check_batch(test_features, test_labels, K, "test_features", "test_labels")
        if test_features.shape[1] != stats.feature_dim:
            raise ValueError(
                f"test_features has width {test_features.shape[1]}, training features {stats.feature_dim}"
            )
    elif test_labels is not None:
        raise ValueError("test_labels given without test_features")
    if eval_features.shape[0] == 0:
        raise ValueError("no features to measure NC4 on")
    n = eval_features.shape[0]
    nc4, nc4_centred = (
        float(nearest_mean_agreement(eval_features, weight, stats.means, centered=c)) / n
        for c in (False, True)
    )
    return metrics_from_stats(stats, weight, nc4=nc4, nc4_centred=nc4_centred, convention=convention)
