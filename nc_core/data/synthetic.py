"""Synthetic datasets: linearly separable classes (the paper's Figure 8), Gaussian classes for
tests, and the sample-index inputs of the unconstrained feature model (UFM).

All are generated on the CPU from a seeded ``torch.Generator`` (in float64, returned as float32),
so they are identical on every device, then moved to ``device``. Samples are ordered class by
class (``y = [0]*n + [1]*n + ...``); :class:`~nc_core.data.loader.TensorLoader` shuffles.
"""

from __future__ import annotations

import math

import torch

from .datasets import TensorData

__all__ = [
    "SYNTHETIC_DATASETS",
    "gaussian_classes",
    "separable_data",
    "separable_directions",
    "ufm_indices",
]

#: The generated datasets a run can train on (sizes from ``RunConfig.data_kwargs``).
SYNTHETIC_DATASETS: tuple[str, ...] = ("separable", "gaussian", "ufm")

#: Most rounds of redrawing in :func:`separable_data` before giving up.
_MAX_ROUNDS = 1000


def _check_sizes(n_per_class: int, num_classes: int, dim: int | None = None) -> None:
    if n_per_class < 1:
        raise ValueError(f"n_per_class must be >= 1, got {n_per_class}")
    if num_classes < 2:
        raise ValueError(f"num_classes must be >= 2, got {num_classes}")
    if dim is not None and dim < 1:
        raise ValueError(f"dim must be >= 1, got {dim}")


def _labels(n_per_class: int, num_classes: int) -> torch.Tensor:
    return torch.arange(num_classes, dtype=torch.int64).repeat_interleave(n_per_class)


def separable_directions(num_classes: int, dim: int, *, seed: int = 0) -> torch.Tensor:
    """The ``(num_classes, dim)`` orthonormal class directions ``U`` of :func:`separable_data`.

    Rows of the Q factor of a seeded standard Gaussian ``dim x num_classes`` matrix (float64, CPU).
    Requires ``dim >= num_classes``.
    """
    if dim < num_classes:
        raise ValueError(
            f"separable_data needs dim >= num_classes, got dim={dim} < num_classes={num_classes}"
        )
    gen = torch.Generator().manual_seed(int(seed))
    g = torch.randn(dim, num_classes, generator=gen, dtype=torch.float64)
    q, r = torch.linalg.qr(g)
    q = q * torch.sign(torch.diagonal(r)).unsqueeze(0)  # unique QR: positive diagonal of R
    return q.T.contiguous()


def separable_data(
    n_per_class: int,
    num_classes: int,
    dim: int,
    *,
    margin: float = 1.0,
    noise: float = 1.0,
    seed: int = 0,
    device: str | torch.device = "cpu",
) -> TensorData:
    """Linearly separable Gaussian class clusters with a guaranteed margin (the paper's Figure 8 setting).

    Construction: ``U = separable_directions(num_classes, dim, seed=seed)`` holds ``K`` orthonormal
    class directions ``u_1..u_K`` in ``R^dim``. A sample of class ``c`` is

        ``x = s * u_c + noise * g``,  ``g ~ N(0, I_dim)``,  ``s = margin + 3 * sqrt(2) * noise``,

    and it is redrawn until ``<u_c, x> - max_{k != c} <u_k, x> >= margin``. Hence the linear
    classifier ``W = U`` (unit-norm rows, no bias) classifies every sample correctly with score
    margin at least ``margin``: each point is at Euclidean distance at least ``margin / sqrt(2)``
    from every pairwise decision boundary ``<u_c - u_k, x> = 0``. (Each score difference is
    ``N(s, 2 noise^2)``, so with ``s`` three standard deviations above ``margin`` only about
    0.13% of the comparisons need a redraw.) The noise is isotropic, so the classes are clusters
    with within-class spread ``noise`` in every direction, which training has to collapse.

    Args:
        n_per_class: samples per class.
        num_classes: ``K >= 2``.
        dim: input dimension, ``>= K``.
        margin: guaranteed score margin of ``W = U`` (``> 0``).
        noise: standard deviation of the isotropic Gaussian noise (``>= 0``).
        seed: seed of the directions and of the samples.
        device: where the returned tensors live.

    Returns:
        :class:`TensorData` with ``x`` float32 ``(K * n_per_class, dim)``, ``y`` int64 class-major,
        ``in_channels = dim``, ``name = "separable"``.
    """
    _check_sizes(n_per_class, num_classes, dim)
    if margin <= 0:
        raise ValueError(f"margin must be > 0, got {margin}")
    if noise < 0:
        raise ValueError(f"noise must be >= 0, got {noise}")
    U = separable_directions(num_classes, dim, seed=seed)
    scale = margin + 3.0 * math.sqrt(2.0) * noise
    gen = torch.Generator().manual_seed(int(seed) + 1)
    y = _labels(n_per_class, num_classes)
    x = scale * U[y] + noise * torch.randn(len(y), dim, generator=gen, dtype=torch.float64)
    tol = 1e-9 * scale  # float64 rounding: with noise=0 every margin is exactly `margin`, up to rounding
    for _ in range(_MAX_ROUNDS):
        bad = _margins(x, y, U) < margin - tol
        if not bool(bad.any()):
            break
        nb = int(bad.sum())
        x[bad] = scale * U[y[bad]] + noise * torch.randn(nb, dim, generator=gen, dtype=torch.float64)
    else:  # pragma: no cover - probability ~ 0
        raise RuntimeError("separable_data: could not draw samples with the requested margin")
    device = torch.device(device)
    return TensorData(
        x=x.to(torch.float32).to(device),
        y=y.to(device),
        num_classes=num_classes,
        in_channels=dim,
        name="separable",
    )


def _margins(x: torch.Tensor, y: torch.Tensor, W: torch.Tensor) -> torch.Tensor:
    """Score margin of each sample under the linear classifier ``W``: own score minus best other."""
    scores = x @ W.T
    own = scores.gather(1, y.unsqueeze(1)).squeeze(1)
    others = scores.scatter(1, y.unsqueeze(1), float("-inf"))
    return own - others.max(dim=1).values


def gaussian_classes(
    n_per_class: int,
    num_classes: int,
    dim: int,
    *,
    sep: float = 4.0,
    noise: float = 1.0,
    seed: int = 0,
    device: str | torch.device = "cpu",
) -> TensorData:
    """Gaussian class clusters: ``x = sep * m_c + noise * g`` with random unit means ``m_c``.

    ``m_c`` are independent standard Gaussian vectors normalised to unit length, ``g ~ N(0, I)``.
    Not guaranteed separable (use :func:`separable_data` for that); meant for tests and demos.

    Returns:
        :class:`TensorData` with ``x`` float32 ``(K * n_per_class, dim)``, ``y`` int64 class-major,
        ``in_channels = dim``, ``name = "gaussian"``.
    """
    _check_sizes(n_per_class, num_classes, dim)
    gen = torch.Generator().manual_seed(int(seed))
    means = torch.randn(num_classes, dim, generator=gen, dtype=torch.float64)
    means = means / means.norm(dim=1, keepdim=True).clamp_min(1e-12)
    y = _labels(n_per_class, num_classes)
    x = sep * means[y] + noise * torch.randn(len(y), dim, generator=gen, dtype=torch.float64)
    device = torch.device(device)
    return TensorData(
        x=x.to(torch.float32).to(device),
        y=y.to(device),
        num_classes=num_classes,
        in_channels=dim,
        name="gaussian",
    )


def ufm_indices(num_samples: int, num_classes: int, *, device: str | torch.device = "cpu") -> TensorData:
    """Inputs of the unconstrained feature model: the sample indices themselves.

    In the UFM every sample owns a free feature vector (a row of an ``N x d`` table), so the
    "input" of sample ``i`` is just ``i``. Labels are balanced and class-major: sample ``i`` has
    class ``i // (num_samples // num_classes)``.

    Args:
        num_samples: ``N``, a multiple of ``num_classes``.
        num_classes: ``K >= 2``.
        device: where the returned tensors live.

    Returns:
        :class:`TensorData` with ``x = arange(N)`` int64 ``(N,)``, ``y`` int64 ``(N,)``,
        ``in_channels = N`` (the size of the feature table), ``name = "ufm"``.
    """
    if num_classes < 2:
        raise ValueError(f"num_classes must be >= 2, got {num_classes}")
    if num_samples < num_classes or num_samples % num_classes:
        raise ValueError(
            f"num_samples must be a positive multiple of num_classes for balanced labels, "
            f"got num_samples={num_samples}, num_classes={num_classes}"
        )
    device = torch.device(device)
    x = torch.arange(num_samples, dtype=torch.int64, device=device)
    y = _labels(num_samples // num_classes, num_classes).to(device)
    return TensorData(x=x, y=y, num_classes=num_classes, in_channels=num_samples, name="ufm")
