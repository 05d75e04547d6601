"""The ``book`` area of the command line: ``python -m nc_core book execute [--profile P] [CHAPTER ...]``."""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import papermill

from ..atomic import check_writable
from ..claims import CLAIMS_ARCHIVE, archive_checks
from ..profiles import PROFILES
from ..sweep.cli import positive_int
from .chapters import CHAPTERS, REPO_ROOT, figure_pages, get_pages, pages
from .check import check_book, screenshot
from .execute import GENERATED, execute_pages
from .front import FRONT_PAGE, ensure_front_page
from .status import apply_check, record_check, write_status_page

__all__ = ["FRESH_RESULTS", "register"]

#: the results store of ``book execute --fresh`` (``make book FRESH=1``)
FRESH_RESULTS = REPO_ROOT / "_build" / "fresh-results"
#: the built book (``jupyter-book build .``)
HTML = REPO_ROOT / "_build" / "html"


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``book`` subcommand (with ``execute`` and ``list``) to the top-level parser."""
    book = subparsers.add_parser("book", help="execute the book's notebooks at a scale profile")
    sub = book.add_subparsers(dest="book_command", metavar="COMMAND", required=True)
    run = sub.add_parser("execute", help="run chapter notebooks with papermill into book/generated/")
    run.add_argument(
        "chapters",
        nargs="*",
        metavar="CHAPTER",
        help="chapter (all its pages) or page, e.g. weight_decay_vgg9_mnist; default: every page",
    )
    run.add_argument("--profile", default="cpu", choices=PROFILES, help="scale profile (default: cpu)")
    run.add_argument("--out", type=Path, default=GENERATED, help=f"output folder (default: {GENERATED})")
    run.add_argument("--fresh", action="store_true",
                     help=f"train every run anew into an empty results store ({FRESH_RESULTS}) instead of "
                     "reusing data/results")  # fmt: skip
    run.add_argument(
        "--jobs", type=positive_int, default=1,
        help="pages executed at the same time (each waits for the pages it reads; default 1)",
    )  # fmt: skip
    run.set_defaults(handler=_cmd_execute)
    listing = sub.add_parser("list", help="list the chapters and their profiles")
    listing.set_defaults(handler=_cmd_list)
    check = sub.add_parser(
        "check", help="open every built page in headless Chromium: no error output, no broken image"
    )
    check.add_argument("--html", type=Path, default=HTML, help="built HTML root")
    check.add_argument("--screenshots", type=Path, default=REPO_ROOT / "_build" / "screenshots",
                       help="where to save a full-page PNG of every page (artifacts)")  # fmt: skip
    check.add_argument("--status", type=Path, default=None,
                       help=f"where to record the result for the status page (default: {GENERATED}/status "
                       "when checking the default HTML root, else nowhere)")  # fmt: skip
    check.set_defaults(handler=_cmd_check)


def _cmd_execute(args: argparse.Namespace) -> int:
    try:
        todo = [p for name in args.chapters for p in get_pages(name)] or pages()
        check_writable(args.out)  # before any notebook runs
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if not args.chapters:  # a whole build: the claims page must only see this build's checks
        shutil.rmtree(args.out / "claims", ignore_errors=True)
    if args.fresh:
        shutil.rmtree(FRESH_RESULTS, ignore_errors=True)
    if not args.chapters:  # nor the front page an earlier build's verdicts, should this one stop early
        (args.out / FRONT_PAGE).unlink(missing_ok=True)
    ensure_front_page(args.out)  # the intro includes it; the claims page writes the real one
    jobs = []
    for chapter, variant in todo:
        declared = papermill.inspect_notebook(str(chapter.notebook))
        extra = {"results_root": str(FRESH_RESULTS)} if args.fresh and "results_root" in declared else {}
        jobs.append((chapter, variant, extra, ("--fresh",) if extra else ()))
    # the status page after every page: a failure later leaves the status of what ran
    failed = execute_pages(jobs, args.profile, args.out, workers=args.jobs,
                           after_each=lambda: write_status_page(args.out))  # fmt: skip
    for page, error in failed.items():
        print(f"error: page {page} failed at profile {args.profile!r}: {error}", file=sys.stderr)
    if failed:
        print("pages not started before the failure were not executed", file=sys.stderr)
        return 1
    if not args.chapters and not args.fresh and args.profile != "smoke":
        # a whole build from the shipped results: keep its checks for the claims page of other profiles
        kept = archive_checks(args.out / "claims", args.profile, REPO_ROOT / CLAIMS_ARCHIVE)
        print(f"checks of this {args.profile} build kept in {kept}")
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    from .check import BrowserMissingError

    try:
        reports = check_book(args.html, figure_pages(), args.screenshots)
    except (ValueError, BrowserMissingError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    bad = [r for r in reports if r.problems]
    for r in bad:
        print(f"{r.page}: {'; '.join(r.problems)}")
    status_dir = args.status or (GENERATED / "status" if args.html.resolve() == HTML else None)
    result = record_check(reports, args.html, status_dir)
    if (page := apply_check(args.html, result)) is not None:
        print(f"check result filled into {page}")
        shot = next(
            (r.screenshot for r in reports if r.page.resolve() == page.resolve() and r.screenshot), None
        )
        if shot is not None:
            screenshot(page, shot)  # the status page as readers see it: with the result
    shots = sum(r.screenshot is not None for r in reports)
    print(
        f"checked {len(reports)} pages: {len(bad)} with problems; {shots} screenshots in {args.screenshots}"
    )
    return 1 if bad else 0


def _cmd_list(args: argparse.Namespace) -> int:
    for chapter in CHAPTERS:
        print(f"{chapter.name:<14} {chapter.title}  (notebooks/{chapter.name}.ipynb)")
        for variant in chapter.variants:
            print(f"  {chapter.page(variant):<30} {variant.title}  {variant.parameters}")
    return 0
