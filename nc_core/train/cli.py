"""The ``train`` area of the command line: ``python -m nc_core train [--FIELD VALUE ...] --out DIR``.

Every field of :class:`RunConfig` is an option (``--weight-decay 5e-4``,
``--model-kwargs '{"hidden": [64]}'``). The run writes ``DIR/<run_id>/history.csv`` (one row per
epoch) and ``DIR/<run_id>/final.json`` (the final record with its provenance); with
``--checkpoint-dir`` an interrupted run resumes.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import types
import typing
from pathlib import Path

from ..atomic import atomic_write, check_writable
from ..data.copies import COPYABLE, bound_copy, copy_label
from .config import RunConfig
from .engine import check_device, run_training

__all__ = ["register"]


def _parse_bool(text: str) -> bool:
    if text.lower() in ("1", "true", "yes", "on"):
        return True
    if text.lower() in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true/false, got {text!r}")


def _optional(parse: typing.Callable[[str], object]) -> typing.Callable[[str], object]:
    return lambda text: None if text.lower() == "none" else parse(text)


def _field_parser(annotation: object) -> typing.Callable[[str], object]:
    """The argparse ``type`` for a RunConfig field annotation such as ``float | None``."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    is_optional = isinstance(annotation, types.UnionType) and len(args) == 1
    base = args[0] if is_optional else typing.get_origin(annotation) or annotation
    parse = {bool: _parse_bool, int: int, float: float, str: str, dict: json.loads}[base]
    return _optional(parse) if is_optional else parse


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``train`` subcommand to the top-level parser."""
    train = subparsers.add_parser(
        "train", help="train one configuration and write its history and final record",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    hints = typing.get_type_hints(RunConfig)
    for f in dataclasses.fields(RunConfig):
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
        train.add_argument(f"--{f.name.replace('_', '-')}", dest=f.name, type=_field_parser(hints[f.name]),
                           default=default, help=f"default: {default!r}")  # fmt: skip
    train.add_argument(
        "--out", required=True, type=Path, help="folder for <run_id>/history.csv and final.json"
    )
    train.add_argument("--data-root", default="data", help="dataset root (default: data)")
    train.add_argument(
        "--checkpoint-dir", type=Path, default=None, help="resume from / save checkpoints here"
    )
    train.add_argument("--no-progress", action="store_true", help="no progress bar")
    train.set_defaults(handler=_cmd_train)


def _cmd_train(args: argparse.Namespace) -> int:
    fields = {f.name: getattr(args, f.name) for f in dataclasses.fields(RunConfig)}
    try:
        config = RunConfig(**fields)
        if config.data_copy is None and config.dataset in COPYABLE:
            copy = bound_copy(config.dataset, args.data_root)  # only where the original files are absent
            if copy:
                config = config.replace(data_copy=copy)
                print(
                    f"training on the imported substitute {copy_label(config.dataset, copy)} {copy}",
                    flush=True,
                )
        run_folder = args.out / config.run_id  # where the results go: checked before training, not after
        check_writable(run_folder if run_folder.exists() else args.out)
        check_device(config.device)
        result = run_training(
            config,
            data_root=args.data_root,
            checkpoint_dir=args.checkpoint_dir,
            progress=not args.no_progress,
        )
    except (ValueError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    folder = args.out / config.run_id
    try:  # checked before training; a folder that became unwritable since is still one line
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write(folder / "history.csv", lambda tmp: result.history.to_csv(tmp, index=False))
        text = json.dumps(result.final, indent=1, default=str)
        atomic_write(folder / "final.json", lambda tmp: tmp.write_text(text))
    except OSError as err:
        print(f"error: cannot write the results to {folder}: {err.strerror or err}", file=sys.stderr)
        return 2
    f = result.final
    if result.status == "diverged":  # its metrics are those of the last measured epoch before divergence
        last = int(f["measured_epoch"]) if f.get("measured_epoch") is not None else "none"
        print(f"{config.run_id}: diverged at epoch {f['epochs_completed']}; the metrics below are from "
              f"the last measurement before it, epoch {last} (0 = initialisation)")  # fmt: skip
    print(f"{config.run_id}: {result.status} after {f['epochs_completed']} epochs; "
          f"train acc {f.get('train_acc', float('nan')):.4f}, NC0 {f.get('NC0', float('nan')):.3g}, "
          f"NC1 {f.get('NC1', float('nan')):.3g}, NC2 {f.get('NC2', float('nan')):.3g}, "
          f"NC3 {f.get('NC3', float('nan')):.3g}; {f['train_seconds']:.1f} s training, "
          f"{f['metric_seconds']:.1f} s metrics -> {folder}")  # fmt: skip
    if f.get("NC1") is not None and f["NC1"] != f["NC1"] and result.status == "completed":
        print("NC1 is undefined (nan) here: every class has a single sample, so the within-class "
              "covariance is zero by construction, which says nothing about collapse")  # fmt: skip
    return 0
