"""Training throughput of the engine against a plain torchvision DataLoader loop, with torch's per-tensor
optimizer loop and its fused kernel, fp32 and bf16, in one run.

For every width asked for, the same architecture (same width, same initial weights, same optimizer,
``--optimizer``, momentum 0.9) trains on the same dataset at the same batch size, four ways, side by side:

  * plain: ``torchvision.datasets.<Name>`` with ``Resize(32) / ToTensor / Normalize`` transforms, a
    ``DataLoader`` (shuffle, ``--workers`` worker processes) and the textbook step that reads
    ``loss.item()`` every batch, float32, torch's default (per-tensor loop) optimizer;
  * engine loop: :func:`nc_core.train.run_training` (on-device normalised tensors, index batching, one
    host sync per epoch, channels_last; cuDNN autotuning on CUDA; ``--compile`` optional) with
    ``fused_optimizer=False``: how every run before the fused kernel was adopted trained (issue 26);
  * engine fused: the same with ``fused_optimizer=True`` (the default since; it acts on the optimizers of
    ``nc_core.optim.FUSED_NAMES`` only: for ``sgd`` the two columns are the same computation);
  * engine bf16: engine fused with ``bf16=True`` (autocast of the training steps; metric passes float32).

It prints images/second of each (best engine epoch after the first, best of ``--repeats`` timed windows
of the plain loop), the ratios loop/plain, fused/loop and bf16/fused, and the share of wall time the
NC-metric passes take at the default metric schedule of a 200-epoch run. The profiles train at batch 32 on a
CPU (``nc_core.sweep.definitions.CPU_SCALE``), the default here; the paper's batch is 128.

Usage:
  python benchmarks/training_throughput.py                          # widths 1/16, 1/8, 1/4 at batch 32
  python benchmarks/training_throughput.py --widths 0.0625 --optimizer sgd --repeats 6
  python benchmarks/training_throughput.py --widths 0.0625 --batch 128
  python benchmarks/training_throughput.py --device cuda --widths 1 --batch 128 --full
"""

from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F
import torchvision
from torchvision import transforms

from nc_core.data import get_spec, load_dataset
from nc_core.models import make_model
from nc_core.optim import FUSED_NAMES, make_optimizer
from nc_core.provenance import device_name, git_commit
from nc_core.train import RunConfig, metric_epochs, run_training


def plain_loop_images_per_second(args: argparse.Namespace, width: float, device: torch.device) -> float:
    spec = get_spec(args.dataset)
    tfm = transforms.Compose(
        [transforms.Resize(32), transforms.ToTensor(), transforms.Normalize(spec.mean, spec.std)]
    )
    dataset_cls = getattr(torchvision.datasets, spec.torchvision_class)
    dataset = dataset_cls(args.root, train=True, transform=tfm, download=False)
    loader = torch.utils.data.DataLoader(
        dataset,
        batch_size=args.batch,
        shuffle=True,
        num_workers=args.workers,
        pin_memory=device.type == "cuda",
    )
    torch.manual_seed(args.seed)
    model = make_model(args.model, num_classes=10, in_channels=spec.in_channels, width=width).to(device)
    optimizer = make_optimizer(
        args.optimizer, model.parameters(), lr=args.lr, momentum=0.9, weight_decay=5e-4
    )
    model.train()
    batches = iter(loader)
    best = float("inf")
    for _ in range(args.repeats + 1):  # the first window warms up
        start = time.perf_counter()
        for _ in range(args.steps):
            try:
                x, y = next(batches)
            except StopIteration:
                batches = iter(loader)
                x, y = next(batches)
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            loss = F.cross_entropy(model(x), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            loss.item()
        best = min(best, time.perf_counter() - start)
    return args.steps * args.batch / best


def engine_run(
    args: argparse.Namespace, width: float, bf16: bool, fused: bool, device: torch.device
) -> tuple[float, float, float]:
    """Images/s of the best engine epoch after the first; seconds of one epoch and one metric pass."""
    per_class = None if args.full else args.steps * args.batch // 10
    config = RunConfig(
        model=args.model, dataset=args.dataset, optimizer=args.optimizer, lr=args.lr, momentum=0.9,
        weight_decay=5e-4, fused_optimizer=fused,
        epochs=args.repeats + 1, batch_size=args.batch, width=width, subset_per_class=per_class,
        seed=args.seed, metric_every=None, metric_log_points=0, device=str(device), compile=args.compile,
        bf16=bf16,
    )  # fmt: skip
    common = {"root": args.root, "device": device, "seed": args.seed}
    train = load_dataset(args.dataset, train=True, subset_per_class=per_class, **common)
    test = load_dataset(
        args.dataset, train=False, subset_per_class=None if args.full else max(1, per_class // 6), **common
    )
    result = run_training(config, data=(train, test), progress=False)
    epochs = result.history.dropna(subset=["epoch_seconds"])
    epoch_seconds = float(epochs["epoch_seconds"].iloc[1:].min())
    metric_pass = float(result.history["measure_seconds"].dropna().iloc[-1])  # after cuDNN autotuning
    return len(train) / epoch_seconds, epoch_seconds, metric_pass


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default="resnet9")
    parser.add_argument("--optimizer", default="adam", choices=("sgd", *FUSED_NAMES))
    parser.add_argument("--lr", type=float, default=0.005, help="Table 4's Adam LR (SGD's: 0.01)")
    parser.add_argument("--dataset", default="fashionmnist")
    parser.add_argument("--root", default="data")
    parser.add_argument("--widths", type=float, nargs="+", default=[0.0625, 0.125, 0.25])
    parser.add_argument("--batch", type=int, default=32, help="batch size (the cpu profiles: 32)")
    parser.add_argument("--steps", type=int, default=80, help="steps per timed window / engine epoch")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (the sweeps use 1)")
    parser.add_argument("--full", action="store_true", help="engine epochs over the full training set")
    parser.add_argument("--compile", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()
    device = torch.device(args.device)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    torch.set_num_threads(args.threads)

    print(
        f"{args.model} on {args.dataset}, {args.optimizer}, batch {args.batch}, {args.threads} thread(s), "
        f"{device_name(device)}, torch {torch.__version__}, commit {git_commit()}, compile={args.compile}"
    )
    print(f"{'width':>7} {'plain':>7} {'loop':>7} {'fused':>7} {'bf16':>7} {'loop/plain':>11} "
          f"{'fused/loop':>11} {'bf16/fused':>11} {'metric share':>13}")  # fmt: skip
    n_default = len(metric_epochs(200, every=RunConfig.metric_every, log_points=RunConfig.metric_log_points))
    for width in args.widths:
        plain = plain_loop_images_per_second(args, width, device)
        loop, _, _ = engine_run(args, width, False, False, device)
        fused, epoch_seconds, metric_pass = engine_run(args, width, False, True, device)
        bf16, _, _ = engine_run(args, width, True, True, device)
        share = n_default * metric_pass / (200 * epoch_seconds + n_default * metric_pass)
        print(f"{width:>7g} {plain:>7.0f} {loop:>7.0f} {fused:>7.0f} {bf16:>7.0f} {loop / plain:>10.2f}x "
              f"{fused / loop:>10.2f}x {bf16 / fused:>10.2f}x {100 * share:>12.1f}%")  # fmt: skip
    print(
        "images/s; metric share: the NC-metric passes' share of wall time at the default 200-epoch schedule"
    )


if __name__ == "__main__":
    main()
