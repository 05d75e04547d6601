"""Do runs with torch's fused optimizer kernel reach the same results as the per-tensor loop? (issue 26)

The shipped runs of the headline grid ``headline_4x`` at the ``cpu`` profile (ResNet9 / FashionMNIST, width
1/16, 250 per class, batch 32, 240 epochs, three seeds per point) were all trained with torch's per-tensor
loop (their records say ``fused_optimizer`` False). This trains the same runs of ``--optimizers`` at
``--weight-decays`` again with the fused kernel (``RunConfig.fused_optimizer``, the default since this
benchmark) into a scratch store (``--root``, resumable: an interrupted call picks up where it stopped) and
prints, side by side:

* per configuration and metric, the loop's and the fused runs' means over seeds, their seed-to-seed
  standard deviations and whether they agree (``nc_core.analysis.variant_agreement``: ``|diff| <=
  spread``, NC metrics on log10);
* per coupled/decoupled pair at each shared weight decay, the headline's number: decoupled / coupled final
  NC0 per seed, with the loop and fused;
* the training time per run of each (``train_seconds``; the loop's runs were timed under other load, so
  ``benchmarks/training_throughput.py`` is the speed comparison, this one is about results).

Usage:
  python benchmarks/fused_agreement.py                                  # adam, adamw at 0.05: 6 runs
  python benchmarks/fused_agreement.py --optimizers adamw --weight-decays 0.0005 0.05 0.5
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

from nc_core.analysis import variant_agreement
from nc_core.optim import COUPLED_DECOUPLED_PAIRS, FUSED_NAMES
from nc_core.provenance import device_name
from nc_core.sweep import load_results, run_sweep

GRID, PROFILE = "headline_4x", "cpu"


def _pick(finals: pd.DataFrame, args: argparse.Namespace) -> pd.DataFrame:
    keep = finals["optimizer"].isin(args.optimizers) & finals["weight_decay"].isin(args.weight_decays)
    return finals[keep & (finals["status"] == "completed") & (finals["profile"] == PROFILE)]


def _pair_ratios(both: pd.DataFrame) -> pd.DataFrame:
    """Decoupled / coupled final NC0 per seed, weight decay and implementation."""
    rows = []
    for coupled, decoupled in COUPLED_DECOUPLED_PAIRS:
        for (wd, fused), g in both.groupby(["weight_decay", "fused_optimizer"]):
            nc0 = g.set_index(["optimizer", "seed"])["NC0_code"]
            for seed in sorted(set(g["seed"])):
                if (coupled, seed) in nc0 and (decoupled, seed) in nc0:
                    rows.append({"pair": f"{decoupled}/{coupled}", "weight_decay": wd, "seed": seed,
                                 "fused": bool(fused), "ratio": nc0[decoupled, seed] / nc0[coupled, seed]})
    if not rows:
        return pd.DataFrame()
    table = pd.DataFrame(rows).pivot_table(index=["pair", "weight_decay", "seed"], columns="fused",
                                           values="ratio")  # fmt: skip
    return table.rename(columns={False: "loop", True: "fused"})


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--optimizers", nargs="+", default=["adam", "adamw"], choices=FUSED_NAMES)
    parser.add_argument("--weight-decays", type=float, nargs="+", default=[0.05])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--results", default="data/results", help="the shipped store (the loop's runs)")
    parser.add_argument("--root", default="_build/fused-agreement", help="scratch store of the fused runs")
    args = parser.parse_args()

    where = {"optimizer": args.optimizers, "weight_decay": args.weight_decays}
    run_sweep(GRID, PROFILE, root=args.root, workers=args.workers, threads=1, where=where)
    loop = _pick(load_results(GRID, root=args.results), args)
    fused = _pick(load_results(GRID, root=args.root), args)
    if loop["fused_optimizer"].any() or not fused["fused_optimizer"].all():
        raise SystemExit(f"{args.results} should hold loop runs and {args.root} fused ones; it does not")
    both = pd.concat([loop, fused], ignore_index=True)

    seeds = ", ".join(str(int(s)) for s in sorted(set(both["seed"])))
    commits = ", ".join(sorted(set(fused["git_commit"].astype(str))))
    print(f"{GRID} at {PROFILE}: ResNet9 / FashionMNIST, 240 epochs, seeds {seeds}; fused runs on "
          f"{device_name('cpu').split(' (')[0]}, 1 thread each, commit(s) {commits}")  # fmt: skip
    table = variant_agreement(both, "fused_optimizer", by=("optimizer", "weight_decay"))
    with pd.option_context("display.width", 200, "display.max_rows", 200):
        print(table.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
        ratios = _pair_ratios(both)
        if len(ratios):
            print("\ndecoupled / coupled final NC0 per seed (the headline's number):")
            print(ratios.to_string(float_format=lambda v: f"{v:.4g}"))
            logs = np.log10(ratios)
            moved = float((logs["fused"] - logs["loop"]).abs().median())
            spread = float(logs["loop"].groupby(level=[0, 1]).std().median())
            print(f"|log10 fused/loop| of the ratio: median {moved:.3f}; "
                  f"sd of log10 over seeds (loop): {spread:.3f}")
        seconds = both.groupby(["optimizer", "fused_optimizer"])["train_seconds"].median().unstack()
        print("\nmedian train_seconds per run (loop: timed beside other jobs):")
        seconds = seconds.rename(columns={False: "loop", True: "fused"})
        print(seconds.to_string(float_format=lambda v: f"{v:.0f}"))
    agree = int(table["agrees"].sum())
    print(f"\nfused agrees with the loop within the seed-to-seed spread in {agree} of {len(table)} "
          "(configuration, metric) pairs")
    # the rule's false-alarm rate: two sets of n draws from one normal distribution, |mean difference| above
    # the larger sample standard deviation (simulated, fixed seed)
    n = int(table["n"].min())
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 200_000, n))
    chance = float((abs(a.mean(1) - b.mean(1)) > np.maximum(a.std(1, ddof=1), b.std(1, ddof=1))).mean())
    print(f"for scale: two sets of {n} seeds of one and the same computation disagree by this rule in "
          f"{100 * chance:.0f}% of pairs ({chance * len(table):.1f} of {len(table)} expected)")


if __name__ == "__main__":
    main()
