"""A page shows one box instead of its two parameter cells: the parameters it ran with and the exact commands
that re-run it; the cells stay in the notebook for papermill, tagged ``remove-cell`` for the page. And the
execution of a page is recorded for the status page, with the runs the page read."""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from pathlib import Path

import nbformat
import papermill
import pytest
from click.testing import CliRunner
from papermill.cli import papermill as papermill_cli

from nc_core.book.chapters import CHAPTERS, REPO_ROOT, Chapter, execution_order, pages, prerequisites
from nc_core.book.execute import execute_chapter, execute_pages
from nc_core.book.layout import HIDDEN_TAG, papermill_command, present_parameters

PARAMETERS = """profile: str = "cpu"  # scale: "smoke" | "cpu"
lr: str = "0.1"  # a learning rate, as text
steps: int = 3  # how many
flag: bool = False  # a switch
note: str = "x"  # free text
widths: list = []  # a list
x: str = ""  # text papermill would read as a number"""


def notebook(path: Path, *cells: tuple[str, str, list[str]]) -> Path:
    nb = nbformat.v4.new_notebook()
    for kind, source, tags in cells:
        make = nbformat.v4.new_markdown_cell if kind == "markdown" else nbformat.v4.new_code_cell
        nb.cells.append(make(source, metadata={"tags": tags}))
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def test_papermill_command_gives_back_exactly_the_parameters(tmp_path):
    """Run the shown command (``--prepare-only``: nothing executes) and read what papermill injected."""
    source = notebook(tmp_path / "nb.ipynb", ("code", PARAMETERS, ["parameters"]))
    params = {
        "profile": "smoke",
        "lr": "1e-3",
        "steps": 7,
        "flag": True,
        "note": "two words; $HOME",
        "widths": [1, 2],
        "x": "nan",
    }
    command = papermill_command(source, params, out=str(tmp_path / "out.ipynb"))
    assert command.startswith(
        f"papermill {source} {tmp_path / 'out.ipynb'} -p profile smoke -r lr 1e-3 -p steps 7"
    )
    result = CliRunner().invoke(papermill_cli, [*shlex.split(command)[1:], "--prepare-only"])
    assert result.exit_code == 0, result.output
    injected = nbformat.read(tmp_path / "out.ipynb", as_version=4).metadata["papermill"]["parameters"]
    assert injected == params


def test_repository_paths_are_shown_as_a_command_from_its_root_would_name_them():
    command = papermill_command(
        REPO_ROOT / "notebooks" / "x.ipynb", {"results_root": str(REPO_ROOT / "_build" / "r")}
    )
    assert command == "papermill notebooks/x.ipynb out.ipynb -p results_root _build/r"


def test_parameter_cells_give_way_to_the_box(tmp_path):
    source = notebook(
        tmp_path / "nb.ipynb",
        ("markdown", "# Title", []),
        ("code", PARAMETERS, ["parameters"]),
        ("code", "print(profile)", ["hide-input"]),
    )
    executed = tmp_path / "executed.ipynb"
    papermill.execute_notebook(
        source, executed, parameters={"steps": 5, "profile": "smoke"}, prepare_only=True
    )
    present_parameters(
        executed, source, profile="smoke", rerun="python -m nc_core book execute nb --profile smoke"
    )
    nb = nbformat.read(executed, as_version=4)
    kinds = [(c.cell_type, c.metadata.get("tags", [])) for c in nb.cells]
    assert kinds == [
        ("markdown", []),
        ("markdown", ["nc-run-box"]),
        ("code", ["parameters", HIDDEN_TAG]),
        ("code", ["injected-parameters", HIDDEN_TAG]),
        ("code", ["hide-input"]),
    ]
    box = nb.cells[1].source
    assert box.startswith("::::{admonition} Run at profile `smoke`")
    assert 'Set for this page: `profile = "smoke"`, `steps = 5`;' in box  # the notebook's order
    assert "python -m nc_core book execute nb --profile smoke\n" in box
    assert f"papermill {source} out.ipynb -p profile smoke -p steps 5\n" in box.replace(" \\\n    ", " ")
    assert '| `profile` | **`"smoke"`** | scale: "smoke" \\| "cpu" |' in box  # a pipe escaped in the table
    assert '| `lr` | `"0.1"` | a learning rate, as text |' in box
    assert nb.cells[2].source == PARAMETERS  # still there for papermill


PAGE = [
    ("markdown", "# A page", []),
    (
        "code",
        'profile: str = "cpu"  # scale\nfigure_folder: str = "figures"  # where figures go',
        ["parameters"],
    ),
    (
        "code",
        "import matplotlib.pyplot as plt\nimport pandas as pd\n"
        "from nc_core import plots\n"
        "from nc_core.book.status import record_runs\n"
        "finals = pd.DataFrame({'run_id': ['r1', 'r2'], 'grid': 'g', 'status': 'completed',\n"
        "                       'profile': profile,\n"
        "                       'train_seconds': [30.0, 60.0], 'metric_seconds': [1.0, 2.0],\n"
        "                       'recorded_at': '2000-01-01T00:00:00+00:00'})\n"
        "record_runs(finals)  # what sweep.collect does for a page that loads through it\n"
        "plots.provenance_caption(finals)\n"
        "fig, ax = plt.subplots()\nax.plot([1, 2], [3, 4])\n"
        "plots.show_figure(fig, 'fig', figure_folder)",
        [],
    ),
]


@dataclass(frozen=True)
class FakeChapter(Chapter):
    source: Path = Path()

    @property
    def notebook(self) -> Path:
        return self.source


def test_an_executed_page_has_its_box_its_figure_data_and_its_record(tmp_path):
    source = notebook(tmp_path / "page.ipynb", *PAGE)
    chapter = FakeChapter("page", "A page", source=source)
    out = tmp_path / "out"
    target = execute_chapter(
        chapter,
        "smoke",
        out,
        progress=False,
        parameters={"figure_folder": str(out / "figures")},
    )
    nb = nbformat.read(target, as_version=4)
    assert "nc-run-box" in nb.cells[1].metadata["tags"]
    assert "python -m nc_core" not in nb.cells[1].source  # no nc_core command reproduces these parameters
    outputs = nb.cells[-1].outputs
    assert outputs[0]["data"]["image/png"] and "(figures/fig.csv)" in outputs[1]["data"]["text/markdown"]
    assert (out / "figures" / "fig.csv").exists()
    record = json.loads((out / "status" / "page.json").read_text())
    assert record["result"] == "executed" and record["profile"] == "smoke" and record["seconds"] > 0
    assert record["started"] and record["finished"] and record["commit"]
    runs = record["runs"]
    assert runs["ids"] == ["r1", "r2"] and runs["compute_seconds"] == 93.0 and runs["trained_now"] == 0
    assert not (out / "status" / "page.runs.jsonl").exists()


def test_prerequisites_follow_after_and_the_books_order():
    a, b = Chapter("a", "A"), Chapter("b", "B", after=("a",))
    everything = Chapter("z", "Z", after=("*",))
    todo = [(a, None), (b, None), (b, None), (everything, None)]
    assert prerequisites(todo) == [set(), {0}, {0}, {0, 1, 2}]
    with pytest.raises(ValueError, match="unknown chapter"):
        prerequisites([(Chapter("c", "C", after=("nowhere",)), None)])
    with pytest.raises(ValueError, match="in a cycle: a, b"):
        prerequisites([(Chapter("a", "A", after=("b",)), None), (Chapter("b", "B", after=("a",)), None)])
    # one page after another: the given order wherever the waits allow it
    assert execution_order([{2}, set(), set(), {0}], list("wxyz")) == [1, 2, 0, 3]
    # the book: the claims page waits for every other page, regression for the six weight-decay pages
    book = pages()
    needs = prerequisites(book)
    names = [c.name for c, _ in book]
    assert needs[names.index("claims")] == set(range(len(book))) - {names.index("claims")}
    assert {names[j] for j in needs[names.index("regression")]} == {"weight_decay"}
    assert len(needs[names.index("regression")]) == 6
    pooled = {names[j] for j in needs[names.index("training_length")]}
    assert pooled == {"dynamics", "weight_decay", "momentum", "beyond"}
    assert all(c.name in ("claims", "regression", "training_length") or not c.after for c in CHAPTERS)


def _page(tmp_path: Path, name: str, code: str) -> Path:
    return notebook(tmp_path / f"{name}.ipynb", ("markdown", f"# {name}", []),
                    ("code", 'profile: str = "cpu"', ["parameters"]), ("code", code, []))  # fmt: skip


def test_pages_run_in_parallel_only_after_the_pages_they_need(tmp_path):
    """Two workers: page ``b`` needs ``a``, which writes a file after a pause; had ``b`` started beside
    ``a`` it would not find the file and fail. ``c`` needs nothing."""
    marker = tmp_path / "a-was-here"
    slow = f"import time; time.sleep(2); open({str(marker)!r}, 'w')"
    a = FakeChapter("a", "A", source=_page(tmp_path, "a", slow))
    b = FakeChapter("b", "B", after=("a",), source=_page(tmp_path, "b", f"assert open({str(marker)!r})"))
    c = FakeChapter("c", "C", source=_page(tmp_path, "c", "1 + 1"))
    out, calls = tmp_path / "out", []
    failed = execute_pages([(b, None, {}, ()), (a, None, {}, ()), (c, None, {}, ())], "smoke", out, workers=2,
                           after_each=lambda: calls.append(1))  # fmt: skip
    assert failed == {} and len(calls) == 3
    assert all((out / f"{p}.ipynb").exists() for p in "abc")


def test_a_failing_page_is_reported_and_no_page_starts_after_it(tmp_path):
    a = FakeChapter("a", "A", source=_page(tmp_path, "a", "raise RuntimeError('page a broke')"))
    b = FakeChapter("b", "B", source=_page(tmp_path, "b", "1 + 1"))
    out = tmp_path / "out"
    failed = execute_pages([(a, None, {}, ()), (b, None, {}, ())], "smoke", out, workers=1)
    assert list(failed) == ["a"] and "page a broke" in failed["a"]
    assert (out / "a.failed.ipynb").exists() and not (out / "b.ipynb").exists()
    assert json.loads((out / "status" / "a.json").read_text())["result"] == "failed"
