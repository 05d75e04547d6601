"""One-pass, exact, float64 sufficient statistics of last-layer features (paper Appendix B).

Every NC metric of the paper is a function of the class counts ``n_k``, the class means ``mu_k`` and
the within-class covariance ``Sigma_W = (1/N) sum_n (h_n - mu_{y_n})(h_n - mu_{y_n})^T``; this module
computes exactly those from a stream of ``(features, labels)`` batches on any device.

Why one pass is exact for ``Sigma_W`` too: a batch contributes its own class means ``m_k`` and its
own centred scatter ``sum (h - m_{y})(h - m_{y})^T``, and two scatters of the same class merge
exactly with the pairwise update of Chan, Golub & LeVeque (1979),

    S_{a+b} = S_a + S_b + n_a n_b / (n_a + n_b) * (m_b - m_a)(m_b - m_a)^T,

which is an algebraic identity, not an approximation. Only centred quantities are ever summed, so
there is no catastrophic cancellation as ``Sigma_W -> 0`` (the raw-moment formula
``E[hh^T] - mu mu^T`` cancels exactly there). The sum over classes of the per-class scatters is the
total within-class scatter, so one ``p x p`` float64 matrix suffices.

Features too large for their squares to exist in float64 (beyond :data:`HUGE`, e.g. ~1e200) are
accumulated in units of a power of two (exact): :attr:`ClassStats.scale` says which. Ordinary features
never reach it, and their statistics are bit for bit those of the plain update.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

__all__ = [
    "HUGE",
    "ClassStats",
    "DegenerateFeaturesError",
    "DegenerateWeightError",
    "FeatureAccumulator",
    "NonFiniteError",
]

#: Features beyond this magnitude are accumulated in units of a power of two (their squares, ~1e300 and
#: more, would overflow float64); below it nothing is rescaled.
HUGE = 2.0**450


class NonFiniteError(ValueError):
    """Features or weights hold NaN or inf: a diverged run, not a programming error (which raises a plain
    ``ValueError``)."""


class DegenerateFeaturesError(NonFiniteError):
    """Every class mean is the same point (e.g. the weights decayed to zero): NC1-NC3 are undefined, and a
    training run in this state has broken down like a diverged one."""


class DegenerateWeightError(ValueError):
    """The last-layer weight ``W`` is all zero: the metrics of its direction (NC2W, NC2Wn, NC2Wa, NC2M,
    NC3) are undefined. Not a divergence (a zero-initialised classifier is a legitimate start): the training
    loop records them as undefined (NaN) instead, see :func:`~nc_core.metrics.metrics_from_stats`."""


@dataclass(frozen=True)
class ClassStats:
    """Sufficient statistics of the training features for every NC metric.

    Attributes:
        counts: ``(K,)`` float64, samples per class ``n_k``.
        means: ``(K, p)`` float64, class means ``mu_k``.
        within_cov: ``(p, p)`` float64, ``Sigma_W / scale**2`` with the ``1/N`` normalisation of
            Appendix B.
        scale: ``1.0``, unless the features were so large (beyond :data:`HUGE`) that ``Sigma_W`` itself
            would overflow float64: then the power of two ``within_cov`` is measured in.
    """

    counts: torch.Tensor
    means: torch.Tensor
    within_cov: torch.Tensor
    scale: float = 1.0

    @property
    def num_classes(self) -> int:
        return int(self.counts.shape[0])

    @property
    def feature_dim(self) -> int:
        return int(self.means.shape[1])

    @property
    def centered_means(self) -> torch.Tensor:
        """``M^T``: rows ``mu_k - mu_G`` with ``mu_G`` the mean of the class means, shape ``(K, p)``."""
        return self.means - self.means.mean(dim=0, keepdim=True)


class FeatureAccumulator:
    """Streams ``(features, labels)`` batches into :class:`ClassStats` in one exact float64 pass.

    Batches may live on any device; the statistics stay on the device of the first batch. Each
    ``update`` costs one ``B x p x p`` and one ``K x p x p`` float64 matrix product.

    Example:
        >>> acc = FeatureAccumulator(num_classes=10)
        >>> for h, y in batches:
        ...     acc.update(h, y)
        >>> stats = acc.finalize()
    """

    def __init__(self, num_classes: int) -> None:
        if not isinstance(num_classes, int) or num_classes < 2:
            raise ValueError(f"num_classes must be an integer >= 2, got {num_classes!r}")
        self.num_classes = num_classes
        self._counts: torch.Tensor | None = None
        self._means: torch.Tensor | None = None
        self._scatter: torch.Tensor | None = None
        self._scale: torch.Tensor | None = None  # the power of two the means and scatter are held in

    def update(self, features: torch.Tensor, labels: torch.Tensor) -> None:
        """Add a batch: ``features`` ``(B, p)`` (any float dtype), ``labels`` ``(B,)`` in ``[0, K)``."""
        _check_batch(features, labels, self.num_classes, "features", "labels")
        if features.shape[0] == 0:
            return
        K, p = self.num_classes, features.shape[1]
        h = features.detach().to(torch.float64)
        y = labels.detach().to(device=h.device, dtype=torch.long)
        if self._counts is None:
            self._counts = torch.zeros(K, dtype=torch.float64, device=h.device)
            self._means = torch.zeros(K, p, dtype=torch.float64, device=h.device)
            self._scatter = torch.zeros(p, p, dtype=torch.float64, device=h.device)
            self._scale = torch.ones((), dtype=torch.float64, device=h.device)
        elif p != self._means.shape[1]:
            raise ValueError(f"features has width {p}, earlier batches had {self._means.shape[1]}")
        # huge features: hold everything in units of a power of two (exact; no host sync); 1 otherwise
        peak = h.abs().amax()
        needed = torch.where(peak > HUGE, torch.exp2(torch.ceil(torch.log2(peak))), torch.ones_like(peak))
        scale = torch.maximum(self._scale, needed)
        shrink = self._scale / scale  # 1 unless this batch is larger than all before
        self._means *= shrink
        self._scatter *= shrink * shrink
        self._scale = scale
        h = h / scale
        nb = torch.bincount(y, minlength=K).to(torch.float64)
        batch_means = torch.zeros_like(self._means).index_add_(0, y, h) / nb.clamp(min=1)[:, None]
        centred = h - batch_means[y]
        n = self._counts + nb
        delta = batch_means - self._means
        # classes absent from the batch have nb = 0: zero weight in both the merge and the mean shift
        merge_weight = self._counts * nb / n.clamp(min=1)
        self._scatter.addmm_(centred.T, centred).addmm_((delta * merge_weight[:, None]).T, delta)
        self._means += delta * (nb / n.clamp(min=1))[:, None]
        self._counts = n

    def finalize(self) -> ClassStats:
        """Return the statistics; raises ``ValueError`` if nothing was added or a class is empty."""
        if self._counts is None:
            raise ValueError("no features were added to the accumulator")
        empty = (self._counts == 0).nonzero().flatten().tolist()
        if empty:
            raise ValueError(f"class(es) {empty} have no sample; NC metrics need every class")
        total = self._counts.sum()
        scale = float(self._scale)
        return ClassStats(self._counts.clone(), self._means * scale, self._scatter / total, scale)


def _check_batch(
    features: torch.Tensor, labels: torch.Tensor, num_classes: int, fname: str, lname: str
) -> None:
    """Validate one batch; one host sync for the value checks."""
    for name, value in ((fname, features), (lname, labels)):
        if not torch.is_tensor(value):
            raise ValueError(
                f"{name} must be a torch.Tensor, got {type(value).__name__} (convert with torch.as_tensor)"
            )
    if features.dim() != 2:
        raise ValueError(
            f"{fname} must be a 2-D tensor (N, p), got shape {tuple(getattr(features, 'shape', ()))}"
        )
    if not features.is_floating_point():
        raise ValueError(f"{fname} must be a floating-point tensor, got {features.dtype}")
    if labels.dim() != 1:
        raise ValueError(
            f"{lname} must be a 1-D tensor (N,), got shape {tuple(getattr(labels, 'shape', ()))}"
        )
    if labels.is_floating_point() or labels.is_complex():
        raise ValueError(f"{lname} must hold integer class indices, got {labels.dtype}")
    if labels.shape[0] != features.shape[0]:
        raise ValueError(f"{fname} has {features.shape[0]} rows but {lname} has {labels.shape[0]} entries")
    if features.shape[0] == 0:
        return
    bad = torch.stack(
        [~torch.isfinite(features).all(), labels.min() < 0, labels.max() >= num_classes]
    ).tolist()
    if bad[0]:
        raise NonFiniteError(f"{fname} contain NaN or inf values")
    if bad[1] or bad[2]:
        raise ValueError(
            f"{lname} must lie in [0, {num_classes}); got values in "
            f"[{int(labels.min())}, {int(labels.max())}]"
        )
