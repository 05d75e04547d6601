"""Cost of one streaming NC-metric pass relative to a forward pass through a linear layer.

Times, side by side in one run and on the same batches of random float32 features:
  * the streaming metric pass: ``FeatureAccumulator.update`` on every batch, ``finalize``, the NC4
    agreement count on every batch, and ``metrics_from_stats`` (all float64);
  * one forward pass of the same batches through ``Linear(p, K)`` (the classifier itself) and through
    ``Linear(p, p)`` (a layer as wide as the features).

Usage: python benchmarks/metrics_pass.py [--n 60000] [--p 512] [--k 10] [--batch 1024] [--device cpu]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import torch

from nc_core.metrics import FeatureAccumulator, metrics_from_stats, nearest_mean_agreement


def best_time(fn: Callable[[], object], device: torch.device, repeats: int) -> float:
    """Best wall time of ``repeats`` calls (after one warm-up), synchronising CUDA around each."""
    fn()
    times = []
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=60_000)
    parser.add_argument("--p", type=int, default=512)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--batch", type=int, default=1024)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()
    device = torch.device(args.device)
    g = torch.Generator(device=device).manual_seed(0)
    centres = 3 * torch.randn(args.k, args.p, generator=g, device=device)
    labels = torch.randint(args.k, (args.n,), generator=g, device=device)
    feats = centres[labels] + torch.randn(args.n, args.p, generator=g, device=device)
    batches = list(zip(feats.split(args.batch), labels.split(args.batch), strict=True))
    classifier = torch.nn.Linear(args.p, args.k).to(device)
    square = torch.nn.Linear(args.p, args.p).to(device)

    def metric_pass() -> dict[str, float]:
        acc = FeatureAccumulator(args.k)
        for h, y in batches:
            acc.update(h, y)
        stats = acc.finalize()
        agree = sum(nearest_mean_agreement(h, classifier.weight, stats.means) for h, _ in batches)
        return metrics_from_stats(stats, classifier.weight, nc4=float(agree) / args.n)

    @torch.no_grad()
    def linear_pass(layer: torch.nn.Linear) -> None:
        for h, _ in batches:
            layer(h)

    t_metric = best_time(metric_pass, device, args.repeats)
    t_cls = best_time(lambda: linear_pass(classifier), device, args.repeats)
    t_sq = best_time(lambda: linear_pass(square), device, args.repeats)
    name = (
        torch.cuda.get_device_name(device)
        if device.type == "cuda"
        else f"CPU ({torch.get_num_threads()} threads)"
    )
    print(f"device: {name}; N={args.n} p={args.p} K={args.k} batch={args.batch}; torch {torch.__version__}")
    print(f"{'pass':<32}{'seconds':>10}{'metric/this':>12}")
    print(f"{'streaming NC metrics (float64)':<32}{t_metric:>10.4f}{1:>12.1f}")
    print(f"{f'Linear({args.p},{args.k}) forward':<32}{t_cls:>10.4f}{t_metric / t_cls:>12.1f}")
    print(f"{f'Linear({args.p},{args.p}) forward':<32}{t_sq:>10.4f}{t_metric / t_sq:>12.1f}")
    print(
        f"metric pass / Linear({args.p},{args.k}) pass = {t_metric / t_cls:.1f}x; "
        f"/ Linear({args.p},{args.p}) pass = {t_metric / t_sq:.1f}x"
    )


if __name__ == "__main__":
    main()
