"""Training throughput of the engine against a plain torchvision DataLoader loop, in one run.

Both train the same architecture (same width, same initial weights, same optimizer) on the same
dataset for the same number of steps of batch 128:

  * plain: ``torchvision.datasets.<Name>`` with ``Resize(32) / ToTensor / Normalize`` transforms, a
    ``DataLoader`` (shuffle, ``--workers`` worker processes) and the textbook step that reads
    ``loss.item()`` every batch;
  * engine: :func:`nc_core.train.run_training` (on-device normalised tensors, index batching, one
    host sync per epoch; channels_last + cuDNN autotuning on CUDA; ``--compile``/``--bf16`` optional).

It prints images/second for both and their ratio (best epoch of the engine after the first, best of
``--repeats`` timed windows of the plain loop), then the share of wall time the NC-metric passes
take at the default metric schedule of a 200-epoch run, from the measured time of one metric pass
and of one epoch on the same data (train:test size 6:1, as in MNIST/FashionMNIST).

Usage:
  python benchmarks/training_throughput.py                     # small CPU profile (width 1/8)
  python benchmarks/training_throughput.py --device cuda --width 1 --full   # full ResNet9 epochs
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
from nc_core.optim import make_optimizer
from nc_core.provenance import device_name, git_commit
from nc_core.train import RunConfig, metric_epochs, run_training


def plain_loop_images_per_second(args: argparse.Namespace, device: torch.device) -> float:
    spec = get_spec(args.dataset)
    tfm = transforms.Compose(
        [transforms.Resize(32), transforms.ToTensor(), transforms.Normalize(spec.mean, spec.std)]
    )
    dataset_cls = getattr(torchvision.datasets, spec.torchvision_class)
    dataset = dataset_cls(args.root, train=True, transform=tfm, download=False)
    loader = torch.utils.data.DataLoader(
        dataset, batch_size=128, shuffle=True, num_workers=args.workers, pin_memory=device.type == "cuda"
    )
    torch.manual_seed(args.seed)
    model = make_model(args.model, num_classes=10, in_channels=spec.in_channels, width=args.width).to(device)
    optimizer = make_optimizer("sgd", model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
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
    return args.steps * 128 / best


def engine_run(args: argparse.Namespace, device: torch.device) -> tuple[float, float, float]:
    """Images/s of the best engine epoch after the first; seconds of one epoch and one metric pass."""
    per_class = None if args.full else args.steps * 128 // 10
    config = RunConfig(
        model=args.model, dataset=args.dataset, optimizer="sgd", lr=0.01, momentum=0.9, weight_decay=5e-4,
        epochs=args.repeats + 1, width=args.width, subset_per_class=per_class, seed=args.seed,
        metric_every=None, metric_log_points=0, device=str(device), compile=args.compile, bf16=args.bf16,
    )  # fmt: skip
    common = {"root": args.root, "device": device, "seed": args.seed}
    train = load_dataset(args.dataset, train=True, subset_per_class=per_class, **common)
    test = load_dataset(
        args.dataset, train=False, subset_per_class=None if args.full else per_class // 6, **common
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
    parser.add_argument("--dataset", default="fashionmnist")
    parser.add_argument("--root", default="data")
    parser.add_argument("--width", type=float, default=0.125)
    parser.add_argument("--steps", type=int, default=40, help="steps per timed window / engine epoch")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("--full", action="store_true", help="engine epochs over the full training set")
    parser.add_argument("--compile", action="store_true")
    parser.add_argument("--bf16", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()
    device = torch.device(args.device)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True

    plain = plain_loop_images_per_second(args, device)
    engine, epoch_seconds, metric_pass = engine_run(args, device)
    n_default = len(metric_epochs(200, every=RunConfig.metric_every, log_points=RunConfig.metric_log_points))
    share = n_default * metric_pass / (200 * epoch_seconds + n_default * metric_pass)
    print(
        f"{args.model} width {args.width} on {args.dataset}, batch 128, {device_name(device)}, "
        f"torch {torch.__version__}"
    )
    print(f"commit {git_commit()}, compile={args.compile}, bf16={args.bf16}")
    print(f"plain DataLoader loop ({args.workers} workers): {plain:10.0f} images/s")
    print(f"engine:                                {engine:10.0f} images/s")
    print(f"engine / plain = {engine / plain:.2f}x")
    print(f"engine epoch: {epoch_seconds:.3f} s; one NC-metric pass: {metric_pass:.3f} s")
    print(
        f"metric passes at the default schedule ({n_default} passes in 200 epochs): "
        f"{100 * share:.1f}% of wall time"
    )


if __name__ == "__main__":
    main()
