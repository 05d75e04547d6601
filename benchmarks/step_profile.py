"""Where one CPU training step's time goes at the cpu profile's scale, and which speed-ups pay (issue 26).

Scale: ResNet9 at ``nc_core.sweep.definitions.CPU_SCALE`` (width 1/16, 250 FashionMNIST images per class,
batch 32), on the CPU, one torch thread (as the sweeps run), each optimizer of ``--optimizers`` with
momentum 0.9. Baselines are built by the engine itself (``nc_core.train.engine._setup``: channels_last
model and data, ``make_optimizer``); the steps below repeat ``_train_epoch``'s loop body.

1. Breakdown: per step, ``time.perf_counter`` around the index gather from the in-memory tensors, the
   forward, the loss, ``zero_grad`` + backward, the optimizer step and the on-device bookkeeping (loss
   sum, correct count); "Python overhead" is the remainder against a whole engine epoch
   (``_train_epoch``) timed alternately with it. Medians over ``--epochs`` epochs of each. Then
   ``torch.profiler``'s top 10 ops by self CPU time (first optimizer).
2. Variants, timed side by side in ``--repeats`` rounds of one window of ``--window`` full batches each
   (the order rotates every round): NCHW instead of channels_last; the optimizer with ``foreach=False`` /
   ``foreach=True`` / ``fused=True`` (torch's own optimizers, same hyperparameters; the engine's default
   on CPU is the per-tensor loop); ``torch.compile`` of the model in each ``--compile-modes`` (compile
   time reported separately: it depends on inductor's on-disk cache, ``--cold-compile`` empties it; a
   failure is a one-line note); bf16 autocast (the engine's ``bf16=True``:
   numerics change, speed only); oneDNN (``torch.backends.mkldnn``) off, in both layouts. img/s is the
   median over rounds, the ratio the median (and quartiles) of the per-round ratios to the baseline of
   the same optimizer.
3. Agreement: every variant that computes the same float32 maths (not bf16) and is > 5% faster is
   trained for ``--agree-steps`` steps from the baseline's initial weights on the same batches as a fresh
   baseline; printed: the largest relative difference of the per-step losses over the first 2, 10, 100
   and all steps, and of the final weights ||w - w_base|| / ||w_base|| (all parameters; worst tensor).
   For scale, the same for a rerun of the baseline (determinism) and for the baseline started from
   weights one float32 ulp away (the rounding floor that training amplifies: a variant at that level is
   the same computation up to float32 rounding).

Usage:
  python benchmarks/step_profile.py                                   # sgd, adam, adamw; ~3 min
  python benchmarks/step_profile.py --optimizers adam --window 20 --repeats 9 --agree-steps 300
  python benchmarks/step_profile.py --compile-modes default max-autotune-no-cudagraphs
  python benchmarks/step_profile.py --compile-modes                   # no torch.compile
"""

from __future__ import annotations

import argparse
import copy
import math
import os
import statistics
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch.profiler import ProfilerActivity, profile

from nc_core.data import TensorData, load_dataset
from nc_core.optim import make_optimizer
from nc_core.provenance import device_name, git_commit
from nc_core.sweep.definitions import CPU_SCALE
from nc_core.train import RunConfig
from nc_core.train.engine import _Run, _setup, _train_epoch

#: Hyperparameters per optimizer (the cpu grids' LRs; momentum = beta1 = 0.9). They do not change the cost.
HPARAMS = {"sgd": (0.01, 5e-4), "adam": (1e-3, 5e-4), "adamw": (1e-3, 5e-2)}
TORCH_OPTIMIZERS = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW}
PHASES = ("gather", "forward", "loss", "zero_grad+backward", "optimizer", "bookkeeping")
CL, NCHW = torch.channels_last, torch.contiguous_format


@dataclass
class Variant:
    """Model + optimizer + data layout, trained with the engine's step; ``exact``: same float32 maths."""

    name: str
    opt_name: str
    model: torch.nn.Module
    make_opt: Callable[[torch.nn.Module], torch.optim.Optimizer]
    x: torch.Tensor
    y: torch.Tensor
    fn: Callable[[torch.Tensor], torch.Tensor] | None = None  # what the step calls (a compiled model)
    bf16: bool = False
    mkldnn: bool = True
    exact: bool = True
    pos: int = 0
    times: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.opt = self.make_opt(self.model)
        self.fn = self.fn or self.model

    def reset(self, state: dict[str, torch.Tensor]) -> None:
        """Back to ``state`` (in place: layouts and compiled code kept), fresh optimizer, first batch."""
        self.model.load_state_dict(state)
        self.opt, self.pos = self.make_opt(self.model), 0


def config_for(opt_name: str, epochs: int) -> RunConfig:
    lr, wd = HPARAMS[opt_name]
    return RunConfig(model="resnet9", dataset="fashionmnist", optimizer=opt_name, lr=lr, momentum=0.9,
                     weight_decay=wd, epochs=epochs, seed=0, device="cpu", metric_every=None,
                     metric_log_points=0, **CPU_SCALE)  # fmt: skip


def engine_optimizer(config: RunConfig) -> Callable[[torch.nn.Module], torch.optim.Optimizer]:
    """The optimizer exactly as ``_setup`` builds it (``decay_norm_and_bias=True``: all parameters)."""
    return lambda m: make_optimizer(config.optimizer, m.parameters(), lr=config.lr, momentum=config.momentum,
                                    weight_decay=config.weight_decay, beta2=config.beta2)  # fmt: skip


def torch_optimizer(config: RunConfig, **flags: bool) -> Callable[[torch.nn.Module], torch.optim.Optimizer]:
    """torch's optimizer with the engine's hyperparameters and ``flags`` (foreach / fused)."""
    cls, kw = TORCH_OPTIMIZERS[config.optimizer], {"lr": config.lr, "weight_decay": config.weight_decay}
    if config.optimizer == "sgd":
        kw.update(momentum=config.momentum, dampening=0.0, nesterov=False)
    else:
        kw.update(betas=(config.momentum, config.beta2), eps=1e-8)
    return lambda m: cls(m.parameters(), **kw, **flags)


def same_hparams(a: torch.optim.Optimizer, b: torch.optim.Optimizer) -> bool:
    def hp(group: dict) -> dict:
        return {k: v for k, v in group.items() if k not in ("params", "foreach", "fused")}

    return all(hp(ga) == hp(gb) for ga, gb in zip(a.param_groups, b.param_groups, strict=True))


def step(v: Variant, idx: torch.Tensor, acc: list[torch.Tensor]) -> torch.Tensor:
    """One step of ``_train_epoch``'s loop (index batch, autocast, loss, backward, step, bookkeeping)."""
    x, y = v.x[idx], v.y[idx]
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=v.bf16):
        logits = v.fn(x)
        loss = F.cross_entropy(logits.float(), y)
    v.opt.zero_grad(set_to_none=True)
    loss.backward()
    v.opt.step()
    acc[0] += loss.detach() * len(y)
    acc[1] += (logits.argmax(dim=1) == y).sum()
    return loss.detach()


def run_steps(v: Variant, batches: list[torch.Tensor], n: int, losses: list | None = None) -> float:
    """Seconds for ``n`` steps of ``v`` on its next batches (``losses`` collects the losses)."""
    acc = [torch.zeros(()), torch.zeros((), dtype=torch.int64)]
    with torch.backends.mkldnn.flags(enabled=v.mkldnn):
        t0 = time.perf_counter()
        for _ in range(n):
            loss = step(v, batches[v.pos % len(batches)], acc)
            v.pos += 1
            if losses is not None:
                losses.append(loss)
        float(acc[0])  # the engine's one read per epoch
        return time.perf_counter() - t0


def breakdown(run: _Run, epochs: int) -> tuple[dict[str, float], float]:
    """Median ms per step of each phase over epochs of the engine's batches, and of a whole engine epoch."""
    model, opt, X, Y = run.model, run.optimizer, run.train.x, run.train.y
    phase_ms: dict[str, list[float]] = {p: [] for p in PHASES}
    whole_ms: list[float] = []
    bs, n = run.loader.batch_size, len(run.train)
    for r in range(epochs + 1):  # the first one warms up
        whole = _train_epoch(run, model, 2 * r + 1)["epoch_seconds"] * 1e3 / len(run.loader)
        perm, acc = run.loader.permutation(2 * r + 2), [torch.zeros(()), torch.zeros((), dtype=torch.int64)]
        totals = dict.fromkeys(PHASES, 0.0)
        model.train()
        for b in range(len(run.loader)):
            t0 = time.perf_counter()
            idx = perm[b * bs : min((b + 1) * bs, n)]
            x, y = X[idx], Y[idx]
            t1 = time.perf_counter()
            logits = model(x)
            t2 = time.perf_counter()
            loss = F.cross_entropy(logits.float(), y)
            t3 = time.perf_counter()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            t4 = time.perf_counter()
            opt.step()
            t5 = time.perf_counter()
            acc[0] += loss.detach() * len(y)
            acc[1] += (logits.argmax(dim=1) == y).sum()
            t6 = time.perf_counter()
            for p, dt in zip(PHASES, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4, t6 - t5), strict=True):
                totals[p] += dt
        if r:
            whole_ms.append(whole)
            for p in PHASES:
                phase_ms[p].append(totals[p] * 1e3 / len(run.loader))
    return {p: statistics.median(v) for p, v in phase_ms.items()}, statistics.median(whole_ms)


def top_ops(v: Variant, batches: list[torch.Tensor], n: int) -> None:
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        wall = run_steps(v, batches, n)
    events = prof.key_averages()
    total = sum(e.self_cpu_time_total for e in events)
    print(f"\ntorch.profiler, {v.name} ({n} steps): ops' self CPU {total / 1e3 / n:.2f} ms/step of "
          f"{wall * 1e3 / n:.2f} ms/step wall under the profiler; top 10 by self CPU time:")  # fmt: skip
    print(f"  {'op':<44} {'ms/step':>8} {'share':>6} {'calls/step':>10}")
    for e in sorted(events, key=lambda e: e.self_cpu_time_total, reverse=True)[:10]:
        print(f"  {e.key[:44]:<44} {e.self_cpu_time_total / 1e3 / n:>8.3f} "
              f"{100 * e.self_cpu_time_total / total:>5.1f}% {e.count / n:>10.1f}")  # fmt: skip


def agreement(base: Variant, other: Variant, states: tuple[dict, dict], batches: list, steps: int) -> str:
    """Max relative difference of the loss curves, relative difference of the final weights (all, worst
    tensor) after ``steps`` steps each."""
    curves = []
    for v, state in zip((base, other), states, strict=True):
        v.reset(state)
        run_steps(v, batches, steps, losses := [])
        curves.append(torch.stack(losses).double())
    rel = (curves[1] - curves[0]).abs() / curves[0].abs()
    loss = "  ".join(f"{rel[:k].max().item():.1e}" for k in (2, 10, 100, steps))
    diff, norm = {}, {}
    for (name, pb), po in zip(base.model.named_parameters(), other.model.parameters(), strict=True):
        diff[name], norm[name] = (pb - po).double().norm().item(), pb.double().norm().item()
    worst = max(diff, key=lambda k: diff[k] / norm[k])
    all_w = math.hypot(*diff.values()) / math.hypot(*norm.values())
    return f"{loss}  |  {all_w:.1e}  {diff[worst] / norm[worst]:.1e} {worst}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--optimizers", nargs="+", default=["sgd", "adam", "adamw"], choices=list(HPARAMS))
    parser.add_argument("--root", default="data")
    parser.add_argument("--epochs", type=int, default=3, help="breakdown: engine epochs of each kind")
    parser.add_argument("--window", type=int, default=10, help="variants: steps per timed window")
    parser.add_argument("--repeats", type=int, default=25, help="variants: rounds of windows")
    parser.add_argument("--compile-modes", nargs="*", default=["default"],
                        help="torch.compile modes to try (none: skip compile)")  # fmt: skip
    parser.add_argument("--cold-compile", action="store_true", help="compile with an empty inductor cache")
    parser.add_argument("--agree-steps", type=int, default=300, help="0: no agreement check")
    parser.add_argument("--profile-steps", type=int, default=40, help="0: no torch.profiler table")
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch._inductor.config.compile_threads = 1  # no compile worker pool on a shared machine
    if args.cold_compile:
        cache = tempfile.TemporaryDirectory(prefix="step_profile_inductor_")
        os.environ["TORCHINDUCTOR_CACHE_DIR"] = cache.name
    warnings.filterwarnings("ignore", message="TF32 acceleration")  # torch.backends.mkldnn.flags()
    print(f"resnet9 on fashionmnist, {CPU_SCALE}, {device_name('cpu')}, torch {torch.__version__}, "
          f"oneDNN {torch.backends.mkldnn.is_available()}, commit {git_commit()}")  # fmt: skip

    try:
        train = load_dataset("fashionmnist", root=args.root, subset_per_class=CPU_SCALE["subset_per_class"])
    except FileNotFoundError:  # the cost depends on the shapes only
        print("no FashionMNIST under --root: random 1x32x32 images instead")
        n = 10 * CPU_SCALE["subset_per_class"]
        train = TensorData(torch.randn(n, 1, 32, 32), torch.arange(n) % 10, 10, 1, "random")

    runs = {o: _setup(config_for(o, epochs=2 * args.epochs + 3), (train, None)) for o in args.optimizers}
    first = args.optimizers[0]
    state = copy.deepcopy(runs[first].model.state_dict())  # every variant starts from these weights

    # 1. breakdown
    table = {o: breakdown(runs[o], args.epochs) for o in args.optimizers}
    print(f"\nPer-step breakdown (ms, median of {args.epochs} engine epochs of {len(runs[first].loader)} "
          "steps; Python overhead = whole engine step - phases)")  # fmt: skip
    print(f"{'phase':<20}" + "".join(f"{o:>18}" for o in args.optimizers))
    for p in (*PHASES, "Python overhead", "whole step"):
        cells = []
        for o in args.optimizers:
            phases, whole = table[o]
            ms = {**phases, "Python overhead": whole - sum(phases.values()), "whole step": whole}[p]
            cells.append(f"{ms:>9.3f} {100 * ms / whole:>6.1f}%")
        print(f"{p:<20}" + "".join(f"{c:>18}" for c in cells))

    # 2. variants, each from the same initial weights
    def variant(name: str, o: str, layout=CL, opt=None, **kw) -> Variant:
        model = copy.deepcopy(runs[first].model).to(memory_format=layout).train()
        model.load_state_dict(state)
        make_opt = opt or engine_optimizer(runs[o].config)
        return Variant(name, o, model, make_opt, train.x.contiguous(memory_format=layout), train.y, **kw)

    variants = [variant(f"baseline ({o})", o) for o in args.optimizers]
    for v in variants:  # the engine's own optimizer: its hyperparameters match torch's built here
        assert same_hparams(v.opt, torch_optimizer(runs[v.opt_name].config)(v.model)), v.name
    variants += [variant(f"NCHW ({first})", first, NCHW)]
    for o in args.optimizers:
        cfg = runs[o].config
        for flags in ({"foreach": False}, {"foreach": True}, {"fused": True}):
            name = f"{', '.join(f'{k}=True' if v else f'{k}=False' for k, v in flags.items())} ({o})"
            try:
                variants.append(variant(name, o, opt=torch_optimizer(cfg, **flags)))
            except (RuntimeError, ValueError) as err:
                print(f"{name}: not supported here ({str(err).splitlines()[0]})")
    variants += [variant(f"bf16 autocast ({first})", first, bf16=True, exact=False),
                 variant(f"oneDNN off, channels_last ({first})", first, mkldnn=False),
                 variant(f"oneDNN off, NCHW ({first})", first, NCHW, mkldnn=False)]  # fmt: skip
    bs, n = CPU_SCALE["batch_size"], len(train)  # full batches only (a compiled model sees one shape)
    perms = [runs[first].loader.permutation(e) for e in range(50)]
    batches = [perm[i : i + bs] for perm in perms for i in range(0, n - bs + 1, bs)]
    compile_s = {}
    for mode in args.compile_modes:
        v = variant(f"compile {mode} ({first})", first)
        v.fn = torch.compile(v.model, mode=mode)
        try:
            compile_s[v.name] = run_steps(v, batches, 1)  # forward and backward compile here
        except Exception as err:  # noqa: BLE001 - any compile failure (no C compiler, ...) is a note
            why = f"{type(err).__name__}: {str(err).splitlines()[0][:99]}"
            print(f"torch.compile mode={mode}: skipped ({why})")
            continue
        variants.append(v)
    for v in variants:
        run_steps(v, batches, 3)  # warm-up
    for r in range(args.repeats):
        k = r % len(variants)
        for v in variants[k:] + variants[:k]:
            v.times.append(run_steps(v, batches, args.window))

    baselines = {v.opt_name: v for v in variants[: len(args.optimizers)]}
    print(f"\nVariants: img/s (median of {args.repeats} rounds of {args.window} steps x {bs} images each), "
          "ratio = baseline time / variant time per round: median [quartiles]")  # fmt: skip
    print(f"{'variant':<40} {'img/s':>8} {'vs baseline':>12} {'quartiles':>13}")
    ratios = {}
    for v in variants:
        base = baselines[v.opt_name]
        per_round = [b / t for b, t in zip(base.times, v.times, strict=True)]
        ratios[v.name] = statistics.median(per_round)
        q1, _, q3 = statistics.quantiles(per_round, n=4)
        warm = "empty" if args.cold_compile else "as found"
        extra = f"   first step {compile_s[v.name]:.1f} s (cache {warm})" if v.name in compile_s else ""
        print(f"{v.name:<40} {bs * args.window / statistics.median(v.times):>8.0f} "
              f"{ratios[v.name]:>11.3f}x {q1:>6.3f}-{q3:.3f}{extra}")  # fmt: skip

    # 3. agreement of the faster exact variants
    if args.profile_steps:
        top_ops(baselines[first], batches, args.profile_steps)
    faster = [v for v in variants[len(args.optimizers) :] if v.exact and ratios[v.name] > 1.05]
    if not args.agree_steps:
        return
    print(
        f"\nAgreement with the baseline from the same weights and batches: max relative difference of the "
        f"loss over steps 1-2, 1-10, 1-100, 1-{args.agree_steps} | of the final weights: all, worst tensor"
    )
    ulp_state = {k: torch.nextafter(t, torch.full_like(t, float("inf"))) if t.is_floating_point() else t
                 for k, t in state.items()}  # every float one ulp up  # fmt: skip
    checks = []
    for o in sorted({v.opt_name for v in faster}):
        checks += [(variant(f"baseline rerun ({o})", o), state),
                   (variant(f"baseline, init + 1 ulp ({o})", o), ulp_state)]  # fmt: skip
    for v, start in checks + [(v, state) for v in faster]:
        result = agreement(baselines[v.opt_name], v, (state, start), batches, args.agree_steps)
        print(f"{v.name:<40} {result}")
    if not faster:
        print("(no exact variant is more than 5% faster)")


if __name__ == "__main__":
    main()
