"""Numbers and tables formatted for a reader (nc_core.tables) and the check that finds what is not
(nc_core.book.check.check_notebook_outputs), on hand-written values, tables and notebooks."""

from __future__ import annotations

import nbformat
import pandas as pd
import pytest

from nc_core.book.check import check_notebook_outputs, output_problems
from nc_core.tables import readable, show


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (63.999999999999424, "64"),
        (9.692430289656735e-15, "9.69e-15"),
        (2.220446e-16, "2.22e-16"),
        (10064814.847, "10,100,000"),  # three significant digits
        (98300.5, "98,300"),
        (0.0016, "0.0016"),
        (0.5, "0.5"),
        (12345, "12,345"),
        (True, "yes"),
        (None, "-"),
        (float("nan"), "-"),
        ({"3": 2.2, "4": 1.5}, "3: 2.2; 4: 1.5"),
        ([[0.99, 0.003]], "0.99 / 0.003"),
        ([(3, 0.1, 0.5), (4, 0.2, 0.6)], "3 / 0.1 / 0.5; 4 / 0.2 / 0.6"),
        ('{"completed": 52, "diverged": 1}', "completed: 52; diverged: 1"),
        ("AdamW", "AdamW"),
        ("5.873201042488759e-15", "5.87e-15"),  # a check's value stored as text
        ("16.000000000000284", "16"),
        ("{(0.05, 0.5): 2.0}", "0.05 / 0.5: 2"),  # Python's repr of a dict with tuple keys
        ("(5, 0.02, 0.1, 200)", "5 / 0.02 / 0.1 / 200"),
    ],
)
def test_readable(value, text):
    assert readable(value) == text


def test_every_readable_value_passes_the_check():
    for value in (63.999999999999424, 10064814.847, {"NC1": -0.8412345, "NC2": -0.63}, [[0.99, 0.003]]):
        assert output_problems(readable(value)) == [], value


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("9.692430289656735e-15", "unrounded number"),
        ("63.999999999999424", "unrounded number"),
        ("2.220446e-16", "unrounded number"),
        ("98300.5 hours (2-core CPU)", "thousands separators"),
        ("rho {'NC1': -0.84, 'NC2': -0.63}", "dict repr"),
        ('{"3": 2.2, "4": 1.5}', "dict repr"),
        ("[[0.99, 0.003]]", "list/tuple repr"),
        ("[(3, 0.1, 0.5)...", "list/tuple repr"),
    ],
)
def test_output_problems_find_each_kind(text, kind):
    assert any(kind in p for p in output_problems(text)), output_problems(text)


@pytest.mark.parametrize(
    "text",
    ["60 epochs (4,740 steps)", "commit 3b32bbfc099c29b7", "recorded 2026-01-02 03:04 UTC", "lr 1e-05",
     "Figure 13", "0.0050 and 10,000 images", "data/results/main/0123456789.final.parquet"],
)  # fmt: skip
def test_output_problems_leave_formatted_text_alone(text):
    assert output_problems(text) == []


def _notebook(tmp_path, *outputs):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x", outputs=list(outputs))]
    path = tmp_path / "page.ipynb"
    nbformat.write(nb, path)
    return path


def _html(html: str):
    return nbformat.v4.new_output("display_data", data={"text/html": html, "text/plain": "table"})


def test_notebook_check_finds_a_positional_index_and_raw_cells_in_a_hand_written_table(tmp_path):
    html = (
        '<table class="dataframe"><thead><tr><th></th><th>check</th><th>value</th></tr></thead><tbody>'
        "<tr><th>0</th><td>a</td><td>9.692430289656735e-15</td></tr>"
        "<tr><th>1</th><td>b</td><td>{&quot;SGD&quot;: 0.197}</td></tr></tbody></table>"
    )
    problems = check_notebook_outputs(_notebook(tmp_path, _html(html)))
    assert any("positional row index 0-1" in p for p in problems)
    assert any("unrounded number 9.692430289656735e-15" in p for p in problems)
    assert any("dict repr" in p for p in problems)
    assert all(p.startswith("cell 0: ") for p in problems)


def test_notebook_check_passes_a_table_shown_with_tables_show(tmp_path):
    values = [9.692430289656735e-15, '{"SGD": 0.197}']
    df = pd.DataFrame({"check": ["a", "b"], "value": values, "n": [98300, 2]})
    html = show(df, caption="checks").to_html()
    assert check_notebook_outputs(_notebook(tmp_path, _html(html))) == []
    raw = df.to_html()  # the same frame as pandas prints it
    assert len(check_notebook_outputs(_notebook(tmp_path, _html(raw)))) >= 3


def test_notebook_check_reads_markdown_but_not_its_code(tmp_path):
    bad = nbformat.v4.new_output("display_data", data={"text/markdown": "overrides {'width': 0.0625}"})
    code = nbformat.v4.new_output("display_data", data={"text/markdown": "run `f({'width': 0.0625})`"})
    assert any("dict repr" in p for p in check_notebook_outputs(_notebook(tmp_path, bad)))
    assert check_notebook_outputs(_notebook(tmp_path, code)) == []
    printed = nbformat.v4.new_output("stream", name="stdout", text="took 98300.5 hours\n")
    assert any("thousands" in p for p in check_notebook_outputs(_notebook(tmp_path, printed)))


def test_a_magnitude_far_beyond_its_requirement_reads_as_a_multiple():
    from nc_core.claims import magnitude

    far = magnitude("ratio >= 10", 20_325.9, 10.0)  # the UFM page once showed "(203259% of it)"
    assert "(2,033 times it)" in far.value and output_problems(far.value) == []
    assert "(135% of it)" in magnitude("ratio >= 10", 13.5, 10.0).value
