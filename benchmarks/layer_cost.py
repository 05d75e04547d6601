"""Cost of the all-layer NC pass (``RunConfig.layer_metrics``) vs. a training epoch and the last-layer pass.

At the cpu profile's scale (``nc_core.sweep.definitions.CPU_SCALE``: width 0.0625, 250 samples per class,
batch 32) on FashionMNIST-shaped inputs, for ResNet9 and VGG9, times side by side in one run and on the
same model:

  * one training epoch: the engine's own ``_setup`` / ``_train_epoch`` (SGD, channels_last, index
    batching), so it is exactly an epoch of a training run;
  * the last-layer metric pass: :func:`nc_core.train.measure` over the training and the test set, as at
    every measured epoch;
  * the all-layer pass: :func:`nc_core.metrics.layer_metrics` over the training set, as at the end of a
    run with ``layer_metrics=True``.

Each figure is the best of ``--repeats`` timings after one warm-up. The inputs are random tensors
(normal pixels, 1x32x32, balanced labels), not FashionMNIST: the cost depends only on the shapes.

Usage: python benchmarks/layer_cost.py [--width 0.0625] [--per-class 250] [--batch 32] [--repeats 3]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import torch

from nc_core.data import TensorData
from nc_core.metrics import layer_metrics
from nc_core.provenance import device_name, git_commit
from nc_core.train import RunConfig, measure
from nc_core.train.engine import _setup, _train_epoch

K = 10


def random_images(per_class: int, seed: int, device: torch.device) -> TensorData:
    """``K * per_class`` random 1x32x32 images with balanced labels."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(K * per_class, 1, 32, 32, generator=g)
    return TensorData(x, torch.arange(K * per_class) % K, K, 1, "random").to(device)


def best_time(fn: Callable[[], object], device: torch.device, repeats: int) -> float:
    """Best wall time of ``repeats`` calls (after one warm-up), synchronising CUDA around each."""
    fn()
    times = []
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        start = time.perf_counter()
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        times.append(time.perf_counter() - start)
    return min(times)


def time_model(
    name: str, args: argparse.Namespace, train: TensorData, test: TensorData, device: torch.device
) -> tuple[float, float, float]:
    """Seconds of one training epoch, one last-layer metric pass and one all-layer pass of ``name``."""
    config = RunConfig(
        model=name, dataset="fashionmnist", optimizer="sgd", lr=0.01, momentum=0.9, weight_decay=5e-4,
        batch_size=args.batch, width=args.width, device=str(device), eval_batch_size=args.eval_batch,
    )  # fmt: skip
    run = _setup(config, (train, test))
    epochs = iter(range(1, args.repeats + 2))
    t_epoch = best_time(lambda: _train_epoch(run, run.model, next(epochs)), device, args.repeats)
    t_last = best_time(
        lambda: measure(run.model, run.train, run.test, batch_size=args.eval_batch), device, args.repeats
    )
    t_layer = best_time(
        lambda: layer_metrics(run.model, run.train, batch_size=args.eval_batch), device, args.repeats
    )
    return t_epoch, t_last, t_layer


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--models", nargs="+", default=["resnet9", "vgg9"])
    parser.add_argument("--width", type=float, default=0.0625)
    parser.add_argument("--per-class", type=int, default=250, help="training and test samples per class")
    parser.add_argument("--batch", type=int, default=32, help="training batch size (the cpu profile: 32)")
    parser.add_argument("--eval-batch", type=int, default=1024, help="batch of the metric passes")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (the sweeps use 1)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()
    device = torch.device(args.device)
    torch.set_num_threads(args.threads)
    train, test = random_images(args.per_class, 0, device), random_images(args.per_class, 1, device)

    print(
        f"N={len(train)} train + {len(test)} test random 1x32x32, K={K}, width {args.width:g}, batch "
        f"{args.batch}, eval batch {args.eval_batch}; {args.threads} thread(s), {device_name(device)}, "
        f"torch {torch.__version__}, commit {git_commit()}; best of {args.repeats}"
    )
    print(f"{'model':<9}{'epoch s':>9}{'last-layer s':>14}{'all-layer s':>13}{'layer/epoch':>13}"
          f"{'layer/last':>12}")  # fmt: skip
    for name in args.models:
        t_epoch, t_last, t_layer = time_model(name, args, train, test, device)
        print(f"{name:<9}{t_epoch:>9.3f}{t_last:>14.3f}{t_layer:>13.3f}{t_layer / t_epoch:>12.2f}x"
              f"{t_layer / t_last:>11.2f}x")  # fmt: skip
    print("layer/epoch: the all-layer pass in training epochs; it runs once per run, at the end")


if __name__ == "__main__":
    main()
