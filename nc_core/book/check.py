"""Check the built book: every page free of error output, every image present, every chapter with a
figure; screenshots of each page with headless Chromium when it is installed (artifacts for review).
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

__all__ = ["PageReport", "check_book", "check_page"]

_PNG, _SVG = b"\x89PNG\r\n\x1a\n", b"<svg"
_BAD_OUTPUT_CLASSES = ("output error", "output traceback", "output stderr")
_CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
)  # fmt: skip


class _PageParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.images: list[str] = []
        self.bad_outputs: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "img" and attributes.get("src"):
            self.images.append(attributes["src"] or "")
        classes = attributes.get("class") or ""
        self.bad_outputs += [c for c in _BAD_OUTPUT_CLASSES if c in classes]

    def handle_data(self, data: str) -> None:
        if "Traceback (most recent call last)" in data:
            self.text.append("a Python traceback")


@dataclass
class PageReport:
    """Problems found on one page (empty ``problems`` = the page is fine)."""

    page: Path
    problems: list[str]
    images: int


def check_page(page: Path, *, needs_figure: bool) -> PageReport:
    """Error outputs, tracebacks, stderr blocks, missing or non-image ``<img>`` files, and (if
    ``needs_figure``) a page without any image."""
    parser = _PageParser()
    parser.feed(page.read_text(encoding="utf-8"))
    problems = [f"{kind} output block" for kind in parser.bad_outputs] + parser.text
    for src in parser.images:
        if src.startswith(("http://", "https://", "data:")):
            continue
        target = (page.parent / src.split("#")[0].split("?")[0]).resolve()
        head = target.read_bytes()[:256] if target.is_file() else b""
        if not (head.startswith(_PNG) or _SVG in head or head[:3] == b"\xff\xd8\xff"):
            problems.append(f"broken image {src}")
    if needs_figure and not parser.images:
        problems.append("no figure on a chapter page")
    return PageReport(page, problems, len(parser.images))


def _is_redirect(page: Path) -> bool:
    """Jupyter Book's ``index.html`` only redirects to the root page (and hangs a headless screenshot)."""
    return 'http-equiv="Refresh"' in page.read_text(encoding="utf-8")[:500]


def check_book(html_root: Path, chapters: list[str], screenshots: Path | None = None) -> list[PageReport]:
    """Check every HTML page under ``html_root`` (chapters under ``book/generated/`` must show a
    figure); with ``screenshots`` and a ``chromium`` on the PATH, save a PNG of each page there."""
    pages = sorted(
        p
        for p in html_root.rglob("*.html")
        if "_static" not in p.parts and p.name != "search.html" and not _is_redirect(p)
    )
    if not pages:
        raise ValueError(f"no built pages under {html_root}; run `make book` first")
    chapter_pages = {html_root / "book" / "generated" / f"{name}.html" for name in chapters}
    missing = sorted(str(p) for p in chapter_pages if not p.exists())
    reports = [PageReport(Path(m), ["chapter page was not built"], 0) for m in missing]
    reports += [check_page(p, needs_figure=p in chapter_pages) for p in pages]
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if screenshots is not None and chromium:
        screenshots.mkdir(parents=True, exist_ok=True)
        for page in pages:
            name = "_".join(page.relative_to(html_root).with_suffix(".png").parts)
            try:
                subprocess.run(
                    [chromium, *_CHROMIUM_FLAGS, f"--user-data-dir={screenshots / '.profile'}",
                     "--window-size=1280,4000", f"--screenshot={screenshots / name}", page.as_uri()],
                    capture_output=True, timeout=60, check=False,
                )  # fmt: skip
            except subprocess.TimeoutExpired:
                print(f"screenshot of {page} timed out (not a page problem; no artifact for it)")
    return reports
