"""Check the built book in headless Chromium: every page is opened in the browser (Debian's ``chromium``,
driven by the ``playwright`` package) and must show no error output, no broken image, and, on a chapter
page, at least one figure; a full-page PNG screenshot of every page is kept as an artifact.

What the reader sees is measured at the check's viewport (1280 px wide), with every collapsed part of the
page (``<details>``: hidden outputs, dropdowns) opened: no table or image may be wider than the box it
is shown in (cut off by its column or by a clipping container; an element inside an intentionally
scrollable wrapper, class :data:`SCROLL_CLASS`, is exempt), no figure may be shown at less than
1/:data:`MAX_SHRINK` of the width it was drawn at (its text would be too small to read), no code cell may
show papermill's parameters (the run box replaces them, :mod:`nc_core.book.layout`), and every link to a
figure's data (``.csv``) must lead to a file.

Only local (``file://``) resources are loaded: requests to the network (CDNs) are aborted, so an offline
machine checks a page in about a second, and the book's maths must be typeset by the MathJax it serves
itself (``book/_static/mathjax``).
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Request

__all__ = [
    "BrowserMissingError",
    "PageReport",
    "check_book",
    "check_notebook_outputs",
    "find_chromium",
    "find_pages",
    "output_problems",
    "screenshot",
]

#: Notebook outputs that mean something went wrong (myst-nb's classes for tracebacks and stderr).
ERROR_OUTPUTS = ("error", "traceback", "stderr")
CHROMIUM_ARGS = ("--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run")
LOAD_TIMEOUT_MS = 30_000  # per page, to the ``load`` event (local files only, so normally < 1 s)
IMAGE_TIMEOUT_MS = 10_000  # per page, for every ``<img>`` to finish loading (or fail)
VIEWPORT: dict[str, int] = {"width": 1280, "height": 900}
#: The class of an intentionally scrollable wrapper: a table or figure inside one may be wider than it.
SCROLL_CLASS = "nc-scroll"
#: A figure drawn more than this many times as wide as it is shown is unreadable (11 pt tick labels at the
#: notebooks' 110 dpi are 17 px tall as drawn, under 8.5 px shown).
MAX_SHRINK = 2.0
_NETWORK = re.compile(r"^(?!file:|data:|blob:|about:)")  # every URL the check must not fetch

_PROBE_ARGS = {
    "kinds": list(ERROR_OUTPUTS),
    "marker": "Traceback (most recent call last)",  # also flagged in plain text outside the outputs
    "imageTimeout": IMAGE_TIMEOUT_MS,
    "scrollClass": SCROLL_CLASS,
}
# In the page: open what is collapsed, load every image (lazy ones too), wait for them, then report what
# the page shows and measure its tables and figures against the boxes they are shown in.
_PROBE = """
async ({kinds, marker, imageTimeout, scrollClass}) => {
  const closed = Array.from(document.querySelectorAll("details:not([open])"));
  closed.forEach(d => { d.open = true; });
  await new Promise(done => setTimeout(done, 50));  // their toggle events, and the new layout
  const images = Array.from(document.images);
  images.forEach(img => { img.loading = "eager"; });
  const settled = img => img.complete ? null : new Promise(done => {
    img.addEventListener("load", done, {once: true});
    img.addEventListener("error", done, {once: true});
  });
  const timeout = new Promise(done => setTimeout(done, imageTimeout));
  const typeset = window.MathJax && MathJax.startup && MathJax.startup.promise;
  await Promise.race([Promise.all([...images.map(settled), typeset]), timeout]);
  const selector = kinds.map(kind => `.output.${kind}`).join(", ");
  const outputs = Array.from(document.querySelectorAll(selector)).map(el => {
    const text = (el.querySelector("pre") || el).textContent || "";  // not the copy button's tooltip
    const lines = text.split("\\n").map(line => line.trim()).filter(Boolean);
    return {kind: kinds.find(kind => el.classList.contains(kind)), last: lines.pop() || ""};
  });
  let tracebacks = 0;
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const inside = node.parentElement && node.parentElement.closest(`script, style, ${selector}`);
    if (!inside && node.data.includes(marker)) tracebacks += 1;
  }
  const src = img => img.getAttribute("src") || "";
  const root = document.querySelector("article") || document.querySelector("main") || document.body;
  const words = el => (el ? el.textContent.replace(/\\s+/g, " ").replace(/#$/, "").trim() : "");
  const name = el => {  // a table by its caption (or header), a figure by its file; and the section of each
    const section = el.closest("section");
    const heading = section ? words(section.querySelector("h1, h2, h3, h4")).slice(0, 60) : "";
    const where = heading ? ` (section "${heading}")` : "";
    if (el.tagName === "IMG") return `figure ${src(el).split("/").pop()}${where}`;
    const text = words(el.querySelector("caption") || el.querySelector("tr") || el);
    return `table "${text.slice(0, 70)}"${where}`;
  };
  const clipper = el => {  // the nearest box that cuts off (or scrolls) what overflows it
    for (let box = el.parentElement; box && box !== document.documentElement; box = box.parentElement) {
      if (getComputedStyle(box).overflowX !== "visible") return box;
    }
    return null;
  };
  const label = box => (box ? [box.tagName.toLowerCase(), ...box.classList].join(".") : "the window");
  const wide = [], shrunk = [];
  for (const el of root.querySelectorAll("table, img")) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0 || el.closest(`.${scrollClass}`)) continue;
    const box = clipper(el);
    const left = box ? box.getBoundingClientRect().left + box.clientLeft : 0;
    const right = box ? left + box.clientWidth : document.documentElement.clientWidth;
    const inner = el.tagName === "TABLE" ? el.scrollWidth - el.clientWidth : 0;
    if (r.right - right > 1 || left - r.left > 1 || inner > 1) {
      wide.push({what: name(el), width: Math.round(Math.max(r.width, el.scrollWidth)),
                 room: Math.round(right - left), box: label(box)});
    }
    if (el.tagName === "IMG" && el.complete && !/\\.svg$/i.test(src(el)) && el.naturalWidth > r.width) {
      shrunk.push({what: name(el), natural: el.naturalWidth, shown: Math.round(r.width)});
    }
  }
  const parameters = Array.from(root.querySelectorAll("div.cell")).filter(cell =>
    cell.matches(".tag_parameters, .tag_injected-parameters") ||
    Array.from(cell.querySelectorAll(".cell_input")).some(el => /^\\s*# Parameters$/m.test(el.textContent))
  ).length;
  const data = Array.from(root.querySelectorAll("a[href]"))
    .filter(a => a.href.startsWith("file:") && /\\.csv$/i.test(new URL(a.href).pathname))
    .map(a => a.href);
  const report = {
    outputs,
    tracebacks,
    broken: images.filter(img => img.complete && img.naturalWidth === 0).map(src),
    loading: images.filter(img => !img.complete).map(src),
    rendered: images.filter(img => img.complete && img.naturalWidth > 0).length,
    maths: document.querySelectorAll(".math").length,
    typeset: document.querySelectorAll("mjx-container").length,
    wide, shrunk, parameters, data,
  };
  closed.forEach(d => { d.open = false; });  // the screenshot shows the page as a reader opens it
  return report;
}
"""


# What a reader should never see in a page's outputs (issue 25 item 2): numbers as Python prints them and
# Python containers. A number: not part of a word, a path, an id or a date.
_NUMBER = re.compile(r"(?<![\w.,/:#-])[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?(?![\w/:-]|\.\d|,\d{3})")
_DICT = re.compile(r"\{\s*['\"]?[\w .-]+['\"]?\s*:\s*[-+\w'\"\[{(]")
# Python separates the items of a repr by ", " (so "(4,740 steps)" is a number, "(3, 0.1)" a tuple)
_SEQUENCE = re.compile(r"[\[(]\s*(?:[-+]?\d[\d.eE+-]*\s*,\s+[-+]?\d|['\"][^'\"]*['\"]\s*,|[\[(]\s*[-+]?\d)")
_CODE = re.compile(r"```.*?```|`[^`]*`", re.DOTALL)  # code in Markdown: shown as code, not as numbers
#: The most significant digits a number shown to a reader may carry.
MAX_DIGITS = 6


def _digits(token: str) -> int:
    """Significant digits of a number as written (``0.00120`` -> 3, ``63.999999999999424`` -> 17)."""
    mantissa = re.split("[eE]", token.lstrip("+-"))[0].replace(".", "").lstrip("0")
    return len(mantissa) or 1


def output_problems(text: str) -> list[str]:
    """What in ``text`` (one table cell, or a line of an output) is not formatted for a person: a number
    with more than :data:`MAX_DIGITS` significant digits (``9.692430289656735e-15``, ``10064814.847``), a
    number of 10,000 or more without thousands separators (``98300.5``), a dict / list / tuple repr
    (``{'NC1': -0.84}``, ``[[0.99, 0.003]]``, ``[(3, 0.1, 0.5)``)."""
    problems = []
    for match in _NUMBER.finditer(text):
        token = match.group()
        if _digits(token) > MAX_DIGITS:
            problems.append(f"unrounded number {token}")
        elif "e" not in token.lower() and abs(float(token)) >= 10_000:
            problems.append(f"number without thousands separators {token}")
    for pattern, what in ((_DICT, "dict"), (_SEQUENCE, "list/tuple")):
        if match := pattern.search(text):
            problems.append(f"{what} repr {text[match.start() : match.start() + 40]!r}")
    return problems


class _Tables(HTMLParser):
    """The cells of the HTML tables in an output: per table, its rows of (tag, text) cells and whether it
    is a pandas frame (``class="dataframe"``) or a Styler's table (``id="T_..."``)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[dict[str, Any]] = []
        self._cell: list[str] | None = None
        self._section = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "table":
            frame = "dataframe" in (a.get("class") or "") or (a.get("id") or "").startswith("T_")
            self.tables.append({"frame": frame, "head": [], "body": []})
        elif tag in ("thead", "tbody"):
            self._section = tag
        elif tag == "tr" and self.tables:
            self.tables[-1]["body" if self._section == "tbody" else "head"].append([])
        elif tag in ("td", "th"):
            self._cell = [tag]

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self.tables:
            rows = self.tables[-1]["body" if self._section == "tbody" else "head"]
            if rows:
                rows[-1].append((self._cell[0], "".join(self._cell[1:]).strip()))
            self._cell = None
        elif tag in ("thead", "tbody"):
            self._section = ""


def _table_problems(html_text: str) -> list[str]:
    """Unformatted cells and positional row indexes (0, 1, 2, ... as row headers) in the HTML tables."""
    parser = _Tables()
    parser.feed(html_text)
    problems = []
    for table in parser.tables:
        body = table["body"]
        index = [row[0][1] for row in body if row and row[0][0] == "th"]
        if table["frame"] and len(index) == len(body) >= 2 and index == [str(i) for i in range(len(body))]:
            problems.append(f"table with a positional row index 0-{len(body) - 1}")
        for row in table["head"] + body:
            for _, text in row:
                problems += [f"table cell {text[:40]!r}: {p}" for p in output_problems(text)]
    return problems


def check_notebook_outputs(notebook: str | Path | Any) -> list[str]:
    """What a reader of the executed notebook (a path, or an ``nbformat`` notebook) would see unformatted
    (:func:`output_problems`): in its HTML tables (plus positional row indexes), Markdown outputs and
    printed text (code cells' outputs; the code itself and tracebacks are not read). Each problem names
    its cell."""
    import nbformat

    nb = nbformat.read(Path(notebook), as_version=4) if isinstance(notebook, str | Path) else notebook
    problems: list[str] = []
    for number, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        found: list[str] = []
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "text/html" in data:
                found += _table_problems(data["text/html"])
            elif "text/markdown" in data:
                found += output_problems(_CODE.sub(" ", data["text/markdown"]))
            elif output.get("output_type") == "stream" and output.get("name") == "stdout":
                found += output_problems(output.get("text", ""))
        problems += [f"cell {number}: {p}" for p in dict.fromkeys(found)]
    return problems


class BrowserMissingError(RuntimeError):
    """Chromium or the ``playwright`` package is missing (or Chromium does not start)."""


@dataclass
class PageReport:
    """What the browser found on one page: ``problems`` (empty = the page is fine), the number of
    ``images`` that rendered, and the ``screenshot`` saved of it (``None`` without a screenshot folder)."""

    page: Path
    problems: list[str]
    images: int
    screenshot: Path | None = None


def find_chromium() -> str:
    """The Chromium executable to drive; raises :class:`BrowserMissingError` naming whatever is missing
    (the ``chromium`` program or the ``playwright`` package) and how to install it."""
    missing = []
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("the Python package playwright (install the book extra: pip install -e .[book])")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        missing.append("the chromium program on the PATH (Debian/Ubuntu: apt-get install -y chromium)")
    if missing:
        raise BrowserMissingError(
            "the book check opens every page in headless Chromium; missing " + " and ".join(missing)
        )
    return chromium


def _is_redirect(page: Path) -> bool:
    """Jupyter Book's ``index.html`` only redirects to the root page: not a page to check."""
    return 'http-equiv="refresh"' in page.read_text(encoding="utf-8", errors="replace")[:1000].lower()


def find_pages(html_root: Path) -> list[Path]:
    """The built pages under ``html_root``, except theme files (``_static``), the search page and
    redirect-only pages."""
    return sorted(
        p
        for p in html_root.rglob("*.html")
        if "_static" not in p.relative_to(html_root).parts and p.name != "search.html" and not _is_redirect(p)
    )


def _screenshot_name(page: Path, html_root: Path) -> str:
    """``book/generated/theory.html`` -> ``book_generated_theory.png``."""
    return "_".join(page.relative_to(html_root).with_suffix(".png").parts)


def _problems(probe: dict[str, Any], *, needs_figure: bool) -> list[str]:
    """Turn what :data:`_PROBE` saw in a page into problem descriptions."""
    problems = [f"{o['kind']} output: {o['last'][:160]}" for o in probe["outputs"]]
    if probe["tracebacks"]:
        problems.append("Python traceback in the page text")
    problems += [f"broken image {src}" for src in probe["broken"]]
    problems += [f"image still loading after {IMAGE_TIMEOUT_MS // 1000} s: {src}" for src in probe["loading"]]
    if needs_figure and not probe["rendered"]:
        problems.append("no figure on a chapter page")
    if probe["maths"] and not probe["typeset"]:
        problems.append(f"{probe['maths']} maths elements not typeset (MathJax did not load)")
    problems += [
        f"{w['what']} is too wide for its column: {w['width']} px in {w['room']} px, cut off by {w['box']}"
        for w in probe.get("wide", [])
    ]
    problems += [
        f"{s['what']} drawn {s['natural']} px wide is shown at {s['shown']} px (1/{ratio:.1f}: its text is "
        "too small to read; draw it for the column)"
        for s in probe.get("shrunk", [])
        if (ratio := s["natural"] / max(s["shown"], 1)) > MAX_SHRINK
    ]
    if probe.get("parameters"):
        problems.append(
            f"{probe['parameters']} parameter cell(s) shown (papermill's parameters belong in the run box)"
        )
    return problems


def _file_of(url: str) -> Path:
    """The file a ``file://`` URL names."""
    return Path(url2pathname(urlsplit(url).path))


def _local_file(url: str, html_root: Path) -> str:
    """The path of a ``file://`` URL, relative to ``html_root`` when it lies under it."""
    path = _file_of(url)
    return str(path.relative_to(html_root)) if path.is_relative_to(html_root) else str(path)


def _check_page(
    context: BrowserContext, page: Path, html_root: Path, *, needs_figure: bool, screenshot: Path | None
) -> PageReport:
    """Open ``page`` in a new tab of ``context``, inspect it with :data:`_PROBE`, and save its screenshot."""
    from playwright.sync_api import Error

    tab = context.new_page()
    failed: list[str] = []

    def on_failed(request: Request) -> None:  # local scripts and styles; images are checked in the page
        if request.url.startswith("file:") and request.resource_type != "image":
            failed.append(_local_file(request.url, html_root))

    tab.on("requestfailed", on_failed)
    report = PageReport(page, [], 0)
    try:
        tab.goto(page.as_uri(), wait_until="load", timeout=LOAD_TIMEOUT_MS)
        probe = tab.evaluate(_PROBE, _PROBE_ARGS)
        report.problems, report.images = _problems(probe, needs_figure=needs_figure), probe["rendered"]
        missing = sorted({_local_file(u, html_root) for u in probe["data"] if not _file_of(u).is_file()})
        report.problems += [f"broken link to figure data {path}" for path in missing]
        if screenshot is not None:
            tab.screenshot(path=screenshot, full_page=True, animations="disabled")
            report.screenshot = screenshot
    except Error as err:  # also playwright's TimeoutError: the page could not be checked
        report.problems.append(f"browser could not check the page: {str(err).splitlines()[0]}")
    finally:
        tab.close()
    report.problems += [f"failed to load local file {path}" for path in failed]
    return report


def check_book(
    html_root: Path, chapters: list[str], screenshots: Path | None = None, notebooks: Path | None = None
) -> list[PageReport]:
    """Open every page under ``html_root`` in one headless Chromium and report its problems; the chapter
    pages ``book/generated/<name>.html`` for ``chapters`` must exist and show a figure. With
    ``screenshots``, a full-page PNG of each page is saved there. Each generated page's executed notebook
    (``<notebooks>/<name>.ipynb``; by default, for HTML built into ``<root>/_build/html``,
    ``<root>/book/generated``) is read too: numbers and tables a reader would see unformatted are
    problems of its page (:func:`check_notebook_outputs`).

    Raises ``ValueError`` when no page is built and :class:`BrowserMissingError` without Chromium or
    playwright.
    """
    html_root = html_root.resolve()  # file:// URLs need absolute paths
    pages = find_pages(html_root) if html_root.is_dir() else []
    if not pages:
        raise ValueError(f"no built pages under {html_root}; run `make book` first")
    chromium = find_chromium()
    from playwright.sync_api import Error, sync_playwright

    chapter_pages = {html_root / "book" / "generated" / f"{name}.html" for name in chapters}
    reports = [
        PageReport(p, ["chapter page was not built"], 0) for p in sorted(chapter_pages) if not p.exists()
    ]
    if screenshots is not None:
        screenshots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(executable_path=chromium, args=list(CHROMIUM_ARGS))
        except Error as err:
            raise BrowserMissingError(f"could not start {chromium}: {str(err).splitlines()[0]}") from err
        context = browser.new_context(viewport=VIEWPORT)
        context.route(_NETWORK, lambda route: route.abort())  # offline: CDNs fail at once
        for page in pages:
            shot = screenshots / _screenshot_name(page, html_root) if screenshots is not None else None
            reports.append(
                _check_page(context, page, html_root, needs_figure=page in chapter_pages, screenshot=shot)
            )
        browser.close()
    if notebooks is None and html_root.name == "html" and html_root.parent.name == "_build":
        notebooks = html_root.parent.parent / "book" / "generated"  # the book this HTML was built from
    for report in reports if notebooks is not None else []:
        executed = Path(notebooks) / f"{report.page.stem}.ipynb"
        if report.page.parent.name == "generated" and executed.is_file():
            report.problems += [f"unformatted output: {p}" for p in check_notebook_outputs(executed)]
    return reports


def screenshot(page: Path, path: Path) -> Path:
    """Save a full-page PNG of ``page`` as the check sees it (e.g. the status page, once the check's result
    is filled into it); raises :class:`BrowserMissingError` without Chromium or playwright."""
    chromium = find_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=list(CHROMIUM_ARGS))
        context = browser.new_context(viewport=VIEWPORT)
        context.route(_NETWORK, lambda route: route.abort())
        tab = context.new_page()
        tab.goto(page.resolve().as_uri(), wait_until="load", timeout=LOAD_TIMEOUT_MS)
        tab.screenshot(path=path, full_page=True, animations="disabled")
        browser.close()
    return path
