"""The book check opens pages in headless Chromium: it flags error outputs, broken images, chapter pages
without a figure, tables and figures too wide for the box they are shown in, parameter cells and broken
links to figure data, and keeps a screenshot of every page. One small fake site, checked once (one browser
launch) for the whole module; without chromium or playwright these tests fail with what to install."""

from __future__ import annotations

import struct
import sys
import zlib
from pathlib import Path

import pytest

from nc_core.__main__ import main
from nc_core.book.check import BrowserMissingError, PageReport, check_book, find_chromium

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png(width: int, height: int) -> bytes:
    """A valid RGB PNG of one colour (stdlib only)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\0" + b"\x20\x60\xa0" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return PNG_SIGNATURE + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def html(body: str, head: str = "") -> str:
    return f"<!DOCTYPE html><html><head><meta charset='utf-8'>{head}</head><body>{body}</body></html>"


TRACEBACK = "Traceback (most recent call last):\n  File 'x.py', line 1\nValueError: boom\n"


def output(inner: str, width: int = 600) -> str:
    """A notebook output box as myst-nb renders it: what overflows it scrolls (``overflow-x: auto``)."""
    return f'<div class="output text_html" style="width:{width}px;overflow-x:auto">{inner}</div>'


def table(width: int, caption: str) -> str:
    return (
        f'<table style="width:{width}px"><caption>{caption}</caption><tr><td>1.5</td><td>2</td></tr></table>'
    )


def column(inner: str, width: int = 600) -> str:
    """A text column of ``width`` px whose images are scaled down to fit (as the book theme does)."""
    return f'<div style="width:{width}px"><style>img {{max-width: 100%}}</style>{inner}</div>'


SVG = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="10" height="10"/></svg>'
SITE = {
    # a chapter page with a real PNG, an SVG, a lazy image far below, and a CDN script (offline: aborted)
    "book/generated/good.html": html(
        '<div class="cell_output"><img src="../../_images/fig.png"><img src="../../_images/fig.svg"></div>'
        '<div style="height:3000px"></div><img loading="lazy" src="../../_images/fig.png">',
        head='<script src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js"></script>',
    ),
    # myst-nb's error, traceback and stderr outputs (the stderr one hidden: still an error)
    "book/generated/errors.html": html(
        '<img src="../../_images/fig.png"><div class="output error">NameError: x</div>'
        f'<div class="cell_output"><pre class="output traceback">{TRACEBACK}</pre></div>'
        '<div class="output stderr" style="display:none">warning: y\nRuntimeError: z</div>'
    ),
    "book/traceback_text.html": html(f"<p>text</p><pre>{TRACEBACK}</pre>"),
    "book/broken.html": html('<img src="missing.png">'),
    "book/not_an_image.html": html('<img src="fake.png">'),
    "book/generated/no_figure.html": html("<p>text, no figure</p><img src='nope.png'>"),
    "book/missing_script.html": html("<p>x</p>", head='<script src="../_static/missing.js"></script>'),
    # maths that only a CDN MathJax would typeset (aborted offline), and maths already typeset
    "book/maths_cdn.html": html(
        '<p><span class="math notranslate nohighlight">\\(x^2\\)</span></p>',
        head='<script src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-svg.js"></script>',
    ),
    "book/maths_typeset.html": html('<span class="math"><mjx-container>x</mjx-container></span>'),
    # layout as the reader meets it at 1280 px: what fits, what is cut off, what is shrunk
    "book/layout_wide.html": html(
        f"<article><section><h2>Table 1</h2>{output(table(900, 'Wide'))}</section></article>"
    ),
    "book/layout_fits.html": html(
        "<article>"
        + output(table(400, "Narrow"))
        + column("<img src='../_images/fig.png'><img src='../_images/wide_ok.png'>")
        + "</article>"
    ),
    "book/layout_scroll.html": html(
        f'<div class="nc-scroll" style="width:600px">{table(900, "Scrolls")}</div>'
    ),
    "book/layout_collapsed.html": html(
        f"<details><summary>show</summary>{output(table(900, 'Hidden'))}</details>"
    ),
    "book/layout_shrunk.html": html(column("<img src='../_images/too_wide.png'>")),
    "book/layout_window.html": html(table(1400, "Huge")),
    "book/parameter_cells.html": html(
        '<div class="cell tag_parameters"><div class="cell_input"><pre>profile = "cpu"</pre></div></div>'
        '<div class="cell tag_hide-input"><details><summary>code</summary><div class="cell_input">'
        '<pre># Parameters\nprofile = "smoke"\n</pre></div></details></div>'
        "<p>Set for this page: profile (the run box; text, not a cell)</p>"
    ),
    "book/data_links.html": html('<a href="figures/ok.csv">data</a> <a href="figures/missing.csv">data</a>'),
    "index.html": '<meta http-equiv="Refresh" content="0; url=book/generated/good.html" />',
    "search.html": html('<div class="output error">not checked</div>'),
    "_static/theme.html": html('<div class="output error">not checked</div>'),
}
CHAPTERS = ["good", "errors", "no_figure", "absent"]
EXPECTED = {
    "book/generated/good.html": [],
    "book/generated/errors.html": [
        "error output: NameError: x",
        "traceback output: ValueError: boom",
        "stderr output: RuntimeError: z",
    ],
    "book/traceback_text.html": ["Python traceback in the page text"],
    "book/broken.html": ["broken image missing.png"],
    "book/not_an_image.html": ["broken image fake.png"],
    "book/generated/no_figure.html": ["broken image nope.png", "no figure on a chapter page"],
    "book/missing_script.html": ["failed to load local file _static/missing.js"],
    "book/maths_cdn.html": ["1 maths elements not typeset (MathJax did not load)"],
    "book/maths_typeset.html": [],
    "book/generated/absent.html": ["chapter page was not built"],
    "book/layout_wide.html": [
        'table "Wide" (section "Table 1") is too wide for its column: 900 px in 600 px, cut off by '
        "div.output.text_html"
    ],
    "book/layout_fits.html": [],
    "book/layout_scroll.html": [],
    "book/layout_collapsed.html": [
        'table "Hidden" is too wide for its column: 900 px in 600 px, cut off by div.output.text_html'
    ],
    "book/layout_shrunk.html": [
        "figure too_wide.png drawn 1500 px wide is shown at 600 px (1/2.5: its text is too small to read; "
        "draw it for the column)"
    ],
    "book/layout_window.html": [
        'table "Huge" is too wide for its column: 1400 px in 1280 px, cut off by the window'
    ],
    "book/parameter_cells.html": ["2 parameter cell(s) shown (papermill's parameters belong in the run box)"],
    "book/data_links.html": ["broken link to figure data book/figures/missing.csv"],
}


def build_site(root: Path) -> Path:
    for name, text in SITE.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    (root / "_images").mkdir()
    (root / "_images" / "fig.png").write_bytes(png(64, 48))
    (root / "_images" / "fig.svg").write_text(SVG)
    (root / "_images" / "wide_ok.png").write_bytes(png(1100, 40))  # shown at 600 px: 1/1.8, still readable
    (root / "_images" / "too_wide.png").write_bytes(png(1500, 40))  # shown at 600 px: 1/2.5
    (root / "book" / "figures").mkdir()
    (root / "book" / "figures" / "ok.csv").write_text("x,y\n1,2\n")
    (root / "book" / "fake.png").write_text("not an image")
    return root


@pytest.fixture(scope="module")
def checked(tmp_path_factory) -> tuple[Path, Path, dict[str, PageReport]]:
    """The fake site, its screenshot folder, and the check's report per page (relative path)."""
    root = build_site(tmp_path_factory.mktemp("html"))
    shots = tmp_path_factory.mktemp("screenshots")
    try:
        reports = check_book(root, CHAPTERS, shots)
    except BrowserMissingError as err:
        pytest.fail(str(err))
    return root, shots, {str(r.page.relative_to(root)): r for r in reports}


def test_check_flags_exactly_the_problems_of_each_page(checked):
    _, _, reports = checked
    assert {page: r.problems for page, r in reports.items()} == EXPECTED


def test_good_chapter_page_renders_all_its_images(checked):
    _, _, reports = checked
    assert reports["book/generated/good.html"].images == 3  # PNG, SVG, and the lazy PNG far below


def test_every_checked_page_has_a_valid_png_screenshot(checked):
    root, shots, reports = checked
    built = {page: r for page, r in reports.items() if (root / page).exists()}
    for page, report in built.items():
        assert report.screenshot == shots / page.replace("/", "_").replace(".html", ".png")
        data = report.screenshot.read_bytes()
        assert data.startswith(PNG_SIGNATURE), page
        width, height = struct.unpack(">II", data[16:24])
        # full page: wider than the window only where a table is too wide for it (8 px body margin)
        assert width == (1408 if page == "book/layout_window.html" else 1280) and height >= 900, page
    assert reports["book/generated/absent.html"].screenshot is None
    assert sorted(p.name for p in shots.iterdir()) == sorted(r.screenshot.name for r in built.values())
    good = reports["book/generated/good.html"].screenshot
    assert struct.unpack(">I", good.read_bytes()[20:24])[0] > 3000  # full page, not just the viewport


def test_no_built_pages_is_a_clear_error(tmp_path):
    (tmp_path / "index.html").write_text(SITE["index.html"])
    for root in (tmp_path, tmp_path / "absent"):
        with pytest.raises(ValueError, match="no built pages under .*make book"):
            check_book(root, [], None)


def test_missing_chromium_or_playwright_is_a_clear_error(tmp_path, monkeypatch):
    (tmp_path / "page.html").write_text(html("<p>x</p>"))
    monkeypatch.setattr("shutil.which", lambda name: None)
    with pytest.raises(BrowserMissingError, match=r"chromium .*apt-get install -y chromium"):
        check_book(tmp_path, [], None)
    monkeypatch.setitem(sys.modules, "playwright.sync_api", None)
    with pytest.raises(BrowserMissingError, match=r"playwright .*pip install -e \.\[book\].* and .*chromium"):
        find_chromium()


def test_command_line_exit_status_and_summary(tmp_path, capsys):
    assert main(["book", "check", "--html", str(tmp_path / "none")]) == 2
    assert "no built pages" in capsys.readouterr().err
    root = tmp_path / "html"
    root.mkdir()
    (root / "page.html").write_text(html('<img src="missing.png">'))
    shots = tmp_path / "shots"
    assert main(["book", "check", "--html", str(root), "--screenshots", str(shots)]) == 1
    out = capsys.readouterr().out
    assert f"{root / 'page.html'}: broken image missing.png" in out
    assert f"with problems; 1 screenshots in {shots}" in out
