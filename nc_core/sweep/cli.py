"""The ``sweep`` area of the command line: ``python -m nc_core sweep list|plan|run|status``.

Examples::

    python -m nc_core sweep list
    python -m nc_core sweep plan main --profile paper
    python -m nc_core sweep plan all --profile cpu --fresh
    python -m nc_core sweep run fig4_heatmap --profile cpu
    python -m nc_core sweep run main --profile smoke --backend ray --ray-num-cpus 2
    python -m nc_core sweep run main --profile paper --backend ray --ray-address auto \
        --device cuda --runs-per-gpu 2
    python -m nc_core sweep status main --profile cpu

GRID is a grid name (see ``sweep list``) or a path to a JSON / YAML grid file. Results go to
``<root>/<grid>/`` (default root ``data/results``); rerunning skips finished runs and resumes
interrupted ones. Invalid input exits with status 2 before anything runs.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from ..profiles import PROFILES
from .grids import get_grid, grid_names
from .runner import (
    BACKENDS,
    check_datasets,
    check_ray_request,
    check_runnable,
    estimate,
    reusable_runs,
    run_sweep,
)
from .store import DEFAULT_ROOT, STATES, ResultStore, dataset_version, prune, sweep_status, unplanned_records

__all__ = ["register"]


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1 (a one-line usage error otherwise)."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``sweep`` subcommand (``list``, ``plan``, ``run``, ``status``) to the top-level parser."""
    sweep = subparsers.add_parser(
        "sweep", help="run the paper's grids (profiles paper/cpu/smoke) and inspect their results",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    sub = sweep.add_subparsers(dest="sweep_command", metavar="COMMAND")

    lst = sub.add_parser("list", help="grid names with their run counts per profile")
    lst.set_defaults(handler=_cmd_list)

    def common(p: argparse.ArgumentParser, profile_default: str | None) -> None:
        p.add_argument("grid", metavar="GRID", help="grid name or grid file (.json / .yaml)")
        p.add_argument("--profile", default=profile_default, required=profile_default is None,
                       help=f"one of {', '.join(PROFILES)}" + (f" (default: {profile_default})"
                                                                    if profile_default else ""))  # fmt: skip
        p.add_argument("--where", action="append", type=_where_item, default=[], metavar="FIELD=V1[,V2..]",
                       help="only the runs whose RunConfig FIELD takes one of these values (repeatable), "
                       "e.g. --where model=vgg9 --where dataset=mnist,fashionmnist")  # fmt: skip

    plan = sub.add_parser(
        "plan", help="how many runs a grid has at a profile, what it reuses and what they cost"
    )
    common(plan, None)
    plan.add_argument("--verbose", action="store_true", help="also list the runs")
    plan.add_argument("--root", default=DEFAULT_ROOT,
                      help=f"results root whose records are reused and measured (default: {DEFAULT_ROOT})")
    plan.add_argument("--data-root", default="data", help="dataset root, for runs on an imported copy")
    plan.add_argument("--fresh", action="store_true",
                      help="GRID 'all': the cost of training every runnable grid anew into an empty store, "
                      "each distinct run once, at the measured per-run costs")  # fmt: skip
    plan.set_defaults(handler=_cmd_plan)

    run = sub.add_parser("run", help="run the pending runs of a grid (finished ones are skipped)")
    common(run, "cpu")
    run.add_argument("--backend", choices=BACKENDS, default="local", help="default: local")
    run.add_argument("--workers", type=positive_int, default=1,
                     help="local backend: parallel processes (default 1: in this process)")  # fmt: skip
    run.add_argument(
        "--ray-address", default=None, help="ray backend: an existing cluster ('auto' or host:port)"
    )
    run.add_argument("--ray-num-cpus", type=positive_int, default=None,
                     help="ray backend: CPUs of the local Ray instance (default: all)")  # fmt: skip
    run.add_argument("--cpus-per-run", type=positive_int, default=1, help="ray backend: CPUs per task")
    run.add_argument("--runs-per-gpu", type=positive_int, default=1,
                     help="ray backend with --device cuda: k runs share a GPU (num_gpus=1/k)")  # fmt: skip
    run.add_argument("--device", choices=("cpu", "cuda"), default="cpu", help="default: cpu")
    run.add_argument(
        "--threads", type=positive_int, default=None, help="local backend: torch threads per run"
    )
    run.add_argument("--max-runs", type=int, default=None, help="run at most N of the pending runs")
    run.add_argument("--retry-diverged", action="store_true", help="run diverged runs again")
    run.add_argument("--root", default=DEFAULT_ROOT, help=f"results root (default: {DEFAULT_ROOT})")
    run.add_argument("--data-root", default="data", help="dataset root (default: data)")
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    run.set_defaults(handler=_cmd_run)

    status = sub.add_parser("status", help="done / pending / failed / diverged / corrupt counts of a sweep")
    common(status, "cpu")  # the same default as `run`
    status.add_argument("--root", default=DEFAULT_ROOT, help=f"results root (default: {DEFAULT_ROOT})")
    status.add_argument(
        "--data-root", default="data", help="dataset root, for runs on an imported copy (default: data)"
    )
    status.set_defaults(handler=_cmd_status)

    prune_ = sub.add_parser(
        "prune", help="delete the records no profile of the grid plans any more (e.g. after a profile change)"
    )
    prune_.add_argument("grid", metavar="GRID", help="grid name or grid file (.json / .yaml)")
    prune_.add_argument("--root", default=DEFAULT_ROOT, help=f"results root (default: {DEFAULT_ROOT})")
    prune_.add_argument("--dry-run", action="store_true", help="only list them")
    prune_.set_defaults(handler=_cmd_prune)

    def _no_command(args: argparse.Namespace) -> int:
        sweep.print_help(sys.stderr)
        return 2

    sweep.set_defaults(handler=_no_command)


def _where_item(text: str) -> tuple[str, list[Any]]:
    """``FIELD=V1,V2`` -> ``(FIELD, [V1, V2])`` with numbers parsed as numbers."""
    field, sep, values = text.partition("=")
    if not sep or not field or not values:
        raise argparse.ArgumentTypeError(f"expected FIELD=VALUE[,VALUE...], got {text!r}")

    def parse(v: str) -> Any:
        if not v:
            raise argparse.ArgumentTypeError(f"an empty value in {text!r}")
        if v.lower() in ("true", "false"):
            return v.lower() == "true"
        try:
            return float(v) if any(c in v for c in ".eE") else int(v)
        except ValueError:
            return v

    return field.strip(), [parse(v.strip()) for v in values.split(",")]


def _where(items: list[tuple[str, list[Any]]]) -> dict[str, list[Any]]:
    """The ``--where`` items as one mapping; a field given twice is an error (its values go in one item)."""
    out: dict[str, list[Any]] = {}
    for field, values in items:
        if field in out:
            raise ValueError(
                f"--where {field} is given twice; give all its values in one: --where {field}="
                + ",".join(str(v) for v in out[field] + values)
            )
        out[field] = values
    return out


def _error(err: Exception) -> int:
    print(f"error: {err}", file=sys.stderr, flush=True)
    return 2


def _cmd_list(args: argparse.Namespace) -> int:
    print(f"{'grid':<20} v  " + "".join(f"{p:>8}" for p in PROFILES) + "  source / notes")
    for name in grid_names():
        g = get_grid(name)
        counts = "".join(f"{len(g.expand(p)):>8}" for p in PROFILES)
        print(f"{name:<20} {g.version}  {counts}  {g.source}")
        print(f"{'':<24}{g.title}")
        for choice in g.choices:
            print(f"{'':<24}choice: {choice}")
        if g.requires:
            print(f"{'':<24}NOT RUNNABLE: needs {g.requires}")
    return 0


def _cmd_plan_fresh(args: argparse.Namespace) -> int:
    """Every runnable grid at the profile, each distinct run once (grid order: the first grid trains it)."""
    seen: set[str] = set()
    total: list[Any] = []
    print(f"{'grid':<20}{'runs':>6}{'new':>6}  {'s/run (measured)':>17}  {'process-hours':>13}")
    for name in grid_names():
        g = get_grid(name)
        if not g.runnable:
            continue
        runs = g.expand(args.profile, None, args.data_root)
        new = [r for r in runs if r.run_id not in seen]
        seen.update(r.run_id for r in runs)
        est = estimate(new, root=args.root)
        rate = est["measured_hours"] * 3600 / max(1, est["recorded"] + est["scaled"])
        print(f"{name:<20}{len(runs):>6}{len(new):>6}  {rate:>17,.0f}  {est['measured_hours']:>13,.2f}"
              + (f"  ({est['unmeasured']} runs unmeasured)" if est["unmeasured"] else ""))  # fmt: skip
        total += new
    est = estimate(total, root=args.root)
    hours = est["measured_hours"]
    print(f"FRESH at {args.profile}: {est['runs']:,} distinct runs, {hours:,.2f} process-hours measured "
          f"({est['recorded']} from their own records, {est['scaled']} at their grid's measured s/epoch, "
          f"{est['unmeasured']} unmeasured); about {hours / 2:,.2f} h on 2 cores")  # fmt: skip
    return 0


def _cmd_plan(args: argparse.Namespace) -> int:
    if args.fresh:
        if args.grid != "all":
            return _error(ValueError("--fresh plans every grid: give GRID as 'all'"))
        return _cmd_plan_fresh(args)
    try:
        g = get_grid(args.grid)
        runs = g.expand(args.profile, _where(args.where), args.data_root)
    except ValueError as err:
        return _error(err)
    prof = g.profile(args.profile)
    est = estimate(runs, root=args.root)
    store = ResultStore(g.name, Path(args.root))
    recorded = {
        r.run_id for r in runs
        if store.record_state(r.run_id, dataset_version(r.config))[0] in ("completed", "diverged")
    }  # fmt: skip
    done = len(recorded)
    reuse = reusable_runs([r for r in runs if r.run_id not in recorded], root=args.root)
    print(f"grid {g.name} v{g.version} ({g.source}) at profile {args.profile}: {est['runs']:,} runs, "
          f"{est['epochs']:,} epochs in total")  # fmt: skip
    print(f"profile: {prof['note']}")
    print(f"  overrides: {prof['overrides'] or 'none'}")
    if prof["select"] or prof["block_select"]:
        print(f"  selection: {prof['select']} {prof['block_select'] or ''}")
    for block in g.blocks:
        n = sum(1 for r in runs if r.block == block.name)
        print(
            f"  block {block.name}: {n} runs; axes "
            + ", ".join(f"{a} ({len(v)})" for a, v in block.axes.items())
        )
    print(f"under {args.root}: {done} recorded in {g.name}, {len(reuse)} to reuse from other grids' records"
          + (f" ({', '.join(f'{n} from {o}' for o, n in sorted(Counter(reuse.values()).items()))})" if reuse
             else "") + f", {len(runs) - done - len(reuse)} to train")  # fmt: skip
    per_epoch = est["per_epoch"].get((g.name, args.profile))
    if per_epoch is not None:
        per_run = per_epoch * est["epochs"] / est["runs"]
        print(f"measured: {per_epoch:,.2f} s per epoch per run ({per_run:,.0f} s per run) over the "
              f"{est['recorded']} recorded runs; all {est['runs']} runs: {est['measured_hours']:,.2f} "
              "process-hours (records' train_seconds + metric_seconds)")  # fmt: skip
    else:
        print(f"measured: no record of {g.name} at {args.profile} under {args.root}")
    print(f"estimated cost: {est['gpu_hours']:,.2f} GPU-hours on one H100, "
          f"{est['cpu_hours']:,.2f} hours on a 2-core CPU (the cost model below)")  # fmt: skip
    print(f"how: {est['method']}")
    if g.requires:
        print(f"NOT RUNNABLE here: needs {g.requires}")
    if args.verbose:
        for r in runs:
            c = r.config
            print(f"  {r.run_id}  {c.model}/{c.dataset}/{c.optimizer} lr={c.lr:g} momentum={c.momentum:g} "
                  f"wd={c.weight_decay:g} epochs={c.epochs}"
                  + (f"  (reuse: {reuse[r.run_id]})" if r.run_id in reuse else ""))  # fmt: skip
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    if args.backend != "ray" and (args.ray_address or args.ray_num_cpus):
        return _error(ValueError("--ray-address / --ray-num-cpus need --backend ray"))
    try:
        g = get_grid(args.grid)
        check_runnable(g)
        runs = g.expand(args.profile, _where(args.where), args.data_root)
        check_datasets(runs, args.data_root)
        # before any run starts: the grid folder and its logs, claims, checkpoints and failure markers
        ResultStore(g.name, Path(args.root)).check_writable()
        if args.backend == "ray":
            check_ray_request(args.ray_address, args.ray_num_cpus, args.cpus_per_run, args.runs_per_gpu,
                              args.device)  # fmt: skip
        summary = run_sweep(
            g, args.profile, root=args.root, data_root=args.data_root, backend=args.backend,
            workers=args.workers, device=args.device, max_runs=args.max_runs,
            retry_diverged=args.retry_diverged, ray_address=args.ray_address, ray_num_cpus=args.ray_num_cpus,
            cpus_per_run=args.cpus_per_run, runs_per_gpu=args.runs_per_gpu, threads=args.threads,
            progress=not args.no_progress, runs=runs,
        )  # fmt: skip
    except ValueError as err:
        return _error(err)
    ran = ", ".join(f"{v} {k}" for k, v in summary["statuses"].items()) or "nothing"
    if summary["statuses"].get("reused"):
        ran += "; 'reused': copied from another grid's record of the same run"
    print(f"{g.name}/{args.profile}: {summary['planned']} planned, {summary['skipped']} already done, "
          f"ran {summary['ran']} of {summary['todo']} to do ({ran}) -> {args.root}/{g.name}")  # fmt: skip
    return 1 if summary["statuses"].get("failed") else 0


def _cmd_prune(args: argparse.Namespace) -> int:
    try:
        gone = (unplanned_records if args.dry_run else prune)(args.grid, root=args.root)
    except ValueError as err:
        return _error(err)
    verb = "would delete" if args.dry_run else "deleted"
    print(f"{verb} {len(gone)} record(s) of {args.grid} under {args.root} that no profile plans any more")
    for run_id in gone:
        print(f"  {run_id}")
    return 0


def _cmd_status(args: argparse.Namespace) -> int:
    if not Path(args.root).is_dir():
        return _error(f"results root {args.root} does not exist (a typo? `sweep run` creates it)")
    try:
        st = sweep_status(
            args.grid, args.profile, root=args.root, where=_where(args.where), data_root=args.data_root
        )
        g = get_grid(args.grid)
    except ValueError as err:
        return _error(err)
    c = st["counts"]
    print(f"{g.name}/{args.profile} under {args.root}: {st['total']} runs: " + ", ".join(
        f"{c[s]} {s}" for s in STATES if c[s] or s in ("completed", "pending")))  # fmt: skip
    store = ResultStore(g.name, Path(args.root))
    for run_id, detail in st["problems"].items():
        state = st["states"][run_id]
        if state == "failed":  # the marker holds JSON with the error and its traceback: one line here
            try:
                detail = json.loads(store.failed_path(run_id).read_text())["error"]
            except (OSError, ValueError, KeyError, TypeError):
                pass
            detail = f"{detail.splitlines()[-1] if detail else ''} (log: {store.log_path(run_id)})"
        print(f"  {run_id}: {state}: {detail.splitlines()[0] if detail else ''}")
    return 0
