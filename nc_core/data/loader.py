"""Minibatches over tensors that already live on the device.

:class:`TensorLoader` replaces ``torch.utils.data.DataLoader`` for data held whole on the device
(:class:`~nc_core.data.datasets.TensorData`): each epoch draws one permutation on the CPU from a
``torch.Generator``, moves it to the device once (on CUDA from pinned memory with
``non_blocking=True``), and yields ``(x[idx], y[idx])`` for consecutive slices ``idx`` of it.
Indexing with a device tensor needs no host synchronisation, so iterating never waits on the
device (checked on an H100 with ``torch.cuda.set_sync_debug_mode("error")``).

Order is a pure function of ``(seed, epoch)``: the generator of epoch ``e`` is seeded with a
64-bit value mixed from ``seed`` and ``e`` (``numpy.random.SeedSequence([seed, e])``), so a run
resumed at epoch ``e`` (``set_epoch(e)`` or ``TensorLoader(..., epoch=e)``) sees exactly the
batches the uninterrupted run would have seen.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch

from .datasets import TensorData

__all__ = ["TensorLoader", "epoch_permutation"]


def _epoch_seed(seed: int, epoch: int) -> int:
    state = np.random.SeedSequence([int(seed) & (2**63 - 1), int(epoch)]).generate_state(2, dtype=np.uint32)
    return (int(state[0]) << 31) ^ int(state[1])  # < 2**63


def epoch_permutation(n: int, seed: int, epoch: int) -> torch.Tensor:
    """The CPU permutation of ``range(n)`` that :class:`TensorLoader` uses in ``epoch`` for ``seed``."""
    gen = torch.Generator().manual_seed(_epoch_seed(seed, epoch))
    return torch.randperm(n, generator=gen)


class EpochState:
    """The resumable part of a seeded loader: the order of epoch ``e`` depends only on ``(seed, e)``, so
    ``epoch`` and ``seed`` are all a checkpoint needs (shared by :class:`TensorLoader` and the streaming
    :class:`~nc_core.data.folder.FolderLoader`)."""

    epoch: int
    seed: int

    def set_epoch(self, epoch: int) -> None:
        """Make the next iteration use epoch ``epoch`` (to resume a run)."""
        self.epoch = int(epoch)

    def state_dict(self) -> dict[str, int]:
        """``{"epoch": ..., "seed": ...}``: what a checkpoint needs to reproduce the next order."""
        return {"epoch": self.epoch, "seed": self.seed}

    def load_state_dict(self, state: dict[str, int]) -> None:
        """Restore :meth:`state_dict`."""
        self.epoch = int(state["epoch"])
        self.seed = int(state.get("seed", self.seed))


class TensorLoader(EpochState):
    """Iterate over on-device minibatches of a :class:`TensorData` (or a tuple of tensors).

    Args:
        data: a :class:`TensorData`, a ``TensorDataset``, or a tuple/list of tensors with a common
            first dimension (all on one device).
        batch_size: samples per batch.
        shuffle: draw a new permutation each epoch; otherwise iterate in order.
        seed: base seed; the order of epoch ``e`` depends only on ``(seed, e)``.
        generator: optional CPU ``torch.Generator`` to draw the permutations from instead; then the
            order depends on the generator's state (resume by restoring it) and ``seed`` is unused.
        drop_last: drop the final batch if it is smaller than ``batch_size``.
        epoch: the epoch the next iteration uses.

    Each ``iter(loader)`` uses the current :attr:`epoch` and then advances it by one, so
    ``for epoch in range(E): for xb, yb in loader: ...`` sees a fresh order every epoch. ``len()``
    is the number of batches per epoch.
    """

    def __init__(
        self,
        data: TensorData | Any,
        batch_size: int = 128,
        shuffle: bool = True,
        *,
        seed: int = 0,
        generator: torch.Generator | None = None,
        drop_last: bool = False,
        epoch: int = 0,
    ) -> None:
        if isinstance(data, TensorData):
            tensors = (data.x, data.y)
        elif hasattr(data, "tensors"):
            tensors = tuple(data.tensors)
        else:
            tensors = tuple(data)
        if not tensors or not all(isinstance(t, torch.Tensor) for t in tensors):
            raise TypeError("data must be a TensorData, a TensorDataset or a sequence of tensors")
        n = tensors[0].shape[0]
        if any(t.shape[0] != n for t in tensors):
            raise ValueError("all tensors must have the same first dimension")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        if generator is not None and generator.device.type != "cpu":
            raise ValueError("generator must be a CPU torch.Generator")
        self.tensors: tuple[torch.Tensor, ...] = tensors
        self.num_samples = int(n)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = int(seed)
        self.generator = generator
        self.drop_last = drop_last
        self.epoch = int(epoch)

    def __len__(self) -> int:
        if self.drop_last:
            return self.num_samples // self.batch_size
        return math.ceil(self.num_samples / self.batch_size)

    @property
    def device(self) -> torch.device:
        """Device of the data (and of the batches)."""
        return self.tensors[0].device

    def permutation(self, epoch: int | None = None) -> torch.Tensor | None:
        """The CPU order of ``epoch`` (default: the next one), or ``None`` without shuffling.

        With a ``generator`` this draws from it (and so advances it).
        """
        if not self.shuffle:
            return None
        if self.generator is not None:
            return torch.randperm(self.num_samples, generator=self.generator)
        return epoch_permutation(self.num_samples, self.seed, self.epoch if epoch is None else epoch)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, ...]]:
        perm = self.permutation(self.epoch)
        self.epoch += 1
        if perm is not None and perm.device != self.device:
            if self.device.type == "cuda":  # pinned + non_blocking: the copy does not block the host
                perm = perm.pin_memory().to(self.device, non_blocking=True)
            else:
                perm = perm.to(self.device)
        return self._batches(perm)

    def _batches(self, perm: torch.Tensor | None) -> Iterator[tuple[torch.Tensor, ...]]:
        bs = self.batch_size
        for b in range(len(self)):
            lo, hi = b * bs, min((b + 1) * bs, self.num_samples)
            if perm is None:
                yield tuple(t[lo:hi] for t in self.tensors)
            else:
                idx = perm[lo:hi]
                yield tuple(t[idx] for t in self.tensors)

    def __repr__(self) -> str:
        return (
            f"TensorLoader(n={self.num_samples}, batch_size={self.batch_size}, shuffle={self.shuffle}, "
            f"seed={self.seed}, epoch={self.epoch}, drop_last={self.drop_last}, device={self.device})"
        )
