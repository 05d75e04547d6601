"""What a reader sees on each page built at the smoke profile (issue 25 item 2): every number formatted for a
person, no dict/list/tuple repr, no positional row index (nc_core.book.check.check_notebook_outputs, itself
tested on hand-written notebooks in test_tables_readable.py). Reads the pages of the current smoke build
(CI builds it first, ``.ci/run``); a page without a current build is not executed again here (the smoke
test in test_notebooks.py executes it)."""

from __future__ import annotations

import json

import nbformat
import pytest

from nc_core.book.chapters import pages
from nc_core.book.check import check_notebook_outputs
from nc_core.book.execute import GENERATED
from nc_core.provenance import git_commit

#: Pages whose fix lies outside this check's owners' files, each with what it needs.
PENDING = {
    "training_length": "its tables through nc_core.tables.show (notebook edited by the lead)",
    "imagenet": "nc_core.sweep.runner.ESTIMATE_METHOD prints MODEL_FACTORS as a dict",
} | {
    chapter.page(variant): "its checks table through nc_core.tables.show (notebook edited by the lead)"
    for chapter, variant in pages()
    if chapter.name == "weight_decay"
}


def _current(page: str) -> nbformat.NotebookNode | None:
    record = GENERATED / "status" / f"{page}.json"
    if not record.is_file():
        return None
    rec = json.loads(record.read_text())
    if rec.get("profile") != "smoke" or rec.get("result") != "executed" or rec.get("commit") != git_commit():
        return None
    return nbformat.read(GENERATED / f"{page}.ipynb", as_version=4)


@pytest.mark.parametrize("page", [chapter.page(variant) for chapter, variant in pages()])
def test_every_number_on_the_page_is_formatted_for_a_reader(page):
    nb = _current(page)
    if nb is None:
        pytest.skip(f"no current smoke build of {page} (make book PROFILE=smoke)")
    problems = check_notebook_outputs(nb)
    if page in PENDING and problems:
        pytest.xfail(f"{page}: {PENDING[page]}")
    assert problems == []
