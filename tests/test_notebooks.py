"""Every chapter notebook runs end to end at the smoke profile, through the same papermill path as
``make book``; the chapter registry, notebooks/ and _toc.yml agree."""

from __future__ import annotations

import nbformat
import papermill
import pytest
import yaml

from nc_core.__main__ import main
from nc_core.book import CHAPTERS, execute_chapter, get_chapter
from nc_core.book.chapters import REPO_ROOT


def test_registry_notebooks_and_toc_agree():
    on_disk = {p.stem for p in (REPO_ROOT / "notebooks").glob("*.ipynb")}
    assert on_disk == {c.name for c in CHAPTERS}
    toc = yaml.safe_load((REPO_ROOT / "_toc.yml").read_text())
    generated = [e["file"] for e in toc.get("chapters", []) if e["file"].startswith("book/generated/")]
    assert generated == [f"book/generated/{c.name}" for c in CHAPTERS]
    for chapter in CHAPTERS:
        nb = nbformat.read(chapter.notebook, as_version=4)
        tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(tagged) == 1 and "profile" in tagged[0].source, chapter.name
        assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), "commit notebooks clean"


@pytest.mark.parametrize("name", [c.name for c in CHAPTERS])
def test_chapter_runs_at_smoke_profile(name, tmp_path):
    chapter = get_chapter(name)
    declared = papermill.inspect_notebook(str(chapter.notebook))
    # experiment chapters train their missing runs into a throw-away store, so the test runs them
    extra = {"results_root": str(tmp_path / "results")} if "results_root" in declared else {}
    out = execute_chapter(chapter, "smoke", tmp_path, progress=False, parameters=extra)
    nb = nbformat.read(out, as_version=4)
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    assert nb.metadata["papermill"]["parameters"]["profile"] == "smoke"


def test_book_command_line_validates_names(capsys):
    assert main(["book", "list"]) == 0
    assert main(["book", "execute", "no-such-chapter"]) == 2
    assert "unknown chapter" in capsys.readouterr().out
    assert main(["book", "execute", "--profile", "huge"]) == 2


def test_coverage_page_lists_every_figure_and_table_of_the_paper():
    text = (REPO_ROOT / "book" / "coverage.md").read_text()
    rows = {line.split("|")[1].strip() for line in text.splitlines() if line.startswith("| ")}
    expected = {f"Figure {n}" for n in range(1, 46)} | {f"Table {n}" for n in range(1, 6)}
    listed = {row.split(" (")[0] for row in rows}
    assert expected <= listed, sorted(expected - listed)
    for chapter in CHAPTERS:
        assert f"(generated/{chapter.name})" in text, chapter.name


def test_book_check_flags_error_outputs_broken_images_and_missing_figures(tmp_path):
    from nc_core.book.check import check_book

    root = tmp_path / "html"
    (root / "book" / "generated").mkdir(parents=True)
    (root / "img.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 16)
    (root / "fake.png").write_bytes(b"not an image")
    good = '<div class="cell_output"><img src="../../img.png"></div>'
    (root / "book" / "generated" / "a.html").write_text(good)
    (root / "book" / "generated" / "b.html").write_text(
        '<div class="output error">x</div><img src="../../nope.png">'
    )
    (root / "book" / "generated" / "c.html").write_text(
        "<p>text, no figure</p><pre>Traceback (most recent call last)</pre>"
    )
    (root / "intro.html").write_text('<img src="fake.png">')
    (root / "index.html").write_text('<meta http-equiv="Refresh" content="0; url=intro.html" />')
    reports = {r.page.name: r.problems for r in check_book(root, ["a", "b", "c", "d"], screenshots=None)}
    assert reports["a.html"] == []
    assert reports["b.html"] == ["output error output block", "broken image ../../nope.png"]
    assert reports["c.html"] == ["a Python traceback", "no figure on a chapter page"]
    assert reports["intro.html"] == ["broken image fake.png"]
    assert reports["d.html"] == ["chapter page was not built"]
    assert "index.html" not in reports  # a redirect page
