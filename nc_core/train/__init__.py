"""Training engine: one configuration of the paper's protocol, measured, checkpointed, resumable."""

from .config import EXECUTION_FIELDS, RunConfig
from .engine import RunResult, build_data, run_training
from .evaluate import CODE_CONVENTION_KEYS, measure
from .schedule import make_lr_scheduler, metric_epochs

__all__ = [
    "CODE_CONVENTION_KEYS",
    "EXECUTION_FIELDS",
    "RunConfig",
    "RunResult",
    "build_data",
    "make_lr_scheduler",
    "measure",
    "metric_epochs",
    "run_training",
]
