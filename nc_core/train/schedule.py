"""Epoch-level schedules: the paper's step learning rate and the epochs at which NC metrics are taken."""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterator

import torch

__all__ = ["MetricSchedule", "metric_epochs", "make_lr_scheduler"]


class MetricSchedule:
    """The epochs after which the NC metrics are measured (0 = at initialisation), held lazily.

    The union of: epoch 0 (the baseline that Tables 1-2 report changes against), every ``every``-th
    epoch (the authors' ``log_every``), ``log_points`` log-spaced epochs in ``[1, epochs]`` (dense early,
    where the metrics move fastest) and always the last epoch. ``epoch in schedule`` and ``len(schedule)``
    cost O(``log_points``) whatever ``epochs`` is: a run of a billion epochs allocates nothing up front.
    """

    def __init__(self, epochs: int, *, every: int | None = None, log_points: int = 0) -> None:
        if epochs < 1:
            raise ValueError(f"epochs must be >= 1, got {epochs}")
        if every is not None and every < 1:
            raise ValueError(f"every must be >= 1, got {every}")
        if log_points < 0:
            raise ValueError(f"log_points must be >= 0, got {log_points}")
        self.epochs, self.every = int(epochs), every
        self._fixed = {0, self.epochs}  # the first and last, and the log-spaced epochs (few)
        if log_points:
            self._fixed.update(
                round(math.exp(i * math.log(epochs) / max(log_points - 1, 1))) for i in range(log_points)
            )

    def __contains__(self, epoch: object) -> bool:
        if not isinstance(epoch, int) or not 0 <= epoch <= self.epochs:
            return False
        return epoch in self._fixed or bool(self.every and epoch >= self.every and epoch % self.every == 0)

    def __len__(self) -> int:
        periodic = self.epochs // self.every if self.every else 0
        return periodic + sum(1 for e in self._fixed if not (self.every and e and e % self.every == 0))

    def __iter__(self) -> Iterator[int]:
        """The epochs in increasing order (lazily)."""
        every = self.every or 0
        extra = sorted(e for e in self._fixed if not (every and e and e % every == 0))
        periodic = range(every, self.epochs + 1, every) if every else range(0)
        return iter(heapq.merge(extra, periodic))


def metric_epochs(epochs: int, *, every: int | None = None, log_points: int = 0) -> list[int]:
    """The epochs of :class:`MetricSchedule` as a sorted list (for inspection; the training loop asks the
    schedule itself, which allocates nothing per epoch)."""
    return list(MetricSchedule(epochs, every=every, log_points=log_points))


def make_lr_scheduler(
    optimizer: torch.optim.Optimizer,
    kind: str,
    *,
    epochs: int,
    steps_per_epoch: int,
    warmup_fraction: float = 0.05,
) -> tuple[torch.optim.lr_scheduler.LRScheduler, str]:
    """The learning-rate schedule and whether it steps per ``"epoch"`` or per ``"step"``.

    * ``"step"`` - the paper's protocol (Section 3.1, Appendix D.1, after Papyan et al. 2020): the LR is
      multiplied by 0.1 after ``int(epochs/3)`` and ``int(2*epochs/3)`` epochs (the authors' milestones).
    * ``"cosine"`` - the ViT protocol of Appendix D.4.5: linear warm-up over ``warmup_fraction`` of
      all steps, then cosine decay to zero, stepped every optimizer step.
    * ``"constant"`` - no schedule.
    """
    if kind == "step":
        milestones = sorted({m for m in (epochs // 3, 2 * epochs // 3) if m > 0})
        return torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=milestones, gamma=0.1), "epoch"
    if kind == "cosine":
        total = epochs * steps_per_epoch
        warmup = max(1, int(warmup_fraction * total))

        def factor(step: int) -> float:
            if step < warmup:
                return (step + 1) / warmup
            return 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, total - warmup)))

        return torch.optim.lr_scheduler.LambdaLR(optimizer, factor), "step"
    if kind == "constant":
        return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda _: 1.0), "epoch"
    raise ValueError(f"unknown lr schedule {kind!r}; choose 'step', 'cosine' or 'constant'")
