"""One training configuration of the paper's protocol (Section 3.1, Appendix D.1) as a value object."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

__all__ = ["EXECUTION_FIELDS", "RunConfig"]

#: Fields that change how fast a run goes but not the mathematics it computes (float rounding aside);
#: excluded from the run id.
EXECUTION_FIELDS: tuple[str, ...] = ("device", "compile", "eval_batch_size", "fused_optimizer")
# fields added after the first results were stored, with the value they implicitly had then: they enter
# the run id only when set to something else, so that every earlier run id stays what it was
_LATER_FIELDS = {"layer_metrics": False, "data_copy": None}


@dataclass(frozen=True)
class RunConfig:
    """Everything that defines one training run.

    Defaults follow the paper: batch 128, LR x0.1 at 1/3 and 2/3 of training (``lr_schedule="step"``),
    ``beta2 = 0.999``, 200 epochs. ``width < 1`` and ``subset_per_class`` define the small profiles that
    run on a CPU; they are part of the run's identity, so results at different scales never mix.
    ``layer_metrics`` adds NC1, NC2 and NCC accuracy of every stage's features at the end of training
    (:mod:`nc_core.metrics.layers`; the models that expose stages only). ``data_copy`` names the imported
    substitute of an image dataset the run trains on (its copy id, :mod:`nc_core.data.copies`; ``None``:
    the original files), so that runs on a copy and on the original files never share a run id.

    Execution fields (:data:`EXECUTION_FIELDS`, not in the run id): ``device``, ``compile`` (the model under
    ``torch.compile``), ``eval_batch_size`` (metric passes) and ``fused_optimizer``: torch's fused kernel for
    Adam and AdamW (:data:`~nc_core.optim.FUSED_NAMES`), the same update as torch's per-tensor loop up to
    float32 rounding and 1.05x faster per CPU step at the ``cpu`` scale (``benchmarks/step_profile.py``;
    ``benchmarks/fused_agreement.py`` shows final metrics within the seed-to-seed spread). Runs recorded
    before it existed used the per-tensor loop; ``fused_optimizer=False`` repeats them bit for bit. Each
    record stores whether its optimizer was fused.
    """

    model: str = "resnet9"
    dataset: str = "fashionmnist"
    optimizer: str = "sgd"
    lr: float = 0.01
    momentum: float = 0.9
    weight_decay: float = 5e-4
    coupled_weight_decay: float | None = None
    beta2: float = 0.999
    epochs: int = 200
    batch_size: int = 128
    seed: int = 0
    width: float = 1.0
    subset_per_class: int | None = None
    lr_schedule: str = "step"
    decay_norm_and_bias: bool = True
    metric_every: int | None = 10
    metric_log_points: int = 8
    bf16: bool = False
    model_kwargs: dict[str, Any] = field(default_factory=dict)
    data_kwargs: dict[str, Any] = field(default_factory=dict)
    layer_metrics: bool = False
    data_copy: str | None = None
    # execution only (not part of the run id)
    device: str = "cpu"
    compile: bool = False
    eval_batch_size: int = 1024
    fused_optimizer: bool = True

    def __post_init__(self) -> None:
        problems = []
        if self.epochs < 1:
            problems.append(f"epochs must be >= 1 (got {self.epochs})")
        if self.batch_size < 1 or self.eval_batch_size < 1:
            problems.append(f"batch sizes must be >= 1 (got {self.batch_size}, {self.eval_batch_size})")
        if self.lr <= 0:
            problems.append(f"lr must be > 0 (got {self.lr})")
        if self.width <= 0:
            problems.append(f"width must be > 0 (got {self.width})")
        if self.subset_per_class is not None and self.subset_per_class < 1:
            problems.append(f"subset_per_class must be >= 1 or None (got {self.subset_per_class})")
        if self.data_copy is not None and (not isinstance(self.data_copy, str) or not self.data_copy):
            problems.append(
                f"data_copy must be a copy id (a non-empty string) or None (got {self.data_copy!r})"
            )
        for name in ("model_kwargs", "data_kwargs"):
            if not isinstance(getattr(self, name), dict):
                problems.append(f"{name} must be a JSON object (a dict), got {getattr(self, name)!r}")
        if problems:
            raise ValueError("invalid RunConfig: " + "; ".join(problems))

    def identity(self) -> dict[str, Any]:
        """The fields that determine the run's results (all but :data:`EXECUTION_FIELDS`)."""
        d = dataclasses.asdict(self)
        for key in EXECUTION_FIELDS:
            d.pop(key)
        for key, implicit in _LATER_FIELDS.items():
            if d[key] == implicit:
                d.pop(key)
        return d

    @functools.cached_property
    def run_id(self) -> str:
        """Stable 16-hex-digit hash of :meth:`identity`; names checkpoints and result rows. Computed once per
        configuration (a grid's plan asks it tens of thousands of times); a configuration is a value, never
        changed in place (:meth:`replace` makes a new one)."""
        blob = json.dumps(self.identity(), sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def replace(self, **changes: Any) -> RunConfig:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)
