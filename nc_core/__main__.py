"""Command line of nc_core: ``python -m nc_core AREA COMMAND ...`` (installed as ``nc-core``).

Areas: ``data`` (fetch, import and check datasets), ``train`` (one run), ``book`` (execute and check the
book's chapters) and ``sweep`` (list, plan, run, status and prune grids). Every area lives in its own
module that exposes
``register(subparsers) -> None``: it adds one sub-parser to ``subparsers`` and sets
``handler=<callable(args) -> int>`` on it (and on its own sub-commands) with ``set_defaults``. To
add an area, append the module's dotted path to :data:`AREAS`. :func:`main` returns the exit
status instead of raising ``SystemExit`` (argparse usage errors give 2, ``--help`` 0).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from nc_core import __version__

#: Modules contributing a sub-command area, in the order they appear in ``--help``.
AREAS: tuple[str, ...] = ("nc_core.data.cli", "nc_core.train.cli", "nc_core.book.cli", "nc_core.sweep.cli")


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every area of :data:`AREAS` registered."""
    parser = argparse.ArgumentParser(
        prog="python -m nc_core",
        description="Reference companion to 'Optimizer choice matters for the emergence of Neural Collapse'.",
    )
    parser.add_argument("--version", action="version", version=f"nc_core {__version__}")
    subparsers = parser.add_subparsers(dest="area", metavar="AREA")
    for module in AREAS:
        importlib.import_module(module).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(None if argv is None else list(argv))
    except SystemExit as exc:  # usage error (2) or --help / --version (0)
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(handler(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (`... | head`): stop quietly
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - keeps the interpreter from writing at exit
        return 0


if __name__ == "__main__":
    sys.exit(main())
