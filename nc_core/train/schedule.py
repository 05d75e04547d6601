"""Epoch-level schedules: the paper's step learning rate and the epochs at which NC metrics are taken."""

from __future__ import annotations

import math

import torch

__all__ = ["metric_epochs", "make_lr_scheduler"]


def metric_epochs(epochs: int, *, every: int | None = None, log_points: int = 0) -> list[int]:
    """Epochs after which the NC metrics are measured (0 = at initialisation).

    The union of: epoch 0 (the baseline that Tables 1-2 report changes against), every ``every``-th
    epoch (the authors' ``log_every``), ``log_points`` log-spaced epochs in ``[1, epochs]`` (dense early,
    where the metrics move fastest) and always the last epoch.
    """
    if epochs < 1:
        raise ValueError(f"epochs must be >= 1, got {epochs}")
    if every is not None and every < 1:
        raise ValueError(f"every must be >= 1, got {every}")
    if log_points < 0:
        raise ValueError(f"log_points must be >= 0, got {log_points}")
    chosen = {0, epochs}
    if every:
        chosen.update(range(every, epochs + 1, every))
    if log_points:
        chosen.update(
            round(math.exp(i * math.log(epochs) / max(log_points - 1, 1))) for i in range(log_points)
        )
    return sorted(chosen)


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
