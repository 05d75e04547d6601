"""The ``book`` area of the command line: ``python -m nc_core book execute [--profile P] [CHAPTER ...]``."""

from __future__ import annotations

import argparse
from pathlib import Path

from .chapters import CHAPTERS, PROFILES, REPO_ROOT, get_chapter
from .check import check_book
from .execute import GENERATED, execute_chapter

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``book`` subcommand (with ``execute`` and ``list``) to the top-level parser."""
    book = subparsers.add_parser("book", help="execute the book's notebooks at a scale profile")
    sub = book.add_subparsers(dest="book_command", metavar="COMMAND", required=True)
    run = sub.add_parser("execute", help="run chapter notebooks with papermill into book/generated/")
    run.add_argument("chapters", nargs="*", metavar="CHAPTER", help="default: every chapter")
    run.add_argument("--profile", default="cpu", choices=PROFILES, help="scale profile (default: cpu)")
    run.add_argument("--out", type=Path, default=GENERATED, help=f"output folder (default: {GENERATED})")
    run.set_defaults(handler=_cmd_execute)
    listing = sub.add_parser("list", help="list the chapters and their profiles")
    listing.set_defaults(handler=_cmd_list)
    check = sub.add_parser("check", help="check the built book: no error output, no broken image")
    check.add_argument("--html", type=Path, default=REPO_ROOT / "_build" / "html", help="built HTML root")
    check.add_argument("--screenshots", type=Path, default=REPO_ROOT / "_build" / "screenshots",
                       help="where to save page screenshots (needs chromium on the PATH)")  # fmt: skip
    check.set_defaults(handler=_cmd_check)


def _cmd_execute(args: argparse.Namespace) -> int:
    try:
        chapters = [get_chapter(name) for name in args.chapters] or list(CHAPTERS)
    except ValueError as err:
        print(f"error: {err}")
        return 2
    for chapter in chapters:
        execute_chapter(chapter, args.profile, args.out)
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    try:
        reports = check_book(args.html, [c.name for c in CHAPTERS], args.screenshots)
    except ValueError as err:
        print(f"error: {err}")
        return 2
    bad = [r for r in reports if r.problems]
    for r in bad:
        print(f"{r.page}: {'; '.join(r.problems)}")
    shots = len(list(args.screenshots.glob("*.png"))) if args.screenshots.exists() else 0
    print(
        f"checked {len(reports)} pages: {len(bad)} with problems; {shots} screenshots in {args.screenshots}"
    )
    return 1 if bad else 0


def _cmd_list(args: argparse.Namespace) -> int:
    for chapter in CHAPTERS:
        print(f"{chapter.name:<12} {chapter.title}  (notebooks/{chapter.name}.ipynb)")
    return 0
