"""Every chapter notebook runs end to end at the smoke profile, through the same papermill path as
``make book``; the chapter registry, notebooks/ and _toc.yml agree."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import papermill
import pytest
import yaml

from nc_core.__main__ import main
from nc_core.book import CHAPTERS, execute_chapter
from nc_core.book.chapters import REPO_ROOT, figure_pages, get_pages, pages
from nc_core.book.execute import GENERATED
from nc_core.provenance import git_commit


def _toc_files(entries: list[dict]) -> list[str]:
    return [f for e in entries for f in [e["file"], *_toc_files(e.get("sections", []))]]


def test_registry_notebooks_and_toc_agree():
    on_disk = {p.stem for p in (REPO_ROOT / "notebooks").glob("*.ipynb")}
    assert on_disk == {c.name for c in CHAPTERS}
    toc = yaml.safe_load((REPO_ROOT / "_toc.yml").read_text())
    generated = [
        f for f in _toc_files(toc.get("chapters", []))
        if f.startswith("book/generated/") and f != "book/generated/status"  # the build's status page
    ]  # fmt: skip
    assert sorted(generated) == sorted(f"book/generated/{c.page(v)}" for c, v in pages())
    # theory, dynamics, regression, momentum, interpolation, training length, imagenet, claims, ufm, vit,
    # beyond, own training; weight decay: architecture x dataset
    assert len(pages()) == 12 + 6
    for chapter in CHAPTERS:
        nb = nbformat.read(chapter.notebook, as_version=4)
        tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(tagged) == 1 and "profile" in tagged[0].source, chapter.name
        assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), "commit notebooks clean"


#: every chapter; of the weight-decay variants one with data and one without (the others are the same code
#: path with other parameters; `make book PROFILE=smoke` in CI runs them all)
SMOKE_PAGES = [
    "theory",
    "dynamics",
    "momentum",
    "interpolation",
    "weight_decay_resnet9_fashionmnist",
    "weight_decay_vgg9_cifar10",
    "training_length",
    "regression",
    "ufm",
    "vit",
    "imagenet",
    "beyond",
    "own_training",
    "claims",
]


def _built_page(name: str) -> tuple[nbformat.NotebookNode, Path] | None:
    """The page ``make book PROFILE=smoke`` executed in this checkout, with its claims folder, when it is
    current: executed without error at the smoke profile from this commit (its status record says so). CI
    builds the smoke book first (``.ci/run``), so each page is executed once per CI run."""
    record = GENERATED / "status" / f"{name}.json"
    if not record.is_file():
        return None
    rec = json.loads(record.read_text())
    if rec.get("profile") != "smoke" or rec.get("result") != "executed" or rec.get("commit") != git_commit():
        return None
    return nbformat.read(GENERATED / f"{name}.ipynb", as_version=4), GENERATED / "claims"


@pytest.mark.parametrize("name", SMOKE_PAGES)
def test_page_runs_at_smoke_profile(name, tmp_path):
    ((chapter, variant),) = get_pages(name)
    built = _built_page(name)
    if built is None:
        declared = papermill.inspect_notebook(str(chapter.notebook))
        # experiment chapters train their missing runs into a throw-away store, so the test runs them
        extra = {
            key: str(tmp_path / key)
            for key in ("results_root", "claims_folder", "figure_folder")
            if key in declared
        }  # fmt: skip
        out = execute_chapter(chapter, "smoke", tmp_path, progress=False, parameters=extra, variant=variant)
        assert out.name == f"{name}.ipynb"
        nb, claims_folder = nbformat.read(out, as_version=4), tmp_path / "claims_folder"
    else:
        nb, claims_folder = built
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    assert nb.metadata["papermill"]["parameters"]["profile"] == "smoke"
    if variant is not None:
        assert nb.cells[0].source.splitlines()[0].endswith(variant.title)
        assert {
            k: nb.metadata["papermill"]["parameters"][k] for k in variant.parameters
        } == variant.parameters
    if chapter.name not in ("claims", "own_training"):  # every experiment page saves its checks
        assert claims_folder.is_dir() and any(claims_folder.glob(f"{chapter.name}*.json"))


def test_every_notebook_documents_its_parameters():
    """`papermill --help-notebook` shows each parameter with its comment."""
    for chapter in CHAPTERS:
        params = papermill.inspect_notebook(str(chapter.notebook))
        assert "profile" in params, chapter.name
        undocumented = [k for k, v in params.items() if not v["help"]]
        assert not undocumented, (chapter.name, undocumented)


def test_pages_without_their_dataset_need_no_figure(tmp_path):
    assert "weight_decay_resnet9_cifar10" not in figure_pages(tmp_path)  # no data under tmp_path
    assert "claims" not in figure_pages(tmp_path)
    assert {"theory", "dynamics"} <= set(figure_pages(tmp_path))


def test_book_command_line_validates_names(capsys):
    assert main(["book", "list"]) == 0
    assert main(["book", "execute", "no-such-chapter"]) == 2
    assert "unknown chapter or page" in capsys.readouterr().err
    assert main(["book", "execute", "--profile", "huge"]) == 2
    assert main(["book", "execute", "theory", "--jobs", "0"]) == 2
    assert "expected an integer >= 1" in capsys.readouterr().err


def test_coverage_page_lists_every_figure_and_table_of_the_paper():
    text = (REPO_ROOT / "book" / "coverage.md").read_text()
    rows = {line.split("|")[1].strip() for line in text.splitlines() if line.startswith("| ")}
    expected = {f"Figure {n}" for n in range(1, 46)} | {f"Table {n}" for n in range(1, 6)}
    listed = {row.split(" (")[0] for row in rows}
    assert expected <= listed, sorted(expected - listed)
    for chapter, variant in pages():
        assert f"(generated/{chapter.page(variant)})" in text, chapter.page(variant)


def test_book_execute_names_an_unwritable_output_folder(capsys):
    assert main(["book", "execute", "theory", "--profile", "smoke", "--out", "/proc/cannot-be-made"]) == 2
    assert "cannot write to /proc/cannot-be-made" in capsys.readouterr().err


def test_every_notebook_checks_its_parameters_first(tmp_path):
    """Issue 11, case 10: `-p profile foo` names the allowed profiles instead of a bare KeyError."""
    from nc_core.book import check_parameters

    check_parameters(profile="cpu", model="vgg9", dataset="mnist")
    with pytest.raises(ValueError, match=r"profile 'foo' is not one of smoke, cpu, gpu, paper; model 'x'"):
        check_parameters(profile="foo", model="x")
    for chapter in CHAPTERS:
        nb = nbformat.read(chapter.notebook, as_version=4)
        i = next(k for k, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
        assert "check_parameters(" in nb.cells[i + 1].source, chapter.name
    with pytest.raises(papermill.PapermillExecutionError, match="profile 'foo' is not one of"):
        notebook = str(get_pages("momentum")[0][0].notebook)
        papermill.execute_notebook(
            notebook,
            str(tmp_path / "out.ipynb"),
            parameters={"profile": "foo"},
            progress_bar=False,
            cwd=str(REPO_ROOT),
        )


@pytest.mark.parametrize("page", [chapter.page(variant) for chapter, variant in pages()])
def test_every_number_on_a_smoke_page_is_formatted_for_a_reader(page):
    """No unrounded number, dict/list/tuple repr or positional row index in what the page shows
    (:func:`nc_core.book.check.check_notebook_outputs`, tested on hand-written notebooks in
    test_tables_readable.py), on the pages of the current smoke build."""
    from nc_core.book.check import check_notebook_outputs

    built = _built_page(page)
    if built is None:
        pytest.skip(f"no current smoke build of {page} (make book PROFILE=smoke)")
    assert check_notebook_outputs(built[0]) == []
