"""The paper's experiments as versioned grid definitions (plain data; see :mod:`nc_core.sweep.grids`).

Values are copied from the paper (arXiv 2602.16642): Section 3.1, Table 3 and Appendix D.1 for the main
grid; Figure 4, Section 3.4 / Figure 7, Appendix D.4.1 (Figures 13-14), D.4.2 (Figure 15), D.4.4
(Figures 17-18) and D.4.5 for the others. Where the paper leaves a value open, the choice made here
is written in the grid's ``choices`` entry (and shown by ``python -m nc_core sweep list``).

Bump a grid's ``version`` whenever its values change: the version is stored with every record.

Format of one grid (a grid *file* -- JSON or YAML -- has the same keys):

* ``name``, ``version``, ``title``, ``source``, ``choices`` (list of strings), ``requires`` (``None``
  or why ``sweep run`` must refuse the grid);
* ``fixed``: RunConfig fields shared by every run;
* ``blocks``: list of ``{"name", "fixed", "axes"}``; every block is the cartesian product of its
  ``axes`` (field -> list of values, in order). An axis named ``"a+b"`` varies two fields together:
  its values are pairs ``[a, b]``;
* ``profiles``: profile name -> ``{"overrides", "select", "block_select", "note"}`` extending the
  defaults of :data:`nc_core.sweep.grids.DEFAULT_PROFILES` (``paper`` changes nothing).
"""

from __future__ import annotations

from typing import Any

__all__ = ["CPU_EPOCHS", "CPU_SCALE", "PAPER_GRIDS", "PAPER_PROTOCOL", "TABLE4_CONFIGS"]

# Table 3 / Appendix D.1
MOMENTA = [0.0, 0.5, 0.7, 0.9, 0.95, 0.98]
WD_COUPLED = [0.0, 5e-5, 5e-4, 5e-3, 0.05, 0.5]  # SGD, SGDW, Adam, Signum
WD_DECOUPLED_ADAPTIVE = [0.0, 5e-4, 0.05, 0.5, 5.0, 10.0]  # AdamW, SignumW
LR_SGD = [0.001, 0.01, 0.0679]  # SGD, SGDW
LR_ADAPTIVE = [0.001, 0.005, 0.01]  # Adam, AdamW, Signum, SignumW
PAPER_PROTOCOL = {"epochs": 200, "batch_size": 128, "beta2": 0.999, "lr_schedule": "step"}

#: Table 4: each optimizer's smallest-NC3 run on ResNet9 / FashionMNIST (optimizer, lr, momentum, wd)
TABLE4_CONFIGS = [
    ["sgd", 0.01, 0.9, 0.05],
    ["sgdw", 0.0679, 0.5, 0.05],
    ["adam", 0.005, 0.98, 0.05],
    ["adamw", 0.005, 0.95, 5.0],
    ["signum", 0.001, 0.9, 0.05],
    ["signumw", 0.001, 0.98, 10.0],
]  # fmt: skip

#: The cpu scale at which the paper's effects show on a 2-core CPU (width 1/16, 250 samples per class,
#: batch 32: 79 optimizer steps per epoch), shared by every grid that is drawn at that scale.
CPU_SCALE = {"width": 0.0625, "subset_per_class": 250, "batch_size": 32}
#: The cpu profile's horizon: 60 epochs = 4,740 steps, where most runs of the main grid reach >= 99%
#: training accuracy (measured: 15 epochs left every FashionMNIST run below 97.6%).
CPU_EPOCHS = 60

MAIN: dict[str, Any] = {
    "name": "main",
    "version": 1,
    "title": "Coupled vs decoupled weight decay: 2 architectures x 3 datasets x 6 optimizers",
    "source": "Section 3.1, Table 3, Appendix D.1 (Figures 1-3, 5, 19-43; Tables 1, 2, 4, 5)",
    "choices": [],
    "requires": None,
    "fixed": dict(PAPER_PROTOCOL),
    "blocks": [
        {
            "name": "sgd-family",
            "fixed": {},
            "axes": {
                "model": ["resnet9", "vgg9"],
                "dataset": ["mnist", "fashionmnist", "cifar10"],
                "optimizer": ["sgd", "sgdw"],
                "lr": LR_SGD,
                "momentum": MOMENTA,
                "weight_decay": WD_COUPLED,
            },
        },
        {
            "name": "adaptive-coupled",
            "fixed": {},
            "axes": {
                "model": ["resnet9", "vgg9"],
                "dataset": ["mnist", "fashionmnist", "cifar10"],
                "optimizer": ["adam", "signum"],
                "lr": LR_ADAPTIVE,
                "momentum": MOMENTA,
                "weight_decay": WD_COUPLED,
            },
        },
        {
            "name": "adaptive-decoupled",
            "fixed": {},
            "axes": {
                "model": ["resnet9", "vgg9"],
                "dataset": ["mnist", "fashionmnist", "cifar10"],
                "optimizer": ["adamw", "signumw"],
                "lr": LR_ADAPTIVE,
                "momentum": MOMENTA,
                "weight_decay": WD_DECOUPLED_ADAPTIVE,
            },
        },
    ],
    "profiles": {
        "cpu": {
            "select": {"momentum": [0.0, 0.9], "weight_decay": [0.0, 5e-4, 0.05, 0.5, 5.0]},
            "block_select": {
                "sgd-family": {"lr": [0.01]},
                "adaptive-coupled": {"lr": [0.001]},
                "adaptive-decoupled": {"lr": [0.001]},
            },
            "note": "width 1/16, 250 training (and test) samples per class, batch 32, 60 epochs (4,740 "
            "optimizer steps: the terminal phase, >= 99% training accuracy, for most runs); every "
            "architecture and dataset, one LR per optimizer family, momentum {0, 0.9}, weight decay from 0 "
            "to the top of each optimizer's range (52 runs per architecture x dataset, about 25-45 s each "
            "on one CPU core)",
        },
        "smoke": {
            "select": {"lr": [0.001], "momentum": [0.0, 0.9], "weight_decay": [0.0, 0.5]},
        },
    },
}

FIG4_HEATMAP: dict[str, Any] = {
    "name": "fig4_heatmap",
    "version": 1,
    "title": "Momentum x weight decay heatmap, SGD on ResNet9 / FashionMNIST",
    "source": "Figure 4 (Section 3.2)",
    "choices": [
        "LR 0.001: Figure 4 does not state it; Appendix D.4.1 says the Figure 14 runs, 'selected runs "
        "from Figure 4', use LR 0.001",
        "the same configurations as the main grid's SGD / ResNet9 / FashionMNIST / LR 0.001 slice (same "
        "run ids), stored separately under this grid",
    ],
    "requires": None,
    "fixed": {
        **PAPER_PROTOCOL,
        "model": "resnet9",
        "dataset": "fashionmnist",
        "optimizer": "sgd",
        "lr": 0.001,
    },
    "blocks": [{"name": "heatmap", "fixed": {}, "axes": {"momentum": MOMENTA, "weight_decay": WD_COUPLED}}],
    "profiles": {
        "cpu": {
            "select": {"momentum": [0.0, 0.5, 0.9, 0.98], "weight_decay": [0.0, 5e-4, 5e-3, 0.05]},
            "note": "the main grid's cpu scale (width 1/16, 250 samples per class, batch 32, 60 epochs); "
            "momentum {0, 0.5, 0.9, 0.98} x weight decay {0, 5e-4, 5e-3, 0.05}: 16 runs",
        },
        "smoke": {"select": {"momentum": [0.0, 0.9], "weight_decay": [0.0, 0.05]}},
    },
}

FIG7_INTERPOLATION: dict[str, Any] = {
    "name": "fig7_adam_adamw",
    "version": 2,
    "title": "Interpolating Adam and AdamW: coupled share of a fixed total decay 5e-4",
    "source": "Section 3.4, Figure 7",
    "choices": [
        "coupled share in {0, 1e-4, 2e-4, 3e-4, 4e-4, 5e-4} (the paper sweeps 0 to 5e-4 without listing "
        "the values); 0 is AdamW, 5e-4 is Adam",
        "LR 0.001 (not stated in the paper; the smallest LR of the main grid for Adam/AdamW)",
        "three seeds per share (the paper does not say over what its error bands vary): the spread of a "
        "metric at one share is the seed-to-seed spread, against which a trend across shares is judged",
    ],
    "requires": None,
    "fixed": {
        **PAPER_PROTOCOL,
        "model": "resnet9",
        "dataset": "mnist",
        "optimizer": "adam_adamw",
        "lr": 0.001,
        "momentum": 0.9,
        "weight_decay": 5e-4,
    },  # fmt: skip
    "blocks": [
        {
            "name": "interpolation",
            "fixed": {},
            "axes": {"coupled_weight_decay": [0.0, 1e-4, 2e-4, 3e-4, 4e-4, 5e-4], "seed": [0, 1, 2]},
        }
    ],
    "profiles": {
        "cpu": {
            "note": "the main grid's cpu scale (width 1/16, 250 samples per class, batch 32, 60 epochs: "
            "4,740 optimizer steps); all six shares x three seeds: 18 runs",
        },
        "smoke": {"select": {"coupled_weight_decay": [0.0, 5e-4], "seed": [0, 1]}},
    },
}

FIG13_EPOCHS_ADAM: dict[str, Any] = {
    "name": "fig13_epochs_adam",
    "version": 2,
    "title": "Epochs ablation: Adam and AdamW on ResNet9 / FashionMNIST at 200 and 2000 epochs",
    "source": "Appendix D.4.1, Figure 13",
    "choices": [
        "weight decay values: the main grid's list of each optimizer (the paper does not list them)",
        "each point at the paper's 200 epochs and at 10x that, so that the figure compares the two",
        "NC metrics every 50 epochs (+ 8 log-spaced early points): the history gives the trajectory",
    ],
    "requires": None,
    "fixed": {
        **PAPER_PROTOCOL,
        "model": "resnet9",
        "dataset": "fashionmnist",
        "lr": 0.0005,
        "momentum": 0.9,
        "metric_every": 50,
    },  # fmt: skip
    "blocks": [
        {
            "name": "adam",
            "fixed": {"optimizer": "adam"},
            "axes": {"epochs": [200, 2000], "weight_decay": WD_COUPLED},
        },
        {
            "name": "adamw",
            "fixed": {"optimizer": "adamw"},
            "axes": {"epochs": [200, 2000], "weight_decay": WD_DECOUPLED_ADAPTIVE},
        },
    ],
    "profiles": {
        "cpu": {
            "overrides": {**CPU_SCALE, "metric_every": 20, "metric_log_points": 8},
            "axis_values": {"epochs": [CPU_EPOCHS, 4 * CPU_EPOCHS]},
            "select": {"weight_decay": [0.0, 5e-4, 0.05, 5.0]},
            "note": "the main grid's cpu scale; the paper's 200 and 2000 epochs become 60 and 240 (4,740 and "
            "18,960 steps: the cpu profile's horizon and 4x it, the longest that fits a CPU budget); weight "
            "decay {0, 5e-4, 0.05} for Adam and {0, 5e-4, 0.05, 5} for AdamW: 14 runs",
        },
        "gpu": {"select": {"epochs": [200]}},
        "smoke": {"axis_values": {"epochs": [2, 4]}, "select": {"weight_decay": [0.0, 0.05]}},
    },
}

FIG14_EPOCHS_SGD: dict[str, Any] = {
    "name": "fig14_epochs_sgd",
    "version": 2,
    "title": "Epochs ablation: selected SGD runs of Figure 4 at 200 and 2000 epochs",
    "source": "Appendix D.4.1, Figure 14",
    "choices": [
        "'up to 2000 epochs': each point at 200 and 2000 epochs, NC metrics every 50 epochs (+ 8 "
        "log-spaced early points)",
    ],
    "requires": None,
    "fixed": {
        **PAPER_PROTOCOL,
        "model": "resnet9",
        "dataset": "fashionmnist",
        "optimizer": "sgd",
        "lr": 0.001,
        "metric_every": 50,
    },  # fmt: skip
    "blocks": [
        {
            "name": "selected",
            "fixed": {},
            "axes": {
                "epochs": [200, 2000],
                "momentum+weight_decay": [
                    [0.0, 0.0],
                    [0.97, 5e-5],
                    [0.0, 5e-4],
                    [0.9, 5e-4],
                    [0.9, 0.0],
                    [0.95, 0.0025],
                ],  # fmt: skip
            },
        }
    ],
    "profiles": {
        "cpu": {
            "overrides": {**CPU_SCALE, "metric_every": 20, "metric_log_points": 8},
            "axis_values": {"epochs": [CPU_EPOCHS, 4 * CPU_EPOCHS]},
            "note": "the main grid's cpu scale; 200 and 2000 epochs become 60 and 240 (4,740 and 18,960 "
            "steps); all six points: 12 runs",
        },
        "gpu": {"select": {"epochs": [200]}},
        "smoke": {
            "axis_values": {"epochs": [2, 4]},
            "select": {"momentum+weight_decay": [[0.0, 0.0], [0.95, 0.0025]]},
        },
    },
}

UFM: dict[str, Any] = {
    "name": "ufm",
    "version": 2,
    "title": "Unconstrained feature model: d=512, K=10, N=10,000; Adam, AdamW, SGD (momentum 0.9)",
    "source": "Appendix D.4.2, Figure 15",
    "choices": [
        "weight decay in {0, 1e-4, 5e-4, 1e-3, 5e-3, 0.01, 0.05} (the paper: 'ranging from 0.0 to 0.05')",
        "batch 1,000 for 200 epochs = 2,000 optimizer steps, LR divided by 10 at 1/3 and 2/3 (the paper "
        "states neither batch nor steps for the UFM): every optimizer step updates all 5.1 M feature "
        "entries (decay and momentum), so a step costs the same at any batch size (about 11 ms for SGD on "
        "one CPU core) and the batch decides the horizon's cost",
        "features H initialised N(0, 1/d) (each row of expected norm 1), W with nn.Linear's default",
        "three alternatives, one changed choice each, at one LR per optimizer (Adam and AdamW 0.1, SGD "
        "1.0: the smallest LR at which SGD fits the training set at the main protocol) and weight decay "
        "{0, 5e-4, 5e-3, 0.05}: twice the steps (400 epochs), a 4x smaller batch at the same steps (250, 50 "
        "epochs), and H initialised N(0, 1) (nn.Embedding's default, rows of norm sqrt(d))",
        "a run counts only at 100% training accuracy (the paper's filter for this figure)",
    ],
    "requires": None,
    "fixed": {
        **PAPER_PROTOCOL,
        "model": "ufm",
        "dataset": "ufm",
        "momentum": 0.9,
        "epochs": 200,
        "batch_size": 1000,
        "width": 1.0,
        "subset_per_class": None,
        "metric_every": 20,
        "metric_log_points": 0,
        "model_kwargs": {"feature_dim": 512},
        "data_kwargs": {"num_samples": 10000, "num_classes": 10},
    },  # fmt: skip
    "blocks": [
        {
            "name": "ufm",
            "fixed": {},
            "axes": {
                "optimizer": ["adam", "adamw", "sgd"],
                "lr": [0.1, 0.3, 0.5, 1.0],
                "weight_decay": [0.0, 1e-4, 5e-4, 1e-3, 5e-3, 0.01, 0.05],
            },
        },
        {
            "name": "alternatives",
            "fixed": {},
            "axes": {
                "optimizer+lr": [["adam", 0.1], ["adamw", 0.1], ["sgd", 1.0]],
                "weight_decay": [0.0, 5e-4, 5e-3, 0.05],
                "epochs+batch_size+model_kwargs": [
                    [400, 1000, {"feature_dim": 512}],
                    [50, 250, {"feature_dim": 512}],
                    [200, 1000, {"feature_dim": 512, "init_std": 1.0}],
                ],
            },
        },
    ],
    "profiles": {
        "cpu": {
            "overrides": {"width": 1.0, "subset_per_class": None, "metric_every": 20},
            "select": {"weight_decay": [0.0, 5e-4, 5e-3, 0.01, 0.05]},
            "note": "the paper's UFM (N = 10,000, d = 512, every LR) at the grid's 2,000 steps; weight decay "
            "{0, 5e-4, 5e-3, 0.01, 0.05}: 60 runs, plus the 36 runs of the three alternatives (about 15-40 s "
            "each on one CPU core)",
        },
        "smoke": {
            "overrides": {
                "width": 1.0,
                "subset_per_class": None,
                "metric_every": 50,
                "data_kwargs": {"num_samples": 200},
            },
            "select": {"lr": [0.1, 1.0], "weight_decay": [0.0, 0.05]},
            "note": "N = 200 features: the code path only (30 runs of a second or two)",
        },
    },
}

#: The ViT grids' cpu scale (Figure 45 on CIFAR-10 and its FashionMNIST substitute): a small ViT, 250 images
#: per class, batch 32, 30 epochs, momentum 0.9, 5-6 weight decays per optimizer
_VIT_CPU: dict[str, Any] = {
    "overrides": {
        "width": 0.0625,
        "model_kwargs": {"patch_size": 8},
        "subset_per_class": 250,
        "batch_size": 32,
        "epochs": 30,
        "metric_every": 5,
        "metric_log_points": 0,
    },
    "select": {"momentum": [0.9]},
    "block_select": {
        "coupled": {"weight_decay": [0.0, 1e-4, 1e-3, 0.05, 0.5]},
        "adamw": {"weight_decay": [0.0, 1e-4, 0.05, 0.5, 2.0, 4.0]},
    },
}

VIT: dict[str, Any] = {
    "name": "vit",
    "version": 1,
    "title": "ViT (hidden 512, 6 layers, 8 heads) on CIFAR10: Adam, SGD, AdamW",
    "source": "Appendix D.4.5 (Figure 45)",
    "choices": ["the paper drops runs below 50% training accuracy in its plots; the grid keeps all runs"],
    "requires": None,
    "fixed": {
        "epochs": 200,
        "batch_size": 512,
        "beta2": 0.999,
        "lr_schedule": "cosine",
        "lr": 1e-3,
        "model": "vit",
        "dataset": "cifar10",
        "decay_norm_and_bias": False,
    },  # fmt: skip
    "blocks": [
        {
            "name": "coupled",
            "fixed": {},
            "axes": {
                "optimizer": ["adam", "sgd"],
                "momentum": [0.0, 0.8, 0.9, 0.95],
                "weight_decay": [0.0, 1e-5, 1e-4, 5e-4, 1e-3, 0.05, 0.5],
            },
        },
        {
            "name": "adamw",
            "fixed": {"optimizer": "adamw"},
            "axes": {
                "momentum": [0.0, 0.8, 0.9, 0.95],
                "weight_decay": [0.0, 1e-4, 0.05, 0.5, 1.0, 2.0, 4.0],
            },
        },
    ],
    "profiles": {
        "cpu": {
            **_VIT_CPU,
            "note": "a small ViT (hidden 32, 6 layers, 8 heads of 4, patch 8: 16 patches of 3x8x8), 250 "
            "training (and test) images per class, batch 32, 30 epochs (2,370 steps, cosine with 5% "
            "warm-up); momentum 0.9; Adam and SGD at 5 weight decays, AdamW at 6: 16 runs (the scale of the "
            "FashionMNIST substitute, grid vit_fashionmnist)",
        },
        "smoke": {
            "overrides": {"dataset": "fashionmnist"},
            "select": {"momentum": [0.9], "weight_decay": [0.0, 0.5]},
            "note": "CIFAR-10 cannot be fetched offline: the smoke profile runs the ViT code path on "
            "FashionMNIST (recorded in the run's overrides)",
        },
    },
}

VIT_SUBSTITUTE: dict[str, Any] = {
    "name": "vit_fashionmnist",
    "version": 1,
    "title": "Substitute for Figure 45 (no CIFAR-10 here): the ViT protocol on FashionMNIST",
    "source": "Appendix D.4.5 (Figure 45)'s protocol on another dataset: the project's substitute, not the "
    "paper's figure",
    "choices": [
        "the grid vit's protocol (hidden 512, 6 layers, 8 heads, batch 512, cosine with 5% warm-up, base LR "
        "1e-3, no decay on LayerNorm and biases, the same optimizers, momenta and weight decays) on "
        "FashionMNIST (1x32x32 inputs) because CIFAR-10 cannot be fetched offline",
        "the paper drops runs below 50% training accuracy in its plots; the page does the same",
    ],
    "requires": None,
    "fixed": {**VIT["fixed"], "dataset": "fashionmnist"},
    "blocks": VIT["blocks"],
    "profiles": {
        "cpu": {
            **_VIT_CPU,
            "note": "a small ViT (hidden 32, 6 layers, 8 heads of 4, patch 8: 16 patches), 250 training (and "
            "test) images per class, batch 32, 30 epochs (2,370 steps, cosine with 5% warm-up); momentum "
            "0.9; Adam and SGD at 5 weight decays, AdamW at 6: 16 runs, about 2 minutes each on one core",
        },
        "smoke": {
            "overrides": {"model_kwargs": {"patch_size": 8}, "batch_size": 32, "epochs": 2},
            "select": {"momentum": [0.9], "weight_decay": [0.0, 0.5]},
        },
    },
}

RESNET50_IMAGENET: dict[str, Any] = {
    "name": "resnet50_imagenet",
    "version": 2,
    "title": "ResNet50 on ImageNet-1K: Adam and AdamW",
    "source": "Appendix D.4.4, Figures 17-18",
    "choices": [
        "batch size 128 (not stated for this experiment)",
        "torchvision's ResNet50 (nc_core.models.ResNet50), random initialisation, its fc as the last layer "
        "(p = 2048); weight decay on every parameter (decay_norm_and_bias, the project's default)",
        "torchvision's standard transforms: RandomResizedCrop(224) + horizontal flip for training, "
        "Resize(256) + CenterCrop(224) for the metric pass over the training and validation images, ImageNet "
        "mean/std",
        "the 50,000 validation images are the test set (test_acc is the validation accuracy; NC4 on them)",
        "NC metrics at epochs 0, 15, 30, ..., 90 (metric_every 15, no log-spaced points): one pass over the "
        "1.33 M training and validation images costs about a third of a training epoch; the figures use the "
        "final epoch",
        "data: ImageFolder layout under <data root>/imagenet (train/<wnid>/*.JPEG, val/<wnid>/*.JPEG); "
        "`sweep run` checks the folders before any run starts and refuses, naming the folder, without them",
        "DataLoader workers per run: $NC_CORE_DATA_WORKERS, else min(8, CPUs) (an execution setting, not "
        "part of the run id)",
    ],
    "requires": None,
    "fixed": {
        **PAPER_PROTOCOL,
        "epochs": 90,
        "lr": 3e-4,
        "model": "resnet50",
        "dataset": "imagenet",
        "metric_every": 15,
        "metric_log_points": 0,
    },  # fmt: skip
    "blocks": [
        {
            "name": "adam-adamw",
            "fixed": {},
            "axes": {
                "optimizer": ["adam", "adamw"],
                "momentum": [0.0, 0.5, 0.9],
                "weight_decay": [0.0, 1e-5, 1e-4, 1e-3],
            },
        }
    ],
    "profiles": {
        "gpu": {
            "overrides": {"subset_per_class": 50, "epochs": 30, "metric_every": 10},
            "select": {"momentum": [0.0, 0.9]},
            "note": "one GPU: full width, 50 training images per class (50,000; the validation set has 50 "
            "per class, all of them), 30 epochs; momentum {0, 0.9}, every weight decay: 16 runs",
        },
        "cpu": {
            # batch 128 (the paper's), not the cpu scale's 32
            "overrides": {"width": 0.0625, "subset_per_class": 10, "epochs": 15, "metric_every": 5,
                          "batch_size": 128},  # fmt: skip
            "select": {"momentum": [0.9]},
            "note": "needs ImageNet on the machine: width 1/16, 10 training and 10 validation images per "
            "class (10,000 each), 15 epochs; momentum 0.9, every weight decay: 8 runs",
        },
        "smoke": {
            "overrides": {"subset_per_class": 3},
            "select": {"momentum": [0.9], "weight_decay": [0.0, 1e-3]},
            "note": "the code path only: width 1/16, 3 images per class of each split, 2 epochs; Adam and "
            "AdamW at momentum 0.9, weight decay 0 and 1e-3: 4 runs",
        },
    },
}

TRAINING_LENGTH: dict[str, Any] = {
    "name": "training_length",
    "version": 1,
    "title": "Training length: the six Table 4 configurations at four horizons (ResNet9 / FashionMNIST)",
    "source": "Appendix D.4.1 (Figures 13, 14: 'longer training does not close the gap'), Table 1, "
    "Theorems 3.1 and 3.3 (the decay's time scales)",
    "choices": [
        "horizons of 15, 60, 240 and 960 epochs: 1x, 4x, 16x and 64x the 15-epoch horizon of the "
        "former cpu profile (at 79 steps per epoch: 1,185 to 75,840 optimizer steps; the paper trains "
        "93,800); the LR is divided by 10 at 1/3 and 2/3 of each horizon, as in the paper",
        "NC metrics at 32 log-spaced epochs of each run (dense early, where they move fastest) and at the "
        "LR milestones' neighbourhood by the same spacing",
    ],
    "requires": None,
    "fixed": {**PAPER_PROTOCOL, "model": "resnet9", "dataset": "fashionmnist"},
    "blocks": [
        {
            "name": "table4",
            "fixed": {},
            "axes": {"epochs": [15, 60, 240, 960], "optimizer+lr+momentum+weight_decay": TABLE4_CONFIGS},
        }
    ],
    "profiles": {
        "cpu": {
            "overrides": {**CPU_SCALE, "metric_every": None, "metric_log_points": 32},
            "note": "width 1/16, 250 training (and test) samples per class, batch 32 (79 steps per epoch); "
            "the four horizons from 1,185 to 75,840 steps; 24 runs, about 95 minutes of one CPU core",
        },
        "gpu": {
            "overrides": {"metric_every": None, "metric_log_points": 32},
            "select": {"epochs": [15, 60, 240]},
            "note": "full width and data (469 steps per epoch): 7,035 to 112,560 steps",
        },
        "smoke": {
            "overrides": {"metric_every": None, "metric_log_points": 6},
            "axis_values": {"epochs": [4, 16, 64, 256]},
            "select": {"epochs": [4, 16]},
            "note": "width 1/16, 20 samples per class, 4 and 16 epochs (28 and 112 steps)",
        },
    },
}

FIG5_DYNAMICS: dict[str, Any] = {
    "name": "fig5_dynamics",
    "version": 1,
    "title": "Training dynamics: six optimizers on ResNet9 / FashionMNIST at their Table 4 hyperparameters",
    "source": "Section 3.3, Figure 5, Table 1, Figures 6 and 16",
    "choices": [
        "Table 1 says 'the same setting as Figure 5'; the paper does not give Figure 5's hyperparameters; "
        "Table 4's (the smallest-NC3 runs) are used",
        "NC metrics every 5 epochs (+ 8 log-spaced early points) so that the curves are dense enough",
    ],
    "requires": None,
    "fixed": {**PAPER_PROTOCOL, "model": "resnet9", "dataset": "fashionmnist", "metric_every": 5},
    "blocks": [
        {
            "name": "table4",
            "fixed": {},
            "axes": {"optimizer+lr+momentum+weight_decay": TABLE4_CONFIGS},
        }
    ],
    "profiles": {
        "cpu": {
            "overrides": {**CPU_SCALE, "epochs": CPU_EPOCHS, "metric_every": 3, "metric_log_points": 8},
            "note": "the main grid's cpu scale (width 1/16, 250 samples per class, batch 32, 60 epochs: "
            "4,740 optimizer steps), NC metrics every 3 epochs (+ 8 log-spaced points); all six runs, about "
            "5 minutes on 2 CPU cores. The training-length chapter runs the same configurations at 15 to "
            "960 epochs",
        },
        "smoke": {
            "overrides": {"epochs": 3},
            "note": "width 1/16, 20 samples per class, 3 epochs; all six runs",
        },
    },
}

#: The headline pairs at 4x the cpu horizon (issue 22): each coupled optimizer at weight decay {0, 5e-4, 5e-3,
#: 0.05, 0.5}, each decoupled one at {5e-4, 0.05, 0.5, 5}, every pair at one LR (Table 4's)
_HEADLINE_LRS = {"sgd": 0.01, "sgdw": 0.01, "adam": 0.005, "adamw": 0.005, "signum": 0.001, "signumw": 0.001}
_HEADLINE_POINTS = [  # pairs side by side at each shared weight decay first, so a partial campaign has ratios
    [opt, _HEADLINE_LRS[opt], wd]
    for wd, opts in (
        (0.05, ("adam", "adamw", "signum", "signumw", "sgd", "sgdw")),
        (0.5, ("adam", "adamw", "signum", "signumw", "sgd", "sgdw")),
        (5e-4, ("adam", "adamw", "signum", "signumw", "sgd", "sgdw")),
        (0.0, ("sgd", "adam", "signum")),
        (5e-3, ("sgd", "adam", "signum")),
        (5.0, ("sgdw", "adamw", "signumw")),
    )
    for opt in opts
]

HEADLINE_4X: dict[str, Any] = {
    "name": "headline_4x",
    "version": 1,
    "title": "Figures 1 and 3 at 4x the cpu horizon: six optimizers x weight decay x 3 seeds (ResNet9 / "
    "FashionMNIST)",
    "source": "Figures 1 and 3 (Section 3.1); learning rates from Table 4",
    "choices": [
        "one LR per coupled/decoupled pair, Table 4's: Adam/AdamW 0.005, Signum/SignumW 0.001, SGD/SGDW 0.01 "
        "(Table 4's SGD LR; its SGDW run used 0.0679, but a pair compared at one weight decay shares its LR)",
        "momentum 0.9 for every run (Figures 1 and 3 average over LRs and momenta; here the spread is over "
        "seeds, so that a band is uncertainty, not a mix of settings)",
        "weight decay 0 only for the coupled optimizer of each pair (with no decay the two are the same "
        "algorithm): the no-decay reference of both",
        "three seeds per point, seed outermost, so that a partly finished campaign covers every point",
        "at cpu, 240 epochs (18,960 steps): with Adam at LR 0.005 and weight decay 0.05 the decay budget "
        "lambda * sum(eta_t) is 1.75, the paper's Adam at LR 0.001 over 93,800 steps has 1.74",
    ],
    "requires": None,
    "fixed": {**PAPER_PROTOCOL, "model": "resnet9", "dataset": "fashionmnist", "momentum": 0.9},
    "blocks": [
        {
            "name": "pairs",
            "fixed": {},
            "axes": {"seed": [0, 1, 2], "optimizer+lr+weight_decay": _HEADLINE_POINTS},
        }
    ],
    "profiles": {
        "cpu": {
            "overrides": {**CPU_SCALE, "epochs": 4 * CPU_EPOCHS, "metric_every": 20, "metric_log_points": 8},
            "note": "the main grid's cpu scale (width 1/16, 250 samples per class, batch 32) at 4x its "
            "horizon: 240 epochs, 18,960 optimizer steps; 27 points x 3 seeds = 81 runs, about 4.5 "
            "minutes each on one core",
        },
        "gpu": {
            "overrides": {"epochs": 40, "metric_every": 10, "metric_log_points": 4},
            "select": {
                "seed": [0],
                "optimizer+lr+weight_decay": [
                    ["adam", 0.005, 0.05],
                    ["adamw", 0.005, 0.05],
                    ["signum", 0.001, 0.05],
                    ["signumw", 0.001, 0.05],
                ],
            },
            "note": "one H100 within 10 minutes (benchmarks/headline_gpu.sh): full width, all 60,000 "
            "training images, batch 128, 40 epochs (18,760 steps; the paper's 200 epochs take about 530 s "
            "for one run alone, measured), the two adaptive pairs at weight decay 0.05, seed 0, four runs "
            "sharing the GPU; decay budget 1.69 for Adam/AdamW (the paper's Adam at LR 0.001: 1.72)",
        },
        "smoke": {
            "select": {
                "seed": [0],
                "optimizer+lr+weight_decay": [["adam", 0.005, 0.05], ["adamw", 0.005, 0.05]],
            },
        },
    },
}

#: Every experiment of the paper, by name.
PAPER_GRIDS: dict[str, dict[str, Any]] = {
    g["name"]: g
    for g in (
        MAIN,
        FIG4_HEATMAP,
        FIG7_INTERPOLATION,
        FIG13_EPOCHS_ADAM,
        FIG14_EPOCHS_SGD,
        FIG5_DYNAMICS,
        TRAINING_LENGTH,
        UFM,
        VIT,
        VIT_SUBSTITUTE,
        RESNET50_IMAGENET,
        HEADLINE_4X,
    )  # fmt: skip
}
