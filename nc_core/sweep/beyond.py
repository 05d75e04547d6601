"""The project's own experiments beyond the paper (its Section 4.5), as grid definitions.

Same format as :mod:`nc_core.sweep.definitions`; they are marked as the project's, not the paper's, by
their ``source``. All run on ResNet9 / FashionMNIST, the page of the paper's Table 4, at the main grid's
scales.

* ``beyond_lr``: each new optimizer at four learning rates with no weight decay -- the probe from which
  its LR is picked the way the paper picked its LRs (the largest that does not diverge; here also: that
  fits the training set, so that its runs count);
* ``beyond_wd``: each new optimizer at its picked LR over weight decay, coupled and decoupled variants
  paired (Figures 1 and 3 of the paper for Lion, Schedule-Free and Muon);
* ``layers_table4``: the six Table 4 configurations of the paper on ResNet9 and VGG9, with NC1/NC2/NCC
  measured after every stage at the end of training.
"""

from __future__ import annotations

from typing import Any

from .definitions import (
    CPU_EPOCHS,
    CPU_SCALE,
    PAPER_PROTOCOL,
    TABLE4_CONFIGS,
    WD_COUPLED,
    WD_DECOUPLED_ADAPTIVE,
)

__all__ = ["BEYOND_GRIDS", "BEYOND_LRS", "BEYOND_LRS_PROFILE", "LR_CANDIDATES"]

_SOURCE = "the project's own experiment (beyond the paper: its Section 4.5 lists these as open questions)"

#: LR candidates of the probe per new optimizer: four values around each method's usual range (Lion and
#: Muon from their papers' recipes, Schedule-Free from its README: 1-10x the base method's LR); for Lion and
#: Muon, whose four all fitted the training set (v1), two larger values (v2) to find where they stop.
LR_CANDIDATES: dict[str, list[float]] = {
    "lion": [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2],
    "lion_coupled": [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2],
    "sgd_schedulefree": [0.01, 0.1, 0.3, 1.0],
    "adamw_schedulefree": [1e-3, 3e-3, 1e-2, 3e-2],
    "muon": [3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0],
    "muon_all": [3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0],
}

#: Per-optimizer settings that are not the paper's: Lion's own beta2, no LR schedule for Schedule-Free.
_OWN_SETTINGS: dict[str, dict[str, Any]] = {
    "lion": {"beta2": 0.99},
    "lion_coupled": {"beta2": 0.99},
    "sgd_schedulefree": {"lr_schedule": "constant"},
    "adamw_schedulefree": {"lr_schedule": "constant"},
    "muon": {},
    "muon_all": {},
}

#: The LRs each optimizer's weight-decay runs use: the probe's pick at the cpu profile and the candidate just
#: below it (:func:`nc_core.analysis.beyond.pick_lr` on ``beyond_lr`` v2; the chapter re-derives and checks
#: them). Muon's pick is its largest candidate: it fitted the training set at every LR tried.
BEYOND_LRS: dict[str, list[float]] = {
    "lion": [3e-3, 1e-2],
    "lion_coupled": [3e-3, 1e-2],
    "sgd_schedulefree": [0.1, 0.3],
    "adamw_schedulefree": [3e-3, 1e-2],
    "muon": [0.3, 1.0],
    "muon_all": [0.1, 0.3],
}
#: The profile whose probe picked :data:`BEYOND_LRS` (another profile's probe may pick others: the grid still
#: runs these, and the page says so).
BEYOND_LRS_PROFILE = "cpu"

_COUPLED = {"lion_coupled", "sgd_schedulefree"}

_CPU = {**CPU_SCALE, "epochs": CPU_EPOCHS, "metric_every": 5, "metric_log_points": 8}
_CPU_NOTE = "the main grid's cpu scale (width 1/16, 250 samples per class, batch 32, 60 epochs: 4,740 steps)"

BEYOND_LR: dict[str, Any] = {
    "name": "beyond_lr",
    "version": 2,
    "title": "Beyond the paper: LR probe of Lion, Schedule-Free and Muon (ResNet9 / FashionMNIST, no decay)",
    "source": _SOURCE,
    "choices": [
        "four to six LR candidates per optimizer (nc_core.sweep.beyond.LR_CANDIDATES), momentum (Lion's "
        "beta1, Schedule-Free's beta, Muon's momentum) 0.9, no weight decay",
        "Lion with beta2 = 0.99 (its paper's default); Schedule-Free with a constant LR (it needs no "
        "schedule); Muon's AdamW groups at LR/20",
    ],
    "requires": None,
    "fixed": {
        **PAPER_PROTOCOL,
        "model": "resnet9",
        "dataset": "fashionmnist",
        "momentum": 0.9,
        "weight_decay": 0.0,
    },
    "blocks": [
        {"name": name, "fixed": {"optimizer": name, **_OWN_SETTINGS[name]}, "axes": {"lr": lrs}}
        for name, lrs in LR_CANDIDATES.items()
    ],
    "profiles": {
        "cpu": {"overrides": _CPU, "note": f"{_CPU_NOTE}; 32 runs"},
        "smoke": {"overrides": {"epochs": 3, "metric_every": 1, "metric_log_points": 0}},
    },
}

BEYOND_WD: dict[str, Any] = {
    "name": "beyond_wd",
    "version": 2,
    "title": "Beyond the paper: weight decay with Lion, Schedule-Free and Muon, coupled vs decoupled",
    "source": _SOURCE,
    "choices": [
        "each optimizer at the LR the probe picks and the candidate below it (grid beyond_lr; "
        "nc_core.sweep.beyond.BEYOND_LRS): every point a mean over two LRs (v1: the pick of a 4-LR probe "
        "only)",
        "weight decay: the paper's coupled list for the coupled variants (lion_coupled, sgd_schedulefree) "
        "and its decoupled adaptive list for the decoupled ones (lion, adamw_schedulefree, muon, muon_all)",
        "momentum 0.9; NC metrics every 5 epochs (+ 8 log-spaced early points) for NC0 through training",
    ],
    "requires": None,
    "fixed": {**PAPER_PROTOCOL, "model": "resnet9", "dataset": "fashionmnist", "momentum": 0.9},
    "blocks": [
        {
            "name": name,
            "fixed": {"optimizer": name, **_OWN_SETTINGS[name]},
            "axes": {
                "lr": BEYOND_LRS[name],
                "weight_decay": WD_COUPLED if name in _COUPLED else WD_DECOUPLED_ADAPTIVE,
            },
        }
        for name in LR_CANDIDATES
    ],
    "profiles": {
        "cpu": {
            "overrides": _CPU,
            "select": {"weight_decay": [0.0, 5e-4, 0.05, 0.5, 5.0]},
            "note": f"{_CPU_NOTE}; weight decay 0 to the top of each list, two LRs: 56 runs",
        },
        "smoke": {
            "overrides": {"epochs": 3, "metric_every": 1, "metric_log_points": 0},
            "select": {"weight_decay": [0.0, 0.5], "lr": [1e-2, 0.3]},  # one LR per optimizer
        },
    },
}

LAYERS_TABLE4: dict[str, Any] = {
    "name": "layers_table4",
    "version": 1,
    "title": "Beyond the paper: neural collapse layer by layer, the six Table 4 configurations",
    "source": _SOURCE,
    "choices": [
        "the six optimizers at their Table 4 hyperparameters (the paper's smallest-NC3 runs on ResNet9 / "
        "FashionMNIST), on ResNet9 and VGG9",
        "NC1, NC2 and NCC accuracy of the (globally average-pooled) output of every stage at the end of "
        "training, over the training set (RunConfig.model_kwargs unchanged; the layer pass is a "
        "measurement, see nc_core.metrics.layers)",
    ],
    "requires": None,
    "fixed": {**PAPER_PROTOCOL, "dataset": "fashionmnist", "layer_metrics": True},
    "blocks": [
        {
            "name": "table4",
            "fixed": {},
            "axes": {"model": ["resnet9", "vgg9"], "optimizer+lr+momentum+weight_decay": TABLE4_CONFIGS},
        }
    ],
    "profiles": {
        "cpu": {
            "note": f"{_CPU_NOTE}; 12 runs",
        },
        "smoke": {"overrides": {"epochs": 3, "metric_every": 3, "metric_log_points": 0}},
    },
}

#: The project's experiments beyond the paper, by name.
BEYOND_GRIDS: dict[str, dict[str, Any]] = {g["name"]: g for g in (BEYOND_LR, BEYOND_WD, LAYERS_TABLE4)}
