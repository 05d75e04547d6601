"""Do bf16-autocast runs reach the same final metrics as fp32 runs? The six Table 4 configurations
(ResNet9 / FashionMNIST) at the cpu profile's scale, fp32 and bf16, over seeds, in one sweep.

Prints, per configuration and metric, the fp32 and bf16 means over seeds, their seed-to-seed standard
deviations and whether they agree (``nc_core.analysis.variant_agreement``: ``|bf16 - fp32| <= spread``,
NC metrics on log10); the runs go to a resumable store (default ``_build/bf16-agreement``), so an
interrupted run picks up where it stopped. Speed is measured by ``training_throughput.py``; bf16 is adopted
for CPU training where it is both faster and in agreement.

Usage:
  python benchmarks/bf16_agreement.py                       # 15 epochs, seeds 0-2, 2 workers
  python benchmarks/bf16_agreement.py --epochs 60 --seeds 0 1 2 3
"""

from __future__ import annotations

import argparse

import pandas as pd

from nc_core.analysis import variant_agreement
from nc_core.provenance import device_name, git_commit
from nc_core.sweep import Grid, load_results, run_sweep
from nc_core.sweep.definitions import CPU_SCALE, PAPER_PROTOCOL, TABLE4_CONFIGS


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--width", type=float, default=CPU_SCALE["width"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--root", default="_build/bf16-agreement")
    args = parser.parse_args()
    grid = Grid.from_dict({
        "name": "bf16_agreement",
        "fixed": {**PAPER_PROTOCOL, **CPU_SCALE, "model": "resnet9", "dataset": "fashionmnist",
                  "epochs": args.epochs, "width": args.width, "metric_every": None, "metric_log_points": 0},
        "blocks": [{"name": "table4", "axes": {
            "optimizer+lr+momentum+weight_decay": TABLE4_CONFIGS, "seed": args.seeds, "bf16": [False, True],
        }}],
    })  # fmt: skip
    run_sweep(grid, "paper", root=args.root, workers=args.workers, threads=1)
    finals = load_results(grid, root=args.root)
    finals = finals[finals["status"] == "completed"]
    table = variant_agreement(finals, "bf16")
    print(f"ResNet9 / FashionMNIST, width {args.width:g}, {CPU_SCALE['subset_per_class']} per class, batch "
          f"{CPU_SCALE['batch_size']}, {args.epochs} epochs, seeds {args.seeds}; {device_name('cpu')}, "
          f"commit {git_commit()}")  # fmt: skip
    with pd.option_context("display.width", 200, "display.max_rows", 100):
        print(table.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    agree = int(table["agrees"].sum())
    print(f"bf16 agrees with fp32 within the seed-to-seed spread in {agree} of {len(table)} (configuration, "
          f"metric) pairs")  # fmt: skip


if __name__ == "__main__":
    main()
